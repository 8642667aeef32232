//SOURCES ../common/Separation.java

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Separation on synthetic trials: when a leader counts as separated from the others, and when it is a tie. */
class SeparationTest {

    /** Labels and their trials, in order: "a", 1.0, 2.0, "b", 3.0... */
    static Map<String, List<Double>> trials(Object... labelsAndValues) {
        Map<String, List<Double>> trials = new LinkedHashMap<>();
        String label = null;
        for (Object item : labelsAndValues) {
            if (item instanceof String name) {
                label = name;
                trials.put(label, new java.util.ArrayList<>());
            } else {
                trials.get(label).add(item == null ? null : ((Number) item).doubleValue());
            }
        }
        return trials;
    }

    static Separation.Verdict decide(Map<String, List<Double>> trials, Separation.Better better) {
        return Separation.decide(trials, better).orElseThrow();
    }

    @Test
    void clearlySeparatedFiveTrialSetsAreSeparatedByTheBootstrap() {
        var verdict = decide(trials("netty-epoll", 150_000, 152_000, 149_000, 151_500, 150_500,
                "virtual", 138_000, 139_500, 137_000, 140_000, 138_500), Separation.Better.HIGHER);
        assertEquals("netty-epoll", verdict.leader().label());
        assertEquals("virtual", verdict.runnerUp().label());
        assertEquals(150_500, verdict.leader().median());
        assertEquals(138_500, verdict.runnerUp().median());
        assertEquals(149_000, verdict.leader().min());
        assertEquals(152_000, verdict.leader().max());
        assertEquals(Separation.BOOTSTRAP, verdict.method());
        assertTrue(verdict.separated(), verdict.toString());
        assertTrue(verdict.low() > 0 && verdict.low() <= verdict.high(), verdict.toString());
        // every resampled difference lies between the worst and the best pairing of trials
        assertTrue(verdict.low() >= 149_000 - 140_000 && verdict.high() <= 152_000 - 137_000, verdict.toString());
        assertEquals(List.of("netty-epoll"), verdict.tieGroup());
        String words = Separation.describe(verdict, "msg/s");
        assertTrue(words.startsWith("netty-epoll leads, separated from virtual (bootstrap 95% CI of the difference of medians "), words);
        assertTrue(words.matches(".*medians \\d+(\\.\\d)?k–\\d+(\\.\\d)?k msg/s\\)"), words);
    }

    @Test
    void overlappingNoisySetsAreATie() {
        var verdict = decide(trials("virtual", 100, 110, 90, 105, 95,
                "netty-epoll", 98, 108, 92, 103, 97), Separation.Better.HIGHER);
        assertEquals("virtual", verdict.leader().label());
        assertEquals(Separation.BOOTSTRAP, verdict.method());
        assertFalse(verdict.separated(), verdict.toString());
        assertTrue(verdict.low() <= 0 && verdict.high() > 0, "the interval includes zero: " + verdict);
        assertEquals(List.of("virtual", "netty-epoll"), verdict.tieGroup());
        assertTrue(verdict.tiedWithLeader("netty-epoll"));
        String words = Separation.describe(verdict, "msg/s");
        assertTrue(words.startsWith("tie: virtual, netty-epoll (bootstrap 95% CI of the difference of medians "), words);
        assertTrue(words.endsWith(", includes zero)"), words);
    }

    @Test
    void fewerThanThreeTrialsFallBackToMinMaxRanges() {
        var apart = decide(trials("a", 10, 11, "b", 20, 21), Separation.Better.HIGHER);
        assertEquals(Separation.RANGES, apart.method());
        assertTrue(apart.separated(), apart.toString());
        assertEquals(20 - 11, apart.low()); // the leader's worst against the other's best
        assertEquals(21 - 10, apart.high());
        assertEquals("b leads, separated from a (min–max ranges do not overlap, difference 9–11 ms)",
                Separation.describe(apart, "ms"));

        var overlapping = decide(trials("a", 10, 15, "b", 12, 20), Separation.Better.HIGHER);
        assertEquals(Separation.RANGES, overlapping.method());
        assertFalse(overlapping.separated(), overlapping.toString());
        assertEquals("tie: b, a (min–max ranges overlap)", Separation.describe(overlapping, "ms"));

        // one side with 5 trials is not enough: both need 3
        var oneTrial = decide(trials("a", 100, 101, 102, 103, 104, "b", 50), Separation.Better.HIGHER);
        assertEquals(Separation.RANGES, oneTrial.method());
        assertTrue(oneTrial.separated());
        assertEquals(1, oneTrial.runnerUp().trials());
        assertEquals(50, oneTrial.runnerUp().min());
        assertEquals(50, oneTrial.runnerUp().max());
    }

    @Test
    void theBootstrapLooksAtMediansSoOneOutlierDoesNotTieClearlyDifferentSets() {
        // ranges overlap (the leader's one slow trial, 80, is below the other's best), medians are far apart
        var verdict = decide(trials("a", 100, 101, 102, 103, 104, 105, 80, "b", 90, 91, 92, 93, 94, 95, 96),
                Separation.Better.HIGHER);
        assertEquals(Separation.BOOTSTRAP, verdict.method());
        assertTrue(verdict.separated(), verdict.toString());
        assertTrue(verdict.leader().min() < verdict.runnerUp().max(), "ranges overlap");
    }

