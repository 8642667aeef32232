import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.DoubleFunction;
import java.util.stream.Collectors;

/**
 * Is the leader of one compared figure (msg/s, p99...) separated from the others across trials, or is it a tie?
 * Each variant is compared with the leader (the best median): with at least {@link #MIN_TRIALS_FOR_BOOTSTRAP} trials
 * on both sides, by a bootstrap 95% interval of the difference of medians (each side's trials resampled with
 * replacement, {@link #RESAMPLES} times, from a fixed seed so a report is reproducible); with fewer, by whether their
 * min–max ranges overlap. Either way the interval is of the leader's advantage (in the figure's unit, positive when
 * the leader is better), and the two are separated when all of it is above zero.
 */
final class Separation {
    private Separation() {}

    /** Which way the figure improves. */
    enum Better { LOWER, HIGHER }

    static final String BOOTSTRAP = "bootstrap 95% CI of the difference of medians";
    static final String RANGES = "min–max ranges";
    /** With a single variant there is nothing to compare. */
    static final String NONE = "none";
    static final int MIN_TRIALS_FOR_BOOTSTRAP = 3;
    static final int RESAMPLES = 2_000;
    static final long SEED = 20261201L;

    /** One variant's valid trials (NaN, infinite and null ones left out): how many, their median and range. */
    record Spread(String label, int trials, double median, double min, double max) {}

    /**
     * A variant against the leader: how it was decided ({@link #BOOTSTRAP} or {@link #RANGES}), whether separated, and
     * the interval {@code low}–{@code high} of the leader's advantage (for {@link #RANGES}: from the leader's worst
     * trial against the variant's best to its best against the variant's worst).
     */
    record Comparison(Spread variant, String method, boolean separated, double low, double high) {}

    /**
     * The verdict on one figure. {@code runnerUp}, {@code method}, {@code separated}, {@code low} and {@code high}
     * are those of the leader against the runner-up (the second-best median), copied from {@code others.get(0)};
     * with a single variant {@code runnerUp} is null, {@code method} is {@link #NONE} and the interval NaN.
     * {@code others} holds every other variant, best median first; {@code ignored} the labels without a valid trial.
     */
    record Verdict(Better better, Spread leader, Spread runnerUp, String method, boolean separated, double low, double high,
                   List<Comparison> others, List<String> ignored) {

        /** The leader and every variant not separated from it, in rank order. */
        List<String> tieGroup() {
            List<String> group = new ArrayList<>(List.of(leader.label()));
            others.stream().filter(c -> !c.separated()).forEach(c -> group.add(c.variant().label()));
            return group;
        }

        /** Whether {@code label} ties with the leader (the leader itself included). */
        boolean tiedWithLeader(String label) {
            return tieGroup().contains(label);
        }
    }

    /**
     * The verdict on one figure from each variant's trial values (labels in the order a tie names them; a leader
     * is chosen among equal medians in that order too). Empty when no variant has a valid trial.
     */
    static Optional<Verdict> decide(Map<String, ? extends Collection<Double>> trials, Better better) {
        List<double[]> values = new ArrayList<>();
        List<Spread> spreads = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        trials.forEach((label, list) -> {
            double[] valid = list == null ? new double[0]
                    : list.stream().filter(Objects::nonNull).mapToDouble(Double::doubleValue).filter(Double::isFinite).sorted().toArray();
            if (valid.length == 0) {
                ignored.add(label);
            } else {
                values.add(valid);
                spreads.add(new Spread(label, valid.length, quantile(valid, 0.5), valid[0], valid[valid.length - 1]));
            }
        });
        if (spreads.isEmpty()) return Optional.empty();
        Comparator<Integer> byMedian = Comparator.comparingDouble(i -> spreads.get(i).median());
        List<Integer> ranked = new ArrayList<>();
        for (int i = 0; i < spreads.size(); i++) ranked.add(i);
        ranked.sort(better == Better.HIGHER ? byMedian.reversed() : byMedian); // stable: input order among equals
        int leader = ranked.get(0);
        List<Comparison> others = new ArrayList<>();
        for (int i : ranked.subList(1, ranked.size())) {
            others.add(compare(values.get(leader), spreads.get(leader), values.get(i), spreads.get(i), better));
        }
        if (others.isEmpty()) {
            return Optional.of(new Verdict(better, spreads.get(leader), null, NONE, false, Double.NaN, Double.NaN, others, ignored));
        }
        Comparison runnerUp = others.get(0);
        return Optional.of(new Verdict(better, spreads.get(leader), runnerUp.variant(), runnerUp.method(), runnerUp.separated(),
                runnerUp.low(), runnerUp.high(), List.copyOf(others), List.copyOf(ignored)));
    }

