import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Decides when a warm-up may end, from one sample per second: the JIT compiler threads' CPU of the load process and
 * of the server (NaN when not watched), and the echoes received in that second. Pure logic, no I/O.
 *
 * <p>Steady means: the minimum warm-up has passed; every watched process's compiler threads stayed below
 * {@link #JIT_QUIET_PERCENT} of a core in each of the last {@link #QUIET_SECONDS} seconds; and the echo rate has
 * stopped rising: the last second's echoes are at most {@link #RISE_LIMIT} (5%, and at least {@link #RISE_SLACK}
 * echoes) above the mean of the two seconds before it. A falling or flat rate passes, so an open loop, idle keepalives,
 * bursts and churn (whose rate the schedule sets) pass as soon as their connections are open and their rate is flat
 * for two seconds; the slack keeps a few echoes of jitter at low rates from counting as a rise. The earliest steady
 * verdict is therefore after 3 samples. At the maximum the warm-up ends anyway, not steady, with the reason.
 */
final class SteadyState {
    static final double JIT_QUIET_PERCENT = 2;
    static final int QUIET_SECONDS = 2;
    static final double RISE_LIMIT = 0.05;
    static final long RISE_SLACK = 2;
    /** Samples needed before the rate rule can judge: the last second and the two before it. */
    static final int RATE_SAMPLES = 3;

    /** One second of the warm-up. */
    record Sample(double seconds, double loadJitPercent, double serverJitPercent, long echoes) {}

    /** {@code done} ends the warm-up; {@code reason} says why it is not steady (null when steady or not done). */
    record Verdict(boolean done, boolean steady, String reason) {
        static final Verdict WAIT = new Verdict(false, false, null);
    }

    private final double minimumSeconds, maximumSeconds;
    private final List<Sample> samples = new ArrayList<>();

    SteadyState(double minimumSeconds, double maximumSeconds) {
        if (maximumSeconds < minimumSeconds) throw new IllegalArgumentException("maximum below minimum");
        this.minimumSeconds = minimumSeconds;
        this.maximumSeconds = maximumSeconds;
    }

    void add(double seconds, double loadJitPercent, double serverJitPercent, long echoes) {
        samples.add(new Sample(seconds, loadJitPercent, serverJitPercent, echoes));
    }

    /** The latest sample, or null before the first. */
    Sample last() {
        return samples.isEmpty() ? null : samples.get(samples.size() - 1);
    }

    /**
     * The verdict {@code nowSeconds} into the warm-up: steady once the minimum has passed and the criteria hold,
     * not steady (with the reason) at the maximum, otherwise wait.
     */
    Verdict verdict(double nowSeconds) {
        String unmet = unmet();
        if (unmet == null && nowSeconds >= minimumSeconds) return new Verdict(true, true, null);
        if (nowSeconds >= maximumSeconds) return new Verdict(true, false, unmet + " at the " + seconds(maximumSeconds) + " s cap");
        return Verdict.WAIT;
    }

    /** Judges a warm-up of fixed length (no --steady): steady or not at its end, never "wait". */
    Verdict verdictAtFixedEnd(double endSeconds) {
        String unmet = unmet();
        return unmet == null ? new Verdict(true, true, null)
                : new Verdict(true, false, unmet + " at the end of the " + seconds(endSeconds) + " s warm-up");
    }

    /** What keeps the samples so far from being steady, or null when nothing does. */
    String unmet() {
        int n = samples.size();
        if (n == 0) return "no whole second of warm-up to judge";
        if (n < RATE_SAMPLES) return "only " + n + " s of warm-up samples where the check needs " + RATE_SAMPLES;
        List<String> reasons = new ArrayList<>();
        jitReason("TcpLoad", Sample::loadJitPercent, reasons);
        jitReason("server", Sample::serverJitPercent, reasons);
        Sample latest = samples.get(n - 1);
        double before = (samples.get(n - 2).echoes() + samples.get(n - 3).echoes()) / 2.0;
        if (latest.echoes() > before + Math.max(RISE_LIMIT * before, RISE_SLACK)) {
            reasons.add(String.format(Locale.ROOT, "echo rate still rising, %,d/s after a mean of %,.0f/s", latest.echoes(), before));
        }
        return reasons.isEmpty() ? null : String.join(", ", reasons);
    }

    /** A watched process whose compiler threads were not quiet in each of the last QUIET_SECONDS seconds. */
    private void jitReason(String who, java.util.function.ToDoubleFunction<Sample> percent, List<String> reasons) {
        double loudest = 0;
        for (Sample s : samples.subList(samples.size() - QUIET_SECONDS, samples.size())) {
            double p = percent.applyAsDouble(s);
            if (!Double.isNaN(p)) loudest = Math.max(loudest, p);
        }
        if (loudest >= JIT_QUIET_PERCENT) {
            reasons.add(String.format(Locale.ROOT, "%s JIT still %.1f%% of a core", who, loudest));
        }
    }

    private static String seconds(double s) {
        return s == Math.rint(s) ? String.valueOf((long) s) : String.format(Locale.ROOT, "%.1f", s);
    }
}
