import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One step of TcpLoad against a running server: the generator in its own (pinned) process, warming up until both
 * its JIT and the server's are quiet and the echo rate has stopped rising (TcpLoad --steady decides, and says when
 * its measured window begins). The server is read from /proc exactly at both ends of that window, so the
 * generator's JVM start, connecting and shutting down stay outside it. A step of several TcpLoad processes (the
 * scaling workload's, one per CPU set) holds each after its warm-up until all are warmed up, starts their windows
 * together and merges their documents (common/LoadMerge.java) into the step's one result.
 */
record LoadStep(ScriptLaunch tcpLoad, Path root) {
    /** TcpLoad's line as its measured window begins. */
    private static final Pattern MEASURING = Pattern.compile("^MEASURING after ([0-9.]+)s of warm-up: (steady|not steady \\((.*)\\))$");
    /** TcpLoad's line, with --measure-on-stdin, when it is warmed up and waits for the line that begins its window. */
    private static final Pattern STEADY = Pattern.compile("^STEADY after ");

    /**
     * {@code serverJava}: the server's java, whose jcmd a probe step uses; null for a server that is not a JVM.
     * {@code pins}: one TcpLoad process per entry, each the command that pins it to its CPUs (taskset) or nothing.
     * Several processes share the step's users and rate, start their windows together and are merged into one result.
     */
    ReportModel.Step run(Plan.Step plan, String host, Path json, ProcSampler server, String serverJava, List<List<String>> pins) throws Exception {
        ReportModel.Step step = new ReportModel.Step();
        step.label = plan.label();
        step.probe = plan.probe();
        List<String> loadArgs = new ArrayList<>(List.of("--host", host));
        loadArgs.addAll(plan.loadArgs());
        loadArgs.addAll(List.of("--duration", millis(plan.measure()), "--warmup", millis(plan.warmup()),
                "--steady", "--warmup-max", millis(plan.warmupMax()), "--watch-pid", Long.toString(server.pid()),
                "--json", json.toAbsolutePath().toString(), "--quiet"));
        int k = pins.size();
        List<Path> jsons = new ArrayList<>();
        List<List<String>> processArgs = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            jsons.add(k == 1 ? json : json.resolveSibling(json.getFileName().toString().replaceFirst("\\.json$", "") + "-p" + (i + 1) + ".json"));
            processArgs.add(k == 1 ? loadArgs : share(loadArgs, i, k, pins.get(i), jsons.get(i)));
        }
        // reported as the launcher command it is equivalent to, which a reader can paste (of several, the first's)
        step.command = new ArrayList<>(List.of("./jbang", "TcpLoad.java"));
        processArgs.get(0).stream().map(a -> a.startsWith(root.toString()) ? root.relativize(Path.of(a)).toString() : a).forEach(step.command::add);
        step.measuredSeconds = plan.measure().toNanos() / 1e9;
        List<ChildProcess> loads = new ArrayList<>();
        ProcSampler.Sample from = null, to = null;
        try {
            for (int i = 0; i < k; i++) {
                List<String> command = new ArrayList<>(pins.get(i));
                command.addAll(tcpLoad.command(List.of(), jit(plan), processArgs.get(i)));
                loads.add(new ChildProcess(command, root));
            }
            if (k > 1) startTogether(loads, plan);
            Matcher measuring = loads.get(0).awaitLine(MEASURING, plan.warmupMax().plusSeconds(60));
            if (measuring != null) {
                step.warmupSeconds = Double.parseDouble(measuring.group(1));
                step.steady = measuring.group(3) == null;
                step.notSteadyReason = measuring.group(3);
                if (plan.probe()) {
                    if (serverJava != null) step.liveHeapKiB = LiveHeap.afterFullGc(serverJava, server.pid(), root);
                } else {
                    double started = server.now();
                    from = server.sampleNow();
                    Map<Long, Long> serverSwitches = ProcSampler.contextSwitchesByThread(server.pid());
                    List<Map<Long, Long>> loadSwitches = new ArrayList<>();
                    for (ChildProcess load : loads) loadSwitches.add(ProcSampler.contextSwitchesByThread(load.process.pid()));
                    sleepUntil(server, started + step.measuredSeconds);
                    to = server.sampleNow();
                    step.serverContextSwitches = ProcSampler.switchesBetween(serverSwitches, ProcSampler.contextSwitchesByThread(server.pid()));
                    step.loadContextSwitches = 0;
                    for (int i = 0; i < k; i++) {
                        step.loadContextSwitches += ProcSampler.switchesBetween(loadSwitches.get(i),
                                ProcSampler.contextSwitchesByThread(loads.get(i).process.pid()));
                    }
                }
            }
            step.exitCode = 0;
            for (ChildProcess load : loads) {
                int exit = load.await(plan.warmupMax().plus(plan.measure()).plusSeconds(120));
                if (step.exitCode == 0) step.exitCode = exit; // the first process that failed says how
            }
        } finally {
            loads.forEach(ChildProcess::kill);
        }
        for (int i = 0; i < loads.size(); i++) {
            String process = k == 1 ? "" : "process " + (i + 1) + ": ";
            loads.get(i).lastLines().forEach(line -> step.loadLastLines.add(process + line));
        }
        step.warnings = loads.stream().flatMap(l -> l.lines.stream()).filter(l -> l.startsWith("WARNING")).distinct().toList();
        step.load = loadResult(jsons);
        if (step.load != null) {
            // TcpLoad counts its own over exactly its window; read from outside, it may have exited before the window's end
            JsonObject generator = step.load.getAsJsonObject("summary").getAsJsonObject("generator");
            if (generator != null && generator.has("contextSwitches")) step.loadContextSwitches = generator.get("contextSwitches").getAsLong();
            if (k > 1) { // the first MEASURING line spoke for its own process: the merge speaks for all of them
                JsonObject warmup = step.load.getAsJsonObject("summary").getAsJsonObject("warmup");
                step.warmupSeconds = warmup.get("seconds").getAsDouble();
                step.steady = warmup.get("steady").getAsBoolean();
                step.notSteadyReason = warmup.get("reason").isJsonNull() ? null : warmup.get("reason").getAsString();
            }
        }
        if (from != null && to != null) window(step, server, from, to);
        return step;
    }

    /**
     * Process {@code i} of {@code k}: its share of --users and of --rate (the users split as evenly as possible, the
     * rate with them), one event loop per CPU of its set (ScalingPlan's rule; unpinned, the step's --threads), its own
     * JSON, and the start gate.
     */
    private static List<String> share(List<String> args, int i, int k, List<String> pin, Path json) {
        List<String> shared = new ArrayList<>(args);
        int users = Integer.parseInt(valueOf(shared, "--users"));
        int mine = users / k + (i < users % k ? 1 : 0);
        set(shared, "--users", Integer.toString(mine));
        if (shared.contains("--rate")) set(shared, "--rate", String.valueOf(Double.parseDouble(valueOf(shared, "--rate")) * mine / users));
        if (!pin.isEmpty()) set(shared, "--threads", Integer.toString(CpuPlacement.parse(pin.get(pin.size() - 1)).size()));
        set(shared, "--json", json.toAbsolutePath().toString());
        shared.add("--measure-on-stdin");
        return shared;
    }

    private static String valueOf(List<String> args, String flag) {
        int at = args.indexOf(flag);
        if (at < 0 || at + 1 >= args.size()) throw new IllegalArgumentException("a step of several TcpLoad processes needs " + flag);
        return args.get(at + 1);
    }

    private static void set(List<String> args, String flag, String value) {
        int at = args.indexOf(flag);
        if (at < 0) args.addAll(List.of(flag, value)); else args.set(at + 1, value);
    }

    /**
     * Holds every process after its warm-up (--measure-on-stdin) until all have printed STEADY, or the cap and a
     * margin for JVM start and connecting have passed, then releases them at once: one measured window for all.
     */
    private static void startTogether(List<ChildProcess> loads, Plan.Step plan) throws InterruptedException {
        long deadline = System.nanoTime() + plan.warmupMax().plusSeconds(60).toNanos();
        for (ChildProcess load : loads) load.awaitLine(STEADY, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        for (ChildProcess load : loads) load.writeLine("measure");
    }

    /** The step's TcpLoad document (of several processes, their merge); null when one is missing. Their files go. */
    private static JsonObject loadResult(List<Path> jsons) throws IOException {
        List<JsonObject> parts = new ArrayList<>();
        for (Path json : jsons) {
            if (!Files.exists(json)) continue;
            parts.add(JsonParser.parseString(Files.readString(json)).getAsJsonObject());
            Files.delete(json); // its content lives on in data.json
        }
        if (parts.size() < jsons.size()) return null;
        return parts.size() == 1 ? parts.get(0) : LoadMerge.merge(parts);
    }

    /** The server's CPU over the window, and its peaks of memory, threads and open files inside it. */
    private static void window(ReportModel.Step step, ProcSampler server, ProcSampler.Sample from, ProcSampler.Sample to) {
        step.serverUserSeconds = to.userSeconds() - from.userSeconds();
        step.serverSystemSeconds = to.systemSeconds() - from.systemSeconds();
        for (ProcSampler.Sample s : server.samples()) {
            if (s.seconds() < from.seconds() || s.seconds() > to.seconds()) continue;
            step.serverRssPeakKiB = Math.max(step.serverRssPeakKiB, s.rssKiB());
            step.serverThreadsPeak = Math.max(step.serverThreadsPeak, s.threads());
            step.serverOpenFilesPeak = Math.max(step.serverOpenFilesPeak, s.openFiles());
        }
    }

    /** Whether a rate-sweep step sustained its rate: something echoed, no failures, p99 (corrected) within the SLO. */
    static boolean withinSlo(ReportModel.Step step, Duration sloP99) {
        if (step.load == null || step.exitCode != 0) return false;
        JsonObject summary = step.load.getAsJsonObject("summary");
        return summary.get("failures").getAsLong() == 0 && summary.get("received").getAsLong() > 0
                && summary.getAsJsonObject("latencyUs").get("p99").getAsDouble() <= sloP99.toNanos() / 1e3;
    }

    /**
     * TcpLoad's JIT for this step. Its script runs C1 only, because C2's compiling competes for the load core with
     * opening thousands of connections at once (19,000: over 3 s with C2, under 2 s with C1). Every other step gets
     * the full C2 JIT, about a quarter less CPU per echo; --steady keeps its compiling inside the warm-up.
     */
    static List<String> jit(Plan.Step plan) {
        return plan.loadArgs().contains("--idle") ? List.of() : List.of("-XX:TieredStopAtLevel=4");
    }

    private static void sleepUntil(ProcSampler clock, double seconds) throws InterruptedException {
        long millis = Math.round((seconds - clock.now()) * 1000);
        if (millis > 0) TimeUnit.MILLISECONDS.sleep(millis);
    }

    private static String millis(Duration d) {
        return d.toMillis() + "ms";
    }
}