    /** The leader's sorted trials against another variant's. */
    static Comparison compare(double[] leader, Spread leaderSpread, double[] other, Spread otherSpread, Better better) {
        double sign = better == Better.HIGHER ? 1 : -1; // the leader's advantage is positive
        double low, high;
        String method;
        if (leader.length >= MIN_TRIALS_FOR_BOOTSTRAP && other.length >= MIN_TRIALS_FOR_BOOTSTRAP) {
            method = BOOTSTRAP;
            SplittableRandom random = new SplittableRandom(SEED); // per comparison: independent of the other variants
            double[] differences = new double[RESAMPLES];
            double[] scratchLeader = new double[leader.length], scratchOther = new double[other.length];
            for (int b = 0; b < RESAMPLES; b++) {
                differences[b] = sign * (resampledMedian(leader, scratchLeader, random) - resampledMedian(other, scratchOther, random));
            }
            Arrays.sort(differences);
            low = quantile(differences, 0.025);
            high = quantile(differences, 0.975);
        } else {
            method = RANGES;
            double leaderWorst = better == Better.HIGHER ? leaderSpread.min() : leaderSpread.max();
            double leaderBest = better == Better.HIGHER ? leaderSpread.max() : leaderSpread.min();
            double otherBest = better == Better.HIGHER ? otherSpread.max() : otherSpread.min();
            double otherWorst = better == Better.HIGHER ? otherSpread.min() : otherSpread.max();
            low = sign * (leaderWorst - otherBest);
            high = sign * (leaderBest - otherWorst);
        }
        return new Comparison(otherSpread, method, low > 0, low, high);
    }

    private static double resampledMedian(double[] values, double[] scratch, SplittableRandom random) {
        for (int i = 0; i < scratch.length; i++) scratch[i] = values[random.nextInt(values.length)];
        Arrays.sort(scratch);
        return quantile(scratch, 0.5);
    }

    /** The p-quantile of sorted values, interpolating between neighbours (the median of an even count is their mean). */
    static double quantile(double[] sorted, double p) {
        double position = p * (sorted.length - 1);
        int below = (int) Math.floor(position);
        int above = Math.min(below + 1, sorted.length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    /**
     * The verdict in words, e.g. "netty-epoll leads, separated from virtual (bootstrap 95% CI of the difference of
     * medians 1.2k–3.4k msg/s)" or "tie: netty-epoll, virtual (min–max ranges overlap)"; numbers are written with
     * {@link #compact}, {@code unit} follows the interval ("msg/s", "ms"; empty for none).
     */
    static String describe(Verdict verdict, String unit) {
        return describe(verdict, Separation::compact, unit);
    }

    /** The same with the caller's number format. */
    static String describe(Verdict verdict, DoubleFunction<String> number, String unit) {
        String leader = verdict.leader().label();
        if (verdict.runnerUp() == null) return leader + " alone (no other variant to compare)";
        List<Comparison> tied = verdict.others().stream().filter(c -> !c.separated()).toList();
        if (tied.isEmpty()) {
            String versus = verdict.runnerUp().label() + (verdict.others().size() > 1 ? " and every other variant" : "");
            return leader + " leads, separated from " + versus + " (" + evidence(verdict.others().get(0), number, unit) + ")";
        }
        String why = tied.size() == 1 ? evidence(tied.get(0), number, unit)
                : tied.stream().map(c -> c.method().equals(BOOTSTRAP) ? BOOTSTRAP + " includes zero" : RANGES + " overlap")
                        .distinct().collect(Collectors.joining("; "));
        return "tie: " + String.join(", ", verdict.tieGroup()) + " (" + why + ")";
    }

    private static String evidence(Comparison c, DoubleFunction<String> number, String unit) {
        String interval = number.apply(c.low()) + "–" + number.apply(c.high()) + (unit.isEmpty() ? "" : " " + unit);
        if (c.method().equals(BOOTSTRAP)) return BOOTSTRAP + " " + interval + (c.separated() ? "" : ", includes zero");
        return c.separated() ? RANGES + " do not overlap, difference " + interval : RANGES + " overlap";
    }

    /** 1234 → "1.2k", 3400000 → "3.4M", 0.4567 → "0.457": three significant digits at most, "−" for negatives. */
    static String compact(double value) {
        double magnitude = Math.abs(value);
        String sign = value < 0 ? "−" : "";
        if (magnitude >= 1e6) return sign + trim(magnitude / 1e6, 1) + "M";
        if (magnitude >= 1e4) return sign + trim(magnitude / 1e3, 0) + "k";
        if (magnitude >= 1e3) return sign + trim(magnitude / 1e3, 1) + "k";
        if (magnitude >= 100) return sign + trim(magnitude, 0);
        if (magnitude >= 10) return sign + trim(magnitude, 1);
        if (magnitude >= 1 || magnitude == 0) return sign + trim(magnitude, 2);
        return sign + trim(magnitude, Math.min(9, 2 - (int) Math.floor(Math.log10(magnitude)))); // 0.0457: 4 decimals
    }

    private static String trim(double value, int decimals) {
        String text = String.format(Locale.ROOT, "%." + Math.max(0, decimals) + "f", value);
        return text.contains(".") ? text.replaceAll("0+$", "").replaceAll("\\.$", "") : text;
    }
}
