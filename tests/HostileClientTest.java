import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Issue 6: each echo server, a real process, holds up against clients that never read, floods of connections
 * beyond its open-files limit, threads it cannot create, connections that reset, half-close or say nothing, silent
 * connections, and SIGTERM under load; TcpLoad holds up against servers that fail in each way. The server's memory,
 * open files, threads and CPU are read from /proc, never from the JVM's own view. Sizes and counts are the smallest
 * that still prove each point on a 2-core machine; the limits (open files, address space) are lowered with
 * {@code prlimit}, so that exhausting them takes a few hundred connections, not twenty thousand.
 */
class HostileClientTest {
    static final List<String> SERVERS = TestSupport.SERVERS;

    /**
     * Backpressure is transport-specific in Netty (each transport has its own read loop that must honour autoRead),
     * so the flood runs against Netty's nio and io_uring transports too, not only the default epoll.
     */
    static final List<String> SERVERS_AND_TRANSPORTS = TestSupport.SERVERS_AND_NETTY_TRANSPORTS;

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS_AND_TRANSPORTS")
    void aClientThatSends256MiBAndNeverReadsCostsLittleMemoryDelaysNobodyElseAndLosesNothing(String server) throws Exception {
        try (TestSupport.Server started = TestSupport.startServerOrSkip(server); Socket polite = connect(started)) {
            ServerProcess process = new ServerProcess(started.pid());
            echoLatenciesNanos(polite, 300); // warm up the echo path before taking the memory baseline
            long rssBefore = process.rssBytes();
            AtomicLong sent = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            byte[] chunk = randomBytes(1 << 20, 1);
            try (Socket hostile = connect(started)) {
                CompletableFuture<Void> flood = TestSupport.async(() -> {
                    for (int i = 0; i < 256 && !stop.get(); i++) {
                        hostile.getOutputStream().write(chunk); // blocks for good once the server stops reading
                        sent.addAndGet(chunk.length);
                    }
                });
                long stalledAt = awaitStalled(sent, flood);
                // The well-behaved client, meanwhile: one measurement of 300 echoes while the flooder is blocked in
                // its write (checked after it), no retries.
                long p99 = percentile(echoLatenciesNanos(polite, 300), 99);
                long growth = process.rssBytes() - rssBefore;
                assertTrue(!flood.isDone() && sent.get() == stalledAt, "the flood went on while the other client was measured: "
                        + mib(stalledAt) + " -> " + mib(sent.get()) + ", done " + flood.isDone());
                assertTrue(growth < 64L << 20, "RSS grew by " + mib(growth) + " after the client sent " + mib(sent.get())
                        + " and read nothing");
                assertTrue(p99 < 10_000_000, "the other client's p99 was " + p99 / 1000 + " µs while the flooder was blocked");

                // Nothing lost, and the server resumes: the flooder stops after the write it is blocked in, reads back
                // everything it sent, and half-closes; the server echoes the rest and closes, so the end of stream
                // comes exactly after the last byte sent.
                stop.set(true);
                FutureTask<Long> readBack = new FutureTask<>(() -> readBackTheChunks(hostile, chunk));
                Thread.ofVirtual().start(readBack); // not the common pool: the flood's blocked write holds its one worker
                flood.get(30, TimeUnit.SECONDS); // its blocked write completes once the server reads again
                hostile.shutdownOutput();
                long received = readBack.get(60, TimeUnit.SECONDS);
                assertEquals(sent.get(), received, "bytes echoed back of " + sent.get() + " sent");
                System.out.printf("      %s: flood sent %s before stalling, %s in all, all echoed back; server RSS %s -> %s "
                                + "(growth %s); polite p99 %d µs%n", server, mib(stalledAt), mib(sent.get()), mib(rssBefore),
                        mib(rssBefore + growth), mib(growth), p99 / 1000);
            }
            assertEchoes(started); // the flood's connection is gone, the server is not
        }
    }

