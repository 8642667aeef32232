import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The reference servers in reference/ (C epoll, Go net), built once with reference/build.sh and run as real
 * processes: the same echo guarantees and, where they apply, the same flags and lines as the Java servers. A server
 * whose toolchain is missing has its tests skipped with build.sh's reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReferenceServerTest {
    static final List<String> REFERENCE_SERVERS = List.of("c-epoll", "go-net");

    private static final Pattern READY = Pattern.compile("^READY (\\S+) (\\S+):(\\d+) .*pid=(\\d+)$");
    private static final Pattern STATS = Pattern.compile("^STATS accepted=(\\d+) rejected=(\\d+) peak=(\\d+) bytes=(\\d+)$");

    private Path buildDir;
    private String buildOutput;
    private static final Map<String, Path> binaries = new ConcurrentHashMap<>();
    /** build.sh's "skipped <name>: ..." line for each server whose toolchain is missing. */
    private static final Map<String, String> skipped = new ConcurrentHashMap<>();

    /**
     * Skips the tests of a server that build.sh skipped, with its line as the reason. A condition rather than an
     * assumption: RunTests prints a skipped test as SKIP, but counts an aborted one (a failed assumption) as failed.
     */
    @RegisterExtension
    static final ExecutionCondition TOOLCHAIN_PRESENT = context -> skipped.entrySet().stream()
            .filter(s -> context.getDisplayName().contains("\"" + s.getKey() + "\""))
            .map(s -> ConditionEvaluationResult.disabled(s.getValue()))
            .findFirst().orElse(ConditionEvaluationResult.enabled("built, or not a server's test"));
    /** One server of each kind with default flags, for the tests that only need an echo. */
    private final Map<String, Started> shared = new ConcurrentHashMap<>();

    /** A reference server running in its own process, and what its ready line said. */
    record Started(TestSupport.Script script, String line, String name, String host, int port, long pid) implements AutoCloseable {
        @Override
        public void close() {
            script.close();
        }
    }

    @BeforeAll
    void build() throws Exception {
        buildDir = Files.createTempDirectory("reference-servers");
        Process build = new ProcessBuilder("bash", "reference/build.sh", buildDir.toString())
                .directory(TestSupport.ROOT.toFile()).redirectErrorStream(true).start();
        buildOutput = new String(build.getInputStream().readAllBytes());
        build.waitFor();
        for (String line : buildOutput.lines().toList()) {
            String[] words = line.split(" ", 3);
            if (words[0].equals("built")) binaries.put(words[1], Path.of(words[2]));
            if (words[0].equals("skipped")) skipped.put(words[1].replace(":", ""), line);
        }
        for (String name : binaries.keySet()) shared.put(name, start(name));
    }

    @AfterAll
    void stopAndCleanUp() throws IOException {
        shared.values().forEach(Started::close);
        if (buildDir == null) return;
        try (var files = Files.walk(buildDir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("REFERENCE_SERVERS")
    void tenConcurrentConnectionsEachEchoOneMebibyteExactly(String name) throws Exception {
        Started server = shared(name);
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Void>> connections = IntStream.range(0, 10).mapToObj(seed -> clients.submit(() -> {
                try (Socket socket = connect(server)) {
                    assertEchoes(socket, 1 << 20, seed);
                }
                return (Void) null;
            })).toList();
            for (Future<Void> connection : connections) connection.get(); // rethrows a client's failure
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("REFERENCE_SERVERS")
    void aMessageLargerThanTheBufferComesBackWholeAndSmallOnesStillWorkAfterIt(String name) throws Exception {
        try (Started server = start(name, "--buffer-size", "1024"); Socket socket = connect(server)) {
            assertTrue(server.line().contains(" buffer-size=1024 "), server.line());
            assertEchoes(socket, 64 * 1024, 1); // 64 reads of the 1 KiB buffer at least
            assertEchoes(socket, 100, 2);
        }
    }

    /**
     * The client sends 4 MiB and half-closes before it reads anything: the server's writes fill the client's
     * receive buffer and block (for c-epoll, the unsent rest waits for EPOLLOUT), then all of it must still come back,
     * followed by end of stream.
     */
    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("REFERENCE_SERVERS")
    void aHalfClosedConnectionGetsTheRestOfItsEchoThenEndOfStream(String name) throws Exception {
        try (Socket socket = connect(shared(name))) {
            byte[] data = randomBytes(4 << 20, 3);
            CompletableFuture<Void> sent = TestSupport.async(() -> {
                socket.getOutputStream().write(data);
                socket.shutdownOutput();
            });
            Thread.sleep(500); // not reading yet: the echo backs up in both directions
            byte[] received = socket.getInputStream().readAllBytes(); // until the server closes its side
            sent.join();
            assertArrayEquals(data, received);
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("REFERENCE_SERVERS")
    void aConnectionResetMidStreamDoesNotDisturbAnotherOneEchoingMeanwhile(String name) throws Exception {
        Started server = shared(name);
        AtomicBoolean resetting = new AtomicBoolean(true);
        try (Socket survivor = connect(server); ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Integer> echoes = clients.submit(() -> {
                int rounds = 0;
                for (; resetting.get() || rounds < 3; rounds++) assertEchoes(survivor, 20_000, rounds);
                return rounds;
            });
            for (int i = 0; i < 5; i++) {
                Socket reset = connect(server);
                reset.getOutputStream().write(randomBytes(256 * 1024, i)); // its echo still in flight when it resets
                reset.setSoLinger(true, 0);
                reset.close(); // RST instead of FIN
            }
            resetting.set(false);
            assertTrue(echoes.get() >= 3);
        }
        try (Socket newcomer = connect(server)) {
            assertEchoes(newcomer, 10, 4);
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("REFERENCE_SERVERS")
    void theReadyLineFollowsTheContract(String name) {
        Started server = shared(name);
        String line = server.line();
        assertEquals(name, server.name(), line);
        assertEquals("127.0.0.1", server.host(), line);
        assertTrue(line.contains(" model=" + name + " buffer-size=16384 "), line); // the Java servers' default buffer
        assertEquals(server.script().pid(), server.pid(), line);
        if (name.equals("go-net")) assertTrue(line.matches(".* gomaxprocs=[1-9]\\d* pid=\\d+$"), line);
        assertTrue(line.matches("READY \\S+ \\S+:\\d+( [a-z-]+=\\S+)+"), line);
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("REFERENCE_SERVERS")
    void portZeroListensOnAFreePortThatTheReadyLineNames(String name) throws Exception {
        Started server = shared(name); // started with --port 0
        assertTrue(server.port() > 0, server.line());
        try (Socket socket = connect(server)) {
            assertEchoes(socket, 5, 5);
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("REFERENCE_SERVERS")
    void sigtermPrintsStatsAndExitsZeroWithAConnectionOpen(String name) throws Exception {
        try (Started server = start(name)) {
            for (int i = 0; i < 3; i++) {
                try (Socket socket = connect(server)) {
                    assertEchoes(socket, 1000, i);
                }
            }
            try (Socket open = connect(server)) {
                assertEchoes(open, 1000, 3);
                server.script().process.toHandle().destroy(); // SIGTERM, keeping our ends of its pipes open
                assertEquals(0, server.script().await(Duration.ofSeconds(30)), server.script().output());
            }
            Matcher line = server.script().awaitLine(Pattern.compile("^STATS .*$"), Duration.ofSeconds(10));
            assertEquals(1, server.script().stdout.stream().filter(l -> l.startsWith("STATS")).count(), server.script().output());
            Matcher stats = STATS.matcher(line.group());
            assertTrue(stats.matches(), line.group());
            assertTrue(Long.parseLong(stats.group(1)) >= 4, line.group());
            assertEquals("0", stats.group(2), line.group());
            assertTrue(Long.parseLong(stats.group(3)) >= 1, line.group());
            assertEquals("4000", stats.group(4), line.group());
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("REFERENCE_SERVERS")
    void badInputFailsWithOneLineNamingTheFlagAndExitTwo(String name) throws Exception {
        for (String arguments : List.of("--no-such-flag", "--port 70000", "--port eighty", "--port",
                "--buffer-size lots", "--buffer-size 0", "--bind no.such.host.invalid")) {
            String flag = arguments.split(" ")[0]; // the flag the one line must name
            try (TestSupport.Script process = run(name, List.of(arguments.split(" ")))) {
                String said = arguments + "\n" + process.output();
                assertEquals(2, process.await(Duration.ofSeconds(30)), said);
                assertTrue(process.stdout.isEmpty() && process.stderr.size() == 1 && process.stderr.get(0).contains(flag), said);
            }
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("REFERENCE_SERVERS")
    void aPortInUseIsOneLineAndExitOne(String name) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             TestSupport.Script process = run(name, List.of("--port", String.valueOf(taken.getLocalPort())))) {
            assertEquals(1, process.await(Duration.ofSeconds(30)), process.output());
            assertEquals(1, process.stderr.size(), process.output());
            assertTrue(process.stderr.get(0).endsWith("port " + taken.getLocalPort() + " is already in use"), process.output());
        }
    }

    // --- helpers

    /** The binary built for {@code name}; the test fails with build.sh's output when the build failed. */
    private Path binary(String name) {
        Path binary = binaries.get(name);
        if (binary == null) throw new AssertionError("reference/build.sh did not build " + name + ":\n" + buildOutput);
        return binary;
    }

    private TestSupport.Script run(String name, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(binary(name).toString()));
        command.addAll(args);
        return new TestSupport.Script(command);
    }

    /** Starts {@code name} on a free port ({@code --port 0}) and waits for its ready line. */
    private Started start(String name, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--port", "0"));
        all.addAll(List.of(args));
        TestSupport.Script process = run(name, all);
        try {
            Matcher m = process.awaitLine(READY, Duration.ofSeconds(30));
            return new Started(process, m.group(), m.group(1), m.group(2), Integer.parseInt(m.group(3)), Long.parseLong(m.group(4)));
        } catch (Throwable t) {
            process.close();
            throw t;
        }
    }

    private Started shared(String name) {
        binary(name); // fails as the build did
        return shared.get(name);
    }

    private static Socket connect(Started server) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(server.host(), server.port()), 10_000);
        socket.setSoTimeout(30_000); // a lost echo fails the test instead of hanging it
        return socket;
    }

    /**
     * Sends {@code size} random bytes (from {@code seed}) and checks that exactly they come back. It writes from
     * another thread while reading, so that neither side's buffers can fill up and stall the other.
     */
    private static void assertEchoes(Socket socket, int size, long seed) throws Exception {
        byte[] data = randomBytes(size, seed);
        CompletableFuture<Void> sent = TestSupport.async(() -> socket.getOutputStream().write(data));
        assertArrayEquals(data, socket.getInputStream().readNBytes(size), size + " bytes from seed " + seed);
        sent.join();
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
