//SOURCES FaultyEchoServer.java
//DEPS org.hdrhistogram:HdrHistogram:2.2.2
//DEPS com.google.code.gson:gson:2.13.2

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * TcpLoad against deliberately faulty echo servers (each fault must show up as the right kind of failure), against
 * the project's servers, and its command line, preflight checks, JSON contract and hlog merge.
 */
class TcpLoadTest {
    /** A finished TcpLoad run: exit code, what it printed, and its "Key: value" lines. */
    record Run(int exitCode, List<String> stdout, List<String> stderr, String output) {
        String value(String key) {
            for (String line : stdout) if (line.startsWith(key + ":")) return line.substring(key.length() + 1).trim();
            throw new AssertionError("no line '" + key + ":'\n" + output);
        }

        long count(String key) {
            return Long.parseLong(value(key));
        }

        /** {@code Failures by kind: connect=0 timeout=3 ...} as a map. */
        Map<String, Long> failuresByKind() {
            Map<String, Long> kinds = new LinkedHashMap<>();
            for (String pair : value("Failures by kind").split(" ")) {
                kinds.put(pair.split("=")[0], Long.parseLong(pair.split("=")[1]));
            }
            return kinds;
        }
    }

    static Run load(String... args) throws Exception {
        try (TestSupport.Script script = TestSupport.jbang("TcpLoad.java", args)) {
            int exitCode = script.await(Duration.ofMinutes(2));
            return new Run(exitCode, List.copyOf(script.stdout), List.copyOf(script.stderr), script.output());
        }
    }