    /**
     * Reads the flood's echo until the end of stream, checking every byte against the repeated {@code chunk}; returns
     * how many bytes came back. A lost, duplicated or reordered byte fails here (a byte lost at the very end shows as
     * a short count).
     */
    private static long readBackTheChunks(Socket socket, byte[] chunk) {
        byte[] buffer = new byte[64 * 1024];
        long received = 0;
        try {
            for (int n; (n = socket.getInputStream().read(buffer)) > 0; ) {
                for (int done = 0; done < n; ) {
                    int offset = (int) ((received + done) % chunk.length);
                    int length = Math.min(n - done, chunk.length - offset);
                    int mismatch = Arrays.mismatch(buffer, done, done + length, chunk, offset, offset + length);
                    if (mismatch >= 0) throw new AssertionError("echoed byte " + (received + done + mismatch) + " differs");
                    done += length;
                }
                received += n;
            }
        } catch (IOException e) {
            throw new AssertionError("reading the echo back failed after " + received + " bytes", e);
        }
        return received;
    }

    /** The open-files limit of the servers in the open-files test: a few hundred connections exhaust it. */
    static final int OPEN_FILES_LIMIT = 256;

    /**
     * Accepting is transport-specific in Netty too, so this runs against its nio and io_uring transports as well.
     * The limit is set before the server starts ({@code prlimit --nofile ./jbang ...}): lowered later with
     * {@code prlimit --pid}, it did not apply to io_uring's accepts.
     */
    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS_AND_TRANSPORTS")
    void moreConnectionsThanOpenFilesAllowsNeitherStopsNorSpinsAndServesAgainOnceTheyClose(String script) throws Exception {
        List<String> limited = List.of("prlimit", "--nofile=" + OPEN_FILES_LIMIT + ":" + OPEN_FILES_LIMIT);
        try (TestSupport.Server server = TestSupport.startServerOrSkip(limited, script)) {
            ServerProcess process = new ServerProcess(server.pid());
            assertEchoes(server);
            Socket established = connect(server);
            byte[] data = randomBytes(100, 2);
            assertArrayEquals(data, echo(established, data));
            List<Socket> flood = new ArrayList<>(List.of(established));
            try {
                // 80 more than the limit leaves room for: the kernel queues what the server cannot accept
                long connections = OPEN_FILES_LIMIT - process.openFiles() + 80;
                for (int i = 0; i < connections; i++) flood.add(connect(server));
                long started = System.nanoTime();
                Thread.sleep(1000); // saturated: every accept fails
                long cpuBefore = process.cpuTicks();
                Thread.sleep(2000);
                double cpuShare = (process.cpuTicks() - cpuBefore) / (2.0 * ServerProcess.TICKS_PER_SECOND);
                double seconds = (System.nanoTime() - started) / 1e9;
                long logged = server.script().stderr.stream().filter(l -> l.contains("accept failed")).count();
                assertTrue(logged >= 1, "the open-files limit was never reached\n" + server.script().output());
                assertTrue(logged <= Math.ceil(seconds) + 1, logged + " accept failures logged in " + seconds + " s");
                assertTrue(cpuShare < 0.3, "the server used " + Math.round(cpuShare * 100) + "% of a core while saturated");
                assertArrayEquals(data, echo(established, data), "a connection from before the flood still echoes");
                System.out.printf("      %s: saturated at %d open files, CPU %.0f%% of a core, %d log lines in %.1f s%n",
                        script, process.openFiles(), cpuShare * 100, logged, seconds);
            } finally {
                for (Socket socket : flood) socket.close();
            }
            // the queued connections are accepted and find their end of stream; a newcomer is served after them
            assertEchoes(server);
            assertTrue(server.script().process.isAlive(), server.script().output());
        }
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void maxConnectionsBelowTheOpenFilesLimitRejectsTheRestCleanly(String script) throws Exception {
        try (TestSupport.Server server = TestSupport.startServer(script, "--max-connections", "20")) {
            ServerProcess process = new ServerProcess(server.pid());
            assertEchoes(server);
            process.limitOpenFiles(awaitSettled(process::openFiles) + 40); // settled: that connection is released
            long listenerSockets = process.openSockets();
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) sockets.add(connect(server));
                // which 20 get in is up to the server (Netty admits on two event loops at once); each is one or other
                int echoed = 0;
                for (Socket socket : sockets) if (echoesOrIsClosed(socket)) echoed++;
                assertEquals(20, echoed, "connections admitted");
            } finally {
                for (Socket socket : sockets) socket.close();
            }
            // the server notices the closes in its own time; until then the 20 still count against the limit
            awaitAtMost(process::openSockets, listenerSockets, "the closed connections released");
            assertEchoes(server);
            assertTrue(server.script().stderr.stream().noneMatch(l -> l.contains("accept failed")), server.script().output());
            Matcher stats = stopAndReadStats(server);
            assertEquals(22, Long.parseLong(stats.group(1)), stats.group()); // two assertEchoes and the 20 admitted
            assertEquals(80, Long.parseLong(stats.group(2)), stats.group());
        }
    }

    /**
     * Platform threads only: a thread of 1 GiB stack and an address-space limit with room for one such thread make
     * the second connection's thread fail to start, reliably, whatever else runs on the machine (a thread-count limit
     * would count every process of this user).
     */
    @Test
    void aConnectionWhoseThreadCannotBeCreatedIsClosedAndCountedAndTheServerLivesOn() throws Exception {
        try (TestSupport.Server server = TestSupport.startServer("EchoPlatformThreads.java", "--stack-size", "1GiB")) {
            ServerProcess process = new ServerProcess(server.pid());
            process.limitAddressSpace(process.virtualMemoryBytes() + (3L << 29)); // 1.5 GiB: one stack, not two
            byte[] data = randomBytes(100, 4);
            long threadsWithFirst;
            try (Socket first = connect(server); Socket second = connect(server)) {
                assertArrayEquals(data, echo(first, data));
                assertClosedByServer(second);
                assertArrayEquals(data, echo(first, data), "the first connection is untouched");
                threadsWithFirst = process.threads();
            }
            awaitAtMost(process::threads, threadsWithFirst - 1, "the first connection's thread to end");
            assertEchoes(server); // its stack is released: a thread can be created again
            assertTrue(server.script().stderr.stream().anyMatch(l -> l.contains("no thread for a connection")),
                    server.script().output());
            Matcher stats = stopAndReadStats(server);
            assertEquals(2, Long.parseLong(stats.group(1)), stats.group());
            assertEquals(1, Long.parseLong(stats.group(2)), stats.group());
        }
    }

    enum Abuse { RESET, HALF_CLOSE_AND_LEAVE, CONNECT_AND_LEAVE }

    /**
     * 3,334 of each abuse (10,002 connections, the 10,000) leave no open file and no thread behind. Making
     * them took 1.7-5.2 s per server here (each server's whole test 7-11 s).
     */
    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void connectionsThatResetHalfCloseOrSayNothingLeaveNoFileOrThreadBehind(String script) throws Exception {
        try (TestSupport.Server server = TestSupport.startServer(script)) {
            ServerProcess process = new ServerProcess(server.pid());
            abuse(server, 50); // the same paths once, so that lazily started JVM threads are in the baseline
            Thread.sleep(500);
            long sockets = awaitSettled(process::openSockets); // the warm-up's connections closed
            long files = process.openFiles();
            long threads = awaitSettled(process::threads);
            long abusedAt = System.nanoTime();
            abuse(server, 3334);
            long abuseMillis = (System.nanoTime() - abusedAt) / 1_000_000;
            long socketsAfter = awaitAtMost(process::openSockets, sockets, "sockets back to the baseline " + sockets);
            // Small margins for what the JVM opens and starts on its own: the JDK creates more epoll instances for
            // virtual threads under load (4 seen here), JIT compiler and GC threads come and go.
            long filesAfter = awaitAtMost(process::openFiles, files + 4, "open files back to the baseline " + files);
            long threadsAfter = awaitAtMost(process::threads, threads + 4, "threads back to the baseline " + threads);
            assertEchoes(server);
            System.out.printf("      %s: open files %d -> %d (sockets %d -> %d), threads %d -> %d after 10,002 abusive connections"
                    + " (made in %d ms)%n", script, files, filesAfter, sockets, socketsAfter, threads, threadsAfter, abuseMillis);
        }
    }

    /**
     * A silent connection is closed no earlier than --idle-timeout after it was opened (the server's clock starts at
     * its accept, after our connect returned) and well before three times that (the bound leaves 800 ms for a busy
     * machine to run the server's timer and deliver the close); a talking connection is not closed while it talks.
     * Beside it, a server started without --idle-timeout keeps a silent connection open for much longer: the default
     * is off.
     */
    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void idleTimeoutClosesSilentConnectionsButNotTalkingOnesAndIsOffByDefault(String script) throws Exception {
        long timeoutMillis = 400;
        CompletableFuture<TestSupport.Server> startingDefault = CompletableFuture.supplyAsync(() -> {
            try {
                return TestSupport.startServer(script);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try (TestSupport.Server server = TestSupport.startServer(script, "--idle-timeout", timeoutMillis + "ms");
             TestSupport.Server withoutTimeout = startingDefault.get(3, TimeUnit.MINUTES);
             Socket silentForever = connect(withoutTimeout)) {
            long silentForeverSince = System.nanoTime();
            Socket silent = connect(server);
            long silentSince = System.nanoTime();
            FutureTask<Long> silentClosed = new FutureTask<>(() -> closedByServerAt(silent));
            Thread.ofVirtual().start(silentClosed);
            try (silent; Socket talking = connect(server)) {
                byte[] data = randomBytes(10, 5);
                long lastEcho = 0;
                for (int i = 0; i < 12; i++) { // 1.2 s of echoes, one every 100 ms: three timeouts long
                    if (i > 0) Thread.sleep(100);
                    assertArrayEquals(data, echo(talking, data), "echo " + i + " of the talking connection");
                    lastEcho = System.nanoTime();
                }
                long silentMillis = (silentClosed.get(30, TimeUnit.SECONDS) - silentSince) / 1_000_000;
                assertTrue(silentMillis >= timeoutMillis && silentMillis < 3 * timeoutMillis,
                        "the silent connection was closed " + silentMillis + " ms after it was opened");
                // silent in turn now; the server's clock restarted at its last read, a little before that echo came
                // back here (100 ms allowed for that on a busy machine)
                long talkingMillis = (closedByServerAt(talking) - lastEcho) / 1_000_000;
                assertTrue(talkingMillis >= timeoutMillis - 100 && talkingMillis < 3 * timeoutMillis,
                        "the talking connection was closed " + talkingMillis + " ms after its last echo");
                // without --idle-timeout: still open and echoing after more than three of those timeouts
                Thread.sleep(Math.max(0, 1500 - (System.nanoTime() - silentForeverSince) / 1_000_000));
                long foreverMillis = (System.nanoTime() - silentForeverSince) / 1_000_000;
                assertArrayEquals(data, echo(silentForever, data),
                        "without --idle-timeout, a connection silent for " + foreverMillis + " ms");
                System.out.printf("      %s: closed %d ms (silent) and %d ms (after its last echo) with --idle-timeout %d ms;"
                        + " open after %d ms without%n", script, silentMillis, talkingMillis, timeoutMillis, foreverMillis);
            }
        } finally {
            startingDefault.thenAccept(TestSupport.Server::close); // also when the other start failed
        }
    }

    /** Waits (up to the read timeout) for the server to close the connection; returns when that was seen. */
    private static long closedByServerAt(Socket socket) {
        assertClosedByServer(socket);
        return System.nanoTime();
    }

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void sigtermUnderHeavyLoadExitsZeroWithinTwoSecondsWithAnIntactRecording(String script, @TempDir Path dir) throws Exception {
        Path jfr = dir.resolve("server.jfr");
        try (TestSupport.Server server = TestSupport.startServer(script, "--jfr", jfr.toString())) {
            AtomicBoolean loading = new AtomicBoolean(true);
            AtomicLong echoes = new AtomicLong();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 200; i++) {
                    byte[] data = randomBytes(1024 * (1 + i % 16), i);
                    clients.submit(() -> {
                        try (Socket socket = connect(server)) {
                            while (loading.get()) {
                                echo(socket, data);
                                echoes.incrementAndGet();
                            }
                        } catch (Exception stopped) {
                            // the server closed the connection as it stopped: expected
                        }
                        return null;
                    });
                }
                awaitAtLeast(echoes::get, 5_000, "the load to get going");
                Thread.sleep(1500); // under load long enough for the recording's 1 s periodic events (jdk.CPULoad)
                long signalled = System.nanoTime();
                server.script().process.toHandle().destroy(); // SIGTERM, keeping the pipes open for STATS
                boolean exited = server.script().process.waitFor(10, TimeUnit.SECONDS);
                long stopMillis = (System.nanoTime() - signalled) / 1_000_000;
                loading.set(false);
                assertTrue(exited, "still running 10 s after SIGTERM\n" + server.script().output());
                assertEquals(0, server.script().process.exitValue(), server.script().output());
                assertTrue(stopMillis <= 2000, "took " + stopMillis + " ms to stop after SIGTERM");
                System.out.printf("      %s: stopped %d ms after SIGTERM, %d echoes under load; recording %d KiB%n",
                        script, stopMillis, echoes.get(), Files.size(jfr) / 1024);
            }
        }
        // intact: every event reads back, and the periodic events ran to the end
        long events = 0;
        boolean cpuLoad = false;
        try (RecordingFile recording = new RecordingFile(jfr)) {
            while (recording.hasMoreEvents()) {
                RecordedEvent event = recording.readEvent();
                events++;
                cpuLoad |= event.getEventType().getName().equals("jdk.CPULoad");
            }
        }
        assertTrue(events > 1000 && cpuLoad, events + " events, jdk.CPULoad " + cpuLoad);
    }

    // --- TcpLoad against servers that fail: each failure counted by kind, no hang, summary printed, exit 1

    /**
     * TcpLoadTest counts each fault; this adds the bound on time (done within --duration + --timeout) and the summary.
     * One after the other: parallel first starts of a script that changed would race JBang's compiler.
     */
    @Test
    void tcpLoadEndsWithinDurationPlusTimeoutAgainstEachFaultyServer() throws Exception {
        Map<FaultyEchoServer.Fault, String> kinds = Map.of(FaultyEchoServer.Fault.NEVER_ANSWER, "timeout",
                FaultyEchoServer.Fault.CLOSE_MID_MESSAGE, "closed", FaultyEchoServer.Fault.CORRUPT_A_BYTE, "mismatch");
        for (var fault : kinds.entrySet()) {
            try (FaultyEchoServer server = new FaultyEchoServer(fault.getKey())) {
                LoadRun run = tcpLoad(server.address(), null);
                assertTrue(run.failuresByKind().get(fault.getValue()) > 0, fault.getKey() + "\n" + run.output());
            }
        }
    }

    @Test
    void tcpLoadCountsAServerThatDisappearsMidRunAndStillReports() throws Exception {
        try (TestSupport.Server server = TestSupport.startServer("EchoVirtualThreads.java")) {
            LoadRun run = tcpLoad(server.host() + ":" + server.port(), () -> server.script().process.destroyForcibly());
            Map<String, Long> kinds = run.failuresByKind();
            // Killed, its kernel closes every connection at once: an end of stream or a reset, both "closed" (a reset
            // or a broken pipe on write is not "io"), at least one per user's open connection, and nothing times out
            // (seen in four runs: closed=20-26, io=0, timeout=0)
            assertTrue(kinds.get("closed") >= 20, "each of the 20 open connections' loss\n" + run.output());
            assertEquals(0, kinds.get("io") + kinds.get("timeout") + kinds.get("mismatch"), "no other kind\n" + run.output());
            assertTrue(kinds.get("connect") > 0, "the reconnections refused\n" + run.output());
            assertTrue(Long.parseLong(run.value("Received")) > 0, "echoes before it went\n" + run.output());
        }
    }

    record LoadRun(List<String> stdout, String output) {
        String value(String key) {
            return stdout.stream().filter(l -> l.startsWith(key + ":")).findFirst()
                    .map(l -> l.substring(key.length() + 1).trim()).orElseThrow(() -> new AssertionError("no " + key + "\n" + output));
        }

        Map<String, Long> failuresByKind() {
            Map<String, Long> kinds = new java.util.HashMap<>();
            for (String pair : value("Failures by kind").split(" ")) kinds.put(pair.split("=")[0], Long.parseLong(pair.split("=")[1]));
            return kinds;
        }
    }

    /**
     * Runs TcpLoad for 3 s with a 1 s timeout, {@code midRun} two seconds in; asserts exit 1, the summary, and an end
     * within --duration + --timeout of its start line, plus TcpLoad's own margin (2 x 500 ms, END_MARGIN_NANOS, used
     * only by a user running late) and 500 ms for the JVM to print and exit on a busy machine.
     */
    private static LoadRun tcpLoad(String host, Runnable midRun) throws Exception {
        try (TestSupport.Script load = TestSupport.jbang("TcpLoad.java", "--host", host, "--users", "20",
                "--duration", "3s", "--timeout", "1s", "--interval", "10ms", "--quiet")) {
            load.awaitLine(Pattern.compile("^Starting test"), Duration.ofSeconds(60));
            long started = System.nanoTime();
            if (midRun != null) {
                Thread.sleep(2000);
                midRun.run();
            }
            int exitCode = load.await(Duration.ofSeconds(30));
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertEquals(1, exitCode, load.output());
            assertTrue(load.stdout.contains("=== Load Test Complete ==="), load.output());
            assertTrue(millis <= 3000 + 1000 + 2 * 500 + 500, "ended " + millis + " ms after its start line\n" + load.output());
            return new LoadRun(List.copyOf(load.stdout), load.output());
        }
    }

    // --- helpers

    /** Opens {@code count} connections of each {@link Abuse}, 64 at a time, and waits until all have been done. */
    private static void abuse(TestSupport.Server server, int count) throws Exception {
        Semaphore inFlight = new Semaphore(64);
        byte[] data = randomBytes(1024, 6);
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                for (Abuse abuse : Abuse.values()) {
                    inFlight.acquire();
                    done.add(clients.submit(() -> {
                        try (Socket socket = connect(server)) {
                            switch (abuse) {
                                case RESET -> {
                                    socket.getOutputStream().write(data); // its echo is in flight when it resets
                                    socket.setSoLinger(true, 0);
                                }
                                case HALF_CLOSE_AND_LEAVE -> {
                                    socket.getOutputStream().write(data);
                                    socket.shutdownOutput();
                                }
                                case CONNECT_AND_LEAVE -> { }
                            }
                        } finally {
                            inFlight.release();
                        }
                        return null;
                    }));
                }
            }
            for (Future<?> f : done) f.get();
        }
    }

    /**
     * Waits while the flood is still making progress: it is stalled once 1 s passes without a mebibyte sent. Returns
     * what it had sent then; fails if it finished instead (the server read all 256 MiB without its echo being read).
     */
    private static long awaitStalled(AtomicLong sent, CompletableFuture<Void> flood) throws InterruptedException {
        long last = -1;
        while (!flood.isDone() && sent.get() != last) {
            last = sent.get();
            Thread.sleep(1000);
        }
        if (flood.isCompletedExceptionally()) flood.join(); // the write failed: show why
        assertTrue(!flood.isDone(), "the server read all " + mib(sent.get()) + " without its echo being read");
        return last;
    }

    /** The value once two readings 300 ms apart agree (or after 10 s): a quiet process's baseline. */
    static long awaitSettled(LongSupplier value) throws InterruptedException {
        long previous = value.getAsLong();
        for (int i = 0; i < 33; i++) {
            Thread.sleep(300);
            long now = value.getAsLong();
            if (now == previous) return now;
            previous = now;
        }
        return previous;
    }

    /** Waits up to 15 s for {@code value} to drop to {@code limit} or below; returns the value reached. */
    static long awaitAtMost(LongSupplier value, long limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        long now;
        while ((now = value.getAsLong()) > limit) {
            if (System.nanoTime() > deadline) throw new AssertionError("waited 15 s for " + what + ": still " + now + " > " + limit);
            Thread.sleep(100);
        }
        return now;
    }

    static void awaitAtLeast(LongSupplier value, long wanted, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (value.getAsLong() < wanted) {
            if (System.nanoTime() > deadline) throw new AssertionError("waited 30 s for " + what + ": " + value.getAsLong());
            Thread.sleep(20);
        }
    }

    private static long[] echoLatenciesNanos(Socket socket, int count) throws Exception {
        byte[] data = randomBytes(100, 7);
        long[] latencies = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            socket.getOutputStream().write(data);
            byte[] back = socket.getInputStream().readNBytes(data.length);
            latencies[i] = System.nanoTime() - start;
            assertArrayEquals(data, back);
        }
        return latencies;
    }

    private static long percentile(long[] values, double percentile) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(percentile / 100 * sorted.length) - 1)];
    }

    private static final Pattern STATS = Pattern.compile("^STATS accepted=(\\d+) rejected=(\\d+) peak=(\\d+) bytes=(\\d+)$");

    private static Matcher stopAndReadStats(TestSupport.Server server) throws InterruptedException {
        server.script().process.toHandle().destroy(); // SIGTERM, keeping the pipes open for STATS
        assertEquals(0, server.script().await(Duration.ofSeconds(30)), server.script().output());
        return server.script().awaitLine(STATS, Duration.ofSeconds(5));
    }

    /** A new connection gets an exact echo within the read timeout. */
    static void assertEchoes(TestSupport.Server server) throws Exception {
        try (Socket socket = connect(server)) {
            byte[] data = randomBytes(1000, 8);
            assertArrayEquals(data, echo(socket, data), server.script().output());
        }
    }

    static Socket connect(TestSupport.Server server) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(server.host(), server.port()), 10_000);
        socket.setSoTimeout(20_000); // a lost echo fails the test instead of hanging it
        return socket;
    }

    /** Sends {@code data} while reading its echo, so that neither side's buffers can fill up and stall the other. */
    static byte[] echo(Socket socket, byte[] data) throws Exception {
        CompletableFuture<Void> sent = TestSupport.async(() -> socket.getOutputStream().write(data));
        byte[] received = socket.getInputStream().readNBytes(data.length);
        sent.join();
        return received;
    }

    /** True for an exact echo, false when the server closed or reset the connection instead. */
    private static boolean echoesOrIsClosed(Socket socket) throws Exception {
        byte[] data = randomBytes(100, 3);
        try {
            socket.getOutputStream().write(data);
            byte[] back = socket.getInputStream().readNBytes(data.length);
            if (back.length == data.length) {
                assertArrayEquals(data, back);
                return true;
            }
        } catch (IOException reset) {
            // closed by the server before or while we wrote
        }
        return false;
    }

    /** Waits (up to the read timeout) for the server to close the connection: end of stream, or a reset. */
    private static void assertClosedByServer(Socket socket) {
        int read;
        try {
            read = socket.getInputStream().read();
        } catch (IOException reset) {
            read = -1;
        }
        assertEquals(-1, read, "the server should have closed this connection");
    }

    static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }

    /** A process seen from /proc: what the kernel counts, not what the JVM inside believes. */
    record ServerProcess(long pid) {
        /** USER_HZ: the unit of the CPU times in /proc/<pid>/stat, 100 on Linux. */
        static final int TICKS_PER_SECOND = 100;

        long rssBytes() throws IOException {
            return statusValue("VmRSS") * 1024;
        }

        long virtualMemoryBytes() throws IOException {
            return statusValue("VmSize") * 1024;
        }

        long threads() {
            try {
                return statusValue("Threads");
            } catch (IOException e) {
                throw new AssertionError("process " + pid + " is gone", e);
            }
        }

        /** The open files that are sockets: the listener and the connections. */
        long openSockets() {
            return describeFiles().split("socket:", -1).length - 1;
        }

        long openFiles() {
            try (var files = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
                return files.count();
            } catch (IOException e) {
                throw new AssertionError("process " + pid + " is gone", e);
            }
        }

        /** What each open file is (socket:[inode], anon_inode:[eventpoll], a path...), for a failure message. */
        String describeFiles() {
            try (var files = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
                return files.map(fd -> {
                    try {
                        return fd.getFileName() + "->" + Files.readSymbolicLink(fd);
                    } catch (IOException closedMeanwhile) {
                        return fd.getFileName() + "->closed";
                    }
                }).sorted().toList().toString();
            } catch (IOException e) {
                return "process " + pid + " is gone";
            }
        }

        /** User plus system CPU time, in ticks: fields 14 and 15 of /proc/<pid>/stat, counted after the command. */
        long cpuTicks() throws IOException {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        }

        void limitOpenFiles(long files) throws Exception {
            prlimit("--nofile=" + files + ":" + files);
        }

        void limitAddressSpace(long bytes) throws Exception {
            prlimit("--as=" + bytes + ":" + bytes);
        }

        private void prlimit(String limit) throws Exception {
            Process prlimit = new ProcessBuilder("prlimit", "--pid", String.valueOf(pid), limit).redirectErrorStream(true).start();
            String output = new String(prlimit.getInputStream().readAllBytes());
            assertEquals(0, prlimit.waitFor(), "prlimit " + limit + ": " + output);
        }

        private long statusValue(String key) throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
            throw new AssertionError("no " + key + " in /proc/" + pid + "/status");
        }
    }
}
