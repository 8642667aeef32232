import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.EventType;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The three echo servers, each a real process started through ./jbang: the echo is exact whatever the size and
 * concurrency, connections are independent, the flags and lines follow docs/CONTRACTS.md, and bad input fails cleanly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EchoServerTest {
    static final List<String> SERVERS = TestSupport.SERVERS;

    /** One server of each kind with default flags, shared by the tests that only need an echo. */
    private final Map<String, TestSupport.Server> shared = new ConcurrentHashMap<>();

    @BeforeAll
    void startSharedServers() {
        CompletableFuture.allOf(SERVERS.stream()
                .map(script -> TestSupport.async(() -> shared.put(script, TestSupport.startServer(script))))
                .toArray(CompletableFuture[]::new)).join();
    }

    @AfterAll
    void stopSharedServers() {
        shared.values().forEach(TestSupport.Server::close);
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void tenConcurrentConnectionsEachEchoOneMebibyteExactly(String script) throws Exception {
        TestSupport.Server server = shared.get(script);
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                byte[] data = randomBytes(1 << 20, i);
                done.add(clients.submit(() -> {
                    try (Socket socket = connect(server)) {
                        assertArrayEquals(data, echo(socket, data));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void aMessageLargerThanTheBufferComesBackWholeAndSmallOnesStillWorkAfterIt(String script) throws Exception {
        try (Socket socket = connect(shared.get(script))) {
            byte[] large = randomBytes(300 * 1024, 1); // 16 KiB buffer: many partial reads and writes
            assertArrayEquals(large, echo(socket, large));
            for (int i = 0; i < 5; i++) {
                byte[] small = randomBytes(100, i);
                assertArrayEquals(small, echo(socket, small));
            }
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void aHalfClosedConnectionGetsTheRestOfItsEchoThenEndOfStream(String script) throws Exception {
        try (Socket socket = connect(shared.get(script))) {
            byte[] data = randomBytes(512 * 1024, 2);
            CompletableFuture<Void> sent = TestSupport.async(() -> {
                socket.getOutputStream().write(data);
                socket.shutdownOutput();
            });
            byte[] received = socket.getInputStream().readAllBytes(); // until the server closes
            sent.join();
            assertArrayEquals(data, received);
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void aResetConnectionDoesNotDisturbAnother(String script) throws Exception {
        TestSupport.Server server = shared.get(script);
        try (Socket survivor = connect(server)) {
            byte[] before = randomBytes(1000, 3);
            assertArrayEquals(before, echo(survivor, before));
            for (int i = 0; i < 5; i++) {
                Socket reset = connect(server);
                reset.getOutputStream().write(randomBytes(64 * 1024, i)); // echo still in flight when it resets
                reset.setSoLinger(true, 0);
                reset.close(); // RST instead of FIN
            }
            byte[] after = randomBytes(100_000, 4);
            assertArrayEquals(after, echo(survivor, after));
        }
        try (Socket newcomer = connect(server)) {
            byte[] data = randomBytes(10, 5);
            assertArrayEquals(data, echo(newcomer, data));
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void aThousandConcurrentConnectionsEachEchoOnce(String script) throws Exception {
        TestSupport.Server server = shared.get(script);
        List<Socket> sockets = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 1000; i++) sockets.add(connect(server)); // all open before anyone talks
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < sockets.size(); i++) {
                Socket socket = sockets.get(i);
                byte[] data = ("hello " + i).getBytes();
                done.add(clients.submit(() -> {
                    assertArrayEquals(data, echo(socket, data));
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            for (Socket socket : sockets) socket.close();
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void theReadyLineFollowsTheContract(String script) {
        TestSupport.Server server = shared.get(script);
        String line = server.script().stdout.stream().filter(l -> l.startsWith("READY ")).findFirst().orElseThrow();
        String className = script.replace(".java", "");
        assertTrue(line.startsWith("READY " + className + " 127.0.0.1:" + server.port() + " model="), line);
        assertTrue(server.port() > 0, line);
        assertEquals(Map.of("EchoPlatformThreads.java", "platform", "EchoVirtualThreads.java", "virtual",
                "EchoNetty.java", "netty").get(script), server.ready().get("model"), line);
        assertEquals("16384", server.ready().get("buffer-size"), line);
        assertEquals("none", server.ready().get("work"), line);
        assertTrue(line.endsWith(" pid=" + server.script().pid()), line); // ./jbang execs the JVM: same process
        List<String> variantKeys = switch (script) {
            case "EchoNetty.java" -> List.of("transport", "threads", "offload");
            case "EchoVirtualThreads.java" -> List.of("carriers");
            default -> List.of("stack-size");
        };
        for (String key : variantKeys) assertTrue(server.ready().containsKey(key), key + " missing in " + line);
        assertTrue(line.matches("READY \\S+ \\S+:\\d+( [a-z-]+=\\S+)+"), line);
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void maxConnectionsClosesTheExtraOnesAtOnceAndStatsCountsThem(String script) throws Exception {
        try (TestSupport.Server server = TestSupport.startServer(script, "--max-connections", "2")) {
            try (Socket first = connect(server); Socket second = connect(server)) {
                byte[] data = randomBytes(1000, 6);
                assertArrayEquals(data, echo(first, data));
                assertArrayEquals(data, echo(second, data));
                try (Socket extra = connect(server)) {
                    assertClosedByServer(extra);
                }
                assertArrayEquals(data, echo(first, data)); // the admitted ones are untouched
            }
            sigterm(server);
            assertEquals(0, server.script().await(Duration.ofSeconds(30)), server.script().output());
            Matcher stats = stats(server.script());
            assertEquals("2", stats.group(1), stats.group());
            assertEquals("1", stats.group(2), stats.group());
            assertEquals("2", stats.group(3), stats.group());
            assertEquals("3000", stats.group(4), stats.group());
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void sigtermDumpsTheJfrRecordingPrintsStatsAndExitsZero(String script, @TempDir Path dir) throws Exception {
        Path jfr = dir.resolve("server.jfr");
        try (TestSupport.Server server = TestSupport.startServer(script, "--jfr", jfr.toString())) {
            try (Socket socket = connect(server)) {
                byte[] data = randomBytes(1000, 7);
                assertArrayEquals(data, echo(socket, data));
                sigterm(server); // while the connection is open: the server must close it itself
                assertEquals(-1, socket.getInputStream().read());
            }
            assertEquals(0, server.script().await(Duration.ofSeconds(30)), server.script().output());
            Matcher stats = stats(server.script());
            assertEquals("1", stats.group(1), stats.group());
            assertEquals("1000", stats.group(4), stats.group());
        }
        // readable, and recorded with echo.jfc: virtual thread starts are off in JDK's default settings, on in ours
        long virtualThreadStart = -1;
        boolean startEnabled = false;
        try (RecordingFile recording = new RecordingFile(jfr)) {
            for (EventType type : recording.readEventTypes()) {
                if (type.getName().equals("jdk.VirtualThreadStart")) virtualThreadStart = type.getId();
            }
            while (recording.hasMoreEvents()) {
                RecordedEvent event = recording.readEvent();
                if (event.getEventType().getName().equals("jdk.ActiveSetting")
                        && event.getLong("id") == virtualThreadStart && event.getString("name").equals("enabled")) {
                    startEnabled = event.getString("value").equals("true");
                }
            }
        }
        assertTrue(startEnabled, "the recording does not use echo.jfc (jdk.VirtualThreadStart not enabled)");
    }

    /**
     * The 2 s stop holds even when every handler is busy: a connection's handler asleep in a 5 s --work (on Netty,
     * that blocks its event loop) must not hold up the exit, the STATS line or the JFR dump.
     */
    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void sigtermStopsWithinTwoSecondsWhileAHandlerSleeps(String script, @TempDir Path dir) throws Exception {
        Path jfr = dir.resolve("server.jfr");
        try (TestSupport.Server server = TestSupport.startServer(script, "--work", "sleep:5s", "--jfr", jfr.toString());
             Socket socket = connect(server)) {
            socket.getOutputStream().write(1);
            Thread.sleep(300); // the byte is read and its handler asleep
            long signalled = System.nanoTime();
            sigterm(server);
            assertEquals(0, server.script().await(Duration.ofSeconds(30)), server.script().output());
            long stopMillis = (System.nanoTime() - signalled) / 1_000_000;
            assertTrue(stopMillis < 2_000, "stopped in " + stopMillis + " ms\n" + server.script().output());
            assertEquals("1", stats(server.script()).group(1));
        }
        try (RecordingFile recording = new RecordingFile(jfr)) {
            assertTrue(recording.hasMoreEvents(), "empty recording " + jfr);
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void badInputFailsWithOneLineNamingTheFlagAndExitTwo(String script) throws Exception {
        // each case: the flag its one line must name, then the arguments
        List<List<String>> cases = List.of(
                List.of("--no-such-flag", "--no-such-flag"),
                List.of("--port", "--port", "70000"),
                List.of("--idle-timeout", "--idle-timeout", "soon"),
                List.of("--work", "--work", "dance:1ms"),
                List.of("--work", "--work", "cpu:abc"),
                List.of("--buffer-size", "--buffer-size", "lots"),
                List.of("--bind", "--bind", "no.such.host.invalid"));
        Map<List<String>, TestSupport.Script> runs = new ConcurrentHashMap<>();
        for (List<String> c : cases) runs.put(c, TestSupport.jbang(script, c.subList(1, c.size()).toArray(String[]::new)));
        for (var run : runs.entrySet()) {
            try (TestSupport.Script process = run.getValue()) {
                String flag = run.getKey().get(0);
                assertEquals(2, process.await(Duration.ofSeconds(60)), run.getKey() + "\n" + process.output());
                assertEquals(1, process.stderr.size(), run.getKey() + "\n" + process.output());
                assertTrue(process.stderr.get(0).contains(flag), process.output());
                assertTrue(process.stdout.isEmpty(), process.output());
            }
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void aPortInUseIsOneLineAndExitOne(String script) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             TestSupport.Script process = TestSupport.jbang(script, "--port", String.valueOf(taken.getLocalPort()))) {
            assertEquals(1, process.await(Duration.ofSeconds(60)), process.output());
            assertEquals(1, process.stderr.size(), process.output());
            assertTrue(process.stderr.get(0).endsWith("port " + taken.getLocalPort() + " is already in use"), process.output());
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void anAddressNotOnThisMachineIsOneLineAndExitOne(String script) throws Exception {
        // 192.0.2.0/24 is reserved for documentation (RFC 5737): no machine has it, so the bind fails, not the lookup
        try (TestSupport.Script process = TestSupport.jbang(script, "--bind", "192.0.2.1", "--port", "0")) {
            assertEquals(1, process.await(Duration.ofSeconds(60)), process.output());
            assertEquals(1, process.stderr.size(), process.output());
            assertTrue(process.stderr.get(0).contains("cannot listen on 192.0.2.1:0"), process.output());
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void eachNettyTransportStartsAndEchoes(String transport) throws Exception {
        try (TestSupport.Server server = TestSupport.startServer("EchoNetty.java", "--transport", transport)) {
            assertEquals(transport, server.ready().get("transport"));
            try (Socket socket = connect(server)) {
                byte[] data = randomBytes(200_000, 8);
                assertArrayEquals(data, echo(socket, data));
            }
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void idleTimeoutClosesASilentConnection(String script) throws Exception {
        try (TestSupport.Server server = TestSupport.startServer(script, "--idle-timeout", "300ms");
             Socket socket = connect(server)) {
            byte[] data = randomBytes(100, 9);
            assertArrayEquals(data, echo(socket, data));
            assertClosedByServer(socket); // within the 30 s read timeout, so the server did it
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @ValueSource(strings = {"cpu:50us", "sleep:1ms"})
    void nettyOffloadedWorkKeepsTheEchoExactAndHalfCloseComplete(String work) throws Exception {
        try (TestSupport.Server server = TestSupport.startServer("EchoNetty.java", "--offload", "--work", work)) {
            assertEquals("true", server.ready().get("offload"));
            try (Socket socket = connect(server)) {
                byte[] data = randomBytes(256 * 1024, 10);
                CompletableFuture<Void> sent = TestSupport.async(() -> {
                    socket.getOutputStream().write(data);
                    socket.shutdownOutput();
                });
                assertArrayEquals(data, socket.getInputStream().readAllBytes());
                sent.join();
            }
        }
    }

    // --- helpers

    private static final Pattern STATS = Pattern.compile("^STATS accepted=(\\d+) rejected=(\\d+) peak=(\\d+) bytes=(\\d+)$");

    /** The STATS line of a process that has exited; its output collectors may still be draining the pipe. */
    private static Matcher stats(TestSupport.Script process) throws InterruptedException {
        Matcher line = process.awaitLine(Pattern.compile("^STATS .*$"), Duration.ofSeconds(10));
        assertEquals(1, process.stdout.stream().filter(l -> l.startsWith("STATS")).count(), process.output());
        Matcher m = STATS.matcher(line.group());
        assertTrue(m.matches(), line.group());
        return m;
    }

    /**
     * SIGTERM through the process handle: {@code Process.destroy()} (TestSupport.Script.terminate) also closes the
     * pipes, so the lines the server prints while stopping would be lost.
     */
    private static void sigterm(TestSupport.Server server) {
        server.script().process.toHandle().destroy();
    }

    private static Socket connect(TestSupport.Server server) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(server.host(), server.port()), 10_000);
        socket.setSoTimeout(30_000); // a lost echo fails the test instead of hanging it
        return socket;
    }

    /** Sends {@code data} while reading its echo, so that neither side's buffers can fill up and stall the other. */
    private static byte[] echo(Socket socket, byte[] data) throws Exception {
        CompletableFuture<Void> sent = TestSupport.async(() -> socket.getOutputStream().write(data));
        byte[] received = socket.getInputStream().readNBytes(data.length);
        sent.join();
        return received;
    }

    private static void assertClosedByServer(Socket socket) {
        try {
            InputStream in = socket.getInputStream();
            assertEquals(-1, in.read(), "the server should have closed the extra connection");
        } catch (IOException reset) {
            // a reset is a close too
        }
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
