//SOURCES ../common/SteadyState.java

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** SteadyState's rule on synthetic warm-ups: one sample per second (load JIT %, server JIT % or NaN, echoes). */
class SteadyStateTest {
    private static final double NONE = Double.NaN;

    /** Feeds {@code echoes[i]} as second i + 1 with the given JIT figures and returns the verdict after each. */
    private static SteadyState.Verdict[] feed(SteadyState state, double[] loadJit, double[] serverJit, long... echoes) {
        SteadyState.Verdict[] verdicts = new SteadyState.Verdict[echoes.length];
        for (int i = 0; i < echoes.length; i++) {
            state.add(i + 1, loadJit[i], serverJit[i], echoes[i]);
            verdicts[i] = state.verdict(i + 1);
        }
        return verdicts;
    }

    private static double[] all(double value, int n) {
        double[] values = new double[n];
        java.util.Arrays.fill(values, value);
        return values;
    }

    /** The first second (1-based) whose verdict ended the warm-up, or -1. */
    private static int endedAt(SteadyState.Verdict[] verdicts) {
        for (int i = 0; i < verdicts.length; i++) if (verdicts[i].done()) return i + 1;
        return -1;
    }

    @Test
    void closedLoopIsSteadyOnceTheJitIsQuietAndTheRateStopsRising() {
        SteadyState state = new SteadyState(0, 30);
        double[] load = {40, 25, 10, 3, 1, 0, 0, 0};
        double[] server = {60, 30, 12, 5, 1.9, 0.5, 0, 0};
        SteadyState.Verdict[] v = feed(state, load, server, 20_000, 60_000, 90_000, 110_000, 118_000, 119_000, 117_000, 118_000);
        // second 5: server JIT 5% the second before; second 6: both quiet twice, 119,000 is within 5% of (110k+118k)/2
        assertEquals(6, endedAt(v));
        assertTrue(v[5].steady());
        assertNull(v[5].reason());
    }

    @Test
    void aRisingRateIsNotSteadyEvenWithAQuietJit() {
        SteadyState state = new SteadyState(0, 30);
        SteadyState.Verdict[] v = feed(state, all(0, 5), all(0, 5), 1_000, 2_000, 3_000, 4_000, 5_000);
        assertEquals(-1, endedAt(v));
        assertTrue(state.unmet().contains("echo rate still rising, 5,000/s after a mean of 3,500/s"), state.unmet());
    }

    @Test
    void theCapEndsTheWarmUpNotSteadyWithTheReason() {
        SteadyState state = new SteadyState(0, 30);
        for (int second = 1; second <= 30; second++) state.add(second, 0.5, 7, 10_000);
        SteadyState.Verdict v = state.verdict(30);
        assertTrue(v.done());
        assertFalse(v.steady());
        assertEquals("server JIT still 7.0% of a core at the 30 s cap", v.reason());
        assertFalse(new SteadyState(0, 30).verdict(29.9).done(), "before the cap and with no samples: wait");
    }

    @Test
    void aCapShorterThanTheSamplesTheRuleNeedsCannotBeSteady() {
        SteadyState state = new SteadyState(0, 1);
        state.add(1, 0, 0, 100);
        SteadyState.Verdict v = state.verdict(1);
        assertTrue(v.done());
        assertFalse(v.steady());
        assertEquals("only 1 s of warm-up samples where the check needs 3 at the 1 s cap", v.reason());
    }

    @Test
    void theMinimumWarmUpIsKeptEvenWhenSteadyEarlier() {
        SteadyState state = new SteadyState(5, 30);
        SteadyState.Verdict[] v = feed(state, all(0, 6), all(NONE, 6), 1_000, 1_000, 1_000, 1_000, 1_000, 1_000);
        assertEquals(5, endedAt(v));
    }

    @Test
    void anUnwatchedServerAndAFallingRateDoNotHoldItBack() {
        SteadyState state = new SteadyState(0, 30);
        SteadyState.Verdict[] v = feed(state, all(0, 3), all(NONE, 3), 50_000, 40_000, 30_000);
        assertEquals(3, endedAt(v));
    }

    @Test
    void aLoudLoadJitInEitherOfTheLastTwoSecondsHoldsItBack() {
        SteadyState state = new SteadyState(0, 30);
        SteadyState.Verdict[] v = feed(state, new double[] {0, 0, 3, 0, 0}, all(NONE, 5), 100, 100, 100, 100, 100);
        assertEquals(5, endedAt(v));
    }

    @Test
    void openLoopAndIdleConnectionsAreSteadyTwoFlatSecondsAfterTheirConnectionsOpen() {
        // 19,000 keepalives a second, connections opening over the first 2.5 s (no echoes before the first is open)
        SteadyState state = new SteadyState(0, 30);
        SteadyState.Verdict[] v = feed(state, all(0, 7), all(0, 7), 0, 0, 6_000, 18_500, 19_000, 19_001, 18_999);
        assertEquals(6, endedAt(v));
    }

    @Test
    void burstsAndChurnAtLowRatesAreNotHeldBackByAFewEchoesOfJitter() {
        // 30 bursts of 1 user: 10 echoes/s and then 11 (one more burst fell into the second) is no rise
        SteadyState state = new SteadyState(0, 30);
        SteadyState.Verdict[] v = feed(state, all(0, 3), all(0, 3), 10, 10, 12);
        assertEquals(3, endedAt(v));
        SteadyState none = new SteadyState(0, 30);
        assertEquals(3, endedAt(feed(none, all(0, 3), all(0, 3), 0, 0, 0)), "a server that never answers: flat at zero");
    }

    @Test
    void aFixedWarmUpIsJudgedAtItsEnd() {
        SteadyState state = new SteadyState(2, 2);
        state.add(1, 30, NONE, 1_000);
        state.add(2, 10, NONE, 5_000);
        SteadyState.Verdict v = state.verdictAtFixedEnd(2);
        assertFalse(v.steady());
        assertEquals("only 2 s of warm-up samples where the check needs 3 at the end of the 2 s warm-up", v.reason());
        assertEquals("no whole second of warm-up to judge at the end of the 0 s warm-up",
                new SteadyState(0, 0).verdictAtFixedEnd(0).reason());
    }
}
