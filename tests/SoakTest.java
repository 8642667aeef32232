import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Issue 6's soak: for 60 s, 2,000 connections echoing messages of mixed sizes against each server, with no failure
 * and no growth of the server's open files, threads or memory (all read from /proc) from the start of the soak to
 * its end.
 *
 * <p>The three servers are soaked at the same time, in one 60 s window, so that the full length fits the suite's time
 * budget (60 s, not 3 x 60 s). Each server is its own process with its own 2,000 connections, baseline and
 * assertions; only the clock is shared. To keep this 2-core machine unsaturated with 6,000 connections and three
 * servers, each connection echoes about once a second (a pause of 0.5-1.5 s after each echo): measured here, the
 * three soaks together (this JVM's clients and the three servers) used 36% of the machine's two cores (printed at the
 * end of each run), whereas the earlier rate of ten echoes a second per connection kept the machine 80-98% busy with
 * one server alone, so three at once would have saturated it and measured the queueing instead. That is still
 * ~115,000 echoes of 16 B to 32 KiB per server per soak, every one checked byte for byte. The soak's wall time is
 * about 70 s. {@code SOAK_SECONDS=15} shortens it for a quick look.
 */
class SoakTest {
    static final List<String> SERVERS = TestSupport.SERVERS;
    static final int CONNECTIONS = 2000;
    static final long SECONDS = Long.parseLong(System.getenv().getOrDefault("SOAK_SECONDS", "60"));
    /** Sizes drawn for each message: mostly small, some larger than the servers' 2 KiB starting buffer and 16 KiB largest. */
    static final int[] SIZES = {16, 16, 100, 100, 256, 1024, 1024, 4096, 16 * 1024, 32 * 1024};
    /** From the last connection established to the soak's start figures: every connection has echoed a few times. */
    static final long WARM_MILLIS = 5000;
    /**
     * The bound on RSS growth from the start of the soak (connections established and warm) to its end. At that
     * point the server already holds all 2,000 connections with their buffers and threads, and the traffic does not
     * change in kind; what can still grow legitimately is the JVM's own: heap pages first touched as the young
     * generation fills, JIT-compiled code, a few more pooled buffers (Netty's pooled arenas grow in 4 MiB chunks).
     * 32 MiB covers that; a leak of even 1/20 of the ~650 MiB each server echoes in 60 s, or 16 KiB per connection,
     * exceeds it.
     */
    static final long RSS_GROWTH_BOUND = 32L << 20;
    /**
     * A fixed heap, touched in full at start: otherwise the RSS of a JVM with the default heap (initially 1/64 of
     * this machine's 24 GiB) grows for minutes as the young generation's pages are first used (measured: the blocking
     * servers' RSS grew by 180-190 MiB during the soak, Netty's, which allocates little on the heap, by 1 MiB), which
     * says nothing about leaks. With it, RSS growth is what the server holds beyond its heap: thread stacks, direct
     * buffers, code; a leak on the heap itself fills these 256 MiB (eight times what 2,000 connections' buffers need)
     * and fails the echoes with an OutOfMemoryError.
     */
    static final List<String> HEAP = List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch");

    @Test
    void twoThousandConnectionsOfMixedSizesToEachServerFailNothingAndGrowNothing() throws Exception {
        List<TestSupport.Server> servers = new ArrayList<>();
        try (ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<TestSupport.Server>> starting = new ArrayList<>();
            for (String script : SERVERS) starting.add(parallel.submit(() -> TestSupport.startServer(HEAP, script)));
            try {
                for (Future<TestSupport.Server> start : starting) servers.add(start.get());
                long[] machineBefore = machineTicks();
                long ownBefore = ownTicks(servers);
                long startedAt = System.nanoTime();
                long deadline = startedAt + TimeUnit.SECONDS.toNanos(SECONDS);
                List<Future<String>> soaks = new ArrayList<>();
                for (int i = 0; i < servers.size(); i++) {
                    String script = SERVERS.get(i);
                    TestSupport.Server server = servers.get(i);
                    soaks.add(parallel.submit(() -> soak(script, server, deadline)));
                }
                List<String> failed = new ArrayList<>();
                for (int i = 0; i < soaks.size(); i++) {
                    try {
                        System.out.println(soaks.get(i).get());
                    } catch (ExecutionException e) {
                        failed.add(SERVERS.get(i) + ": " + e.getCause());
                    }
                }
                long[] machineAfter = machineTicks();
                long ownTicks = ownTicks(servers) - ownBefore;
                double seconds = (System.nanoTime() - startedAt) / 1e9;
                // this test's own share (its JVM and the three servers) and the whole machine's, others' tests included
                System.out.printf("      over the %.0f s of the three soaks, they used %.0f%% of the machine's %d cores"
                                + " (the machine was %.0f%% busy in all)%n", seconds,
                        100.0 * ownTicks / HostileClientTest.ServerProcess.TICKS_PER_SECOND / seconds / CORES, CORES,
                        100.0 * (machineAfter[0] - machineBefore[0]) / Math.max(1, machineAfter[1] - machineBefore[1]));
                assertEquals(List.of(), failed);
            } finally {
                for (Future<TestSupport.Server> start : starting) {
                    try {
                        start.get().close();
                    } catch (ExecutionException notStarted) {
                        // startServer closed it already
                    }
                }
            }
        }
    }

    /** One server's soak until {@code deadline}: its assertions throw; the line returned tells what it saw. */
    private static String soak(String script, TestSupport.Server server, long deadline) throws Exception {
        HostileClientTest.ServerProcess process = new HostileClientTest.ServerProcess(server.pid());
        HostileClientTest.assertEchoes(server);
        long baselineFiles = HostileClientTest.awaitSettled(process::openFiles); // that connection released
        long baselineSockets = process.openSockets();
        long baselineThreads = process.threads();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicLong echoes = new AtomicLong();
        CountDownLatch connected = new CountDownLatch(CONNECTIONS);
        Semaphore connecting = new Semaphore(200); // the accept queue holds them all; this only paces the SYNs
        long startFiles, startThreads, startRss, startCpu, endFiles, endThreads, endRss, endCpu, startedAt, endedAt;
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < CONNECTIONS; i++) {
                long seed = i;
                clients.submit(() -> {
                    Socket connection;
                    connecting.acquireUninterruptibly();
                    try {
                        connection = HostileClientTest.connect(server);
                    } catch (Throwable t) {
                        failures.add(t.toString());
                        return;
                    } finally {
                        connecting.release(); // a failed connect frees its slot too
                    }
                    try (Socket socket = connection) {
                        connected.countDown();
                        SplittableRandom random = new SplittableRandom(seed);
                        while (System.nanoTime() < deadline) {
                            byte[] data = new byte[SIZES[random.nextInt(SIZES.length)]];
                            random.nextBytes(data);
                            socket.getOutputStream().write(data); // at most 32 KiB: fits in the socket buffers
                            assertArrayEquals(data, socket.getInputStream().readNBytes(data.length));
                            echoes.incrementAndGet();
                            Thread.sleep(500 + random.nextInt(1000)); // ~1 echo/s per connection, not in lockstep
                        }
                    } catch (Throwable t) {
                        failures.add(t.toString());
                    }
                });
            }
            assertTrue(connected.await(60, TimeUnit.SECONDS), "connected " + (CONNECTIONS - connected.getCount()) + "; "
                    + failures.size() + " failed, e.g. " + failures.peek());
            HostileClientTest.awaitAtLeast(process::openSockets, baselineSockets + CONNECTIONS, "the server to accept all");
            Thread.sleep(WARM_MILLIS); // every connection has echoed a few times: the server holds all it will hold
            startedAt = System.nanoTime();
            startFiles = process.openFiles();
            startThreads = process.threads();
            startRss = process.rssBytes();
            startCpu = process.cpuTicks();
            Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) - 500));
            endedAt = System.nanoTime();
            endFiles = process.openFiles();
            endThreads = process.threads();
            endRss = process.rssBytes();
            endCpu = process.cpuTicks();
        }
        double measuredSeconds = (endedAt - startedAt) / 1e9;
        System.out.printf("      %s: %d s, %d echoes, %d failed; open files %d -> %d (start) -> %d (end); threads %d -> %d -> %d;"
                        + " RSS %s -> %s over the last %.1f s, CPU %.0f%% of a core%n", script, SECONDS, echoes.get(),
                failures.size(), baselineFiles, startFiles, endFiles, baselineThreads, startThreads, endThreads,
                mib(startRss), mib(endRss), measuredSeconds,
                100.0 * (endCpu - startCpu) / HostileClientTest.ServerProcess.TICKS_PER_SECOND / measuredSeconds);
        assertEquals(List.of(), List.copyOf(failures).subList(0, Math.min(5, failures.size())),
                failures.size() + " connections failed");
        assertTrue(endedAt - startedAt > TimeUnit.SECONDS.toNanos(SECONDS) / 2,
                "connecting took most of the soak: measured only " + (endedAt - startedAt) / 1_000_000 + " ms");
        assertTrue(startFiles >= baselineFiles + CONNECTIONS, "the server holds " + startFiles + " files");
        assertTrue(endFiles <= startFiles + 2, "open files grew from " + startFiles + " to " + endFiles);
        assertTrue(endThreads <= startThreads + 4, "threads grew from " + startThreads + " to " + endThreads);
        assertTrue(endRss - startRss < RSS_GROWTH_BOUND, "RSS grew from " + mib(startRss) + " to " + mib(endRss));
        // Sockets, not all files: the JDK opens more epoll instances for virtual threads lazily, under load, and keeps them
        long socketsAfter = HostileClientTest.awaitAtMost(process::openSockets, baselineSockets, "sockets back to " + baselineSockets);
        long threadsAfter = HostileClientTest.awaitAtMost(process::threads, baselineThreads + 4, "threads back to " + baselineThreads);
        return String.format("      %s: sockets %d, threads %d after closing", script, socketsAfter, threadsAfter);
    }

    static final int CORES = Runtime.getRuntime().availableProcessors();

    /** CPU ticks used so far by this JVM and the servers' processes (a server that is gone counts nothing more). */
    private static long ownTicks(List<TestSupport.Server> servers) throws Exception {
        long ticks = new HostileClientTest.ServerProcess(ProcessHandle.current().pid()).cpuTicks();
        for (TestSupport.Server server : servers) {
            try {
                ticks += new HostileClientTest.ServerProcess(server.pid()).cpuTicks();
            } catch (java.io.IOException gone) {
                // nothing to add
            }
        }
        return ticks;
    }

    /** The whole machine's busy and total CPU ticks so far, from the first line of /proc/stat. */
    private static long[] machineTicks() throws Exception {
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i <= 8 && i < cpu.length; i++) total += Long.parseLong(cpu[i]);
        long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]); // idle and iowait
        return new long[] {total - idle, total};
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
