///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS info.picocli:picocli:4.7.7
//DEPS org.hdrhistogram:HdrHistogram:2.2.2
//DEPS com.google.code.gson:gson:2.13.2
//SOURCES common/Cli.java
//SOURCES common/LoadReport.java
//JAVA_OPTIONS -XX:+UseSerialGC -Xss256k

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.HdrHistogram.HistogramLogWriter;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * A TCP echo load generator whose numbers can be trusted. It keeps the seed's command line and output block
 * ({@code Sent / Received / Failures / Avg / p90 / p95 / p99 RTT}) and removes the seed's weaknesses: an echo counts
 * only when all of it has come back byte for byte (however many reads that takes), every failure is counted by kind
 * (connect errors too), latency is recorded in nanoseconds in an HdrHistogram, the open-loop mode ({@code --rate})
 * measures from the intended send time so a stalled server cannot hide (coordinated omission), and the generator
 * reports its own CPU time and how late its sends were, warning when it, rather than the server, is the limit.
 *
 * <p>Concurrency model: one virtual thread per connection with a blocking socket, chosen by measuring. Each user's
 * code is a straight line (send, read until the whole echo is back, wait for the next due time) and its time stamps
 * are taken right next to the system calls they bracket. A CPU-time profile (JFR jdk.CPUTimeSample) of 1,000 users x
 * 10 msg/s showed ~40% of the generator's CPU in the socket write and read calls themselves (on loopback, a write also
 * pays for delivering the bytes to the server), which any design pays, and ~20% in virtual-thread scheduling (timer,
 * poller registration, carrier wake-ups) that a hand-written selector loop could partly save; but a JDK selector's
 * timeout is whole milliseconds, so its sends would leave up to 1 ms late (or it would have to spin). Waits use {@code System.nanoTime} and {@code LockSupport.parkNanos} (not millisecond sleeps), and the
 * generator measures its own lateness (send lag) and CPU, so when this choice adds noise, the output says so.
 */
@Command(name = "TcpLoad", mixinStandardHelpOptions = true, version = "TcpLoad 1", subcommands = TcpLoad.Merge.class,
        sortOptions = false, usageHelpWidth = 120,
        description = {"Load an echo server over TCP and report round-trip times, failures and the generator's own cost.",
                "Exit codes: 0 no failures, 1 failures (summary still printed) or server unreachable,"
                        + " 2 usage errors and preflight limits (open files, source ports)."})