    @Test
    void lowerIsBetterPicksTheSmallestMedianAndTheAdvantageIsPositive() {
        Map<String, List<Double>> p99 = trials("platform", 2.0, 2.1, 2.2, "virtual", 1.0, 1.1, 1.2, "netty-epoll", 1.5, 1.6, 1.7);
        var lower = decide(p99, Separation.Better.LOWER);
        assertEquals("virtual", lower.leader().label());
        assertEquals("netty-epoll", lower.runnerUp().label());
        assertTrue(lower.separated(), lower.toString());
        assertTrue(lower.low() > 0, "the leader's advantage is positive: " + lower);
        assertEquals(List.of("netty-epoll", "platform"), lower.others().stream().map(c -> c.variant().label()).toList());
        assertTrue(Separation.describe(lower, "ms").startsWith("virtual leads, separated from netty-epoll and every other variant ("),
                Separation.describe(lower, "ms"));

        var higher = decide(p99, Separation.Better.HIGHER);
        assertEquals("platform", higher.leader().label());
        assertEquals("netty-epoll", higher.runnerUp().label());
        assertTrue(higher.low() > 0, higher.toString());
    }

    @Test
    void identicalValuesAreATieWhicheverMethod() {
        for (int n : new int[] {1, 2, 3, 5}) {
            Double[] same = new Double[n];
            Arrays.fill(same, 42.0);
            Map<String, List<Double>> trials = new LinkedHashMap<>();
            trials.put("first", List.of(same));
            trials.put("second", List.of(same));
            var verdict = decide(trials, Separation.Better.HIGHER);
            assertEquals("first", verdict.leader().label(), "among equal medians, the first given leads");
            assertFalse(verdict.separated(), verdict.toString());
            assertEquals(0, verdict.low());
            assertEquals(0, verdict.high());
            assertEquals(n >= 3 ? Separation.BOOTSTRAP : Separation.RANGES, verdict.method());
            assertEquals(List.of("first", "second"), verdict.tieGroup());
        }
    }

    @Test
    void nanAndMissingTrialsAreIgnored() {
        var verdict = decide(trials("a", 10, Double.NaN, 11, null, 12, "b", 20, 21, Double.POSITIVE_INFINITY, 22,
                "nothing", Double.NaN, null), Separation.Better.HIGHER);
        assertEquals(List.of("nothing"), verdict.ignored());
        assertEquals(3, verdict.leader().trials());
        assertEquals(22, verdict.leader().max(), "infinite trials are left out too");
        assertEquals(3, verdict.runnerUp().trials());
        assertEquals(Separation.BOOTSTRAP, verdict.method());
        assertTrue(verdict.separated(), verdict.toString());
        assertEquals(1, verdict.others().size());

        assertTrue(Separation.decide(trials("x", Double.NaN), Separation.Better.HIGHER).isEmpty());
        var alone = decide(trials("x", 1, 2, "y", Double.NaN), Separation.Better.LOWER);
        assertNull(alone.runnerUp());
        assertEquals(Separation.NONE, alone.method());
        assertEquals("x alone (no other variant to compare)", Separation.describe(alone, "ms"));
    }

    @Test
    void theSameInputGivesTheSameIntervalAndOrderDoesNotChangeAPair() {
        Map<String, List<Double>> noisy = trials("a", 100, 120, 90, 111, 97, 104, "b", 95, 102, 88, 99, 107, 93);
        var first = decide(noisy, Separation.Better.HIGHER);
        var second = decide(noisy, Separation.Better.HIGHER);
        assertEquals(first.low(), second.low());
        assertEquals(first.high(), second.high());
        assertEquals(first, second);
        // a third variant, listed first, leaves the leader-against-b comparison as it was
        Map<String, List<Double>> more = trials("c", 10, 11, 12, "a", 100, 120, 90, 111, 97, 104, "b", 95, 102, 88, 99, 107, 93);
        var withThird = decide(more, Separation.Better.HIGHER);
        assertEquals(first.others().get(0), withThird.others().get(0));
    }

    @Test
    void aTieGroupNamesEveryVariantNotSeparatedFromTheLeader() {
        // b is close to a; c has two trials spanning a's range; d is far below
        var verdict = decide(trials("a", 100, 101, 102, 103, 104, "b", 99, 100, 101, 102, 103, "c", 60, 110,
                "d", 10, 11, 12), Separation.Better.HIGHER);
        assertEquals(List.of("a", "b", "c"), verdict.tieGroup());
        assertFalse(verdict.tiedWithLeader("d"));
        assertEquals("tie: a, b, c (bootstrap 95% CI of the difference of medians includes zero; min–max ranges overlap)",
                Separation.describe(verdict, "msg/s"));
    }

    @Test
    void compactNumbers() {
        assertEquals("1.2k", Separation.compact(1234));
        assertEquals("12k", Separation.compact(12_345));
        assertEquals("3.4M", Separation.compact(3_400_000));
        assertEquals("123", Separation.compact(123.4));
        assertEquals("12.3", Separation.compact(12.34));
        assertEquals("1.23", Separation.compact(1.234));
        assertEquals("0.457", Separation.compact(0.4567));
        assertEquals("0.0457", Separation.compact(0.04567));
        assertEquals("−1.5k", Separation.compact(-1500));
        assertEquals("0", Separation.compact(0));
    }
}
