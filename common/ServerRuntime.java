import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

/**
 * What the three echo servers share around their I/O: the connection counters of the STATS line, the JFR recording,
 * the ready line, and a stop on SIGTERM/SIGINT that closes everything, dumps the recording, prints STATS and exits 0.
 */
final class ServerRuntime {
    /** Bytes echoed. A LongAdder: many threads add to it on every message without contending on one cache line. */
    final LongAdder bytes = new LongAdder();

    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final AtomicLong lastAcceptFailureLog = new AtomicLong(System.nanoTime() - 2_000_000_000L);
    private final AtomicLong lastThreadFailureLog = new AtomicLong(System.nanoTime() - 2_000_000_000L);
    private final int maxConnections;
    private final Recording recording;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);

    /** Starts the JFR recording now if {@code --jfr} asks for one, so that it covers the server's whole life. */
    ServerRuntime(ServerOptions options) throws IOException, ParseException {
        this.maxConnections = options.maxConnections;
        if (options.jfr == null) {
            recording = null;
            return;
        }
        try (Reader settings = new InputStreamReader(
                ServerRuntime.class.getResourceAsStream("/echo.jfc"), StandardCharsets.UTF_8)) {
            recording = new Recording(Configuration.create(settings));
        }
        try {
            recording.setDestination(options.jfr); // written when the recording stops
        } catch (IOException e) {
            throw new Cli.UserError(1, "--jfr: cannot write " + options.jfr + ": " + e.getMessage());
        }
        recording.setName("echo");
        recording.start();
    }

    /** Counts a new connection; false (and counted as rejected) when --max-connections are already open. */
    boolean admit() {
        int now = open.incrementAndGet();
        if (maxConnections > 0 && now > maxConnections) {
            open.decrementAndGet();
            rejected.incrementAndGet();
            return false;
        }
        accepted.incrementAndGet();
        peak.accumulateAndGet(now, Math::max);
        return true;
    }

    /**
     * An admitted connection that cannot be served after all, because no thread could be created for it: it is
     * closed and counted as rejected, and the server goes on with the next one.
     */
    void noThreadFor(AutoCloseable connection, Throwable cause) {
        closeQuietly(connection);
        open.decrementAndGet();
        accepted.decrementAndGet();
        rejected.incrementAndGet();
        logAtMostOnceASecond(lastThreadFailureLog, "no thread for a connection, closed it: " + cause);
    }

    void release() {
        open.decrementAndGet();
    }

    /** How long to pause accepting after a failed accept (EMFILE...): retrying at once would spin on the error. */
    static final long ACCEPT_PAUSE_MILLIS = 50;

    /** Reports a failed accept on stderr, at most once a second however often it fails. */
    void acceptFailed(Throwable cause) {
        logAtMostOnceASecond(lastAcceptFailureLog,
                "accept failed, pausing " + ACCEPT_PAUSE_MILLIS + " ms between attempts: " + cause);
    }

    /** A failure that may repeat thousands of times a second must not flood stderr (nor slow the server writing it). */
    private static void logAtMostOnceASecond(AtomicLong lastLogged, String message) {
        long now = System.nanoTime();
        long last = lastLogged.get();
        if (now - last >= 1_000_000_000L && lastLogged.compareAndSet(last, now)) System.err.println(message);
    }

    static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // closing is all we wanted; there is nobody left to tell
        }
    }

    /**
     * The one line for a listener that cannot be opened: the port taken is the common case and gets exactly that
     * line; anything else (an address this machine does not have, a privileged port) says what the system said.
     */
    static Cli.UserError cannotListen(ServerOptions options, Throwable cause) {
        String reason = String.valueOf(cause.getMessage());
        if (reason.contains("Address already in use")) return new Cli.UserError(1, "port " + options.port + " is already in use");
        return new Cli.UserError(1, "cannot listen on " + options.bind + ":" + options.port + ": " + reason);
    }

    /**
     * Prints the ready line and arms the stop: on SIGTERM or SIGINT {@code stopServer} closes the listener and the
     * connections, the recording is dumped and STATS printed, which releases {@link #awaitStopped()}. The signals are
     * handled directly rather than in a shutdown hook, because hooks run concurrently with JFR's own (which races to
     * stop the recording) and a JVM ended by a signal exits 143 rather than 0.
     */
    void ready(String className, String bind, int port, String model, ServerOptions options, String variantFields,
               Runnable stopServer) {
        sun.misc.SignalHandler stop = signal -> {
            if (!stopping.compareAndSet(false, true)) return;
            try {
                stopServer.run();
            } finally {
                if (recording != null) recording.stop();
                System.out.println("STATS accepted=" + accepted.get() + " rejected=" + rejected.get()
                        + " peak=" + peak.get() + " bytes=" + bytes.sum());
                stopped.countDown();
            }
        };
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), stop);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), stop);
        System.out.println("READY " + className + " " + bind + ":" + port + " model=" + model + " "
                + options.readyFields() + " " + variantFields + " pid=" + ProcessHandle.current().pid());
    }

    /** Returns the exit code, 0, once a signal has stopped the server and STATS is printed. */
    int awaitStopped() throws InterruptedException {
        stopped.await();
        return 0;
    }
}
