//SOURCES FaultyEchoServer.java
//SOURCES ../common/LoadStep.java
//SOURCES ../common/LoadMerge.java
//SOURCES ../common/LoadReport.java
//SOURCES ../common/ScriptLaunch.java
//SOURCES ../common/ChildProcess.java
//SOURCES ../common/ProcSampler.java
//SOURCES ../common/Plan.java
//SOURCES ../common/ReportModel.java
//SOURCES ../common/LiveHeap.java
//SOURCES ../common/CpuPlacement.java
//SOURCES ../common/Cli.java
//DEPS org.hdrhistogram:HdrHistogram:2.2.2
//DEPS com.google.code.gson:gson:2.13.2
//DEPS info.picocli:picocli:4.7.7

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several TcpLoad processes loading one server as one generator: the start gate that aligns their measured windows
 * (--measure-on-stdin), the merge of their JSON documents (TcpLoad merge --json, common/LoadMerge.java), and a
 * LoadStep of two processes.
 */
class SeveralGeneratorsTest {
    private static final Pattern STEADY = Pattern.compile("^STEADY after [0-9.]+s of warm-up: ");
    private static final Pattern MEASURING = Pattern.compile("^MEASURING after ");
    private static final String[] GATED = {"--users", "4", "--duration", "1s", "--interval", "10ms", "--steady", "--warmup", "1s",
            "--warmup-max", "3s", "--measure-on-stdin", "--quiet"};

