import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One step of TcpLoad against a running server: the generator in its own (pinned) process, the server read from
 * /proc exactly at both ends of the measured window, so the generator's JVM start, connecting and shutting down
 * stay outside it.
 */
record LoadStep(ScriptLaunch tcpLoad, List<String> pin, Path root) {
    /** TcpLoad prints it as its clock starts; the measured part follows its warm-up. */
    private static final Pattern STARTING = Pattern.compile("^Starting test");

    ReportModel.Step run(Plan.Step plan, String host, Path json, ProcSampler server) throws Exception {
        ReportModel.Step step = new ReportModel.Step();
        step.label = plan.label();
        List<String> loadArgs = new ArrayList<>(List.of("--host", host));
        loadArgs.addAll(plan.loadArgs());
        loadArgs.addAll(List.of("--duration", millis(plan.measure()), "--warmup", millis(plan.warmup()),
                "--json", json.toAbsolutePath().toString(), "--quiet"));
        List<String> command = new ArrayList<>(pin);
        command.addAll(tcpLoad.command(List.of(), loadArgs));
        // reported as the launcher command it is equivalent to, which a reader can paste
        step.command = new ArrayList<>(List.of("./jbang", "TcpLoad.java"));
        loadArgs.stream().map(a -> a.startsWith(root.toString()) ? root.relativize(Path.of(a)).toString() : a).forEach(step.command::add);
        step.measuredSeconds = plan.measure().toNanos() / 1e9;
        ChildProcess load = new ChildProcess(command, root);
        ProcSampler.Sample from = null, to = null;
        try {
            if (load.awaitLine(STARTING, Duration.ofSeconds(60)) != null) {
                double started = server.now();
                sleepUntil(server, started + plan.warmup().toNanos() / 1e9);
                from = server.sampleNow();
                sleepUntil(server, started + plan.warmup().toNanos() / 1e9 + step.measuredSeconds);
                to = server.sampleNow();
            }
            step.exitCode = load.await(plan.warmup().plus(plan.measure()).plusSeconds(120));
        } finally {
            load.kill();
        }
        step.loadLastLines = load.lastLines();
        step.warnings = load.lines.stream().filter(l -> l.startsWith("WARNING")).distinct().toList();
        if (Files.exists(json)) {
            step.load = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
            Files.delete(json); // its content lives on in data.json
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

    private static void sleepUntil(ProcSampler clock, double seconds) throws InterruptedException {
        long millis = Math.round((seconds - clock.now()) * 1000);
        if (millis > 0) TimeUnit.MILLISECONDS.sleep(millis);
    }

    private static String millis(Duration d) {
        return d.toMillis() + "ms";
    }
}
