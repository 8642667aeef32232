//DEPS com.google.code.gson:gson:2.13.2

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * analyze-jfr on real recordings made here: the project's three echo servers recorded with {@code --jfr} while this
 * test drives connections through them (and a small pinning program), analysed through {@code ./jbang analyze-jfr.java}
 * as a user would.
 */
class AnalyzeJfrTest {
    static final int CONNECTIONS = 40;

    @TempDir
    static Path dir;

    static Path virtualRecording, platformRecording, pinningRecording, nettyRecording;

    /** Virtual threads that block inside a class initializer: that still pins the carrier on JDK 24+. */
    static final String PINNING = """
            public class Pinning {
                static class SlowToInitialise {
                    static { sleep(); }
                    static void touch() {}
                }

                static void sleep() {
                    try { Thread.sleep(50); } catch (InterruptedException e) { throw new RuntimeException(e); }
                }

                public static void main(String[] args) throws Exception {
                    Thread.ofVirtual().start(SlowToInitialise::touch).join();
                }
            }
            """;

    @BeforeAll
    static void record() throws Exception {
        virtualRecording = dir.resolve("virtual.jfr");
        platformRecording = dir.resolve("platform.jfr");
        pinningRecording = dir.resolve("pinning.jfr");
        nettyRecording = dir.resolve("netty.jfr");
        Path pinning = write("Pinning.java", PINNING);
        try (ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor()) { // the common pool has 1 thread on 2 cores
            List<Future<Object>> recordings = parallel.invokeAll(List.of(
                    () -> recordUnderLoad(TestSupport.startServer("EchoVirtualThreads.java", "--jfr", virtualRecording.toString())),
                    () -> recordUnderLoad(TestSupport.startServer("EchoPlatformThreads.java", "--jfr", platformRecording.toString())),
                    // no --transport: "auto", which is epoll here, must be told from what the recording shows; pinned
                    // to one CPU as the experiment runs servers, so jdk.ThreadCPULoad counts against 1 CPU of the machine's
                    () -> recordUnderLoad(TestSupport.startServer(List.of("taskset", "-c", "0"), List.of(), "EchoNetty.java",
                            "--jfr", nettyRecording.toString())),
                    () -> {
                        try (TestSupport.Script run = java(pinningRecording, pinning.toString())) {
                            assertEquals(0, run.await(Duration.ofMinutes(1)), run.output());
                        }
                        return null;
                    }));
            for (Future<Object> recording : recordings) recording.get();
        }
    }

    static Path write(String name, String source) throws IOException {
        return Files.writeString(dir.resolve(name), source);
    }

    static String recordingOption(Path recording) {
        return "-XX:StartFlightRecording:dumponexit=true,filename=" + recording + ",settings=" + TestSupport.ROOT.resolve("echo.jfc");
    }