    private static TestSupport.Script gated(FaultyEchoServer server, String... more) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--host", server.address()));
        args.addAll(List.of(GATED));
        args.addAll(List.of(more));
        return TestSupport.jbang("TcpLoad.java", args.toArray(String[]::new));
    }

    @Test
    void theGateHoldsTheWindowUntilALineArrivesOnStdin(@TempDir Path dir) throws Exception {
        Path hlog = dir.resolve("gated.hlog");
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE);
             TestSupport.Script load = gated(server, "--hlog", hlog.toString())) {
            load.awaitLine(STEADY, Duration.ofMinutes(2));
            Thread.sleep(1500); // past the 3 s cap: only the line may begin the window now
            assertTrue(load.stdout.stream().noneMatch(l -> MEASURING.matcher(l).find()), load.output());
            load.process.getOutputStream().write("measure\n".getBytes(StandardCharsets.UTF_8));
            load.process.getOutputStream().flush();
            load.awaitLine(MEASURING, Duration.ofSeconds(30));
            assertEquals(0, load.await(Duration.ofMinutes(1)), load.output());
            long received = Long.parseLong(value(load.stdout, "Received"));
            assertTrue(received > 0, load.output());
            // the warm-up's seconds are in the log, tagged, and merge leaves them out
            List<String> intervals = Files.readAllLines(hlog).stream().filter(l -> !l.startsWith("#") && !l.startsWith("\"")).toList();
            long warmup = intervals.stream().filter(l -> l.startsWith("Tag=" + LoadReport.WARMUP_TAG + ",")).count();
            assertTrue(warmup >= 3, "three seconds of warm-up at least\n" + String.join("\n", intervals));
            TcpLoadTest.Run merged = TcpLoadTest.load("merge", hlog.toString());
            assertEquals(0, merged.exitCode(), merged.output());
            assertEquals("Merged " + (intervals.size() - warmup) + " intervals from 1 log(s)", merged.stdout().get(0));
            assertEquals(received, merged.count("Count"));
        }
    }

    @Test
    void endOfInputOpensTheGate() throws Exception {
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE);
             TestSupport.Script load = gated(server)) {
            load.process.getOutputStream().close();
            load.awaitLine(MEASURING, Duration.ofMinutes(2));
            assertEquals(0, load.await(Duration.ofMinutes(1)), load.output());
        }
    }

    @Test
    void mergedDocumentAddsTheCountsAndTakesItsPercentilesFromTheMergedHistogram(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.json"), b = dir.resolve("b.json"), merged = dir.resolve("merged.json");
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE)) {
            Map<Path, Integer> users = Map.of(a, 3, b, 5);
            try (var parallel = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<TcpLoadTest.Run>> runs = users.entrySet().stream().map(e -> parallel.submit(() -> TcpLoadTest.load("--host",
                        server.address(), "--users", e.getValue().toString(), "--duration", "1s", "--rate", "200", "--quiet",
                        "--json", e.getKey().toString()))).toList();
                for (Future<TcpLoadTest.Run> run : runs) assertEquals(0, run.get().exitCode(), run.get().output());
            }
        }
        TcpLoadTest.Run run = TcpLoadTest.load("merge", "--json", merged.toString(), a.toString(), b.toString());
        assertEquals(0, run.exitCode(), run.output());
        JsonObject one = read(a).getAsJsonObject("summary"), other = read(b).getAsJsonObject("summary");
        JsonObject both = read(merged), summary = both.getAsJsonObject("summary");
        assertEquals(2, both.get("mergedFrom").getAsInt());
        assertEquals(8, both.getAsJsonObject("config").get("users").getAsInt());
        for (String count : List.of("sent", "received", "failures")) {
            assertEquals(one.get(count).getAsLong() + other.get(count).getAsLong(), summary.get(count).getAsLong(), count);
        }
        assertEquals(summary.get("received").getAsLong(), run.count("Received"));
        assertEquals(one.getAsJsonObject("connections").get("opened").getAsLong() + other.getAsJsonObject("connections").get("opened").getAsLong(),
                summary.getAsJsonObject("connections").get("opened").getAsLong());
        for (String latency : List.of("latencyUs", "uncorrectedLatencyUs")) {
            Histogram union = histogram(one, latency);
            union.add(histogram(other, latency));
            JsonObject figures = summary.getAsJsonObject(latency);
            assertEquals(union.getTotalCount(), figures.get("count").getAsLong(), latency);
            assertEquals(union.getValueAtPercentile(99) / 1e3, figures.get("p99").getAsDouble(), latency);
            assertEquals(union.getValueAtPercentile(50) / 1e3, figures.get("p50").getAsDouble(), latency);
            assertEquals(union.getMaxValue() / 1e3, figures.get("max").getAsDouble(), latency);
        }
        long seriesReceived = 0;
        for (var second : both.getAsJsonArray("series")) seriesReceived += second.getAsJsonObject().get("received").getAsLong();
        long partsSeries = 0;
        for (Path part : List.of(a, b)) {
            for (var second : read(part).getAsJsonArray("series")) partsSeries += second.getAsJsonObject().get("received").getAsLong();
        }
        assertEquals(partsSeries, seriesReceived, "the series adds up second by second");
    }

    @Test
    void mergeNamesAFileItCannotUseInOneLineAndExits2(@TempDir Path dir) throws Exception {
        Path notJson = Files.writeString(dir.resolve("garbage.json"), "not json {");
        Map<String, List<String>> bad = Map.of(
                dir.resolve("missing.json").toString(), List.of("merge", dir.resolve("missing.json").toString()),
                dir.resolve("missing.hlog").toString(), List.of("merge", dir.resolve("missing.hlog").toString()),
                notJson.toString(), List.of("merge", notJson.toString()));
        for (var entry : bad.entrySet()) {
            TcpLoadTest.Run run = TcpLoadTest.load(entry.getValue().toArray(String[]::new));
            assertEquals(2, run.exitCode(), run.output());
            assertEquals(1, run.stderr().size(), run.output());
            assertTrue(run.stderr().get(0).contains(entry.getKey()), run.output());
        }
    }

    @Test
    void aStepOfTwoProcessesIsOneMergedResult(@TempDir Path dir) throws Exception {
        ScriptLaunch tcpLoad = ScriptLaunch.resolveAll(TestSupport.ROOT, List.of("TcpLoad.java"), line -> {}, (script, why) -> {
            throw new AssertionError(why);
        }).get("TcpLoad.java");
        Plan.Step plan = new Plan.Step("", List.of("--users", "9", "--size", "16", "--interval", "10ms", "--threads", "1"),
                Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(1), false);
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE);
             ProcSampler sampler = new ProcSampler(ProcessHandle.current().pid())) {
            ReportModel.Step step = new LoadStep(tcpLoad, TestSupport.ROOT).run(plan, server.address(), dir.resolve("step.json"), sampler,
                    null, List.of(List.of(), List.of()));
            assertEquals(0, step.exitCode, String.join("\n", step.loadLastLines));
            assertNotNull(step.load, String.join("\n", step.loadLastLines));
            assertEquals(2, step.load.get("mergedFrom").getAsInt());
            assertEquals(9, step.load.getAsJsonObject("config").get("users").getAsInt());
            assertEquals(step.load.getAsJsonObject("summary").getAsJsonObject("warmup").get("steady").getAsBoolean(), step.steady);
            long received = 0;
            for (int process = 1; process <= 2; process++) received += Long.parseLong(value(step.loadLastLines, "process " + process + ": Received"));
            assertTrue(received > 0, String.join("\n", step.loadLastLines));
            assertEquals(received, step.load.getAsJsonObject("summary").get("received").getAsLong());
            try (var files = Files.list(dir)) {
                assertEquals(List.of(), files.toList(), "the processes' documents live on in the step only");
            }
        }
    }

    private static String value(List<String> lines, String key) {
        synchronized (lines) {
            for (String line : lines) if (line.startsWith(key + ":")) return line.substring(key.length() + 1).trim();
        }
        throw new AssertionError("no line '" + key + ":' in\n" + String.join("\n", lines));
    }

    private static JsonObject read(Path json) throws Exception {
        return JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    }

    private static Histogram histogram(JsonObject summary, String latency) {
        return LoadReport.decode(summary.getAsJsonObject(latency).get("histogram").getAsString());
    }
}
