import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Issue 6's soak: 2,000 connections echoing messages of mixed sizes against each server, with no failure and no
 * growth of the server's open files or threads (read from /proc) from the start of the soak to its end.
 *
 * <p>The issue asks for 60 s per server; the suite runs 15 s each (the three soaks together about 60 s, within the
 * suite's time budget on this 2-core machine). {@code SOAK_SECONDS=60 ./jbang tests/RunTests.java SoakTest} runs the
 * full length.
 */
class SoakTest {
    static final List<String> SERVERS = TestSupport.SERVERS;
    static final int CONNECTIONS = 2000;
    static final long SECONDS = Long.parseLong(System.getenv().getOrDefault("SOAK_SECONDS", "15"));
    /** Sizes drawn for each message: mostly small, some larger than the servers' 2 KiB starting buffer and 16 KiB largest. */
    static final int[] SIZES = {16, 16, 100, 100, 256, 1024, 1024, 4096, 16 * 1024, 32 * 1024};

    @ParameterizedTest(name = "{displayName} [{0}]")
    @FieldSource("SERVERS")
    void twoThousandConnectionsOfMixedSizesFailNothingAndGrowNothing(String script) throws Exception {
        try (TestSupport.Server server = TestSupport.startServer(script)) {
            HostileClientTest.ServerProcess process = new HostileClientTest.ServerProcess(server.pid());
            HostileClientTest.assertEchoes(server);
            long baselineFiles = HostileClientTest.awaitSettled(process::openFiles); // that connection released
            long baselineSockets = process.openSockets();
            long baselineThreads = process.threads();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            AtomicLong echoes = new AtomicLong();
            CountDownLatch connected = new CountDownLatch(CONNECTIONS);
            Semaphore connecting = new Semaphore(200); // the accept queue holds them all; this only paces the SYNs
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            long startFiles, startThreads, endFiles, endThreads;
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < CONNECTIONS; i++) {
                    long seed = i;
                    clients.submit(() -> {
                        connecting.acquireUninterruptibly();
                        try (Socket socket = HostileClientTest.connect(server)) {
                            connecting.release();
                            connected.countDown();
                            SplittableRandom random = new SplittableRandom(seed);
                            while (System.nanoTime() < deadline) {
                                byte[] data = new byte[SIZES[random.nextInt(SIZES.length)]];
                                random.nextBytes(data);
                                socket.getOutputStream().write(data); // at most 32 KiB: fits in the socket buffers
                                assertArrayEquals(data, socket.getInputStream().readNBytes(data.length));
                                echoes.incrementAndGet();
                                Thread.sleep(50 + random.nextInt(100)); // ~10 echoes/s per connection, not in lockstep
                            }
                        } catch (Throwable t) {
                            failures.add(t.toString());
                        }
                    });
                }
                assertTrue(connected.await(60, TimeUnit.SECONDS), "connected " + (CONNECTIONS - connected.getCount()));
                HostileClientTest.awaitAtLeast(process::openSockets, baselineSockets + CONNECTIONS, "the server to accept all");
                Thread.sleep(1000); // every connection has echoed: the server holds all it will hold
                startFiles = process.openFiles();
                startThreads = process.threads();
                Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) - 500));
                endFiles = process.openFiles();
                endThreads = process.threads();
            }
            assertEquals(List.of(), List.copyOf(failures).subList(0, Math.min(5, failures.size())),
                    failures.size() + " connections failed");
            assertTrue(startFiles >= baselineFiles + CONNECTIONS, "the server holds " + startFiles + " files");
            assertTrue(endFiles <= startFiles + 2, "open files grew from " + startFiles + " to " + endFiles);
            assertTrue(endThreads <= startThreads + 4, "threads grew from " + startThreads + " to " + endThreads);
            // Sockets, not all files: the JDK opens more epoll instances for virtual threads lazily, under load, and keeps them
            long socketsAfter = HostileClientTest.awaitAtMost(process::openSockets, baselineSockets, "sockets back to " + baselineSockets);
            long threadsAfter = HostileClientTest.awaitAtMost(process::threads, baselineThreads + 4, "threads back to " + baselineThreads);
            System.out.printf("      %s: %d s, %d echoes; open files %d -> %d (start) -> %d (end), sockets %d after closing; "
                            + "threads %d -> %d -> %d -> %d%n", script, SECONDS, echoes.get(), baselineFiles, startFiles,
                    endFiles, socketsAfter, baselineThreads, startThreads, endThreads, threadsAfter);
        }
    }
}
