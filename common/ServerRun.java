import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one {@link Plan.Run}: starts the server (pinned; with its JFR recording in a recorded run only), waits for its
 * READY line, samples it from /proc every second, runs each load step against it, stops it with SIGTERM and keeps
 * its STATS line.
 */
final class ServerRun {
    private static final Pattern READY = Pattern.compile("^READY (\\S+) (\\S+):(\\d+)(.*)$");
    private static final Pattern KEY_VALUE = Pattern.compile("(\\S+)=(\\S+)");
    /** What EchoNetty says of a transport this machine does not offer ("--transport io_uring is not available here: ..."). */
    private static final String UNAVAILABLE = "is not available here";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Path root, out;
    private final Map<String, ScriptLaunch> launches;
    private final Map<String, Path> binaries; // the reference servers built for this series, by variant name
    private final CpuPlacement placement;
    private final List<String> serverJvmOptions;
    private final boolean severalTrials;
    private final LoadStep loadStep;
    /** Variants whose later runs are skipped, and why: one that hung at start-up would cost 90 s a run. */
    private final Map<String, String> hungVariants = new ConcurrentHashMap<>();

    ServerRun(Path root, Path out, Map<String, ScriptLaunch> launches, Map<String, Path> binaries, CpuPlacement placement,
              List<String> serverJvmOptions, boolean severalTrials) {
        this.root = root;
        this.out = out;
        this.launches = launches;
        this.binaries = binaries;
        this.placement = placement;
        this.serverJvmOptions = serverJvmOptions;
        this.severalTrials = severalTrials;
        this.loadStep = new LoadStep(launches.get("TcpLoad.java"), root);
    }

    ReportModel.Run execute(Plan.Run plan) throws Exception {
        ReportModel.Run run = new ReportModel.Run();
        run.variant = plan.variant().name();
        run.label = plan.label();
        run.setting = plan.setting();
        run.trial = plan.trial();
        run.recorded = plan.recorded();
        CpuPlacement cpus = plan.cpus() != null ? plan.cpus() : placement;
        run.placement = cpus == CpuPlacement.SHARED ? "shared" : cpus.pinned() ? "pinned" : "unpinned";
        run.cpus = cpus.description();
        String hung = hungVariants.get(plan.variant().name());
        if (hung != null) {
            run.status = "skipped";
            run.failure = hung;
            return run;
        }
        Path dir = out.resolve(plan.workload());
        Files.createDirectories(dir);
        String fileBase = (plan.label() + (plan.setting().isEmpty() ? "" : "-" + plan.setting()) + (cpus == CpuPlacement.SHARED ? "-shared" : "")
                + (plan.recorded() ? "-recorded" : severalTrials ? "-t" + plan.trial() : "")).replaceAll("[^A-Za-z0-9_.-]+", "-");
        List<String> serverArgs = new ArrayList<>(List.of("--port", "0"));
        if (plan.recorded()) {
            Path jfr = dir.resolve(fileBase + ".jfr");
            run.jfrFile = out.relativize(jfr).toString();
            serverArgs.addAll(List.of("--jfr", jfr.toAbsolutePath().toString()));
        }
        serverArgs.addAll(plan.variant().args());
        serverArgs.addAll(plan.serverArgs());
        ChildProcess server = new ChildProcess(serverCommand(plan.variant(), serverArgs, cpus), root);
        try {
            Matcher ready = server.awaitLine(READY, START_TIMEOUT);
            if (ready == null) {
                notStarted(plan, run, server);
                return run;
            }
            Matcher kv = KEY_VALUE.matcher(ready.group(4));
            while (kv.find()) run.ready.put(kv.group(1), kv.group(2));
            long pid = Long.parseLong(run.ready.getOrDefault("pid", Long.toString(server.process.pid())));
            String host = ready.group(2) + ":" + ready.group(3);
            try (ProcSampler sampler = new ProcSampler(pid)) {
                TimeUnit.MILLISECONDS.sleep(500); // let the JVM settle after start-up before the idle reading
                run.idle = sampler.sampleNow();
                String java = plan.variant().isJvm() ? launches.get(plan.variant().script()).java() : null;
                if (java != null && plan.steps().stream().anyMatch(Plan.Step::probe)) run.idleLiveHeapKiB = LiveHeap.afterFullGc(java, pid, root);
                steps(plan, run, server, sampler, host, dir.resolve(fileBase), java, cpus.loadPins());
                run.warmupSeconds = run.steps.isEmpty() ? 0 : run.steps.get(0).warmupSeconds;
                run.steady = !run.steps.isEmpty() && run.steps.stream().allMatch(s -> s.steady);
                run.samples = sampler.samples();
            }
            stop(server, run);
        } finally {
            server.kill();
        }
        if (run.status.equals("failed")) run.serverLastLines = server.lastLines();
        return run;
    }