    /** A single-file program run by this JDK's source launcher, recording into {@code recording}. */
    static TestSupport.Script java(Path recording, String... sourceAndArgs) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                recordingOption(recording)));
        command.addAll(List.of(sourceAndArgs));
        return new TestSupport.Script(command);
    }

    /** Holds {@link #CONNECTIONS} connections echoing for about 3 s, then stops the server with SIGTERM (dumping its recording). */
    static Object recordUnderLoad(TestSupport.Server server) throws Exception {
        try (server) {
            driveConnections(server.port(), Duration.ofSeconds(3));
            server.script().terminate();
            assertEquals(0, server.script().await(Duration.ofSeconds(30)), server.script().output());
        }
        return null;
    }

    static void driveConnections(int port, Duration duration) throws Exception {
        long until = System.nanoTime() + duration.toNanos();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Object>> echoed = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                echoed.add(clients.submit(() -> {
                    try (Socket socket = new Socket("127.0.0.1", port)) {
                        socket.setSoTimeout(5_000); // a broken server fails the test instead of hanging it
                        OutputStream out = socket.getOutputStream();
                        InputStream in = socket.getInputStream();
                        while (System.nanoTime() < until) {
                            out.write("hello".getBytes());
                            assertEquals(5, in.readNBytes(5).length);
                            Thread.sleep(5);
                        }
                    }
                    return null;
                }));
            }
            for (Future<Object> client : echoed) client.get();
        }
    }

    static TestSupport.Script analyze(String... args) throws IOException {
        return TestSupport.jbang("analyze-jfr.java", args);
    }

    static String analyzeOk(String... args) throws Exception {
        try (TestSupport.Script run = analyze(args)) {
            assertEquals(0, run.await(Duration.ofMinutes(2)), run.output());
            return String.join("\n", run.stdout);
        }
    }

    /** A number from the JSON output, e.g. {@code "platformLive.max": 43}. */
    static long jsonNumber(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\": (\\d+)").matcher(json);
        assertTrue(m.find(), key + " missing in\n" + json);
        return Long.parseLong(m.group(1));
    }

    @Test
    void virtualThreadServerReadsOnVirtualThreadsWithFewPlatformThreads() throws Exception {
        String json = analyzeOk("--format", "json", "--view", "threads,socket-io,hot-methods", virtualRecording.toString());
        assertTrue(jsonNumber(json, "reads.virtual.count") > 0, json);
        assertTrue(Pattern.compile("\"percent\": \\d+\\.\\d+").matcher(json).find(), "hot methods' shares as numbers: " + json);
        assertEquals(0, jsonNumber(json, "reads.platform.count"), json);
        assertTrue(jsonNumber(json, "virtualStarted") >= CONNECTIONS, json);
        assertTrue(jsonNumber(json, "platformLive.max") < CONNECTIONS, json);
        assertTrue(jsonNumber(json, "carriers") >= 1, json);
        assertTrue(json.contains("\"label\": \"EchoVirtualThreads\""), json);
        assertTrue(json.contains("\"note\": \"sampled: at most 1000/s per event type"), json);
    }

    @Test
    void platformThreadServerHasAThreadPerConnection() throws Exception {
        String json = analyzeOk("--format", "json", "--view", "threads,socket-io", platformRecording.toString());
        assertTrue(jsonNumber(json, "platformLive.max") >= CONNECTIONS, json);
        assertTrue(jsonNumber(json, "reads.platform.count") > 0, json);
        assertEquals(0, jsonNumber(json, "reads.virtual.count"), json);
    }

    @Test
    void nettyEpollSocketViewSaysNativeIo() throws Exception {
        String text = analyzeOk("--view", "socket-io", nettyRecording.toString());
        assertTrue(text.contains("EchoNetty (epoll)"), text);
        assertTrue(text.contains("none: Netty epoll transport does native I/O"), text);
    }

    /**
     * A thread is part of its JVM: its share of the machine cannot exceed the JVM's (jdk.CPULoad) over the same periods,
     * not even when it was busy in few of them, nor on the Netty server pinned to one CPU, whose jdk.ThreadCPULoad
     * counts against that one CPU while jdk.CPULoad counts against all of the machine's.
     */
    @Test
    void noThreadUsesMoreCpuThanItsJvm() throws Exception {
        String json = analyzeOk("--format", "json", "--view", "cpu", nettyRecording.toString(), virtualRecording.toString(),
                platformRecording.toString());
        for (var recording : JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("recordings")) {
            JsonObject cpu = recording.getAsJsonObject().getAsJsonObject("views").getAsJsonObject("cpu");
            String label = recording.getAsJsonObject().get("label").getAsString();
            var busiest = cpu.getAsJsonArray("busiestThreads");
            assertFalse(busiest.isEmpty(), label + ": " + cpu);
            double thread = 100 * busiest.get(0).getAsJsonObject().get("value").getAsDouble(); // a fraction; the JVM's is 0-100
            double jvm = cpu.get("busiestThreads.jvm").getAsDouble();
            assertTrue(thread > 0 && jvm > 0 && jvm <= 100, label + ": " + cpu);
            // 1%: the slack allowed between the clocks of the two events; 0.01: the JSON's rounding
            assertTrue(thread <= jvm * 1.01 + 0.01, label + ": busiest thread " + thread + "% of the machine, its JVM " + jvm + "%: " + cpu);
            int cpus = cpu.get("busiestThreads.cpus").getAsInt();
            assertTrue(cpus >= 1 && cpus <= Runtime.getRuntime().availableProcessors(), label + ": " + cpu);
        }
    }

    @Test
    void pinnedVirtualThreadShowsItsClassInitializerFrame() throws Exception {
        String text = analyzeOk("--view", "recording,scheduler", pinningRecording.toString());
        assertTrue(text.contains("context switches, whole machine (not only this JVM) p50"), text);
        assertTrue(text.contains("ThreadPark threshold=10 ms; JavaMonitorEnter threshold=20 ms"), text);
        assertTrue(text.contains("parks (≥ 10 ms) count") && text.contains("monitor contention (≥ 20 ms) count"), text);
        Matcher count = Pattern.compile("virtual-thread pinning \\(≥ 1 ms\\) count\\s+(\\d+)").matcher(text);
        assertTrue(count.find() && Integer.parseInt(count.group(1)) >= 1, text);
        assertTrue(Pattern.compile("pinned at #1\\s+\\d+\\s+Pinning.sleep:\\d+ in Pinning\\$SlowToInitialise.<clinit>").matcher(text).find(), text);
    }

    @Test
    void severalRecordingsSideBySideOneColumnEach() throws Exception {
        String markdown = analyzeOk("--format", "markdown", "--view", "threads", "--view", "cpu",
                virtualRecording.toString(), platformRecording.toString(), nettyRecording.toString());
        List<String> headers = markdown.lines().filter(l -> l.startsWith("| threads |") || l.startsWith("| cpu |")).toList();
        assertEquals(2, headers.size(), markdown);
        for (String header : headers) {
            assertEquals(List.of("EchoVirtualThreads", "EchoPlatformThreads", "EchoNetty (epoll)"),
                    List.of(header.replaceAll("^\\| \\S+ \\| | \\|$", "").split(" \\| ")), markdown);
        }
        String liveMax = markdown.lines().filter(l -> l.startsWith("| live platform threads max |")).findFirst().orElseThrow();
        assertEquals(5, liveMax.split("\\|").length, liveMax); // label and three values
        String hot = analyzeOk("--view", "hot-methods", "--top", "3", virtualRecording.toString());
        assertTrue(hot.contains("self #3") && !hot.contains("self #4"), hot);
    }

    @Test
    void flameGraphOfTheFirstRecording() throws Exception {
        Path html = dir.resolve("flame.html");
        analyzeOk("--view", "recording", "--flamegraph", html.toString(), virtualRecording.toString(), platformRecording.toString());
        String page = Files.readString(html);
        assertTrue(page.contains("VirtualThread"), "no virtual-thread frames in the flame graph");
        assertFalse(page.contains("EchoPlatformThreads"), "the flame graph is of the first recording only");
    }

    @Test
    void flameGraphDirHoldsOneGraphPerRecording() throws Exception {
        Path graphs = Files.createDirectories(dir.resolve("graphs"));
        String tables = analyzeOk("--format", "markdown", "--view", "threads", "--flamegraph-dir", graphs.toString(),
                virtualRecording.toString(), platformRecording.toString());
        assertTrue(tables.contains("| live platform threads max |"), "the tables still print: " + tables);
        String virtual = Files.readString(graphs.resolve(stem(virtualRecording) + "-flame.html"));
        String platform = Files.readString(graphs.resolve(stem(platformRecording) + "-flame.html"));
        assertTrue(virtual.contains("VirtualThread") && !virtual.contains("EchoPlatformThreads"), "virtual graph");
        assertTrue(platform.contains("EchoPlatformThreads"), "platform graph");
    }

    private static String stem(Path recording) {
        return recording.getFileName().toString().replaceAll("\\.jfr$", "");
    }

    @Test
    void liveModeFollowsARunningServerUntilItExits() throws Exception {
        try (TestSupport.Server server = TestSupport.startServer("EchoVirtualThreads.java", "--jfr", dir.resolve("live.jfr").toString());
             TestSupport.Script live = analyze("--live", Long.toString(server.pid()))) {
            live.awaitLine(Pattern.compile("^following JVM " + server.pid()), Duration.ofMinutes(1));
            driveConnections(server.port(), Duration.ofSeconds(4));
            Pattern busy = Pattern.compile("virtual started ([1-9][\\d,]*) .* socket reads ([1-9][\\d,]*)/s");
            live.awaitLine(busy, Duration.ofSeconds(10)); // events reach the repository about once a second
            server.script().terminate();
            assertEquals(0, live.await(Duration.ofSeconds(30)), live.output());
            assertTrue(live.stdout.get(live.stdout.size() - 1).startsWith("stopped: "), live.output());
        }
    }

    @Test
    void recordingCutShortIsAnalysedAsFarAsPossibleWithAWarning() throws Exception {
        byte[] whole = Files.readAllBytes(virtualRecording);
        Path cut = dir.resolve("cut.jfr");
        try (OutputStream out = Files.newOutputStream(cut)) { // a whole chunk, then a second one cut in its middle
            out.write(whole);
            out.write(whole, 0, whole.length / 2);
        }
        // its last byte gone: read up to its last flush (where in a chunk the first one falls varies, the last one must come before its end)
        Path cutInFirstChunk = Files.write(dir.resolve("cut-first.jfr"), java.util.Arrays.copyOf(whole, whole.length - 1));
        Path cutBeforeFirstFlush = Files.write(dir.resolve("cut-header.jfr"), java.util.Arrays.copyOf(whole, 1000));
        try (TestSupport.Script run = analyze("--view", "threads", cut.toString());
             TestSupport.Script firstChunk = analyze("--view", "threads", cutInFirstChunk.toString());
             TestSupport.Script nothingReadable = analyze(cutBeforeFirstFlush.toString())) {
            for (TestSupport.Script readable : List.of(run, firstChunk)) {
                assertEquals(1, readable.await(Duration.ofMinutes(2)), readable.output());
                assertTrue(String.join("\n", readable.stdout).contains("virtual threads started"), readable.output());
                assertEquals(1, readable.stderr.size(), readable.output());
                assertTrue(readable.stderr.get(0).contains("recording cut short: analysed up to its last flush"), readable.output());
            }
            assertOneLineFailure(nothingReadable, 1, "cut short before its first flush");
        }
    }

    /** A killed JVM leaves its chunk unfinished: the JDK's parser would wait for it forever. */
    @Test
    void killedServersChunkIsAnalysedUpToItsLastFlush() throws Exception {
        try (TestSupport.Server server = TestSupport.startServer("EchoVirtualThreads.java", "--jfr", dir.resolve("never.jfr").toString())) {
            driveConnections(server.port(), Duration.ofSeconds(3)); // the JVM flushes its chunk once a second
            Path repository;
            try (var folders = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) { // JFR's default naming
                repository = folders.filter(folder -> folder.getFileName().toString().endsWith("_" + server.pid())).findFirst()
                        .orElseThrow(() -> new AssertionError("no JFR repository for pid " + server.pid()));
            }
            ProcessHandle.of(server.pid()).orElseThrow().destroyForcibly(); // SIGKILL: no shutdown hook, no dump
            ProcessHandle.of(server.pid()).ifPresent(jvm -> jvm.onExit().join());
            try (var files = Files.list(repository)) {
                Path chunk = Files.copy(files.filter(f -> f.toString().endsWith(".jfr")).findFirst().orElseThrow(), dir.resolve("killed.jfr"));
                try (TestSupport.Script run = analyze("--view", "recording,socket-io", chunk.toString())) {
                    assertEquals(1, run.await(Duration.ofMinutes(2)), run.output());
                    String text = String.join("\n", run.stdout);
                    assertTrue(text.contains("EchoVirtualThreads") && Pattern.compile("reads on virtual threads count\\s+[1-9]").matcher(text).find(), text);
                    assertEquals(1, run.stderr.size(), run.output());
                    assertTrue(run.stderr.get(0).contains("recording not finished (its JVM was killed"), run.output());
                }
            } finally {
                try (var files = Files.list(repository)) { // a killed JVM cannot remove its repository
                    for (Path file : files.toList()) Files.delete(file);
                }
                Files.delete(repository);
            }
        }
    }

    @Test
    void badInputIsOneLineAndANonZeroExit() throws Exception {
        Path text = Files.writeString(dir.resolve("notes.jfr"), "not a recording\n");
        try (TestSupport.Script missing = analyze(dir.resolve("missing.jfr").toString());
             TestSupport.Script notJfr = analyze(text.toString());
             TestSupport.Script unknownView = analyze("--view", "bogus", virtualRecording.toString())) { // run at once: faster
            assertOneLineFailure(missing, 1, "no such recording");
            assertOneLineFailure(notJfr, 1, "is not a JFR recording");
            assertOneLineFailure(unknownView, 2, "unknown --view 'bogus'");
        }
    }

    static void assertOneLineFailure(TestSupport.Script run, int exitCode, String message) throws Exception {
        assertEquals(exitCode, run.await(Duration.ofMinutes(2)), run.output());
        assertTrue(run.stdout.isEmpty(), run.output());
        assertEquals(1, run.stderr.size(), run.output());
        assertTrue(run.stderr.get(0).startsWith("analyze-jfr: ") && run.stderr.get(0).contains(message), run.output());
        assertFalse(run.stderr.get(0).contains("Exception"), run.output());
    }
}