public class TcpLoad implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "127.0.0.1:8080", description = "Server address host:port (default ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--users", defaultValue = "100", description = "Concurrent connections (default ${DEFAULT-VALUE}).")
    int users;

    @Option(names = "--duration", defaultValue = "10s", description = "Measured duration, after the warm-up (default ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--message", description = "Message each user sends (default \"hello\").")
    String message;

    @Option(names = "--size", converter = Cli.Size.class, description = "Send N random bytes per message instead of --message.")
    Integer size;

    @Option(names = "--interval", description = "Closed loop: pause after each echo (default 0). --idle / --burst: period"
            + " of each user's sends (default 1s / 100ms). --churn: pause between rounds.")
    Duration interval;

    @Option(names = "--timeout", defaultValue = "2s", description = "Connect timeout, and time for a whole echo to come back (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--rate", description = "Open loop: total messages per second across all users, on a constant schedule;"
            + " latency is measured from the intended send time.")
    Double rate;

    @Option(names = "--inflight", defaultValue = "1", description = "Messages outstanding per connection (pipelining, default ${DEFAULT-VALUE}).")
    int inflight;

    @Option(names = "--warmup", defaultValue = "0s", description = "Run this long before measuring (default ${DEFAULT-VALUE}).")
    Duration warmup;

    @Option(names = "--ramp-up", description = "Spread opening the connections over this time.")
    Duration rampUp;

    @Option(names = "--connect-rate", description = "Open at most this many connections per second.")
    Double connectRate;

    @Option(names = "--connect-concurrency", defaultValue = "256", description = "Connection attempts in flight at once (default ${DEFAULT-VALUE}).")
    int connectConcurrency;

    @Option(names = "--idle", description = "Idle connections: each user sends one keepalive per --interval (default 1s) on its own fixed schedule.")
    boolean idle;

    @Option(names = "--burst", description = "All users send at the same instant, once per --interval (default 100ms).")
    boolean burst;

    @Option(names = "--churn", description = "Each round opens a connection, exchanges one echo and closes it.")
    boolean churn;

    @Option(names = "--source-ips", split = ",", description = "Local addresses to connect from (e.g. 127.0.0.2,127.0.0.3): more source ports.")
    List<String> sourceIps;

    @Option(names = "--json", description = "Write the configuration and every figure as JSON (docs/CONTRACTS.md).")
    Path json;

    @Option(names = "--hlog", description = "Write an HdrHistogram interval log (1 s intervals) of the latencies.")
    Path hlog;

    @Option(names = "--percentiles", description = "Print the full HdrHistogram percentile spectrum (µs).")
    boolean percentiles;

    @Option(names = "--progress", description = "Print a progress line each second on stderr even when it is not a terminal.")
    boolean progress;

    @Option(names = "--quiet", description = "No progress line.")
    boolean quiet;

    public static void main(String[] args) {
        System.exit(Cli.run(new TcpLoad(), args));
    }

    /** How long a user waits before trying again after a failed connect: a dead server is not hammered in a loop. */
    private static final long RECONNECT_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** File descriptors a run needs beyond one per connection (the JVM's own jars, the log files, stdio). */
    private static final int SPARE_FILES = 32;

    private String mode;
    private InetSocketAddress server;
    private byte[] fixedPayload;
    private int payloadSize;
    private long intervalNanos;
    private SourcePorts sourcePorts;
    private LoadReport.Recorders stats;

    // The run's clock, all System.nanoTime(): connecting starts at startedAt, measuring at measuredFrom,
    // sends stop at endAt; a message belongs to the measurement when its intended send time is in [measuredFrom, endAt).
    private long startedAt, measuredFrom, endAt;

    @Override
    public Integer call() throws Exception {
        validate();
        preflight();
        probeServer();
        System.out.println("Starting test: " + users + " users for " + LoadReport.goDuration(duration.toNanos()));
        LoadReport.Result result = run();
        System.out.println();
        LoadReport.printSummary(System.out, result);
        if (percentiles) LoadReport.printSpectrum(System.out, result.latency(), mode.equals("closed") || mode.equals("churn")
                ? "RTT" : "RTT from intended send time (corrected)");
        if (json != null) LoadReport.writeJson(json, result);
        return result.failures() == 0 ? 0 : 1;
    }

    private void validate() {
        if (users < 1) throw new Cli.UserError(2, "--users must be at least 1");
        if (duration.isZero() || duration.isNegative()) throw new Cli.UserError(2, "--duration must be positive");
        if (timeout.toMillis() < 1) throw new Cli.UserError(2, "--timeout must be at least 1ms");
        if (inflight < 1) throw new Cli.UserError(2, "--inflight must be at least 1");
        if (connectConcurrency < 1) throw new Cli.UserError(2, "--connect-concurrency must be at least 1");
        if (rate != null && !(rate > 0)) throw new Cli.UserError(2, "--rate must be positive");
        if (connectRate != null && !(connectRate > 0)) throw new Cli.UserError(2, "--connect-rate must be positive");
        if (rampUp != null && connectRate != null) throw new Cli.UserError(2, "--ramp-up and --connect-rate say the same thing: give one");
        if (size != null && message != null) throw new Cli.UserError(2, "--size and --message both set the payload: give one");
        if (size != null && size < 1) throw new Cli.UserError(2, "--size must be at least 1 byte");
        if (message != null && message.isEmpty()) throw new Cli.UserError(2, "--message must not be empty");
        int shapes = (rate != null ? 1 : 0) + (idle ? 1 : 0) + (burst ? 1 : 0) + (churn ? 1 : 0);
        if (shapes > 1) throw new Cli.UserError(2, "--rate, --idle, --burst and --churn are different workloads: give at most one");
        if (rate != null && interval != null) throw new Cli.UserError(2, "--interval does not apply with --rate (the schedule is users/rate per user)");
        if (churn && inflight > 1) throw new Cli.UserError(2, "--inflight does not apply with --churn (one echo per connection)");
        mode = rate != null ? "open" : idle ? "idle" : burst ? "burst" : churn ? "churn" : "closed";
        Duration defaultInterval = idle ? Duration.ofSeconds(1) : burst ? Duration.ofMillis(100) : Duration.ZERO;
        intervalNanos = (interval != null ? interval : defaultInterval).toNanos();
        if ((idle || burst) && intervalNanos <= 0) throw new Cli.UserError(2, "--interval must be positive with --" + mode);
        fixedPayload = size == null ? (message == null ? "hello" : message).getBytes(StandardCharsets.UTF_8) : null;
        payloadSize = size != null ? size : fixedPayload.length;
        requireFolder("--json", json);
        requireFolder("--hlog", hlog);
        server = parseHost(host);
        sourcePorts = new SourcePorts(sourceAddresses(), readPortRange(), !churn);
    }

    /** An output file's folder must exist before the run, not be found missing after it. */
    private static void requireFolder(String flag, Path file) {
        Path folder = file == null ? null : file.toAbsolutePath().getParent();
        if (folder != null && !Files.isDirectory(folder)) throw new Cli.UserError(2, flag + ": folder " + folder + " does not exist");
    }

    private static InetSocketAddress parseHost(String hostAndPort) {
        int colon = hostAndPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostAndPort.length() - 1) throw new Cli.UserError(2, "--host must be host:port, got '" + hostAndPort + "'");
        String name = hostAndPort.substring(0, colon).replace("[", "").replace("]", "");
        int port;
        try {
            port = Integer.parseInt(hostAndPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) throw new Cli.UserError(2, "--host port must be 1-65535, got '" + hostAndPort + "'");
        try {
            return new InetSocketAddress(InetAddress.getByName(name), port);
        } catch (UnknownHostException e) {
            throw new Cli.UserError(2, "--host '" + name + "' does not resolve");
        }
    }

    private List<InetAddress> sourceAddresses() {
        List<InetAddress> addresses = new ArrayList<>();
        for (String ip : sourceIps == null ? List.<String>of() : sourceIps) {
            try {
                addresses.add(InetAddress.getByName(ip.trim()));
            } catch (UnknownHostException e) {
                throw new Cli.UserError(2, "--source-ips '" + ip + "' is not an address");
            }
        }
        return addresses;
    }

    /** The kernel's ephemeral port range, from which this generator picks its source ports itself. */
    private static int[] readPortRange() {
        try {
            String[] range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return new int[] {Integer.parseInt(range[0]), Integer.parseInt(range[1])};
        } catch (IOException | RuntimeException e) {
            return new int[] {32768, 60999}; // Linux's default, for systems without /proc
        }
    }

    /**
     * Fails before connecting when the run cannot fit the machine: one socket per user must fit the open-files
     * limit, and one source port per user must fit the ephemeral range of each source address.
     */
    private void preflight() {
        long openFilesLimit = readOpenFilesLimit();
        long alreadyOpen = countOpenFiles();
        long needed = alreadyOpen + users + SPARE_FILES + (json != null ? 1 : 0) + (hlog != null ? 1 : 0);
        if (openFilesLimit > 0 && needed > openFilesLimit) {
            throw new Cli.UserError(2, String.format(Locale.ROOT, "--users %d needs about %d open files but the open-files limit"
                    + " (ulimit -n, 'Max open files' in /proc/self/limits) is %d: lower --users to %d, raise the limit"
                    + " (ulimit -n / LimitNOFILE), or split the load over several TcpLoad processes and merge their --hlog",
                    users, needed, openFilesLimit, openFilesLimit - (needed - users)));
        }
        if (!churn && users > sourcePorts.capacity()) {
            throw new Cli.UserError(2, String.format(Locale.ROOT, "--users %d needs %d source ports but the ephemeral port range"
                    + " %d-%d (/proc/sys/net/ipv4/ip_local_port_range) gives %d per source address x %d address(es): add"
                    + " --source-ips 127.0.0.2,127.0.0.3,... or widen the range", users, users, sourcePorts.firstPort,
                    sourcePorts.lastPort, sourcePorts.lastPort - sourcePorts.firstPort + 1, sourcePorts.addressCount()));
        }
    }

    private static long readOpenFilesLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? -1 : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: nothing to check against
        }
        return -1;
    }

    private static long countOpenFiles() {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** One connection before the run, so a server that is not there is one clear line, not a flood of failures. */
    private void probeServer() {
        try (Socket probe = new Socket()) {
            probe.connect(server, (int) Math.max(1, timeout.toMillis()));
        } catch (IOException e) {
            throw new Cli.UserError(1, "cannot connect to " + host + " (" + e.getMessage() + "): is the server running?");
        }
    }

    private LoadReport.Result run() throws Exception {
        stats = new LoadReport.Recorders(rate != null || idle || burst, users);
        var cpu = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long epochMillisAtStart = System.currentTimeMillis();
        startedAt = System.nanoTime();
        measuredFrom = startedAt + warmup.toNanos();
        endAt = measuredFrom + duration.toNanos();

        HistogramLogWriter log = hlog == null ? null : openLog(epochMillisAtStart);
        Ticker ticker = new Ticker(log, showProgress());
        Thread tickerThread = Thread.ofPlatform().name("tcpload-ticker").daemon().start(ticker);

        CountDownLatch finished = new CountDownLatch(users);
        Semaphore connecting = new Semaphore(connectConcurrency);
        double connectsPerSecond = connectRate != null ? connectRate
                : rampUp != null && !rampUp.isZero() ? users / (rampUp.toNanos() / 1e9) : 0;
        for (int i = 0; i < users; i++) {
            long connectAt = connectsPerSecond > 0 ? startedAt + (long) (i * 1e9 / connectsPerSecond) : startedAt;
            User user = new User(i, scheduleFor(i), connectAt, connecting, finished);
            Thread.ofVirtual().name("user-", i).start(user);
        }
        // The generator's own CPU counts from the end of the warm-up, like every other figure (so start-up and the
        // JIT compiler's first work are left out when a warm-up is given).
        parkUntil(measuredFrom);
        long cpuAtMeasuredFrom = cpu.getProcessCpuTime();
        // Every user stops sending at endAt and gives each outstanding echo at most --timeout, so this wait is
        // bounded; the extra second covers a connect attempt that started just before the end.
        boolean allDone = finished.await(endAt - System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1),
                TimeUnit.NANOSECONDS);
        long wallNanos = System.nanoTime() - measuredFrom;
        long cpuNanos = cpu.getProcessCpuTime() - cpuAtMeasuredFrom;
        ticker.stop();
        tickerThread.join();
        if (log != null) log.close();

        LoadReport.Config config = new LoadReport.Config(host, users, duration.toNanos() / 1e9, warmup.toNanos() / 1e9,
                mode, payloadSize, intervalNanos / 1e6, rate == null ? 0 : rate, inflight, timeout.toNanos() / 1e6,
                rampUp == null ? 0 : rampUp.toNanos() / 1e9, connectsPerSecond, sourceIps == null ? List.of() : sourceIps,
                hasSchedule());
        return stats.result(config, ticker.series, wallNanos, cpuNanos, Runtime.getRuntime().availableProcessors(),
                allDone ? List.of() : List.of("some users were still busy " + timeout + " after the end; their messages are not counted"));
    }

    private HistogramLogWriter openLog(long epochMillisAtStart) throws IOException {
        HistogramLogWriter log = new HistogramLogWriter(new PrintStream(Files.newOutputStream(hlog), false, StandardCharsets.UTF_8));
        log.outputComment("TcpLoad " + mode + " " + users + " users against " + host + "; values in nanoseconds;"
                + " untagged = " + (mode.equals("closed") || mode.equals("churn") ? "RTT" : "RTT from intended send time (corrected)")
                + ", tag=uncorrected = RTT from actual send");
        log.outputLogFormatVersion();
        log.setBaseTime(epochMillisAtStart);
        log.outputStartTime(epochMillisAtStart);
        log.outputBaseTime(epochMillisAtStart);
        log.outputLegend();
        return log;
    }

    private boolean showProgress() {
        if (quiet) return false;
        if (progress) return true;
        try { // stderr is a terminal when file descriptor 2 points at a tty
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether sends have a due time that lateness can be measured against (everything but closed loop without pause). */
    private boolean hasSchedule() {
        return !mode.equals("closed") && !mode.equals("churn") || intervalNanos > 0;
    }

    private Schedule scheduleFor(int user) {
        return switch (mode) {
            case "open" -> new Periodic(Math.round(users * 1e9 / rate), Math.round(user * 1e9 / rate));
            case "idle" -> new Periodic(intervalNanos, intervalNanos * user / users);
            case "burst" -> new Periodic(intervalNanos, 0);
            default -> new AfterReply(intervalNanos);
        };
    }

    /** When a user's next message is due. */
    interface Schedule {
        long due();

        /** The user's connection is open: {@code first} is true for the first one, false after a reconnect. */
        void connected(long now, boolean first);

        void sent();

        void replied(long now);

        /** True for a fixed timetable (open loop): latency then counts from the due time, not the actual send. */
        boolean periodic();
    }

    /** Closed loop: the next message goes out {@code pause} after the previous echo came back. */
    static final class AfterReply implements Schedule {
        private final long pause;
        private long lastReply;

        AfterReply(long pause) {
            this.pause = pause;
        }

        public long due() { return lastReply + pause; }
        public void connected(long now, boolean first) { lastReply = now - pause; }
        public void sent() {}
        public void replied(long now) { lastReply = now; }
        public boolean periodic() { return false; }
    }

    /**
     * Open loop: message k of this user is due at {@code startedAt + phase + k * period}, whatever the server does.
     * The timetable starts at the first slot after the user's first connection, so the time taken to open
     * thousands of connections is not charged to the server; slots missed after that (a stall, a reconnect) are
     * still sent, late, and their latency counts from when they were due.
     */
    final class Periodic implements Schedule {
        private final long period, phase;
        private long next;

        Periodic(long period, long phase) {
            this.period = Math.max(1, period);
            this.phase = phase;
        }

        public long due() { return next; }

        public void connected(long now, boolean first) {
            if (!first) return;
            long slot = Math.max(0, Math.ceilDiv(now - startedAt - phase, period));
            next = startedAt + phase + slot * period;
        }

        public void sent() { next += period; }
        public void replied(long now) {}
        public boolean periodic() { return true; }
    }

    /**
     * One simulated user: one connection and one virtual thread. Its loop sends when a message is due and the
     * window ({@code --inflight}) has room, otherwise reads until the oldest outstanding echo is complete, and
     * otherwise parks until the next due time. Messages in flight are remembered in a ring of {@code inflight} slots.
     */
    final class User implements Runnable {
        private final int index;
        private final Schedule schedule;
        private final long connectAt;
        private final Semaphore connecting;
        private final CountDownLatch finished;
        private final byte[] payload;
        private final byte[] echo;
        private final long[] dueAt = new long[inflight];
        private final long[] sentAt = new long[inflight];
        /** Messages already counted as timed out whose echo is still owed: its bytes are read and skipped. */
        private final boolean[] timedOut = new boolean[inflight];
        private int oldest, outstanding, filled;
        private long windowFreeAt;
        private boolean everConnected;
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        User(int index, Schedule schedule, long connectAt, Semaphore connecting, CountDownLatch finished) {
            this.index = index;
            this.schedule = schedule;
            this.connectAt = connectAt;
            this.connecting = connecting;
            this.finished = finished;
            this.payload = fixedPayload != null ? fixedPayload : randomPayload(index);
            this.echo = new byte[payload.length];
        }

        @Override
        public void run() {
            try {
                parkUntil(connectAt);
                while (true) {
                    long now = System.nanoTime();
                    boolean sending = schedule.due() < endAt && now < endAt;
                    if (socket == null) {
                        if (!sending) return;
                        if (churn && schedule.due() > now) {
                            parkUntil(schedule.due()); // a churn round begins with its connect
                            continue;
                        }
                        connect();
                    } else if (sending && outstanding < inflight && schedule.due() <= now) {
                        send(now);
                    } else if (outstanding == 0) {
                        if (!sending) return;
                        parkUntil(Math.min(schedule.due(), endAt));
                    } else {
                        receive(now, sending && outstanding < inflight ? schedule.due() : Long.MAX_VALUE);
                    }
                }
            } finally {
                disconnect();
                finished.countDown();
            }
        }

        private void connect() {
            connecting.acquireUninterruptibly();
            long started = System.nanoTime();
            try {
                Socket opened = sourcePorts.connect(server, (int) timeout.toMillis());
                long now = System.nanoTime();
                stats.connected(now - started);
                socket = opened;
                in = socket.getInputStream();
                out = socket.getOutputStream();
                windowFreeAt = now;
                schedule.connected(now, !everConnected);
                everConnected = true;
            } catch (IOException e) {
                stats.fail(LoadReport.Kind.CONNECT, true);
            } finally {
                connecting.release();
            }
            if (socket == null) parkUntil(Math.min(System.nanoTime() + RECONNECT_PAUSE_NANOS, endAt));
        }

        private void send(long now) {
            long due = schedule.due();
            boolean measured = due >= measuredFrom;
            if (hasSchedule()) stats.lag(now - Math.max(due, windowFreeAt), measured);
            int slot = (oldest + outstanding) % inflight;
            dueAt[slot] = schedule.periodic() ? due : now;
            sentAt[slot] = now;
            outstanding++;
            schedule.sent();
            stats.sent(measured);
            try {
                out.write(payload);
            } catch (IOException e) {
                failOutstanding(kindOf(e));
            }
        }

        /**
         * Reads towards the oldest outstanding echo until it is complete, the first echo not yet declared late runs out
         * of time, or (when the window has room) the next message is due. A read that times out leaves the socket
         * usable, so waking up to send is just a shorter socket timeout.
         *
         * <p>An echo that takes longer than --timeout is counted as a timeout at once, but the connection is kept and
         * the late bytes, when they come, are read and skipped: closing and reconnecting every slow connection would
         * pile connection storms onto a server that is already overloaded. Sending ends at endAt; an echo still owed
         * after that is waited for until its own deadline, then the connection is given up.
         */
        private void receive(long now, long nextDue) {
            int late = 0;
            while (late < outstanding && timedOut[(oldest + late) % inflight]) late++;
            if (late == outstanding && now >= endAt) {
                failOutstanding(LoadReport.Kind.TIMEOUT); // counts nothing more: every message left was counted already
                return;
            }
            long deadline = late < outstanding ? sentAt[(oldest + late) % inflight] + timeout.toNanos() : endAt;
            if (now >= deadline) {
                int slot = (oldest + late) % inflight;
                timedOut[slot] = true;
                stats.fail(LoadReport.Kind.TIMEOUT, dueAt[slot] >= measuredFrom);
                return;
            }
            boolean wakeForSend = nextDue < deadline;
            long waitNanos = (wakeForSend ? nextDue : deadline) - now;
            // Socket timeouts are whole milliseconds: round down when waking up to send (then park the rest),
            // up when waiting out the deadline, so neither the send nor the timeout is early.
            long waitMillis = wakeForSend ? waitNanos / 1_000_000 : Math.ceilDiv(waitNanos, 1_000_000);
            if (waitMillis == 0) {
                parkUntil(nextDue);
                return;
            }
            int read;
            try {
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, waitMillis));
                read = in.read(echo, filled, echo.length - filled);
            } catch (SocketTimeoutException e) {
                return; // the loop sends what is due or declares the timeout
            } catch (IOException e) {
                failOutstanding(kindOf(e));
                return;
            }
            long arrived = System.nanoTime();
            if (read < 0) {
                failOutstanding(LoadReport.Kind.CLOSED);
                return;
            }
            filled += read;
            if (filled == echo.length) complete(arrived);
        }

        private void complete(long arrived) {
            int slot = oldest;
            oldest = (oldest + 1) % inflight;
            outstanding--;
            filled = 0;
            windowFreeAt = arrived;
            schedule.replied(arrived);
            boolean measured = dueAt[slot] >= measuredFrom;
            if (timedOut[slot]) {
                timedOut[slot] = false; // a late echo, already counted as a timeout
            } else if (Arrays.equals(echo, payload)) {
                stats.received(arrived - dueAt[slot], arrived - sentAt[slot], measured);
            } else {
                stats.fail(LoadReport.Kind.MISMATCH, measured);
            }
            if (churn) disconnect();
        }

        /** The connection is broken: every message in flight on it failed (unless already counted late); reconnect. */
        private void failOutstanding(LoadReport.Kind kind) {
            for (int i = 0; i < outstanding; i++) {
                int slot = (oldest + i) % inflight;
                if (!timedOut[slot]) stats.fail(kind, dueAt[slot] >= measuredFrom);
                timedOut[slot] = false;
            }
            oldest = outstanding = filled = 0;
            disconnect();
        }

        private void disconnect() {
            if (socket == null) return;
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a broken socket: nothing left to do
            }
            socket = null;
            stats.disconnected();
        }
    }

    private byte[] randomPayload(int user) {
        byte[] bytes = new byte[payloadSize];
        new SplittableRandom(user * 0x9E3779B97F4A7C15L + 1).nextBytes(bytes);
        return bytes;
    }

    private static LoadReport.Kind kindOf(IOException e) {
        if (e instanceof SocketTimeoutException) return LoadReport.Kind.TIMEOUT;
        if (e instanceof ConnectException || e instanceof NoRouteToHostException) return LoadReport.Kind.CONNECT;
        String text = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (text.contains("reset") || text.contains("broken pipe") || text.contains("closed by peer")) return LoadReport.Kind.CLOSED;
        return LoadReport.Kind.IO;
    }

    private static void parkUntil(long deadline) {
        for (long left; (left = deadline - System.nanoTime()) > 0; ) LockSupport.parkNanos(left);
    }

    /**
     * Picks each connection's source address and port itself, walking the ephemeral range, instead of letting the
     * kernel search for a free port: with ~19,000 connections to one server the kernel's search took over 5 s here,
     * explicit ports about 0.3 s. A port that turns out to be taken is skipped. Churn connects and closes the same
     * ports again and again, so there the kernel, which knows about TIME_WAIT, picks the port.
     */
    static final class SourcePorts {
        private static final int ATTEMPTS = 64;
        final int firstPort, lastPort;
        private final List<InetAddress> addresses;
        private final boolean explicitPorts;
        private final AtomicLong cursor = new AtomicLong();

        SourcePorts(List<InetAddress> addresses, int[] range, boolean explicitPorts) {
            this.addresses = addresses;
            this.firstPort = range[0];
            this.lastPort = range[1];
            this.explicitPorts = explicitPorts;
        }

        int addressCount() {
            return Math.max(1, addresses.size());
        }

        long capacity() {
            return (long) (lastPort - firstPort + 1) * addressCount();
        }

        Socket connect(InetSocketAddress server, int timeoutMillis) throws IOException {
            for (int attempt = 1; ; attempt++) {
                long next = cursor.getAndIncrement();
                InetAddress address = addresses.isEmpty() ? null : addresses.get((int) (next % addresses.size()));
                int port = explicitPorts ? firstPort + (int) (next / addressCount() % (lastPort - firstPort + 1)) : 0;
                Socket socket = new Socket();
                try {
                    socket.setTcpNoDelay(true);
                    socket.setReuseAddress(true);
                    if (address != null || port != 0) socket.bind(new InetSocketAddress(address, port));
                    socket.connect(server, timeoutMillis);
                    return socket;
                } catch (BindException e) { // this source port is taken (or its 4-tuple is): try the next one
                    socket.close();
                    if (attempt == ATTEMPTS || !explicitPorts) throw e;
                } catch (IOException e) {
                    socket.close();
                    throw e;
                }
            }
        }
    }

    /**
     * Once a second: closes the interval of every recorder (for the per-second series and the --hlog), and prints
     * the progress line. A platform thread, so it keeps time even when the virtual threads' carriers are busy.
     */
    final class Ticker implements Runnable {
        final List<LoadReport.Second> series = new ArrayList<>();
        private final HistogramLogWriter log;
        private final boolean progress;
        private volatile boolean stopped;

        Ticker(HistogramLogWriter log, boolean progress) {
            this.log = log;
            this.progress = progress;
        }

        @Override
        public void run() {
            for (int second = 1; !stopped; second++) {
                long tickAt = startedAt + TimeUnit.SECONDS.toNanos(second);
                while (!stopped && System.nanoTime() < tickAt) LockSupport.parkNanos(Math.min(tickAt - System.nanoTime(), 50_000_000));
                tick(second);
            }
        }

        void stop() {
            stopped = true;
        }

        private void tick(int second) {
            LoadReport.Interval interval = stats.closeInterval();
            if (log != null) {
                log.outputIntervalHistogram(interval.latency());
                if (interval.uncorrected() != null) log.outputIntervalHistogram(interval.uncorrected());
            }
            double measuredSecond = (second * 1e9 - warmup.toNanos()) / 1e9;
            if (measuredSecond > 0) series.add(interval.asSecond((int) Math.ceil(measuredSecond)));
            if (progress) {
                System.err.printf(Locale.ROOT, "[%3ds/%ds] %,8d msg/s  p99 %s  conns %,d  failures %,d%n",
                        second, Math.round((warmup.toNanos() + duration.toNanos()) / 1e9), interval.received(),
                        LoadReport.goDuration(interval.latency().getValueAtPercentile(99)), interval.connections(),
                        stats.failureCount());
            }
        }
    }

    /** {@code merge a.hlog b.hlog ...}: the combined summary of interval logs from several generators or hosts. */
    @Command(name = "merge", mixinStandardHelpOptions = true,
            description = "Combine --hlog interval logs (several generator processes or hosts loading one server) and print their summary.")
    static final class Merge implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "HLOG", description = "Interval logs written with --hlog.")
        List<Path> logs;

        @Option(names = "--percentiles", description = "Print the full percentile spectrum (µs).")
        boolean percentiles;

        @Override
        public Integer call() throws IOException {
            Histogram latency = new Histogram(LoadReport.SIGNIFICANT_DIGITS);
            Histogram uncorrected = new Histogram(LoadReport.SIGNIFICANT_DIGITS);
            int intervals = 0;
            for (Path file : logs) {
                if (!Files.isReadable(file)) throw new Cli.UserError(2, "HLOG '" + file + "' cannot be read");
                try (var reader = new HistogramLogReader(file.toFile())) {
                    for (var interval = reader.nextIntervalHistogram(); interval != null; interval = reader.nextIntervalHistogram()) {
                        (LoadReport.UNCORRECTED_TAG.equals(interval.getTag()) ? uncorrected : latency).add((Histogram) interval);
                        intervals++;
                    }
                } catch (RuntimeException e) {
                    throw new Cli.UserError(2, "HLOG '" + file + "' is not an HdrHistogram interval log: " + e.getMessage());
                }
            }
            System.out.println("Merged " + intervals + " intervals from " + logs.size() + " log(s)");
            LoadReport.printLatency(System.out, "", latency);
            if (uncorrected.getTotalCount() > 0) LoadReport.printLatency(System.out, "Uncorrected ", uncorrected);
            if (percentiles) LoadReport.printSpectrum(System.out, latency, "merged RTT");
            return 0;
        }
    }
}