    @Test
    void printsTheSeedBlockThenExtrasAndWritesTheContractJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("run.json");
        Path hlog = dir.resolve("run.hlog");
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE)) {
            Run run = load("--host", server.address(), "--users", "20", "--duration", "2s", "--message", "hello",
                    "--interval", "10ms", "--json", json.toString(), "--hlog", hlog.toString());
            assertEquals(0, run.exitCode(), run.output());
            List<String> out = run.stdout();
            assertEquals("Starting test: 20 users for 2s", out.get(0), run.output());
            assertEquals("MEASURING after 0.0s of warm-up: not steady (no whole second of warm-up to judge at the end of the 0 s"
                    + " warm-up)", out.get(1), run.output());
            assertEquals("", out.get(2));
            assertEquals("=== Load Test Complete ===", out.get(3));
            String[] seedPrefixes = {"Sent:     ", "Received: ", "Failures: ", "Avg RTT:  ", "p90 RTT:  ", "p95 RTT:  ", "p99 RTT:  "};
            for (int i = 0; i < seedPrefixes.length; i++) {
                assertTrue(out.get(4 + i).startsWith(seedPrefixes[i]), "line " + (4 + i) + " of\n" + run.output());
            }
            assertTrue(out.get(7).matches("Avg RTT:  \\d+(\\.\\d+)?(ns|µs|ms|s)"), out.get(7));
            long sent = run.count("Sent");
            assertTrue(sent > 20, run.output());
            assertEquals(sent, run.count("Received"));
            assertEquals(0, run.count("Failures"));
            for (String extra : List.of("p50 RTT", "p99.9 RTT", "Max RTT", "Throughput", "Failures by kind", "Generator")) {
                run.value(extra);
            }
            assertTrue(run.value("Generator").contains("send lag p50"), run.output());

            JsonObject root = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
            assertEquals("TcpLoad", root.get("tool").getAsString());
            assertEquals(1, root.get("version").getAsInt());
            assertKeys(root.getAsJsonObject("config"), "host", "users", "durationSeconds", "warmupSeconds", "mode", "size",
                    "intervalMs", "rate", "inflight");
            assertEquals("closed", root.getAsJsonObject("config").get("mode").getAsString());
            assertKeys(root.getAsJsonObject("environment"), "jdk", "os", "cores", "hostname", "date");
            JsonObject summary = root.getAsJsonObject("summary");
            assertKeys(summary, "sent", "received", "failures", "failuresByKind", "latencyUs", "spectrum", "throughput",
                    "connections", "generator", "warmup");
            JsonObject warmup = summary.getAsJsonObject("warmup");
            assertKeys(warmup, "plannedSeconds", "seconds", "steady", "reason", "serverJitPercentOfCore", "loadJitPercentOfCore");
            assertEquals(0.0, warmup.get("seconds").getAsDouble());
            assertTrue(warmup.get("serverJitPercentOfCore").isJsonNull() && warmup.get("loadJitPercentOfCore").isJsonNull(), warmup.toString());
            assertEquals(sent, summary.get("sent").getAsLong());
            assertKeys(summary.getAsJsonObject("failuresByKind"), "connect", "timeout", "closed", "mismatch", "io");
            String[] latencyKeys = {"mean", "p50", "p90", "p95", "p99", "p999", "max", "count", "histogram"};
            assertKeys(summary.getAsJsonObject("latencyUs"), latencyKeys);
            assertEquals(sent, summary.getAsJsonObject("latencyUs").get("count").getAsLong());
            assertTrue(summary.getAsJsonArray("spectrum").get(0).getAsJsonObject().has("valueUs"));
            assertKeys(summary.getAsJsonObject("throughput"), "msgPerSec", "mbPerSec");
            assertKeys(summary.getAsJsonObject("connections"), "opened", "peakOpen", "timeToOpenAllMs", "connectLatencyUs");
            assertKeys(summary.getAsJsonObject("connections").getAsJsonObject("connectLatencyUs"), latencyKeys);
            JsonObject generator = summary.getAsJsonObject("generator");
            assertKeys(generator, "cpuSeconds", "cpuPercentOfCore", "cpuNanosPerMessage", "lagUs", "saturated", "warnings");
            assertKeys(generator.getAsJsonObject("lagUs"), "p50", "p99", "max");
            assertEquals(generator.get("saturated").getAsBoolean(), out.stream().anyMatch(l -> l.startsWith("WARNING: generator saturated")));
            assertTrue(root.getAsJsonArray("series").size() >= 1, root.toString());
            assertKeys(root.getAsJsonArray("series").get(0).getAsJsonObject(), "second", "sent", "received", "p99Us", "lagMaxUs", "connections", "failures");

            Run merged = load("merge", hlog.toString());
            assertEquals(0, merged.exitCode(), merged.output());
            assertEquals(sent, merged.count("Count"), "the hlog holds every measured echo\n" + merged.output());
        }
    }

    private static void assertKeys(JsonObject object, String... keys) {
        for (String key : keys) assertTrue(object.has(key), "missing '" + key + "' in " + object);
    }

    @Test
    void readsAnEchoSplitOverManyReads() throws Exception {
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.ONE_BYTE_AT_A_TIME)) {
            Run run = load("--host", server.address(), "--users", "4", "--duration", "1s", "--size", "200");
            assertEquals(0, run.exitCode(), run.output());
            assertTrue(run.count("Received") > 0, run.output());
            assertEquals(run.count("Sent"), run.count("Received"), run.output());
        }
    }

    @Test
    void idleKeepsEachUsersTimetableAndCountsOnlyTheMeasuredWindow(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("idle.json");
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE)) {
            // 20 users, one message each per 100 ms, connecting over 0.5 s, measured for the 1 s after a 1 s warm-up:
            // the timetable holds exactly 10 sends per user in the window (a few may be lost if this machine is busy)
            Run run = load("--host", server.address(), "--users", "20", "--idle", "--interval", "100ms", "--ramp-up", "500ms",
                    "--warmup", "1s", "--duration", "1s", "--json", json.toString());
            assertEquals(0, run.exitCode(), run.output());
            long sent = run.count("Sent");
            assertTrue(sent <= 200 && sent >= 150, "sent " + sent + "\n" + run.output());
            JsonObject root = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
            assertEquals("idle", root.getAsJsonObject("config").get("mode").getAsString());
            assertEquals(sent, root.getAsJsonObject("summary").getAsJsonObject("uncorrectedLatencyUs").get("count").getAsLong());
            assertEquals(200.0, root.getAsJsonObject("summary").getAsJsonObject("generator").get("requestedRate").getAsDouble());
        }
    }

    @Test
    void churnOpensAConnectionPerEcho() throws Exception {
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE)) {
            Run run = load("--host", server.address(), "--users", "3", "--duration", "1s", "--churn", "--interval", "20ms");
            assertEquals(0, run.exitCode(), run.output());
            long received = run.count("Received");
            assertTrue(received > 3, run.output());
            long opened = Long.parseLong(run.value("Connections").replaceAll(" opened.*", ""));
            assertTrue(opened >= received, "one connection per echo\n" + run.output());
        }
    }

    /** Runs TcpLoad against a server with {@code fault}: every message sent must fail, counted as {@code kind}. */
    private static Run assertEveryMessageFailsAs(FaultyEchoServer.Fault fault, String kind, String... args) throws Exception {
        try (FaultyEchoServer server = new FaultyEchoServer(fault)) {
            List<String> all = new ArrayList<>(List.of("--host", server.address(), "--duration", "1s"));
            all.addAll(List.of(args));
            Run run = load(all.toArray(String[]::new));
            assertEquals(1, run.exitCode(), run.output());
            assertEquals(0, run.count("Received"), run.output());
            assertTrue(run.count("Sent") > 0, run.output());
            assertEquals(run.count("Sent"), run.failuresByKind().get(kind), run.output());
            return run;
        }
    }

    @Test
    void countsACorruptedByteAsMismatch() throws Exception {
        assertEveryMessageFailsAs(FaultyEchoServer.Fault.CORRUPT_A_BYTE, "mismatch", "--users", "4", "--size", "64");
    }

    @Test
    void countsTimeoutsAndEndsOnTimeWhenTheServerNeverAnswers() throws Exception {
        long started = System.nanoTime();
        Run run = assertEveryMessageFailsAs(FaultyEchoServer.Fault.NEVER_ANSWER, "timeout", "--users", "5", "--timeout", "500ms");
        long seconds = (System.nanoTime() - started) / 1_000_000_000L;
        assertTrue(run.failuresByKind().get("timeout") >= 5, run.output());
        // a hang would never end; this bound only rules out one, allowing for a slow JVM start on a busy machine
        assertTrue(seconds < 30, "took " + seconds + " s");
    }

    @Test
    void countsALateEchoAsATimeoutSkipsItsBytesAndKeepsTheConnection() throws Exception {
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.STALL_ONCE)) {
            // closed loop, no pause: the 1 s stall comes within the first second and outlasts the 300 ms timeout
            Run run = load("--host", server.address(), "--users", "10", "--duration", "3s", "--timeout", "300ms");
            assertEquals(1, run.exitCode(), run.output());
            Map<String, Long> kinds = run.failuresByKind();
            assertEquals(10, kinds.get("timeout"), "one late echo per connection\n" + run.output());
            assertEquals(0, kinds.get("mismatch") + kinds.get("closed") + kinds.get("connect") + kinds.get("io"), run.output());
            assertTrue(run.value("Connections").startsWith("10 opened"), "no reconnects\n" + run.output());
            assertEquals(run.count("Sent"), run.count("Received") + 10, run.output());
        }
    }

    @Test
    void countsAConnectionClosedMidMessage() throws Exception {
        assertEveryMessageFailsAs(FaultyEchoServer.Fault.CLOSE_MID_MESSAGE, "closed", "--users", "3", "--message", "hello world");
    }

    @Test
    void openLoopShowsAStallInTheCorrectedFiguresOnly(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("open.json");
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.STALL_ONCE)) {
            // 1,000 msg/s for 4 s: the 1 s stall delays ~1,000 scheduled messages (a quarter of them, so the
            // corrected p99 is near 1 s) but only the 10 messages already sent when it began (0.25%, below p99).
            Run run = load("--host", server.address(), "--users", "10", "--duration", "4s", "--rate", "1000",
                    "--json", json.toString());
            assertEquals(0, run.exitCode(), run.output());
            assertTrue(run.stdout().stream().anyMatch(l -> l.contains("corrected for coordinated omission")), run.output());
            JsonObject summary = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("summary");
            double correctedP99 = summary.getAsJsonObject("latencyUs").get("p99").getAsDouble();
            double uncorrectedP99 = summary.getAsJsonObject("uncorrectedLatencyUs").get("p99").getAsDouble();
            double uncorrectedMax = summary.getAsJsonObject("uncorrectedLatencyUs").get("max").getAsDouble();
            assertTrue(correctedP99 >= 500_000, "corrected p99 " + correctedP99 + " µs\n" + run.output());
            assertTrue(uncorrectedP99 < 250_000, "uncorrected p99 " + uncorrectedP99 + " µs\n" + run.output());
            assertTrue(uncorrectedMax >= 500_000, "the stalled messages themselves: " + uncorrectedMax + " µs");
            // the open loop polls for its sends' last 20 µs: that CPU is reported apart, and is part of the CPU figure
            // (it may be 0: while the server stalls, sends wait for echoes rather than for their timer)
            JsonObject generator = summary.getAsJsonObject("generator");
            double spin = generator.get("spinSeconds").getAsDouble(), cpu = generator.get("cpuSeconds").getAsDouble();
            assertTrue(spin >= 0 && spin <= cpu, "spinSeconds " + spin + " of cpuSeconds " + cpu);
            assertTrue(run.stdout().stream().anyMatch(l -> l.startsWith("Spin: ")), run.output());
        }
    }

    @Test
    void aBusyPollingLoopCountsItsIdlePollingAsSpinNotAsWork(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("busy.json");
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE)) {
            Run run = load("--host", server.address(), "--users", "20", "--rate", "200", "--busy-poll",
                    "--warmup", "1s", "--duration", "1s", "--json", json.toString());
            assertEquals(0, run.exitCode(), run.output());
            assertEquals(run.count("Sent"), run.count("Received"), run.output());
            // at 200 msg/s the loop finds nothing to do almost all the time: that polling is spin, inside the CPU
            // figure, and the saturation check leaves it out
            JsonObject generator = JsonParser.parseString(Files.readString(json)).getAsJsonObject()
                    .getAsJsonObject("summary").getAsJsonObject("generator");
            double spin = generator.get("spinSeconds").getAsDouble(), cpu = generator.get("cpuSeconds").getAsDouble();
            assertTrue(spin > 0 && spin <= cpu, "spinSeconds " + spin + " of cpuSeconds " + cpu + "\n" + run.output());
            assertTrue(run.stdout().stream().noneMatch(l -> l.contains("the generator used")), run.output());
        }
    }

    /**
     * Every transport reassembles echoes that come one byte per write, counts a corrupted one and names itself in the
     * output and the JSON; a transport not available here says so and its run is skipped.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"io_uring", "epoll", "nio"})
    void eachTransportCountsFragmentedAndCorruptedEchoes(String transport, @TempDir Path dir) throws Exception {
        for (FaultyEchoServer.Fault fault : List.of(FaultyEchoServer.Fault.ONE_BYTE_AT_A_TIME, FaultyEchoServer.Fault.CORRUPT_A_BYTE)) {
            Path json = dir.resolve(fault + ".json");
            try (FaultyEchoServer server = new FaultyEchoServer(fault)) {
                Run run = load("--host", server.address(), "--users", "5", "--duration", "1s", "--message", "hello",
                        "--interval", "0", "--transport", transport, "--json", json.toString());
                Assumptions.assumeFalse(run.exitCode() == 1 && run.output().contains("is not available here"), run.output());
                assertEquals(fault == FaultyEchoServer.Fault.ONE_BYTE_AT_A_TIME ? 0 : 1, run.exitCode(), run.output()); // failures exit 1
                assertTrue(run.value("Generator").startsWith(transport + ", CPU "), run.output());
                long received = run.count("Received"), mismatches = run.failuresByKind().get("mismatch");
                if (fault == FaultyEchoServer.Fault.ONE_BYTE_AT_A_TIME) {
                    assertTrue(received > 0 && mismatches == 0, run.output());
                } else {
                    assertTrue(received == 0 && mismatches > 0, run.output());
                }
                JsonObject config = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("config");
                assertEquals(transport, config.get("transport").getAsString());
            }
        }
    }

    @Test
    void autoTakesIoUringFlatOutAndEpollForPacedSends() throws Exception {
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE)) {
            Run flatOut = load("--host", server.address(), "--users", "5", "--duration", "1s", "--interval", "0");
            Run paced = load("--host", server.address(), "--users", "5", "--duration", "1s", "--rate", "100");
            assertEquals(0, flatOut.exitCode(), flatOut.output());
            assertEquals(0, paced.exitCode(), paced.output());
            Assumptions.assumeTrue(flatOut.value("Generator").startsWith("io_uring,"), "io_uring not available: " + flatOut.value("Generator"));
            assertTrue(paced.value("Generator").startsWith("epoll,"), paced.output());
        }
    }

    @Test
    void mergeOfTwoLogsEqualsTheHistogramOfTheUnion(@TempDir Path dir) throws Exception {
        Histogram union = new Histogram(1, 3_600_000_000_000L, 3);
        Path a = writeLog(dir.resolve("a.hlog"), 1_000, 2_000_000, 7, union);
        Path b = writeLog(dir.resolve("b.hlog"), 50_000, 90_000_000, 13, union);
        Run merged = load("merge", "--percentiles", a.toString(), b.toString());
        assertEquals(0, merged.exitCode(), merged.output());
        assertEquals(union.getTotalCount(), merged.count("Count"));
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        union.outputPercentileDistribution(new PrintStream(expected, true, StandardCharsets.UTF_8), 5, 1000.0);
        // every percentile line, the mean, standard deviation, max and count; not the bucket layout, which is how
        // the histogram stores values, not what they are
        String wanted = expected.toString(StandardCharsets.UTF_8).replaceAll("#\\[Buckets.*\n", "");
        String spectrum = String.join("\n", merged.stdout()).replaceAll("#\\[Buckets.*", "");
        assertTrue(spectrum.contains(wanted), "expected spectrum\n" + wanted + "\ngot\n" + spectrum);
    }

    /** Three 1 s intervals of pseudo-random values in [low, high) ns, also added to {@code union}. */
    private static Path writeLog(Path file, long low, long high, long seed, Histogram union) throws Exception {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        try (PrintStream out = new PrintStream(Files.newOutputStream(file), true, StandardCharsets.UTF_8)) {
            HistogramLogWriter writer = new HistogramLogWriter(out);
            writer.outputLogFormatVersion();
            writer.outputStartTime(0);
            writer.outputLegend();
            for (int second = 0; second < 3; second++) {
                Histogram interval = new Histogram(1, 3_600_000_000_000L, 3);
                for (int i = 0; i < 5_000; i++) interval.recordValue(random.nextLong(low, high));
                interval.setStartTimeStamp(second * 1000L);
                interval.setEndTimeStamp(second * 1000L + 1000);
                writer.outputIntervalHistogram(interval);
                union.add(interval);
            }
        }
        return file;
    }

    @Test
    void rejectsEachBadFlagWithOneLineNamingItAndExitCode2() throws Exception {
        Map<String, List<String>> badFlags = Map.of(
                "--users", List.of("--users", "0"),
                "--host", List.of("--host", "localhost"),
                "--idle", List.of("--rate", "100", "--idle"),
                "--transport", List.of("--transport", "kqueue"),
                "--busy-poll", List.of("--busy-poll", "--transport", "io_uring"),
                "--no-such-flag", List.of("--no-such-flag"));
        Map<String, java.util.concurrent.Future<Run>> runs = new LinkedHashMap<>();
        try (var parallel = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) { // the JVM starts at once
            badFlags.forEach((flag, args) -> runs.put(flag, parallel.submit(() -> load(args.toArray(String[]::new)))));
        }
        for (var entry : runs.entrySet()) {
            Run run = entry.getValue().get();
            assertEquals(2, run.exitCode(), run.output());
            assertEquals(1, run.stderr().size(), run.output());
            assertTrue(run.stderr().get(0).contains(entry.getKey()), run.output());
            assertTrue(run.stdout().isEmpty(), run.output());
        }
    }

    @Test
    void refusesMoreUsersThanTheOpenFilesLimitBeforeConnecting() throws Exception {
        Run run = load("--host", "127.0.0.1:9", "--users", "50000");
        assertEquals(2, run.exitCode(), run.output());
        assertEquals(1, run.stderr().size(), run.output());
        String line = run.stderr().get(0);
        assertTrue(line.contains("--users 50000") && line.contains("open-files limit") && line.contains("ulimit -n"), line);
    }

    @Test
    void saysInOneLineWhenTheServerIsUnreachable() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            closedPort = probe.getLocalPort();
        }
        Run run = load("--host", "127.0.0.1:" + closedPort, "--users", "10", "--duration", "1s");
        assertEquals(1, run.exitCode(), run.output());
        assertEquals(1, run.stderr().size(), run.output());
        assertTrue(run.stderr().get(0).contains("cannot connect to 127.0.0.1:" + closedPort), run.output());
    }

    private static final Pattern MEASURING = Pattern.compile("^MEASURING after (\\d+\\.\\d)s of warm-up: (steady|not steady \\((.+)\\))$");

    /** The run's MEASURING line, which must come once, after "Starting test" and before the summary. */
    private static Matcher measuringLine(Run run) {
        List<String> lines = run.stdout().stream().filter(l -> l.startsWith("MEASURING")).toList();
        assertEquals(1, lines.size(), run.output());
        assertTrue(run.stdout().indexOf(lines.get(0)) < run.stdout().indexOf("=== Load Test Complete ==="), run.output());
        Matcher m = MEASURING.matcher(lines.get(0));
        assertTrue(m.matches(), lines.get(0));
        return m;
    }

    private static JsonObject warmupOf(Path json) throws Exception {
        return JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("summary").getAsJsonObject("warmup");
    }

    /**
     * --steady against a real server, watching its JIT: the warm-up ends by the criterion or at the cap (which of
     * the two depends on how busy this machine is, so either is accepted), the line and the JSON agree, and the
     * measured window that follows counts every echo.
     */
    @Test
    void steadyWarmUpEndsWithTheMeasuringLineAndTheJsonSaysHow(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("steady.json");
        try (TestSupport.Server server = TestSupport.startServer("EchoNetty.java")) {
            Run run = load("--host", server.host() + ":" + server.port(), "--users", "20", "--duration", "1s", "--size", "64",
                    "--steady", "--warmup", "1s", "--warmup-max", "8s", "--watch-pid", String.valueOf(server.pid()),
                    "--quiet", "--json", json.toString());
            assertEquals(0, run.exitCode(), run.output());
            Matcher line = measuringLine(run);
            JsonObject warmup = warmupOf(json);
            boolean steady = line.group(2).equals("steady");
            assertEquals(steady, warmup.get("steady").getAsBoolean(), warmup.toString());
            assertEquals(steady ? null : line.group(3), warmup.get("reason").isJsonNull() ? null : warmup.get("reason").getAsString());
            assertEquals(1.0, warmup.get("plannedSeconds").getAsDouble());
            double seconds = warmup.get("seconds").getAsDouble();
            assertEquals(line.group(1), String.format(java.util.Locale.ROOT, "%.1f", seconds));
            assertTrue(seconds >= (steady ? 3 : 8), "steady needs 3 samples, the cap is 8 s: " + warmup);
            assertTrue(warmup.get("serverJitPercentOfCore").getAsDouble() >= 0, warmup.toString());
            assertTrue(warmup.get("loadJitPercentOfCore").getAsDouble() >= 0, warmup.toString());
            assertTrue(run.count("Received") > 0, run.output());
            assertEquals(run.count("Sent"), run.count("Received"), run.output());
        }
    }

    /** A cap of 1 s is shorter than the 3 samples the rule needs: not steady, whatever the machine does, and no hang. */
    @Test
    void aWarmUpCappedBeforeItCanBeSteadyIsMarkedNotSteady(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("capped.json");
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE)) {
            Run run = load("--host", server.address(), "--users", "5", "--duration", "1s", "--steady", "--warmup-max", "1s",
                    "--json", json.toString());
            assertEquals(0, run.exitCode(), run.output());
            Matcher line = measuringLine(run);
            assertEquals("only 1 s of warm-up samples where the check needs 3 at the 1 s cap", line.group(3), run.output());
            JsonObject warmup = warmupOf(json);
            assertFalse(warmup.get("steady").getAsBoolean());
            assertEquals(line.group(3), warmup.get("reason").getAsString());
            assertTrue(warmup.get("serverJitPercentOfCore").isJsonNull(), "no --watch-pid: " + warmup);
            assertEquals(run.count("Sent"), run.count("Received"), run.output());
        }
    }

    @Test
    void warmUpOptionsThatContradictEachOtherAreUsageErrors() throws Exception {
        try (FaultyEchoServer server = new FaultyEchoServer(FaultyEchoServer.Fault.NONE)) {
            for (List<String> args : List.of(List.of("--warmup-max", "5s"), List.of("--steady", "--warmup", "5s", "--warmup-max", "2s"),
                    List.of("--watch-pid", "2147483647"))) {
                List<String> all = new ArrayList<>(List.of("--host", server.address(), "--duration", "1s"));
                all.addAll(args);
                Run run = load(all.toArray(String[]::new));
                assertEquals(2, run.exitCode(), args + "\n" + run.output());
                assertEquals(1, run.stderr().size(), run.output());
            }
        }
    }

    @ParameterizedTest
    @FieldSource("TestSupport#SERVERS")
    void loadsEachProjectServerWithoutFailures(String script) throws Exception {
        Assumptions.assumeTrue(Files.exists(TestSupport.ROOT.resolve(script)), script + " not written yet");
        try (TestSupport.Server server = TestSupport.startServer(script)) {
            Run run = load("--host", server.host() + ":" + server.port(), "--users", "50", "--duration", "1s",
                    "--size", "100", "--inflight", "4", "--quiet");
            assertEquals(0, run.exitCode(), run.output());
            assertTrue(run.count("Received") > 0, run.output());
            assertEquals(run.count("Sent"), run.count("Received"), run.output());
        }
    }
}
