import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
 * generator's JVM start, connecting and shutting down stay outside it.
 */
record LoadStep(ScriptLaunch tcpLoad, Path root) {
    /** TcpLoad's line as its measured window begins. */
    private static final Pattern MEASURING = Pattern.compile("^MEASURING after ([0-9.]+)s of warm-up: (steady|not steady \\((.*)\\))$");

    /**
     * {@code serverJava}: the server's java, whose jcmd a probe step uses; null for a server that is not a JVM.
     * {@code pin}: the command that pins TcpLoad to its CPUs (taskset), or nothing.
     */
    ReportModel.Step run(Plan.Step plan, String host, Path json, ProcSampler server, String serverJava, List<String> pin) throws Exception {
        ReportModel.Step step = new ReportModel.Step();
        step.label = plan.label();
        step.probe = plan.probe();
        List<String> loadArgs = new ArrayList<>(List.of("--host", host));
        loadArgs.addAll(plan.loadArgs());
        loadArgs.addAll(List.of("--duration", millis(plan.measure()), "--warmup", millis(plan.warmup()),
                "--steady", "--warmup-max", millis(plan.warmupMax()), "--watch-pid", Long.toString(server.pid()),
                "--json", json.toAbsolutePath().toString(), "--quiet"));
        List<String> command = new ArrayList<>(pin);
        command.addAll(tcpLoad.command(List.of(), jit(plan), loadArgs));
        // reported as the launcher command it is equivalent to, which a reader can paste
        step.command = new ArrayList<>(List.of("./jbang", "TcpLoad.java"));
        loadArgs.stream().map(a -> a.startsWith(root.toString()) ? root.relativize(Path.of(a)).toString() : a).forEach(step.command::add);
        step.measuredSeconds = plan.measure().toNanos() / 1e9;
        ChildProcess load = new ChildProcess(command, root);
        ProcSampler.Sample from = null, to = null;
        try {
            Matcher measuring = load.awaitLine(MEASURING, plan.warmupMax().plusSeconds(60));
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
                    Map<Long, Long> loadSwitches = ProcSampler.contextSwitchesByThread(load.process.pid());
                    sleepUntil(server, started + step.measuredSeconds);
                    to = server.sampleNow();
                    step.serverContextSwitches = ProcSampler.switchesBetween(serverSwitches, ProcSampler.contextSwitchesByThread(server.pid()));
                    step.loadContextSwitches = ProcSampler.switchesBetween(loadSwitches, ProcSampler.contextSwitchesByThread(load.process.pid()));
                }
            }
            step.exitCode = load.await(plan.warmupMax().plus(plan.measure()).plusSeconds(120));
        } finally {
            load.kill();
        }
        step.loadLastLines = load.lastLines();
        step.warnings = load.lines.stream().filter(l -> l.startsWith("WARNING")).distinct().toList();
        if (Files.exists(json)) {
            step.load = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
            Files.delete(json); // its content lives on in data.json
            // TcpLoad counts its own over exactly its window; read from outside, it may have exited before the window's end
            JsonObject generator = step.load.getAsJsonObject("summary").getAsJsonObject("generator");
            if (generator != null && generator.has("contextSwitches")) step.loadContextSwitches = generator.get("contextSwitches").getAsLong();
        }
        if (from != null && to != null) window(step, server, from, to);
        return step;
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
