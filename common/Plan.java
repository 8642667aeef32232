import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The plan of a series as data: the server models, and each server process to start with the load steps against it. */
final class Plan {
    private Plan() {}

    /**
     * Start-up costs measured here (2 cores, quiet): a server JVM to READY, the idle reading and its stop take about
     * 2 s; a TcpLoad JVM to its first message and its exit about 1.5 s; analyze-jfr about 2 s per workload plus 0.5 s
     * per recording it reads or draws. The plan's estimate (--list, and the ETA until the first runs have measured
     * the real pace) adds these to the warm-up and measured times.
     */
    static final double RUN_OVERHEAD_SECONDS = 2, STEP_OVERHEAD_SECONDS = 1.5, ANALYSIS_SECONDS = 2, PER_RECORDING_SECONDS = 0.5;
    /**
     * A steady warm-up's typical length: the check needs 3 whole seconds, and a fresh TcpLoad's C2 compiler stays busy
     * for a few more (a first step, with a cold server too, takes longer, a later step less; 7 s is their mean here).
     */
    static final double TYPICAL_STEADY_SECONDS = 7;

    /**
     * A server model: a JBang script, or a reference server's source under {@code reference/} (a native binary that
     * {@code reference/build.sh} builds; JVM options and recording do not apply to it). {@code mayBeUnavailable}: a
     * transport the kernel or container may not offer (io_uring is often disabled in containers); such a variant is
     * started once before the series and, if it says it is unavailable, skipped with a note instead of failing every run.
     * {@code jvmOptions}: a setting of this variant's own (a system property), added to the options every server gets.
     */
    record Variant(String name, String script, List<String> args, List<String> jvmOptions, boolean mayBeUnavailable, String description) {
        Variant(String name, String script, List<String> args, boolean mayBeUnavailable, String description) {
            this(name, script, args, List.of(), mayBeUnavailable, description);
        }

        boolean isNetty() {
            return script.equals("EchoNetty.java");
        }

        boolean isJvm() {
            return !script.startsWith("reference/");
        }

        /** The same server with the same settings, only on another Netty transport: its arguments without --transport match. */
        boolean differsOnlyByTransport(Variant other) {
            return script.equals(other.script) && jvmOptions.equals(other.jvmOptions)
                    && withoutTransport(args).equals(withoutTransport(other.args));
        }

        private static List<String> withoutTransport(List<String> args) {
            List<String> rest = new ArrayList<>(args);
            int at = rest.indexOf("--transport");
            if (at >= 0) rest.subList(at, Math.min(at + 2, rest.size())).clear();
            return rest;
        }
    }

    /** The first Netty variant of a selection, or null: it stands for the event-loop model where the transport is not the question. */
    static Variant firstNetty(List<Variant> variants) {
        return variants.stream().filter(Variant::isNetty).findFirst().orElse(null);
    }

    /**
     * The variants without the other transports of the first Netty one: a variant that differs from it by a setting
     * of its own (its JVM options, say) is another question and stays.
     */
    static List<Variant> oneNettyTransport(List<Variant> variants) {
        Variant netty = firstNetty(variants);
        return variants.stream().filter(v -> netty == null || v == netty || !v.differsOnlyByTransport(netty)).toList();
    }

    /**
     * One server process to start and the load steps to run against it. {@code sloP99}: when set, each step is
     * checked against it and the run stops at the first step past it (higher rates only add queueing).
     * {@code recorded}: the server runs with its JFR recording; such a run is observed, not measured. {@code cpus}:
     * where this run's server and TcpLoad run ({@link CpuPlacement#SHARED}, a scaling point), null for the series'.
     */
    record Run(String workload, Variant variant, String label, String setting, List<String> serverArgs,
               List<Step> steps, int trial, Duration sloP99, boolean recorded, CpuPlacement cpus) {
        double plannedSeconds() {
            return RUN_OVERHEAD_SECONDS + steps.stream().mapToDouble(Step::plannedSeconds).sum();
        }

        /** The row, setting and trial, as the progress line and the notes name a run. */
        String describe(boolean severalTrials) {
            return label + (setting.isEmpty() ? "" : " · " + setting) + (severalTrials ? ", trial " + trial : "");
        }
    }

    /**
     * One TcpLoad invocation (its --host, --json and warm-up flags are added by the runner). The warm-up lasts at
     * least {@code warmup} and until steady, at most {@code warmupMax}. {@code probe}: a step that observes the server
     * once every connection is open (its live heap after a full GC) instead of measuring it.
     */
    record Step(String label, List<String> loadArgs, Duration warmup, Duration warmupMax, Duration measure, boolean probe) {
        double plannedSeconds() {
            double warming = Math.min(warmupMax.toMillis() / 1000.0, Math.max(warmup.toMillis() / 1000.0, TYPICAL_STEADY_SECONDS));
            return STEP_OVERHEAD_SECONDS + warming + measure.toMillis() / 1000.0;
        }

        Step withWarmup(Duration newWarmup) {
            return new Step(label, loadArgs, newWarmup, warmupMax, measure, probe);
        }
    }

    /** A workload's parameters as the report states them: server and TcpLoad arguments, warm-up, trials. */
    static String describe(List<Run> plans, int trials) {
        if (plans.isEmpty()) return "";
        Run first = plans.get(0);
        StringBuilder text = new StringBuilder();
        if (plans.stream().anyMatch(p -> !p.serverArgs().isEmpty())) {
            text.append("server: ").append(plans.stream().map(p -> String.join(" ", p.serverArgs())).distinct()
                    .collect(Collectors.joining(" | "))).append("; ");
        }
        text.append("TcpLoad: ");
        text.append(first.steps().stream().map(s -> String.join(" ", s.loadArgs())).collect(Collectors.joining(" | ")));
        Step step = first.steps().get(0);
        text.append("; warm-up at least ").append(Cli.formatNanos(step.warmup().toNanos())).append(" and until steady (at most ")
                .append(Cli.formatNanos(step.warmupMax().toNanos())).append("), measured ").append(Cli.formatNanos(step.measure().toNanos()));
        if (first.steps().size() > 1) {
            text.append(" per step (a fresh server per run; its later steps settle at least ")
                    .append(Cli.formatNanos(first.steps().get(1).warmup().toNanos())).append(")");
        }
        text.append("; trials ").append(trials).append(" without recording, variants rotated by one place each trial");
        if (plans.stream().anyMatch(Run::recorded)) text.append(", then one recorded trial per row (JFR views only)");
        return text.toString();
    }
}
