///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 22+
//DEPS info.picocli:picocli:4.7.7
//DEPS org.hdrhistogram:HdrHistogram:2.2.2
//DEPS com.google.code.gson:gson:2.13.2
//DEPS io.netty:netty-all:4.2.18.Final
//SOURCES common/Cli.java
//SOURCES common/LoadReport.java
//SOURCES common/LoadMerge.java
//SOURCES common/JitActivity.java
//SOURCES common/SteadyState.java
//SOURCES common/ProcSampler.java
//SOURCES common/BusyPoll.java
//JAVA_OPTIONS -XX:+UseSerialGC -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringSocketChannel;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.HdrHistogram.HistogramLogWriter;
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
 * <p>Concurrency model: Netty event loops (see {@link Transport}: io_uring flat out, epoll paced), each driving many users; a user is
 * a Channel with a small state machine ({@link User}) whose sends are timed with the event loop's own timers (Netty
 * 4.2's epoll loop waits with epoll_pwait2 and a nanosecond timeout, where a JDK Selector's timeout is whole
 * milliseconds; the timer slack is lowered to 1 ns so those waits are not stretched by Linux's default 50 µs).
 * Sends write a retained duplicate of one pooled payload buffer and echoes are compared in place, so a message
 * allocates nothing but its timer (one pending per user at most). In the open loop a user polls for the last
 * 20 µs before a send is due instead of trusting its wake-up (reported apart as spin time). One event loop by default: on the one core TcpLoad gets, a second loop adds
 * wake-ups and no parallelism. The JVM runs C1 only: with C2 the compiler competed with the connects of 19,000
 * users for that core, and opening them took about twice as long. The measurements behind these choices, and how
 * to measure the earlier engine (a virtual thread per user), are in README.md's benchmark section.
 *
 * <p>Several generators (processes or hosts) loading one server: each runs with {@code --steady --measure-on-stdin},
 * prints {@code STEADY after ...} when warmed up and keeps loading until a line (or end of input) on its stdin begins
 * its measured window, so the windows start together; {@code TcpLoad merge} then combines their --json documents
 * (which carry each latency's histogram) or their --hlog interval logs, the warm-up intervals left out.
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

    @Option(names = "--interval", description = "Closed loop: pause after each echo (default 0; the users' first sends are"
            + " spread over one pause). --idle / --burst: period of each user's sends (default 1s / 100ms). --churn: pause"
            + " between rounds.")
    Duration interval;

    @Option(names = "--timeout", defaultValue = "2s", description = "Connect timeout, and time for a whole echo to come back (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--rate", description = "Open loop: total messages per second across all users, on a constant schedule;"
            + " latency is measured from the intended send time.")
    Double rate;

    @Option(names = "--inflight", defaultValue = "1", description = "Messages outstanding per connection (pipelining, default ${DEFAULT-VALUE}).")
    int inflight;

    @Option(names = "--warmup", defaultValue = "0s", description = "Run at least this long before measuring (default ${DEFAULT-VALUE}).")
    Duration warmup;

    @Option(names = "--steady", description = "Warm up past --warmup until the JIT is quiet and the echo rate has stopped rising"
            + " (common/SteadyState.java), at most --warmup-max.")
    boolean steady;

    @Option(names = "--warmup-max", description = "With --steady: end the warm-up after this long even if not steady (default 30s).")
    Duration warmupMax;

    @Option(names = "--measure-on-stdin", description = "With --steady: once warmed up, print 'STEADY after Ns of warm-up: ...',"
            + " keep the load running as warm-up, and begin measuring when a line (or end of input) arrives on stdin, so"
            + " several generators start their windows together.")
    boolean measureOnStdin;

    @Option(names = "--watch-pid", description = "Also watch this process's (the server's) JIT compiler threads during the warm-up.")
    Long watchPid;

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

    @Option(names = "--threads", defaultValue = "1", description = "Event loop threads driving the connections (default ${DEFAULT-VALUE}: on one core, more only add wake-ups).")
    int threads;

    @Option(names = "--transport", defaultValue = "auto", description = "auto, io_uring, epoll or nio. auto takes io_uring for a"
            + " closed loop without pause (it submits a whole turn's reads and writes in one system call: the most echoes a"
            + " second from one core) and epoll for paced sends (sooner on time); nio where neither is available (default ${DEFAULT-VALUE}).")
    String transportName;
    Transport transport;

    @Option(names = "--busy-poll", description = "Event loops poll without ever sleeping, so no wake-up adds its lateness to the"
            + " latencies measured; each takes a whole core (give TcpLoad cores of its own). The polling that found nothing"
            + " is reported as spin and left out of the saturation check.")
    boolean busyPoll;

    @Option(names = "--json", description = "Write the configuration and every figure as JSON (docs/CONTRACTS.md).")
    Path json;

    @Option(names = "--hlog", description = "Write an HdrHistogram interval log (1 s intervals) of the latencies; the intervals"
            + " that end before the measured window are tagged warmup (warmup-uncorrected) and left out by merge.")
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

    /**
     * Beyond --duration + --timeout, how long the end waits for late users, and then for the event loops to close:
     * a run ends at most twice this after --duration + --timeout (and prints its summary).
     */
    private static final long END_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** How long a user waits before trying again after a failed connect: a dead server is not hammered in a loop. */
    private static final long RECONNECT_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * Open loop (--rate) only: how long before a send is due its user stops sleeping and polls (the event loop
     * checks its sockets without blocking, then the user looks at the clock again) until the send is due. A timed
     * wake-up on this VM came 20 µs late at the median, and that lateness is latency counted against the server;
     * the C client (bench/reference/openloop.c) spins the same 20 µs. The time spent is reported (Spin, spinSeconds)
     * and left out of the saturation check. {@code -Dtcpload.spinNs=<n>} (JBang {@code -R=}) sets another, 0 none.
     */
    private static final long SPIN_NANOS = Long.getLong("tcpload.spinNs", 20_000);
    /** File descriptors a run needs beyond one per connection (the JVM's own jars, the log files, stdio). */
    private static final int SPARE_FILES = 32;

    private String mode;
    private InetSocketAddress server;
    private byte[] fixedPayload;
    private int payloadSize;
    private long intervalNanos;
    private SourcePorts sourcePorts;
    private Bootstrap bootstrap;
    private long timeoutNanos;
    /** Whether sends have a due time that lateness can be measured against. */
    private boolean scheduled;
    /** How long before a due send its user polls instead of sleeping (open loop only, else 0). */
    private long spinNanos;
    private LoadReport.Recorders stats;
    /**
     * Gets every record call {@link #stats} gets, with "measured" inverted, and is never read: each recorder's
     * measured and warm-up paths are both taken from the start, so the code the JIT compiles in the warm-up is the
     * code the measurement runs. (With only the warm-up path taken, the first measured message deoptimized it, and
     * C2 recompiling inside the window took the generator's one core from its sends for milliseconds.)
     */
    private LoadReport.Recorders primer;
    private static final boolean[] FALSE_TRUE = {false, true};

    // The run's clock, all System.nanoTime(): connecting starts at startedAt, measuring at measuredFrom, sends stop
    // at endAt(); a message belongs to the measurement when its intended send time is in [measuredFrom, endAt()),
    // decided when it is sent. With --steady, measuredFrom and measuredUntil are Long.MAX_VALUE until the ticker ends
    // the warm-up. measuredUntil is written after measuredFrom, so a finite end always comes with its start.
    private long startedAt, durationNanos;
    private volatile long measuredFrom, measuredUntil = Long.MAX_VALUE;
    /** Counted down by the ticker when the measured window begins (it prints the MEASURING line). */
    private final CountDownLatch measuring = new CountDownLatch(1);
    private LoadReport.Warmup warmupResult;

    /** A field, not a test of measuredFrom: a branch first taken when the measurement began deoptimized the C2 code. */
    private long endAt() {
        return measuredUntil;
    }

    @Override
    public Integer call() throws Exception {
        setTimerSlack(Long.getLong("tcpload.timerSlackNs", 1));
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
        if (threads < 1) throw new Cli.UserError(2, "--threads must be at least 1");
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
        if (warmupMax != null && !steady) throw new Cli.UserError(2, "--warmup-max applies with --steady only");
        if (measureOnStdin && !steady) throw new Cli.UserError(2, "--measure-on-stdin applies with --steady only");
        if (warmupMax == null) warmupMax = Duration.ofSeconds(30);
        if (steady && warmupMax.compareTo(warmup) < 0) throw new Cli.UserError(2, "--warmup-max must not be shorter than --warmup");
        if (watchPid != null && Double.isNaN(JitActivity.compilerCpuSeconds(watchPid))) {
            throw new Cli.UserError(2, "--watch-pid " + watchPid + ": no such process (or its threads cannot be read)");
        }
        mode = rate != null ? "open" : idle ? "idle" : burst ? "burst" : churn ? "churn" : "closed";
        Duration defaultInterval = idle ? Duration.ofSeconds(1) : burst ? Duration.ofMillis(100) : Duration.ZERO;
        intervalNanos = (interval != null ? interval : defaultInterval).toNanos();
        if ((idle || burst) && intervalNanos <= 0) throw new Cli.UserError(2, "--interval must be positive with --" + mode);
        scheduled = !mode.equals("closed") && !mode.equals("churn") || intervalNanos > 0;
        transport = Transport.of(transportName, busyPoll, mode.equals("closed") && intervalNanos == 0);
        spinNanos = mode.equals("open") && !busyPoll ? Math.max(0, SPIN_NANOS) : 0; // a busy loop polls anyway
        timeoutNanos = timeout.toNanos();
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

    /**
     * Linux lets every timed wait (epoll_wait, futex, nanosleep) fire up to the thread's timer slack late, 50 µs by
     * default, which a 100 µs send period cannot afford. prctl(PR_SET_TIMERSLACK) sets it for the calling thread and
     * the threads it starts, so it is called before the event loops and the ticker exist. (A JDK has no API for it:
     * the FFM API calls libc; /proc/<pid>/timerslack_ns covers the main thread of the process only.)
     */
    static void setTimerSlack(long nanos) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle prctl = linker.downcallHandle(linker.defaultLookup().find("prctl").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1));
            int ignored = (int) prctl.invokeExact(29 /* PR_SET_TIMERSLACK */, nanos);
        } catch (Throwable e) {
            // not Linux (no prctl): the waits keep the platform's slack
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
        primer = new LoadReport.Recorders(rate != null || idle || burst, users);
        var cpu = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        BusyPoll busy = busyPoll ? new BusyPoll() : null;
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlerFactory(busy));
        bootstrap = new Bootstrap()
                .channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT);
        ByteBuf sharedPayload = fixedPayload == null ? null : pooledCopy(fixedPayload);
        long epochMillisAtStart = System.currentTimeMillis();
        durationNanos = duration.toNanos();
        startedAt = System.nanoTime();
        measuredFrom = steady ? Long.MAX_VALUE : startedAt + warmup.toNanos();
        if (!steady) measuredUntil = measuredFrom + durationNanos;

        HistogramLogWriter log = hlog == null ? null : openLog(epochMillisAtStart);
        Ticker ticker = new Ticker(log, showProgress(), () -> new Counters(cpu.getProcessCpuTime(),
                ProcSampler.contextSwitchesByThread(ProcessHandle.current().pid()), busy == null ? 0 : busy.idleNanos()));
        Thread tickerThread = Thread.ofPlatform().name("tcpload-ticker").daemon().start(ticker);

        CountDownLatch finished = new CountDownLatch(users);
        ConnectGate gate = new ConnectGate(connectConcurrency);
        double connectsPerSecond = connectRate != null ? connectRate
                : rampUp != null && !rampUp.isZero() ? users / (rampUp.toNanos() / 1e9) : 0;
        for (int i = 0; i < users; i++) {
            long connectAt = connectsPerSecond > 0 ? startedAt + (long) (i * 1e9 / connectsPerSecond) : startedAt;
            ByteBuf payload = sharedPayload != null ? sharedPayload : pooledCopy(randomPayload(i));
            User user = new User(loops.next(), scheduleFor(i), payload, gate, finished);
            user.loop.schedule(user::step, connectAt - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
        // The generator's own CPU counts from the end of the warm-up, like every other figure (so start-up and the
        // JIT compiler's first work are left out when a warm-up is given).
        measuring.await();
        Counters atMeasuredFrom = ticker.countersAtMeasuredFrom;
        // Every user is done by endAt + --timeout: it stops sending at endAt and gives each outstanding echo at most
        // --timeout; a connect begun before endAt gives up after --timeout (CONNECT_TIMEOUT_MILLIS), and none begins
        // after it (User.connect). The margin only covers timers that fire late on a busy machine.
        boolean allDone = finished.await(endAt() - System.nanoTime() + timeout.toNanos() + END_MARGIN_NANOS, TimeUnit.NANOSECONDS);
        long wallNanos = System.nanoTime() - measuredFrom;
        long cpuNanos = cpu.getProcessCpuTime() - atMeasuredFrom.cpuNanos();
        // this process's own, all its threads; per thread, so a JIT compiler thread that exits meanwhile cannot make it negative
        long switches = ProcSampler.switchesBetween(atMeasuredFrom.switchesByThread(), ProcSampler.contextSwitchesByThread(ProcessHandle.current().pid()));
        if (busy != null) stats.spun(busy.idleNanos() - atMeasuredFrom.busyIdleNanos(), true);
        // Nothing here waits for the network: closing the loops closes every channel still open (and cancels a
        // pending connect) at once, so the run still ends within --duration + --timeout and the two margins.
        loops.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(TimeUnit.NANOSECONDS.toMillis(END_MARGIN_NANOS));
        ticker.stop();
        tickerThread.join();
        if (log != null) log.close();

        LoadReport.Config config = new LoadReport.Config(host, users, duration.toNanos() / 1e9, warmup.toNanos() / 1e9,
                mode, payloadSize, intervalNanos / 1e6, rate == null ? 0 : rate, inflight, timeout.toNanos() / 1e6,
                rampUp == null ? 0 : rampUp.toNanos() / 1e9, connectsPerSecond, sourceIps == null ? List.of() : sourceIps,
                scheduled, steady, steady ? warmupMax.toNanos() / 1e9 : 0, transport.label());
        return stats.result(config, warmupResult, ticker.series, wallNanos, cpuNanos, switches, Runtime.getRuntime().availableProcessors(),
                allDone ? List.of() : List.of("some users were still busy " + timeout + " after the end; their messages are not counted"));
    }

    /** A payload in a pooled direct buffer: each send is a retained duplicate of it, so sending allocates nothing. */
    private static ByteBuf pooledCopy(byte[] bytes) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    }

    private HistogramLogWriter openLog(long epochMillisAtStart) throws IOException {
        HistogramLogWriter log = new HistogramLogWriter(new PrintStream(Files.newOutputStream(hlog), false, StandardCharsets.UTF_8));
        log.outputComment("TcpLoad " + mode + " " + users + " users against " + host + "; values in nanoseconds;"
                + " untagged = " + (mode.equals("closed") || mode.equals("churn") ? "RTT" : "RTT from intended send time (corrected)")
                + ", tag=uncorrected = RTT from actual send; tag=warmup, warmup-uncorrected = intervals before the measured window");
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

    private Schedule scheduleFor(int user) {
        return switch (mode) {
            case "open" -> new Periodic(Math.round(users * 1e9 / rate), Math.round(user * 1e9 / rate));
            case "idle" -> new Periodic(intervalNanos, intervalNanos * user / users);
            case "burst" -> new Periodic(intervalNanos, 0);
            default -> new AfterReply(intervalNanos, intervalNanos * user / users);
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

    /**
     * Closed loop: the next message goes out {@code pause} after the previous echo came back. The users' first
     * messages are spread over one pause ({@code phase}): sent all at once, they would come back together and the
     * closed loop would keep them together, so a one-core generator would send every later round as one clump, the
     * last message of each late by the time it takes to send all the others (measured: send lag p99 0.8-2.1 ms at
     * 1,000 users x 10 msg/s).
     */
    static final class AfterReply implements Schedule {
        private final long pause, phase;
        private long lastReply;

        AfterReply(long pause, long phase) {
            this.pause = pause;
            this.phase = phase;
        }

        public long due() { return lastReply + pause; }
        public void connected(long now, boolean first) { lastReply = now - pause + (first ? phase : 0); }
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
     * One simulated user: one connection, driven by its event loop. Every event (its start, a connect finishing,
     * bytes arriving, the connection closing, a timer firing) ends in {@link #step}, which sends whatever is due and
     * the window ({@code --inflight}) allows, declares echoes that ran out of time, and arms one timer for the next
     * moment something will be due. Messages in flight are remembered in a ring of {@code inflight} slots; all of
     * this state is touched by the user's event loop thread only.
     */
    @ChannelHandler.Sharable // shared by the user's successive connections, one at a time
    final class User extends ChannelInboundHandlerAdapter {
        final EventLoop loop;
        private final Schedule schedule;
        private final ByteBuf payload;
        /** This user's own NIO view of the payload (its position and limit are this user's), to compare echoes with. */
        private final ByteBuffer expected;
        private final ConnectGate gate;
        private final CountDownLatch finished;
        private final long[] dueAt = new long[inflight];
        private final long[] sentAt = new long[inflight];
        /** Whether each message in flight belongs to the measurement (decided when sent: the window may begin meanwhile). */
        private final boolean[] measuredAt = new boolean[inflight];
        /**
         * How many of the oldest outstanding messages were already counted as timed out. Their echoes are still
         * owed: when the bytes come, they are skipped. Messages time out and come back in the order they were sent,
         * so the late ones are always the oldest.
         */
        private int late;
        private int oldest, outstanding, filled;
        /** The echo being accumulated has differed from the payload in some byte so far. */
        private boolean echoDiffers;
        private long windowFreeAt;
        /** When the pending timer fires; Long.MAX_VALUE when none is pending. */
        private long wakeAt = Long.MAX_VALUE;
        /** The pending timer (at most one per user: a superseded one is cancelled, not left to fire for nothing). */
        private ScheduledFuture<?> timer;
        private final Runnable wake = this::wake;
        private boolean everConnected, connecting, done;
        private int bindAttempts;
        private Channel channel;
        /** When this user began polling for its next send (0: not polling). */
        private long spinningSince;

        User(EventLoop loop, Schedule schedule, ByteBuf payload, ConnectGate gate, CountDownLatch finished) {
            this.loop = loop;
            this.schedule = schedule;
            this.payload = payload;
            this.expected = payload.nioBuffer();
            this.gate = gate;
            this.finished = finished;
        }

        /** Does what is due now, then arms the timer for the next thing that will be. */
        void step() {
            if (done || connecting) return;
            long now = System.nanoTime();
            if (channel == null) {
                if (!sending(now)) {
                    finish();
                } else if (churn && schedule.due() > now) {
                    wakeAt(schedule.due()); // a churn round begins with its connect
                } else {
                    connecting = true;
                    gate.request(this);
                }
                return;
            }
            declareTimeouts(now);
            boolean wrote = false;
            while (sending(now) && outstanding < inflight && schedule.due() <= now) {
                send(now);
                wrote = true;
                now = System.nanoTime();
            }
            if (wrote) channel.flush();
            if (outstanding == 0) {
                if (sending(now)) {
                    wakeAt(sendTimer(schedule.due(), now));
                } else if (now < endAt()) {
                    wakeAt(endAt()); // the connection stays open to the end, even when its next message would come after it
                } else {
                    finish();
                }
                return;
            }
            // while --steady has not yet fixed the end, a user whose echoes are all late looks again after --timeout
            long end = endAt();
            long next = late < outstanding ? sentAt[slot(late)] + timeoutNanos : end == Long.MAX_VALUE ? now + timeoutNanos : end;
            if (late == outstanding && now >= end) {
                failOutstanding(LoadReport.Kind.TIMEOUT); // counts nothing more: every message left was counted already
                finish();
                return;
            }
            // a timetable's next slot is known now: the timer for it is armed at once, so the echo that frees the
            // window does not have to replace a timeout timer (one timer per message instead of two)
            long due = schedule.due();
            if (sending(now) && (outstanding < inflight || schedule.periodic() && due > now)) next = Math.min(next, sendTimer(due, now));
            wakeAt(next);
        }

        /**
         * When to wake for a send due at {@code due}: then, or with spinning {@code spinNanos} before it, and once
         * inside that margin at once: a timer already due makes the event loop poll its sockets without blocking
         * and then run this user's step again, so echoes are still read while it waits.
         */
        private long sendTimer(long due, long now) {
            if (spinNanos == 0 || due - now > spinNanos) return due - spinNanos;
            if (spinningSince == 0) spinningSince = now;
            return now;
        }

        private boolean sending(long now) {
            long end = endAt();
            return schedule.due() < end && now < end;
        }

        private int slot(int age) {
            return (oldest + age) % inflight;
        }

        /**
         * An echo that takes longer than --timeout is counted as a timeout at once, but the connection is kept and
         * the late bytes, when they come, are skipped: closing and reconnecting every slow connection would pile
         * connection storms onto a server that is already overloaded. After endAt, a connection whose echoes are all
         * late is given up.
         */
        private void declareTimeouts(long now) {
            while (late < outstanding && now - sentAt[slot(late)] >= timeoutNanos) {
                stats.fail(LoadReport.Kind.TIMEOUT, measuredAt[slot(late)]);
                late++;
            }
        }

        /**
         * Arms the timer for {@code deadline} unless an earlier one is pending (its step arms the next). A later one
         * pending is cancelled: left in the event loop's queue, the 2 s timeout timers of the echoes that came back
         * piled up by the thousand (10,000 msg/s x --timeout) and each woke the loop once for nothing.
         */
        private void wakeAt(long deadline) {
            if (deadline >= wakeAt) return;
            if (timer != null) timer.cancel(false);
            wakeAt = deadline;
            timer = loop.schedule(wake, deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        private void wake() {
            timer = null;
            wakeAt = Long.MAX_VALUE;
            step();
        }

        private void send(long now) {
            long due = schedule.due();
            // due >= measuredFrom without a branch (whose first "true" would deoptimize); nanoTime is positive on Linux
            boolean measured = FALSE_TRUE[(int) ((measuredFrom - 1 - due) >>> 63)];
            if (spinningSince != 0) {
                stats.spun(now - spinningSince, measured);
                primer.spun(now - spinningSince, measured ^ true);
                spinningSince = 0;
            }
            if (scheduled) {
                stats.lag(now - Math.max(due, windowFreeAt), measured);
                primer.lag(now - Math.max(due, windowFreeAt), measured ^ true);
            }
            int slot = slot(outstanding);
            dueAt[slot] = schedule.periodic() ? due : now;
            sentAt[slot] = now;
            measuredAt[slot] = measured;
            outstanding++;
            schedule.sent();
            stats.sent(measured);
            primer.sent(measured ^ true);
            channel.write(payload.retainedDuplicate(), channel.voidPromise()); // a failed write fires exceptionCaught
        }

        /** Compares the echo with the payload in place as it arrives, however many reads it takes. */
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            ByteBuf bytes = (ByteBuf) message;
            try {
                if (ctx.channel() != channel) return;
                long arrived = System.nanoTime();
                // bytes beyond the echoes owed (a server that sends more than it got) belong to no message: dropped
                while (bytes.isReadable() && outstanding > 0) {
                    int length = Math.min(bytes.readableBytes(), payloadSize - filled);
                    if (late == 0 && !echoDiffers) {
                        echoDiffers = !equalsPayload(bytes, length);
                    }
                    bytes.skipBytes(length);
                    filled += length;
                    if (filled == payloadSize) complete(arrived);
                }
            } finally {
                bytes.release();
            }
            step();
        }

        /**
         * Whether the next {@code length} received bytes equal the payload's at {@code filled}. ByteBuffer.mismatch
         * compares eight bytes at a time; Netty's ByteBufUtil.equals, with its per-read bounds and reference checks
         * not optimised away by the C1-only JIT, took 90% of TcpLoad's CPU on 64 KiB echoes (92 MB/s at 100% CPU).
         */
        private boolean equalsPayload(ByteBuf received, int length) {
            if (received.nioBufferCount() != 1) return ByteBufUtil.equals(received, received.readerIndex(), payload, filled, length);
            expected.clear().position(filled).limit(filled + length);
            return received.internalNioBuffer(received.readerIndex(), length).mismatch(expected) < 0;
        }

        private void complete(long arrived) {
            int slot = oldest;
            oldest = slot(1);
            outstanding--;
            filled = 0;
            windowFreeAt = arrived;
            schedule.replied(arrived);
            boolean measured = measuredAt[slot];
            if (late > 0) {
                late--; // a late echo, already counted as a timeout
            } else if (echoDiffers) {
                stats.fail(LoadReport.Kind.MISMATCH, measured);
            } else {
                stats.received(arrived - dueAt[slot], arrived - sentAt[slot], measured);
                primer.received(arrived - dueAt[slot], arrived - sentAt[slot], measured ^ true);
            }
            echoDiffers = false;
            if (churn) disconnect();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() != channel) return; // a connection this user closed itself
            channel = null;
            stats.disconnected();
            connectionLost(LoadReport.Kind.CLOSED);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (ctx.channel() != channel) return;
            connectionLost(kindOf(cause));
        }

        /** Every message in flight failed; with none in flight (a paced user between sends) the loss itself is one. */
        private void connectionLost(LoadReport.Kind kind) {
            if (outstanding == late) {
                long now = System.nanoTime();
                stats.fail(kind, now >= measuredFrom && now < endAt());
            }
            failOutstanding(kind);
            step();
        }

        /** The connection is broken: every message in flight on it failed (unless already counted late); reconnect. */
        private void failOutstanding(LoadReport.Kind kind) {
            for (int age = late; age < outstanding; age++) stats.fail(kind, measuredAt[slot(age)]);
            oldest = outstanding = filled = late = 0;
            echoDiffers = false;
            disconnect();
        }

        private void disconnect() {
            spinningSince = 0;
            if (channel == null) return;
            channel.close();
            channel = null;
            stats.disconnected();
        }

        /**
         * Opens the connection; called on the user's event loop once {@link ConnectGate} admits it. A user admitted
         * only after the end (it queued behind --connect-concurrency others) has nothing left to send: it is done,
         * instead of starting a connect that could outlast --duration + --timeout.
         */
        void connect() {
            long started = System.nanoTime();
            if (started >= endAt()) {
                connecting = false;
                gate.release();
                finish();
                return;
            }
            bootstrap.clone(loop).handler(this).connect(server, sourcePorts.next()).addListener((ChannelFuture attempt) -> {
                long now = System.nanoTime();
                if (!attempt.isSuccess() && sourcePorts.explicitPorts && isPortTaken(attempt.cause())
                        && ++bindAttempts < SourcePorts.ATTEMPTS) {
                    connect(); // this source port (or its 4-tuple) is taken: try the next one, keeping the slot
                    return;
                }
                bindAttempts = 0;
                connecting = false;
                gate.release();
                if (attempt.isSuccess()) {
                    stats.connected(now - started);
                    channel = attempt.channel();
                    windowFreeAt = now;
                    schedule.connected(now, !everConnected);
                    everConnected = true;
                    step();
                } else {
                    stats.fail(LoadReport.Kind.CONNECT, true);
                    // a dead server is not hammered in a loop
                    wakeAt(Math.min(now + RECONNECT_PAUSE_NANOS, endAt()));
                }
            });
        }

        private void finish() {
            done = true;
            disconnect();
            finished.countDown();
        }
    }

    /**
     * The I/O mechanism of TcpLoad's event loops. Flat out, io_uring drives the most echoes from one core: it submits
     * a whole turn's reads and writes in one system call, where epoll makes one each. Paced, a turn holds one send
     * and io_uring's is the dearer turn and the later echo, so epoll stays (figures: README.md, "io_uring for the
     * flat-out steps"). --busy-poll needs a select strategy, which io_uring's loop does not take.
     */
    enum Transport {
        IO_URING, EPOLL, NIO;

        static Transport of(String name, boolean busyPoll, boolean flatOut) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (busyPoll && lower.equals("io_uring")) throw new Cli.UserError(2, "--busy-poll needs --transport epoll or nio");
            return switch (lower) {
                case "auto" -> flatOut && !busyPoll && IoUring.isAvailable() ? IO_URING : Epoll.isAvailable() ? EPOLL : NIO;
                case "io_uring" -> available(IO_URING, IoUring.isAvailable(), IoUring.unavailabilityCause());
                case "epoll" -> available(EPOLL, Epoll.isAvailable(), Epoll.unavailabilityCause());
                case "nio" -> NIO;
                default -> throw new Cli.UserError(2, "--transport must be auto, io_uring, epoll or nio, got '" + name + "'");
            };
        }

        private static Transport available(Transport transport, boolean available, Throwable cause) {
            if (!available) throw new Cli.UserError(1, "--transport " + transport.label() + " is not available here: " + cause);
            return transport;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        IoHandlerFactory ioHandlerFactory(BusyPoll busy) {
            return switch (this) {
                case IO_URING -> IoUringIoHandler.newFactory();
                case EPOLL -> busy == null ? EpollIoHandler.newFactory() : EpollIoHandler.newFactory(0, busy);
                case NIO -> busy == null ? NioIoHandler.newFactory() : NioIoHandler.newFactory(SelectorProvider.provider(), busy);
            };
        }

        Class<? extends SocketChannel> socketChannel() {
            return switch (this) {
                case IO_URING -> IoUringSocketChannel.class;
                case EPOLL -> EpollSocketChannel.class;
                case NIO -> NioSocketChannel.class;
            };
        }
    }

    /**
     * Bounds the connection attempts in flight (--connect-concurrency) without blocking an event loop: a user that
     * finds no free slot waits in a queue and is started, on its own event loop, when a slot frees up.
     */
    static final class ConnectGate {
        private final Semaphore slots;
        private final Queue<User> waiting = new ConcurrentLinkedQueue<>();

        ConnectGate(int concurrency) {
            slots = new Semaphore(concurrency);
        }

        void request(User user) {
            waiting.add(user);
            admit();
        }

        void release() {
            slots.release();
            admit();
        }

        /** Both request and release end here, after their own change, so neither can miss the other's. */
        private void admit() {
            while (!waiting.isEmpty() && slots.tryAcquire()) {
                User next = waiting.poll();
                if (next == null) slots.release(); else next.loop.execute(next::connect);
            }
        }
    }

    private byte[] randomPayload(int user) {
        byte[] bytes = new byte[payloadSize];
        new SplittableRandom(user * 0x9E3779B97F4A7C15L + 1).nextBytes(bytes);
        return bytes;
    }

    private static LoadReport.Kind kindOf(Throwable e) {
        if (e instanceof ConnectException || e instanceof NoRouteToHostException) return LoadReport.Kind.CONNECT;
        String text = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (text.contains("reset") || text.contains("broken pipe") || text.contains("closed by peer")) return LoadReport.Kind.CLOSED;
        return LoadReport.Kind.IO;
    }

    /** EADDRINUSE from bind, or EADDRNOTAVAIL from connect when the whole 4-tuple is already in use. */
    private static boolean isPortTaken(Throwable e) {
        String text = String.valueOf(e.getMessage());
        return e instanceof BindException || text.contains("Address already in use") || text.contains("Cannot assign requested address");
    }

    /**
     * Picks each connection's source address and port itself, walking the ephemeral range, instead of letting the
     * kernel search for a free port: with ~19,000 connections to one server the kernel's search took over 5 s here,
     * explicit ports about 0.3 s. A port that turns out to be taken is skipped. Churn connects and closes the same
     * ports again and again, so there the kernel, which knows about TIME_WAIT, picks the port.
     */
    static final class SourcePorts {
        static final int ATTEMPTS = 64;
        final int firstPort, lastPort;
        final boolean explicitPorts;
        private final List<InetAddress> addresses;
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

        /** The local address for the next connection, or null to let the kernel choose both address and port. */
        InetSocketAddress next() {
            if (addresses.isEmpty() && !explicitPorts) return null;
            long next = cursor.getAndIncrement();
            InetAddress address = addresses.isEmpty() ? null : addresses.get((int) (next % addresses.size()));
            int port = explicitPorts ? firstPort + (int) (next / addressCount() % (lastPort - firstPort + 1)) : 0;
            return new InetSocketAddress(address, port);
        }
    }

    /** The process's CPU time, context switches per thread and busy-poll idle time, at one instant. */
    record Counters(long cpuNanos, Map<Long, Long> switchesByThread, long busyIdleNanos) {}

    /**
     * Once a second: closes the interval of every recorder (for the per-second series and the --hlog), and prints
     * the progress line. A thread of its own, so it keeps time even when the event loops are busy. During the warm-up
     * it also feeds {@link SteadyState} once a second, and begins the measured window: at --warmup, or with --steady
     * when steady or at --warmup-max.
     */
    final class Ticker implements Runnable {
        final List<LoadReport.Second> series = new ArrayList<>();
        private final HistogramLogWriter log;
        private final boolean progress;
        private final SteadyState steadiness;
        private final long selfPid = ProcessHandle.current().pid();
        private double loadJitBefore, serverJitBefore;
        private long jitReadAt, warmupEchoesBefore;
        private volatile boolean stopped;
        private final Supplier<Counters> counters;
        /** The process's own counters as the measured window begins; published by {@link #measuring}. */
        Counters countersAtMeasuredFrom;
        /** When the warm-up must end at the latest; Long.MAX_VALUE while --measure-on-stdin holds it, then the release. */
        private volatile long warmupEndsBy;
        private Thread thread;
        /** --measure-on-stdin: the verdict the STEADY line gave, held until a line on stdin opens the gate. */
        private SteadyState.Verdict held;
        private volatile boolean released;

        Ticker(HistogramLogWriter log, boolean progress, Supplier<Counters> counters) {
            this.log = log;
            this.progress = progress;
            this.counters = counters;
            double minimum = warmup.toNanos() / 1e9;
            steadiness = new SteadyState(minimum, steady ? warmupMax.toNanos() / 1e9 : minimum);
            readJit();
        }

        @Override
        public void run() {
            thread = Thread.currentThread();
            warmupEndsBy = steady ? startedAt + warmupMax.toNanos() : measuredFrom;
            for (int second = 1; ; ) {
                long tickAt = startedAt + TimeUnit.SECONDS.toNanos(second);
                // read again after each park: the start gate's release moves warmupEndsBy (and unparks)
                for (long wakeAt = wakeAt(tickAt); !stopped && System.nanoTime() < wakeAt; wakeAt = wakeAt(tickAt)) {
                    LockSupport.parkNanos(Math.min(wakeAt - System.nanoTime(), 50_000_000));
                }
                if (stopped) {
                    tick(second); // the last, partial interval
                    return;
                }
                if (System.nanoTime() >= tickAt) {
                    if (measuring.getCount() > 0) sampleWarmup(second);
                    tick(second);
                    second++;
                }
                if (measuring.getCount() > 0) judgeWarmup((System.nanoTime() - startedAt) / 1e9);
            }
        }

        void stop() {
            stopped = true;
        }

        private long wakeAt(long tickAt) {
            return measuring.getCount() > 0 ? Math.min(tickAt, warmupEndsBy) : tickAt;
        }

        /**
         * --measure-on-stdin: the first done verdict prints the STEADY line and is held, the load running on as warm-up,
         * until a line (or end of input) on stdin; read on a thread of its own, so the ticker keeps its seconds.
         */
        private boolean startGateOpen(SteadyState.Verdict verdict) {
            if (held == null) {
                held = verdict;
                warmupEndsBy = Long.MAX_VALUE;
                System.out.printf(Locale.ROOT, "STEADY after %.1fs of warm-up: %s%n", (System.nanoTime() - startedAt) / 1e9, describe(verdict));
                System.out.flush();
                Thread.ofPlatform().name("tcpload-start-gate").daemon().start(this::awaitStartLine);
            }
            return released;
        }

        private void awaitStartLine() {
            try {
                for (int c = System.in.read(); c != -1 && c != '\n'; c = System.in.read()) { /* the line's content does not matter */ }
            } catch (IOException closed) {
                // as good as a line: a closed stdin never holds the run
            }
            released = true;
            warmupEndsBy = System.nanoTime();
            LockSupport.unpark(thread);
        }

        private static String describe(SteadyState.Verdict verdict) {
            return verdict.steady() ? "steady" : "not steady (" + verdict.reason() + ")";
        }

        /** One second of the warm-up: the compiler threads' share of a core in each process, and the echoes. */
        private void sampleWarmup(int second) {
            long readBefore = jitReadAt;
            double loadBefore = loadJitBefore, serverBefore = serverJitBefore;
            readJit();
            double elapsed = (jitReadAt - readBefore) / 1e9;
            long echoes = stats.warmupEchoes();
            steadiness.add(second, percentOfCore(loadBefore, loadJitBefore, elapsed),
                    watchPid == null ? Double.NaN : percentOfCore(serverBefore, serverJitBefore, elapsed), echoes - warmupEchoesBefore);
            warmupEchoesBefore = echoes;
        }

        private void readJit() {
            jitReadAt = System.nanoTime();
            loadJitBefore = JitActivity.compilerCpuSeconds(selfPid);
            serverJitBefore = watchPid == null ? Double.NaN : JitActivity.compilerCpuSeconds(watchPid);
        }

        /** A compiler thread that HotSpot stops takes its ticks with it: a drop in the sum is an idle second. */
        private static double percentOfCore(double before, double after, double seconds) {
            return Double.isNaN(before) || Double.isNaN(after) ? Double.NaN : 100 * Math.max(0, after - before) / seconds;
        }

        private void judgeWarmup(double seconds) {
            SteadyState.Verdict verdict;
            if (steady) {
                verdict = held != null ? held : steadiness.verdict(seconds);
                if (!verdict.done()) return;
                if (measureOnStdin && !startGateOpen(verdict)) return;
            } else {
                if (System.nanoTime() < measuredFrom) return;
                verdict = steadiness.verdictAtFixedEnd(warmup.toNanos() / 1e9);
            }
            // read before the window opens: these /proc reads hold the generator's core for milliseconds, and a
            // send they delay is then a warm-up send (it was due before measuredFrom)
            countersAtMeasuredFrom = counters.get();
            long now = System.nanoTime();
            if (steady) {
                measuredFrom = now;
                measuredUntil = now + durationNanos;
            }
            SteadyState.Sample last = steadiness.last();
            double warmedUp = (measuredFrom - startedAt) / 1e9;
            warmupResult = new LoadReport.Warmup(warmup.toNanos() / 1e9, warmedUp, verdict.steady(), verdict.reason(),
                    last == null || Double.isNaN(last.serverJitPercent()) ? null : last.serverJitPercent(),
                    last == null || Double.isNaN(last.loadJitPercent()) ? null : last.loadJitPercent());
            System.out.printf(Locale.ROOT, "MEASURING after %.1fs of warm-up: %s%n", warmedUp, describe(verdict));
            System.out.flush();
            measuring.countDown();
        }

        private void tick(int second) {
            LoadReport.Interval interval = stats.closeInterval();
            primer.closeInterval(); // both phases of its recorders, as of the measured ones, are written in the warm-up
            long tickAt = startedAt + TimeUnit.SECONDS.toNanos(second), from = measuredFrom;
            if (log != null) {
                // an interval ending by the window's start is the warm-up's; the one straddling the start holds only
                // messages sent inside the window (the recorders keep no others), so it is the window's
                boolean warm = tickAt <= from;
                interval.latency().setTag(warm ? LoadReport.WARMUP_TAG : null);
                log.outputIntervalHistogram(interval.latency());
                if (interval.uncorrected() != null) {
                    interval.uncorrected().setTag(warm ? LoadReport.WARMUP_UNCORRECTED_TAG : LoadReport.UNCORRECTED_TAG);
                    log.outputIntervalHistogram(interval.uncorrected());
                }
            }
            if (tickAt > from) series.add(interval.asSecond((int) Math.ceil((tickAt - from) / 1e9)));
            if (progress) { // a warm-up second shows its echoes, which the measurement's interval does not count
                long end = endAt();
                long echoes = tickAt > from || steadiness.last() == null ? interval.received() : steadiness.last().echoes();
                System.err.printf(Locale.ROOT, "[%3ds/%s] %,8d msg/s  p99 %s  conns %,d  failures %,d%n", second,
                        end == Long.MAX_VALUE ? "warm-up" : Math.round((end - startedAt) / 1e9) + "s", echoes,
                        LoadReport.goDuration(interval.latency().getValueAtPercentile(99)), interval.connections(),
                        stats.failureCount());
            }
        }
    }

    /**
     * {@code merge a.hlog b.hlog ...}: the combined summary of interval logs from several generators or hosts, their
     * warm-up intervals left out; {@code merge --json out.json a.json b.json ...}: their --json documents as one.
     */
    @Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Combine the results of several generator processes or hosts loading one server, and print their summary.",
                    "Inputs *.hlog (--hlog interval logs): the measured intervals' latencies; warm-up intervals are left out.",
                    "Inputs *.json (--json documents of one run's processes, started together with --measure-on-stdin):"
                            + " counts and CPU added, latencies from the merged histograms; --json writes the merged document."})
    static final class Merge implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "FILE", description = "Interval logs written with --hlog, or documents written with --json.")
        List<Path> files;

        @Option(names = "--json", paramLabel = "OUT", description = "With *.json inputs: write the merged document here (same shape as one process's).")
        Path json;

        @Option(names = "--percentiles", description = "Print the full percentile spectrum (µs).")
        boolean percentiles;

        @Override
        public Integer call() throws IOException {
            long documents = files.stream().filter(f -> f.toString().endsWith(".json")).count();
            if (documents > 0 && documents < files.size()) throw new Cli.UserError(2, "give either *.hlog or *.json files, not both");
            if (documents == 0 && json != null) throw new Cli.UserError(2, "--json merges *.json documents; these are interval logs");
            for (Path file : files) {
                if (!Files.isReadable(file)) throw new Cli.UserError(2, (documents > 0 ? "JSON '" : "HLOG '") + file + "' cannot be read");
            }
            return documents > 0 ? mergeDocuments() : mergeLogs();
        }

        private int mergeLogs() throws IOException {
            Histogram latency = new Histogram(LoadReport.SIGNIFICANT_DIGITS);
            Histogram uncorrected = new Histogram(LoadReport.SIGNIFICANT_DIGITS);
            int intervals = 0;
            for (Path file : files) {
                try (var reader = new HistogramLogReader(file.toFile())) {
                    for (var interval = reader.nextIntervalHistogram(); interval != null; interval = reader.nextIntervalHistogram()) {
                        String tag = interval.getTag();
                        if (LoadReport.WARMUP_TAG.equals(tag) || LoadReport.WARMUP_UNCORRECTED_TAG.equals(tag)) continue;
                        (LoadReport.UNCORRECTED_TAG.equals(tag) ? uncorrected : latency).add((Histogram) interval);
                        intervals++;
                    }
                } catch (RuntimeException e) {
                    throw new Cli.UserError(2, "HLOG '" + file + "' is not an HdrHistogram interval log: " + e.getMessage());
                }
            }
            System.out.println("Merged " + intervals + " intervals from " + files.size() + " log(s)");
            printMerged(latency, uncorrected);
            return 0;
        }

        private int mergeDocuments() throws IOException {
            List<JsonObject> parts = new ArrayList<>();
            for (Path file : files) {
                try {
                    parts.add(JsonParser.parseString(Files.readString(file)).getAsJsonObject());
                } catch (RuntimeException e) {
                    // Gson's messages run over several lines; the first says what is wrong
                    throw new Cli.UserError(2, "JSON '" + file + "' is not a JSON document: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
                }
            }
            JsonObject merged;
            try {
                merged = LoadMerge.merge(parts);
            } catch (RuntimeException e) {
                throw new Cli.UserError(2, "JSON " + files + " do not merge: " + e.getMessage());
            }
            var summary = merged.getAsJsonObject("summary");
            System.out.println("Merged " + files.size() + " document(s)");
            for (String count : List.of("Sent", "Received", "Failures")) {
                System.out.println(count + ":" + " ".repeat(9 - count.length()) + summary.get(count.toLowerCase(Locale.ROOT)).getAsLong());
            }
            printMerged(LoadReport.decode(summary.getAsJsonObject("latencyUs").get("histogram").getAsString()),
                    summary.has("uncorrectedLatencyUs")
                            ? LoadReport.decode(summary.getAsJsonObject("uncorrectedLatencyUs").get("histogram").getAsString()) : null);
            if (json != null) LoadReport.write(json, merged);
            return 0;
        }

        private void printMerged(Histogram latency, Histogram uncorrected) {
            LoadReport.printLatency(System.out, "", latency);
            if (uncorrected != null && uncorrected.getTotalCount() > 0) LoadReport.printLatency(System.out, "Uncorrected ", uncorrected);
            if (percentiles) LoadReport.printSpectrum(System.out, latency, "merged RTT");
        }
    }
}