    private void steps(Plan.Run plan, ReportModel.Run run, ChildProcess server, ProcSampler sampler, String host, Path fileBase,
                       String java, List<List<String>> loadPins) throws Exception {
        for (Plan.Step stepPlan : plan.steps()) {
            if (ChildProcess.stopping()) break;
            if (stepPlan.probe() && java == null) continue; // a live heap is a JVM's
            String suffix = stepPlan.label().isEmpty() ? "" : "-" + stepPlan.label().replaceAll("[^A-Za-z0-9]+", "");
            ReportModel.Step step = loadStep.run(stepPlan, host, Path.of(fileBase + suffix + ".json"), sampler, java, loadPins);
            run.steps.add(step);
            String where = stepPlan.label().isEmpty() ? "" : " in step " + stepPlan.label();
            if (step.load == null) {
                run.status = "failed";
                run.failure = "TcpLoad exited " + step.exitCode + " without its JSON document" + where;
            }
            if (!server.process.isAlive()) {
                run.status = "failed";
                run.failure = "the server died during " + (stepPlan.label().isEmpty() ? "the run" : "step " + stepPlan.label())
                        + " (exit code " + server.process.exitValue() + ")";
                break;
            }
            if (plan.sloP99() != null) {
                step.withinSlo = LoadStep.withinSlo(step, plan.sloP99());
                if (!step.withinSlo) break; // past saturation: higher rates only add queueing
            }
        }
    }

    private void notStarted(Plan.Run plan, ReportModel.Run run, ChildProcess server) {
        run.status = "failed";
        run.serverLastLines = server.lastLines();
        if (!server.process.isAlive()) {
            // the next run starts a fresh server, which may well come up: it gets its own chance and its own lines
            run.failure = "the server did not start (no READY line, exit code " + server.process.exitValue() + ")";
            return;
        }
        run.failure = "the server did not start (no READY line within 90 s); the later runs of " + plan.variant().name()
                + " are skipped rather than wait as long each";
        hungVariants.put(plan.variant().name(), plan.variant().name() + " did not start within 90 s in "
                + plan.workload() + " (" + plan.describe(severalTrials) + ")");
    }

    private List<String> serverCommand(Plan.Variant variant, List<String> serverArgs, CpuPlacement cpus) {
        List<String> command = new ArrayList<>(cpus.serverPin());
        if (variant.isJvm()) {
            List<String> jvmOptions = new ArrayList<>(serverJvmOptions);
            jvmOptions.addAll(variant.jvmOptions());
            command.addAll(launches.get(variant.script()).command(jvmOptions, serverArgs));
        } else {
            command.add(binaries.get(variant.name()).toString());
            command.addAll(serverArgs);
        }
        return command;
    }

    /**
     * How long a server may take to exit after SIGTERM (its JFR dump included). A platform-thread server ends one thread
     * per connection: 10,000 of them took 3.7–5.2 s on one core here, and once more than 15 s while the host was busy.
     */
    static final int STOP_SECONDS = 30;

    /** SIGTERM, then the STATS line; a server that does not stop within {@link #STOP_SECONDS} is killed and the run marked failed. */
    private static void stop(ChildProcess server, ReportModel.Run run) throws InterruptedException {
        if (!server.process.isAlive()) return;
        server.process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its output, losing STATS
        if (!server.process.waitFor(STOP_SECONDS, TimeUnit.SECONDS)) {
            run.status = "failed";
            run.failure = "the server did not exit within " + STOP_SECONDS + " s of SIGTERM: killed";
            return;
        }
        TimeUnit.MILLISECONDS.sleep(100); // let the reader drain the last line
        server.lines.stream().filter(l -> l.startsWith("STATS ")).reduce((a, b) -> b).ifPresent(stats -> {
            Matcher kv = KEY_VALUE.matcher(stats);
            while (kv.find()) run.stats.put(kv.group(1), kv.group(2));
        });
    }

    /** Removes from {@code variants} each that says it is unavailable here, with its line in {@code skipped}. */
    void dropUnavailable(List<Plan.Variant> variants, Map<String, String> skipped) throws Exception {
        for (Plan.Variant variant : List.copyOf(variants)) {
            if (!variant.mayBeUnavailable() || !variant.isJvm()) continue;
            SeriesProgress.line("checking that " + variant.name() + " is available here ...");
            String why = unavailable(variant);
            if (why == null) continue;
            variants.remove(variant);
            skipped.put(variant.name(), why);
        }
    }

    /**
     * Starts a variant that may be unavailable here once, without load or recording, and returns the line in which
     * it says it is unavailable (EchoNetty's "--transport io_uring is not available here: ..."), or null. Any other
     * failure keeps it in: its runs then fail with their own lines.
     */
    private String unavailable(Plan.Variant variant) throws Exception {
        List<String> args = new ArrayList<>(List.of("--port", "0"));
        args.addAll(variant.args());
        ChildProcess probe = new ChildProcess(launches.get(variant.script()).command(serverJvmOptions, args), root);
        try {
            if (probe.awaitLine(READY, START_TIMEOUT) != null) return null;
            synchronized (probe.lines) {
                return probe.lines.stream().filter(l -> l.contains(UNAVAILABLE)).findFirst().orElse(null);
            }
        } finally {
            probe.kill();
        }
    }
}
