///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2
//DEPS org.knowm.xchart:xchart:3.8.8
//SOURCES common/Cli.java
//SOURCES common/ProcSampler.java
//SOURCES common/ReportModel.java
//SOURCES common/ReportWriter.java
//SOURCES common/ChartWriter.java
//JAVA_OPTIONS -Djava.awt.headless=true

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The experiment: runs a series of workloads against every server variant, each server in its own pinned process
 * (started with the java command line {@code ./jbang} resolves for it, see {@link Launch}), the load generator in
 * another, and writes {@code report.md}, {@code data.json} and charts into one results folder.
 *
 * <p>Each run: start the server with a JFR recording, wait for its READY line, sample it from /proc every second,
 * run TcpLoad (warm-up, then the measured part) once per step, stop the server with SIGTERM, analyse its recording.
 * The report is rewritten after every workload, so an interrupted series keeps what finished.
 */
@Command(name = "Experiment", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs the series of workloads against every server variant and writes results/<timestamp>/report.md.")
public class Experiment implements Callable<Integer> {

    // ---- profiles: how long each measured part lasts, how many trials, how far the sweeps go -----------------------

    /**
     * quick is the default and fits in about 5.5 minutes on a quiet 2-core machine (5m15s at 00:44 and 5m00s at 04:30
     * UTC on 2026-11-27); full is what results.md is written from (about 35 minutes); smoke exists for the test suite:
     * every workload once against netty-epoll alone (handler-work adds its --offload row, so tables and charts still
     * compare two rows), with the shortest runs that still echo something: 57 s on 2026-11-27 with the test suite of
     * others running (load average 4), 1m31s before it dropped its second variant. Each server and each TcpLoad is a
     * process of its own (about 2 s and 1.5 s of start-up here, see {@link #RUN_OVERHEAD_SECONDS}), so the profiles
     * differ mostly in how many runs they start, and smoke cannot come near 30 s: its 8 runs and 7 analyses are 23 JVM
     * starts after the launcher's own. --variants, --trials and --duration override.
     *
     * <p>A server is warmed up once, in its first step; the later steps of the same server (message sizes, sweep
     * rates) only let the new load level settle, with {@code settle}. Every step starts a fresh TcpLoad JVM, though,
     * and TcpLoad needs about 3 s before its own timing is clean: with 1 s its send lag p99 at 20k msg/s was
     * 0.6-1.8 ms and the p99 it measured 2.4-3.3 ms, with 3 s 65-97 µs and 0.2-0.5 ms (netty-epoll, 2026-11-26). So
     * neither is shorter than 3 s outside smoke, whose figures only prove the machinery works.
     */
    enum Profile {
        smoke(1, "300ms", "300ms", "500ms", "500ms", 1_000, List.of(64), List.of(2_000), "500ms",
                List.of("sleep:5ms"), List.of("netty-epoll"), FlameGraphs.none),
        quick(1, "3s", "3s", "3s", "2s", 10_000, List.of(64, 16_384, 262_144), List.of(2_000, 10_000, 40_000), "2s",
                List.of("cpu:50us", "sleep:5ms"), List.of("platform", "virtual", "netty-epoll"), FlameGraphs.cpuBound),
        full(3, "3s", "3s", "10s", "4s", 19_000, List.of(64, 16_384, 262_144), List.of(5_000, 10_000, 20_000, 40_000, 80_000), "2s",
                List.of("cpu:50us", "sleep:5ms"), List.of("platform", "virtual", "netty-epoll", "netty-nio", "netty-io_uring"),
                FlameGraphs.all);

        final int trials;
        final Duration warmup, settle, seedDuration, measure;
        final int idleConnections;
        final List<Integer> messageSizes, sweepRates;
        final Duration sweepStep;
        final List<String> handlerWork;
        final List<String> variants;
        final FlameGraphs flameGraphs;

        Profile(int trials, String warmup, String settle, String seedDuration, String measure, int idleConnections,
                List<Integer> messageSizes, List<Integer> sweepRates, String sweepStep, List<String> handlerWork,
                List<String> variants, FlameGraphs flameGraphs) {
            this.trials = trials;
            this.warmup = Cli.parseDuration(warmup);
            this.settle = Cli.parseDuration(settle);
            this.seedDuration = Cli.parseDuration(seedDuration);
            this.measure = Cli.parseDuration(measure);
            this.idleConnections = idleConnections;
            this.messageSizes = messageSizes;
            this.sweepRates = sweepRates;
            this.sweepStep = Cli.parseDuration(sweepStep);
            this.handlerWork = handlerWork;
            this.variants = variants;
            this.flameGraphs = flameGraphs;
        }
    }

    /** Which recordings get a flame graph: each is drawn from the recording's CPU samples, about 1 s of analysis. */
    enum FlameGraphs {
        none, cpuBound, all
    }

    // ---- variants: one server model each --------------------------------------------------------------------------

    /**
     * A server model. {@code mayBeUnavailable}: a transport the kernel or container may not offer (io_uring is often
     * disabled in containers); such a variant is started once before the series and, if it says it is unavailable,
     * skipped with a note instead of failing every run.
     */
    record Variant(String name, String script, List<String> args, boolean mayBeUnavailable, String description) {
        boolean isNetty() {
            return script.equals("EchoNetty.java");
        }
    }

    static final List<Variant> VARIANTS = List.of(
            new Variant("platform", "EchoPlatformThreads.java", List.of(), false, "blocking sockets, one platform (OS) thread per connection"),
            new Variant("virtual", "EchoVirtualThreads.java", List.of(), false, "blocking sockets, one virtual thread per connection"),
            new Variant("netty-epoll", "EchoNetty.java", List.of("--transport", "epoll"), false, "Netty event loop, native epoll transport"),
            new Variant("netty-nio", "EchoNetty.java", List.of("--transport", "nio"), false, "Netty event loop, JDK NIO selector transport"),
            new Variant("netty-io_uring", "EchoNetty.java", List.of("--transport", "io_uring"), true, "Netty event loop, native io_uring transport (where the kernel allows)"));

    /**
     * The same JVM options for every server, so no variant wins on heap or GC settings. Serial GC because each server
     * is pinned to one core, where the JVM's own ergonomics picks Serial anyway: saying it explicitly keeps the choice
     * when a server runs unpinned on more cores. A small initial heap (growing up to 1 GiB) so that RSS shows what
     * each model actually touches rather than a large pre-sized young generation; 1 GiB holds 19,000 connections'
     * buffers in any model.
     */
    static final List<String> SERVER_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xms32m", "-Xmx1g");

    /** Rate-sweep's service-level objective: a rate counts as sustained when p99 (corrected) stays within it, without errors. */
    static final Duration SWEEP_SLO_P99 = Duration.ofMillis(5);

    // ---- workloads -------------------------------------------------------------------------------------------------

    /**
     * Start-up costs measured here (2 cores, quiet): a server JVM with its JFR recording to READY, the idle reading
     * and its stop take about 2 s; a TcpLoad JVM to its first message and its exit about 1.5 s; analyze-jfr about
     * 2 s per workload plus 0.5 s per recording it reads or draws. The plan's estimate (shown by --list, and the ETA
     * until the first runs have measured the real pace) adds these to the warm-up and measured times.
     */
    static final double RUN_OVERHEAD_SECONDS = 2, STEP_OVERHEAD_SECONDS = 1.5, ANALYSIS_SECONDS = 2, PER_RECORDING_SECONDS = 0.5;

    /** One server process to start and the load steps to run against it. */
    record RunPlan(Workload workload, Variant variant, String label, String setting, List<String> serverArgs,
                   List<StepPlan> steps, int trial) {
        double plannedSeconds() {
            return RUN_OVERHEAD_SECONDS + steps.stream().mapToDouble(StepPlan::plannedSeconds).sum();
        }
    }

    /** One TcpLoad invocation (its --host, --json and --warmup are added by the runner). */
    record StepPlan(String label, List<String> loadArgs, Duration warmup, Duration measure) {
        double plannedSeconds() {
            return STEP_OVERHEAD_SECONDS + (warmup.toMillis() + measure.toMillis()) / 1000.0;
        }
    }

    record Workload(String name, String summary, String models, String table,
                    Function<Experiment, List<RunPlan>> plans) {}

    final List<Workload> workloads = List.of(
            new Workload("seed-echo", "the seed's headline case: 1,000 users send \"hello\" every 100 ms (closed loop)",
                    "Many mostly-waiting clients exchanging tiny messages: the seed's own run, so its Go table sits beside ours.",
                    "seed", e -> e.perVariant("seed-echo", List.of(), List.of(e.step("",
                            e.seedDuration(), "--users", "1000", "--message", "hello", "--interval", "100ms")))),
            new Workload("idle", "10,000 open connections (full: 19,000), each sending a keepalive every second",
                    "A chat or push server: many long-lived connections that are quiet most of the time. What each model pays "
                            + "per open connection (memory above the server's idle RSS, threads), how fast it accepts them all, "
                            + "and the latency of the keepalives.",
                    "idle", e -> e.perVariant("idle", List.of(), List.of(e.step("",
                            e.idleMeasure(), "--idle", "--users", Integer.toString(e.idleConnections), "--interval", "1s")))),
            new Workload("burst", "1,000 users all send at the same instant every 100 ms",
                    "Synchronised clients (a timer tick, a broadcast, a market open): the server gets a burst of 1,000 "
                            + "messages at once, then silence; tail latency shows how each model drains a queue.",
                    "latency", e -> e.perVariant("burst", List.of(), List.of(e.step("",
                            e.measure(), "--burst", "--users", "1000", "--message", "hello", "--interval", "100ms")))),
            new Workload("throughput", "100 users, closed loop without pause, 64 B / 16 KiB / 256 KiB messages",
                    "Bulk transfer and RPC at full speed: every user sends its next message as soon as the echo is back. "
                            + "Message rate, bandwidth and the server CPU each costs.",
                    "throughput", e -> e.perVariant("throughput", List.of(), e.profile().messageSizes.stream()
                            .map(size -> e.step(ReportWriter.bytes(size), e.measure(),
                                    "--users", "100", "--size", Integer.toString(size), "--interval", "0"))
                            .toList())),
            new Workload("rate-sweep", "open loop at rising offered rates until p99 exceeds the SLO or errors appear",
                    "A service facing a given request rate whatever its speed (open loop, latency from the intended send "
                            + "time, so queueing is not hidden): the highest rate each variant sustains within the SLO "
                            + "(p99 ≤ " + Cli.formatNanos(SWEEP_SLO_P99.toNanos()) + ", no errors) and its latency-vs-throughput curve.",
                    "sweep", e -> e.perVariant("rate-sweep", List.of(), e.profile().sweepRates.stream()
                            .map(rate -> e.step(rate + " msg/s", e.sweepStep(),
                                    "--users", "100", "--size", "64", "--rate", Integer.toString(rate)))
                            .toList())),
            new Workload("handler-work", "per-message work cpu:50us and sleep:5ms; Netty on the event loop and with --offload",
                    "A handler that computes (cpu:50us per message) or waits on something slow, such as a database "
                            + "(sleep:5ms): thread-per-connection models block their own thread, an event loop blocks "
                            + "every connection it serves unless the work is offloaded to another executor.",
                    "work", Experiment::handlerWorkPlans),
            new Workload("churn", "connect, echo once, close, repeat (10 concurrent users)",
                    "Short-lived connections (HTTP/1.0-style clients, health checks): the cost of accepting and tearing "
                            + "down a connection in each model.",
                    "churn", e -> e.perVariant("churn", List.of(), List.of(e.step("",
                            e.measure(), "--churn", "--users", "10", "--message", "hello")))));

    // ---- command line ----------------------------------------------------------------------------------------------

    @Option(names = "--profile", description = "smoke | quick | full (default: ${DEFAULT-VALUE})", defaultValue = "quick")
    Profile profile;

    @Option(names = "--variants", split = ",", paramLabel = "NAME", description = "variants to run (default: the profile's; see --list)")
    List<String> variantNames;

    @Option(names = "--workloads", split = ",", paramLabel = "NAME", description = "workloads to run (default: all; see --list)")
    List<String> workloadNames;

    @Option(names = "--trials", description = "trials per run (default: the profile's; medians with min–max are reported)")
    Integer trialsOption;

    @Option(names = "--duration", description = "measured duration of every step (default: the profile's)")
    Duration durationOption;

    @Option(names = "--out", description = "results folder (default: results/<timestamp>)")
    Path out;

    @Option(names = "--server-cpus", description = "CPUs for the servers, taskset syntax (default: 0 when there are at least 2 cores)")
    String serverCpus;

    @Option(names = "--load-cpus", description = "CPUs for TcpLoad, taskset syntax (default: the other cores)")
    String loadCpus;

    @Option(names = "--keep-jfr", description = "keep the servers' .jfr recordings (deleted after analysis by default)")
    boolean keepJfr;

    @Option(names = "--list", description = "list the workloads and variants and exit")
    boolean list;

    static String[] commandLineArgs = new String[0];

    public static void main(String[] args) {
        commandLineArgs = args;
        System.exit(Cli.run(new Experiment(), args));
    }

    // ---- state of a run --------------------------------------------------------------------------------------------

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private final ReportModel.Experiment data = new ReportModel.Experiment();
    private final Set<Process> liveProcesses = ConcurrentHashMap.newKeySet();
    /** Variants whose later runs are skipped, and why: one that hung at start-up would cost 90 s a run. */
    private final Map<String, String> hungVariants = new ConcurrentHashMap<>();
    private List<Variant> variants;
    private int idleConnections;
    private List<String> serverPin = List.of(), loadPin = List.of();
    private volatile boolean interrupted, finished;
    private boolean analyzerBroken;

    @Override
    public Integer call() throws Exception {
        if (list) {
            printList();
            return 0;
        }
        variants = new ArrayList<>(select(variantNames == null ? profile.variants : variantNames, VARIANTS, Variant::name, "--variants", "variant"));
        List<Workload> selected = select(workloadNames, workloads, Workload::name, "--workloads", "workload");
        if (trialsOption != null && trialsOption < 1) throw new Cli.UserError(2, "--trials must be at least 1");
        if (durationOption != null && durationOption.toMillis() < 500) throw new Cli.UserError(2, "--duration must be at least 500ms");
        pin();
        if (out == null) out = Path.of("results", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        createOut();
        describeEnvironment();
        idleConnections = fitToOpenFiles(profile.idleConnections, selected);
        buildScripts();
        skipUnavailableVariants();

        List<RunPlan> plans = new ArrayList<>();
        for (Workload workload : selected) {
            ReportModel.Workload section = new ReportModel.Workload();
            section.name = workload.name();
            section.title = workload.summary();
            section.models = workload.models();
            section.table = workload.table();
            data.workloads.add(section);
            List<RunPlan> workloadPlans = workload.plans().apply(this);
            section.parameters = describeParameters(workloadPlans);
            plans.addAll(workloadPlans);
        }
        progress(String.format(Locale.ROOT, "plan: %d server runs, %d load steps, estimated %s", plans.size(),
                plans.stream().mapToInt(r -> r.steps().size()).sum(), clock(estimatedSeconds(plans))));
        ChartWriter.prepare();
        Runtime.getRuntime().addShutdownHook(new Thread(this::onInterrupt, "experiment-interrupted"));
        Path report;
        try {
            runAll(plans);
            data.complete = !interrupted;
            report = writeReport();
        } finally {
            finished = true; // from here on an exit is not an interruption (an error ends the run with its own line)
        }
        long failed = data.workloads.stream().flatMap(w -> w.runs.stream()).filter(r -> r.status.equals("failed")).count();
        System.err.println();
        System.out.println("report: " + report + (failed > 0 ? " (" + failed + " runs failed: see the report)" : ""));
        return 0;
    }

    private void createOut() {
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            String why = e instanceof FileSystemException f && f.getReason() != null ? f.getReason()
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof FileAlreadyExistsException ? "a file of that name is in the way"
                    : e instanceof NoSuchFileException ? "no such file or directory"
                    : e.getClass().getSimpleName();
            throw new Cli.UserError(2, "--out: cannot create the folder " + out + ": " + why);
        }
        if (!Files.isWritable(out)) throw new Cli.UserError(2, "--out: " + out + " is not writable");
    }

    /** The named subset of {@code all}; null means the default. An empty list or a blank name is refused, not read as "all". */
    private static <T> List<T> select(List<String> names, List<T> all, Function<T, String> name, String flag, String what) {
        if (names == null) return all;
        if (names.isEmpty() || names.stream().anyMatch(String::isBlank)) {
            throw new Cli.UserError(2, flag + ": " + (names.isEmpty() ? "an empty list" : "a blank name in '" + String.join(",", names) + "'")
                    + ": name one " + what + " or more, separated by commas (see --list)");
        }
        List<T> chosen = new ArrayList<>();
        for (String wanted : names) {
            T match = all.stream().filter(t -> name.apply(t).equals(wanted.trim())).findFirst().orElseThrow(() ->
                    new Cli.UserError(2, flag + ": unknown " + what + " '" + wanted + "' (known: "
                            + all.stream().map(name).collect(Collectors.joining(", ")) + ")"));
            if (!chosen.contains(match)) chosen.add(match);
        }
        return chosen;
    }

    private void printList() {
        System.out.println("Workloads:");
        workloads.forEach(w -> System.out.printf("  %-13s %s%n", w.name(), w.summary()));
        System.out.println("Variants:");
        VARIANTS.forEach(v -> System.out.printf("  %-15s %s%n", v.name(), v.description()));
        System.out.println("Profiles (estimated time from the plan, all workloads, at the start-up costs measured on a quiet 2-core machine):");
        for (Profile p : Profile.values()) {
            Experiment planner = new Experiment();
            planner.profile = p;
            planner.variants = select(p.variants, VARIANTS, Variant::name, "--profile", "variant");
            planner.idleConnections = p.idleConnections;
            List<RunPlan> plans = planner.workloads.stream().flatMap(w -> w.plans().apply(planner).stream()).toList();
            System.out.printf(Locale.ROOT, "  %-6s ~%s: %d trial(s), %d server runs, %d load steps, warm-up %s, measured %s per step"
                            + " (seed-echo %s, rate-sweep %s), variants %s%n", p.name(), clock(planner.estimatedSeconds(plans)),
                    p.trials, plans.size(), plans.stream().mapToInt(r -> r.steps().size()).sum(), p.warmup.toMillis() + "ms",
                    p.measure.toMillis() + "ms", p.seedDuration.toMillis() + "ms", p.sweepStep.toMillis() + "ms", String.join(", ", p.variants));
        }
    }

    // ---- plans: what each workload runs ----------------------------------------------------------------------------

    Profile profile() {
        return profile;
    }

    Duration measure() {
        return durationOption != null ? durationOption : profile.measure;
    }

    /** At least one keepalive interval, so every connection's keepalive falls inside the measured window. */
    Duration idleMeasure() {
        return measure().compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : measure();
    }

    Duration seedDuration() {
        return durationOption != null ? durationOption : profile.seedDuration;
    }

    Duration sweepStep() {
        return durationOption != null ? durationOption : profile.sweepStep;
    }

    int trials() {
        return trialsOption != null ? trialsOption : profile.trials;
    }

    StepPlan step(String label, Duration measure, String... loadArgs) {
        return new StepPlan(label, List.of(loadArgs), profile.warmup, measure);
    }

    /** The first step warms the fresh server up; the later ones, against the same warm server, only settle. */
    private List<StepPlan> warmOnce(List<StepPlan> steps) {
        List<StepPlan> planned = new ArrayList<>(steps.subList(0, 1));
        steps.subList(1, steps.size()).forEach(s -> planned.add(new StepPlan(s.label(), s.loadArgs(), profile.settle, s.measure())));
        return planned;
    }

    /**
     * Every selected variant once per trial, trials outermost: a slow drift of the machine then touches every
     * variant alike instead of all trials of one.
     */
    List<RunPlan> perVariant(String workloadName, List<String> serverArgs, List<StepPlan> steps) {
        Workload workload = workload(workloadName);
        List<RunPlan> plans = new ArrayList<>();
        for (int trial = 1; trial <= trials(); trial++) {
            for (Variant variant : variants) plans.add(new RunPlan(workload, variant, variant.name(), "", serverArgs, warmOnce(steps), trial));
        }
        return plans;
    }

    /**
     * Each work spec of the profile against every variant, plus Netty with --offload. Offload runs on the first Netty variant
     * selected only: the question it answers (event loop or executor) does not depend on the transport.
     */
    List<RunPlan> handlerWorkPlans() {
        Workload workload = workload("handler-work");
        List<StepPlan> steps = List.of(step("", measure(), "--users", "100", "--message", "hello", "--interval", "10ms"));
        List<RunPlan> plans = new ArrayList<>();
        Variant offloaded = variants.stream().filter(Variant::isNetty).findFirst().orElse(null);
        for (int trial = 1; trial <= trials(); trial++) {
            for (String work : profile.handlerWork) {
                for (Variant variant : variants) {
                    plans.add(new RunPlan(workload, variant, variant.name(), work, List.of("--work", work), steps, trial));
                }
                if (offloaded != null) {
                    plans.add(new RunPlan(workload, offloaded, offloaded.name() + " + offload", work,
                            List.of("--work", work, "--offload"), steps, trial));
                }
            }
        }
        return plans;
    }

    private Workload workload(String name) {
        return workloads.stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow();
    }

    private String describeParameters(List<RunPlan> plans) {
        if (plans.isEmpty()) return "";
        RunPlan first = plans.get(0);
        StringBuilder text = new StringBuilder();
        if (!first.serverArgs().isEmpty() || first.workload().name().equals("handler-work")) {
            text.append("server: ").append(plans.stream().map(p -> String.join(" ", p.serverArgs())).distinct()
                    .collect(Collectors.joining(" | "))).append("; ");
        }
        text.append("TcpLoad: ");
        text.append(first.steps().stream().map(s -> String.join(" ", s.loadArgs())).collect(Collectors.joining(" | ")));
        StepPlan step = first.steps().get(0);
        text.append("; warm-up ").append(seconds(step.warmup())).append(", measured ").append(seconds(step.measure()));
        if (first.steps().size() > 1) {
            text.append(" per step (a fresh server per run; its later steps settle ")
                    .append(seconds(first.steps().get(1).warmup())).append(" instead of warming up)");
        }
        text.append("; trials ").append(trials());
        return text.toString();
    }

    private static String seconds(Duration d) {
        return Cli.formatNanos(d.toNanos());
    }

    // ---- environment, pinning, limits --------------------------------------------------------------------------------

    private void describeEnvironment() throws IOException {
        ReportModel.Environment env = data.environment;
        env.date = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        env.command = "./jbang Experiment.java" + Arrays.stream(commandLineArgs).map(Experiment::shellQuote)
                .map(a -> " " + a).collect(Collectors.joining());
        env.profile = profile.name();
        env.cpuModel = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
        env.cores = Runtime.getRuntime().availableProcessors();
        env.kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        env.jdk = System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " " + Runtime.version();
        env.launch = "each server and each TcpLoad exec'd directly with the java command line `./jbang info tools` resolves "
                + "for its script (the launcher's JDK, the script's //JAVA_OPTIONS, its built jar and dependencies), resolved "
                + "once per series: the launcher's own two JVM starts stay out of every run";
        env.nettyVersion = nettyVersion();
        env.commit = kitCommit();
        env.openFilesLimit = openFilesLimit();
        env.serverJvmOptions = SERVER_JVM_OPTIONS;
        env.serverJvmOptionsWhy = "Identical for every server. Serial GC because each server is pinned to one core, where "
                + "the JVM's ergonomics picks Serial anyway (stated so an unpinned run keeps it); a 32 MiB initial heap growing "
                + "up to 1 GiB so RSS shows what each model touches rather than a pre-sized young generation; 1 GiB holds "
                + "19,000 connections' buffers in any model.";
        env.trials = trials();
        env.durations = "warm-up " + seconds(profile.warmup) + " (later steps of the same server: settle " + seconds(profile.settle) + "); measured: seed-echo " + seconds(seedDuration())
                + ", rate-sweep steps " + seconds(sweepStep()) + ", others " + seconds(measure());
    }

    /** The kit's git commit, so a report names the code it measured; "unknown" outside a git clone. */
    private static String kitCommit() {
        List<String> head = new ArrayList<>(), changes = new ArrayList<>();
        if (!runLines(List.of("git", "rev-parse", "--short", "HEAD"), head) || head.isEmpty()) return "unknown (not a git clone)";
        runLines(List.of("git", "status", "--porcelain", "--untracked-files=no", "--", "*.java", "common", "echo.jfc"), changes);
        return head.get(0) + (changes.isEmpty() ? "" : " with uncommitted changes to " + changes.size() + " file(s)");
    }

    private static boolean runLines(List<String> command, List<String> lines) {
        try {
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            collect(process.getInputStream(), lines);
            return process.waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static String nettyVersion() {
        try {
            Matcher m = Pattern.compile("//DEPS io\\.netty:netty-all:(\\S+)").matcher(Files.readString(ROOT.resolve("EchoNetty.java")));
            return m.find() ? "Netty " + m.group(1) : "unknown";
        } catch (IOException missing) {
            return "unknown (EchoNetty.java not found)";
        }
    }

    private static long openFilesLimit() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/limits")).stream().filter(l -> l.startsWith("Max open files"))
                .findFirst().map(l -> l.substring(26).trim().split("\\s+")[0])
                .map(soft -> soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft)).orElse(Long.MAX_VALUE);
    }

    /** Servers on one set of cores, TcpLoad on the others, so the generator never steals the server's CPU. */
    private void pin() {
        int cores = Runtime.getRuntime().availableProcessors();
        boolean taskset = Files.isExecutable(Path.of("/usr/bin/taskset")) || Files.isExecutable(Path.of("/bin/taskset"));
        boolean asked = serverCpus != null || loadCpus != null;
        if (asked && (serverCpus == null || loadCpus == null)) {
            throw new Cli.UserError(2, "--server-cpus and --load-cpus go together");
        }
        if (asked) checkCpuSets();
        if (!taskset) {
            if (asked) throw new Cli.UserError(2, "--server-cpus: taskset is not installed");
            data.notes.add("Pinning impossible: taskset is not installed; servers and TcpLoad share all cores.");
            data.environment.pinning = "none (taskset not installed)";
            return;
        }
        if (!asked && cores < 2) {
            data.notes.add("Pinning impossible: only " + cores + " core; servers and TcpLoad share it, so the generator's CPU competes with the server's.");
            data.environment.pinning = "none (1 core)";
            return;
        }
        if (!asked) {
            serverCpus = "0";
            loadCpus = cores == 2 ? "1" : "1-" + (cores - 1);
        }
        for (String[] cpus : new String[][] {{"--server-cpus", serverCpus}, {"--load-cpus", loadCpus}}) {
            if (!runLines(List.of("taskset", "-c", cpus[1], "true"), new ArrayList<>())) {
                throw new Cli.UserError(2, cpus[0] + ": taskset cannot use CPUs '" + cpus[1] + "' on this machine");
            }
        }
        serverPin = List.of("taskset", "-c", serverCpus);
        loadPin = List.of("taskset", "-c", loadCpus);
        data.environment.pinned = true;
        data.environment.pinning = "servers on CPU " + serverCpus + ", TcpLoad on CPU " + loadCpus + " (taskset)";
    }

    /** The CPU sets asked for: both online, and apart, so the generator never competes with the server for a core. */
    private void checkCpuSets() {
        Set<Integer> online = onlineCpus();
        Set<Integer> shared = cpuSet("--server-cpus", serverCpus, online);
        shared.retainAll(cpuSet("--load-cpus", loadCpus, online));
        if (!shared.isEmpty()) {
            throw new Cli.UserError(2, "--server-cpus " + serverCpus + " and --load-cpus " + loadCpus + " share CPU "
                    + cpuNames(shared) + ": the generator would compete with the server for it");
        }
    }

    private static final Pattern CPU_RANGE = Pattern.compile("(\\d+)(?:-(\\d+)(?::(\\d+))?)?");

    /** A CPU list in taskset's syntax ("0", "1-3", "0,2", "0-6:2"), the kernel's too; null when malformed. */
    private static Set<Integer> parseCpuList(String list) {
        Set<Integer> cpus = new TreeSet<>();
        for (String part : list.split(",", -1)) {
            Matcher range = CPU_RANGE.matcher(part.trim());
            if (!range.matches()) return null;
            int first = Integer.parseInt(range.group(1));
            int last = range.group(2) == null ? first : Integer.parseInt(range.group(2));
            int stride = range.group(3) == null ? 1 : Math.max(1, Integer.parseInt(range.group(3)));
            for (int cpu = first; cpu <= last; cpu += stride) cpus.add(cpu);
        }
        return cpus;
    }

    private static Set<Integer> cpuSet(String flag, String list, Set<Integer> online) {
        Set<Integer> cpus = parseCpuList(list);
        if (cpus == null || cpus.isEmpty()) throw new Cli.UserError(2, flag + ": '" + list + "' is not a CPU list (examples: 0, 1-3, 0,2)");
        Set<Integer> offline = new TreeSet<>(cpus);
        offline.removeAll(online);
        if (!offline.isEmpty()) throw new Cli.UserError(2, flag + ": CPU " + cpuNames(offline) + " not online (online: " + cpuNames(online) + ")");
        return cpus;
    }

    private static String cpuNames(Set<Integer> cpus) {
        return cpus.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /** The kernel's list of online CPUs; 0 to n-1 where it cannot be read. */
    private static Set<Integer> onlineCpus() {
        try {
            Set<Integer> online = parseCpuList(Files.readString(Path.of("/sys/devices/system/cpu/online")).trim());
            if (online != null) return online;
        } catch (IOException unreadable) {
            // the fallback below
        }
        Set<Integer> all = new TreeSet<>();
        for (int cpu = 0; cpu < Runtime.getRuntime().availableProcessors(); cpu++) all.add(cpu);
        return all;
    }

    /** Both ends of every idle connection hold a file each: the limit caps how many the idle workload can open. */
    private int fitToOpenFiles(int wanted, List<Workload> selected) {
        long limit = data.environment.openFilesLimit;
        long headroom = 300; // the JVM's own jars, sockets and pipes
        if (wanted + headroom <= limit) return wanted;
        int fitted = (int) Math.max(100, limit - headroom);
        if (selected.stream().anyMatch(w -> w.name().equals("idle"))) {
            data.notes.add("idle: scaled down from " + String.format(Locale.ROOT, "%,d", wanted) + " to "
                    + String.format(Locale.ROOT, "%,d", fitted) + " connections: the open-files limit is " + limit
                    + " (ulimit -n) and each process needs " + headroom + " files of its own.");
        }
        return fitted;
    }

    /**
     * How to start a script's JVM without the launcher: the java command line {@code ./jbang} would exec (its JDK,
     * the script's //JAVA_OPTIONS, the jar it built and the resolved dependencies), read once from
     * {@code ./jbang info tools}. Each launcher call costs two extra JVM starts (2–4 s on this machine); a series
     * starts over a hundred processes. It also pins every run of the series to the same build of each script.
     */
    record Launch(String java, List<String> jvmOptions, String classPath, String mainClass) {
        List<String> command(List<String> extraJvmOptions, List<String> args) {
            List<String> command = new ArrayList<>(List.of(java));
            command.addAll(extraJvmOptions); // first, as the launcher places -R options before the script's own
            command.addAll(jvmOptions);
            command.addAll(List.of("-classpath", classPath, mainClass));
            command.addAll(args);
            return command;
        }
    }

    private final Map<String, Launch> launches = new ConcurrentHashMap<>();

    /**
     * Compiles every script once up front and resolves its command line, so no measured run pays for either. Each
     * {@code ./jbang info tools} is a JVM start of its own (2-3 s here): the scripts are resolved side by side, and
     * only those not built yet are then built, one at a time.
     */
    private void buildScripts() throws Exception {
        Set<String> scripts = new LinkedHashSet<>();
        variants.forEach(v -> scripts.add(v.script()));
        scripts.add("TcpLoad.java");
        scripts.add("analyze-jfr.java");
        for (String script : scripts) {
            if (!Files.exists(ROOT.resolve(script))) throw new Cli.UserError(1, script + " not found in " + ROOT);
        }
        progress("resolving " + String.join(", ", scripts) + " ...");
        Map<String, Future<Launch>> resolving = new LinkedHashMap<>();
        try (var resolvers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String script : scripts) resolving.put(script, resolvers.submit(() -> resolveLaunch(script, new ArrayList<>())));
        }
        for (String script : scripts) {
            Launch launch = result(resolving.get(script)); // null until the script is built
            List<String> lines = new ArrayList<>();
            if (launch == null) {
                progress("building " + script + " ...");
                if (runCollecting(List.of(ROOT.resolve("jbang").toString(), "build", script), lines, Duration.ofMinutes(5))) {
                    launch = resolveLaunch(script, lines);
                }
            }
            if (launch != null) {
                launches.put(script, launch);
                continue;
            }
            String why = script + " does not build: " + String.join(" / ", lastLines(lines, 5));
            if (!script.equals("analyze-jfr.java")) throw new Cli.UserError(1, why);
            analyzerBroken = true; // the measurements stand without it; the report says why its JFR sections are missing
            data.notes.add("No JFR analysis: " + why);
        }
    }

    private static <T> T result(Future<T> future) throws Exception {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    private Path jarCopies;

    /**
     * A copy of the script's jar that lives as long as this series: the launcher's cache entry can be rebuilt (and is
     * briefly missing) when someone runs an edited script meanwhile, and the series must use one build throughout.
     */
    private synchronized Path privateCopy(Path jar, String script) {
        try {
            if (jarCopies == null) {
                jarCopies = Files.createTempDirectory("experiment-jars");
                jarCopies.toFile().deleteOnExit();
            }
            Path copy = jarCopies.resolve(script.replaceAll("\\.java$", "") + ".jar");
            Files.copy(jar, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            copy.toFile().deleteOnExit();
            return copy;
        } catch (IOException e) {
            throw new Cli.UserError(1, "cannot copy " + jar + ": " + e.getMessage());
        }
    }

    /** The launcher's own description of the script; null (with the reason in {@code lines}) when its jar is not built yet. */
    private Launch resolveLaunch(String script, List<String> lines) {
        List<String> info = new ArrayList<>();
        if (!runCollecting(List.of(ROOT.resolve("jbang").toString(), "info", "tools", script), info, Duration.ofMinutes(2))) {
            lines.addAll(info);
            return null;
        }
        String json = info.stream().filter(l -> !l.startsWith("[jbang]")).collect(Collectors.joining("\n"));
        JsonObject tools = JsonParser.parseString(json).getAsJsonObject();
        String jar = tools.get("applicationJar").getAsString();
        if (!Files.exists(Path.of(jar))) {
            lines.add("its jar " + jar + " is not built");
            return null;
        }
        List<String> classPath = new ArrayList<>(List.of(privateCopy(Path.of(jar), script).toString()));
        tools.getAsJsonArray("resolvedDependencies").forEach(d -> classPath.add(d.getAsString()));
        List<String> options = new ArrayList<>();
        if (tools.has("runtimeOptions")) tools.getAsJsonArray("runtimeOptions").forEach(o -> options.add(o.getAsString()));
        return new Launch(Path.of(tools.get("availableJdkPath").getAsString(), "bin", "java").toString(), options,
                String.join(java.io.File.pathSeparator, classPath), tools.get("mainClass").getAsString());
    }

    // ---- the series --------------------------------------------------------------------------------------------

    private final long startNanos = System.nanoTime();

    private void runAll(List<RunPlan> plans) throws Exception {
        long seriesStart = System.nanoTime();
        double planned = estimatedSeconds(plans);
        double done = 0;
        for (int i = 0; i < plans.size() && !interrupted; i++) {
            RunPlan plan = plans.get(i);
            double elapsed = (System.nanoTime() - seriesStart) / 1e9;
            double eta = done == 0 ? planned : (planned - done) * elapsed / done; // the plan, at the pace measured so far
            progress(String.format(Locale.ROOT, "step %d of %d · %s · %s%s%s · elapsed %s · ETA %s", i + 1, plans.size(),
                    plan.workload().name(), plan.label(), plan.setting().isEmpty() ? "" : " · " + plan.setting(),
                    trials() > 1 ? " · trial " + plan.trial() : "", clock(elapsed), clock(eta)));
            ReportModel.Workload section = section(plan.workload().name());
            ReportModel.Run run = execute(plan);
            reportLock.lock();
            try {
                section.runs.add(run);
            } finally {
                reportLock.unlock();
            }
            done += plan.plannedSeconds();
            boolean lastOfWorkload = i + 1 == plans.size() || plans.get(i + 1).workload() != plan.workload();
            if (lastOfWorkload && !interrupted) {
                progress("analysing the JFR recordings of " + plan.workload().name() + " ...");
                analyseRecordings(section);
                done += analysisSeconds(plans, plan.workload());
                writeReport();
            }
        }
    }

    /** The plan's wall time: its runs, and one analysis per workload (see {@link #RUN_OVERHEAD_SECONDS}). */
    double estimatedSeconds(List<RunPlan> plans) {
        return plans.stream().mapToDouble(RunPlan::plannedSeconds).sum()
                + plans.stream().map(RunPlan::workload).distinct().mapToDouble(w -> analysisSeconds(plans, w)).sum();
    }

    private double analysisSeconds(List<RunPlan> plans, Workload workload) {
        long recordings = plans.stream().filter(p -> p.workload() == workload && p.trial() == 1).count();
        return ANALYSIS_SECONDS + PER_RECORDING_SECONDS * recordings * (flameGraphs(workload.name()) ? 2 : 1);
    }

    private ReportModel.Workload section(String name) {
        return data.workloads.stream().filter(w -> w.name.equals(name)).findFirst().orElseThrow();
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 60 ? (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s" : s + "s";
    }

    private static void progress(String line) {
        if (System.console() != null) {
            System.err.print("\r\033[K" + line);
        } else {
            System.err.println(line);
        }
    }

    // ---- one run: server up, load steps, server down ------------------------------------------------------------------

    private static final Pattern READY = Pattern.compile("^READY (\\S+) (\\S+):(\\d+)(.*)$");
    private static final Pattern KEY_VALUE = Pattern.compile("(\\S+)=(\\S+)");

    private ReportModel.Run execute(RunPlan plan) throws Exception {
        ReportModel.Run run = new ReportModel.Run();
        run.variant = plan.variant().name();
        run.label = plan.label();
        run.setting = plan.setting();
        run.trial = plan.trial();
        String hung = hungVariants.get(plan.variant().name());
        if (hung != null) {
            run.status = "skipped";
            run.failure = hung;
            return run;
        }
        Path dir = out.resolve(plan.workload().name());
        Files.createDirectories(dir);
        String fileBase = (plan.label() + (plan.setting().isEmpty() ? "" : "-" + plan.setting())
                + (trials() > 1 ? "-t" + plan.trial() : "")).replaceAll("[^A-Za-z0-9_.-]+", "-");
        Path jfr = dir.resolve(fileBase + ".jfr");
        run.jfrFile = out.relativize(jfr).toString();

        List<String> serverArgs = new ArrayList<>(List.of("--port", "0", "--jfr", jfr.toAbsolutePath().toString()));
        serverArgs.addAll(plan.variant().args());
        serverArgs.addAll(plan.serverArgs());
        List<String> command = new ArrayList<>(serverPin);
        command.addAll(launches.get(plan.variant().script()).command(SERVER_JVM_OPTIONS, serverArgs));
        Child server = new Child(command);
        try {
            Matcher ready = server.awaitLine(READY, Duration.ofSeconds(90));
            if (ready == null) {
                run.status = "failed";
                run.serverLastLines = server.lastLines();
                if (!server.process.isAlive()) {
                    // the next run starts a fresh server, which may well come up: it gets its own chance and its own lines
                    run.failure = "the server did not start (no READY line, exit code " + server.process.exitValue() + ")";
                    return run;
                }
                run.failure = "the server did not start (no READY line within 90 s); the later runs of " + plan.variant().name()
                        + " are skipped rather than wait as long each";
                hungVariants.put(plan.variant().name(), plan.variant().name() + " did not start within 90 s in "
                        + plan.workload().name() + " (" + describe(plan) + ")");
                return run;
            }
            Matcher kv = KEY_VALUE.matcher(ready.group(4));
            while (kv.find()) run.ready.put(kv.group(1), kv.group(2));
            long pid = Long.parseLong(run.ready.getOrDefault("pid", Long.toString(server.process.pid())));
            String host = ready.group(2) + ":" + ready.group(3);
            try (ProcSampler sampler = new ProcSampler(pid)) {
                TimeUnit.MILLISECONDS.sleep(500); // let the JVM settle after start-up before the idle reading
                run.idle = sampler.sampleNow();
                for (StepPlan stepPlan : plan.steps()) {
                    if (interrupted) break;
                    ReportModel.Step step = runStep(stepPlan, host, dir.resolve(fileBase + stepFileSuffix(stepPlan) + ".json"), sampler);
                    run.steps.add(step);
                    if (step.load == null) {
                        run.status = "failed";
                        run.failure = "TcpLoad exited " + step.exitCode + " without its JSON document"
                                + (stepPlan.label().isEmpty() ? "" : " in step " + stepPlan.label());
                    }
                    if (!server.process.isAlive()) {
                        run.status = "failed";
                        run.failure = "the server died during " + (stepPlan.label().isEmpty() ? "the run" : "step " + stepPlan.label())
                                + " (exit code " + server.process.exitValue() + ")";
                        break;
                    }
                    if (plan.workload().table().equals("sweep")) {
                        step.withinSlo = withinSlo(step);
                        if (!step.withinSlo) break; // past saturation: higher rates only add queueing
                    }
                }
                run.samples = sampler.samples();
            }
            stopServer(server, run);
        } finally {
            server.kill();
        }
        if (run.status.equals("failed")) run.serverLastLines = server.lastLines();
        return run;
    }

    private String describe(RunPlan plan) {
        return plan.label() + (plan.setting().isEmpty() ? "" : " · " + plan.setting()) + (trials() > 1 ? ", trial " + plan.trial() : "");
    }

    /** What EchoNetty says of a transport this machine does not offer ("--transport io_uring is not available here: ..."). */
    private static final String UNAVAILABLE = "is not available here";

    /**
     * Starts each variant that may be unavailable here once, without load or recording: one that says so (EchoNetty's
     * "--transport io_uring is not available here: ...") leaves the series with a note in the report. Any other
     * failure keeps it in: its runs then fail with their own lines.
     */
    private void skipUnavailableVariants() throws Exception {
        for (Variant variant : List.copyOf(variants)) {
            if (!variant.mayBeUnavailable()) continue;
            progress("checking that " + variant.name() + " is available here ...");
            List<String> args = new ArrayList<>(List.of("--port", "0"));
            args.addAll(variant.args());
            Child probe = new Child(launches.get(variant.script()).command(SERVER_JVM_OPTIONS, args));
            try {
                if (probe.awaitLine(READY, Duration.ofSeconds(90)) != null) continue;
                synchronized (probe.lines) {
                    probe.lines.stream().filter(l -> l.contains(UNAVAILABLE)).findFirst().ifPresent(why -> {
                        variants.remove(variant);
                        data.skippedVariants.put(variant.name(), why);
                    });
                }
            } finally {
                probe.kill();
            }
        }
        if (variants.isEmpty()) throw new Cli.UserError(1, "no selected variant is available here: " + data.skippedVariants.values());
    }

    private static String stepFileSuffix(StepPlan step) {
        return step.label().isEmpty() ? "" : "-" + step.label().replaceAll("[^A-Za-z0-9]+", "");
    }

    private ReportModel.Step runStep(StepPlan plan, String host, Path json, ProcSampler sampler) throws Exception {
        ReportModel.Step step = new ReportModel.Step();
        step.label = plan.label();
        List<String> loadArgs = new ArrayList<>(List.of("--host", host));
        loadArgs.addAll(plan.loadArgs());
        loadArgs.addAll(List.of("--duration", millis(plan.measure()), "--warmup", millis(plan.warmup()),
                "--json", json.toAbsolutePath().toString(), "--quiet"));
        List<String> command = new ArrayList<>(loadPin);
        command.addAll(launches.get("TcpLoad.java").command(List.of(), loadArgs));
        // reported as the launcher command it is equivalent to, which a reader can paste
        step.command = new ArrayList<>(List.of("./jbang", "TcpLoad.java"));
        loadArgs.stream().map(a -> a.startsWith(ROOT.toString()) ? ROOT.relativize(Path.of(a)).toString() : a).forEach(step.command::add);
        step.measuredSeconds = plan.measure().toNanos() / 1e9;
        Child load = new Child(command);
        ProcSampler.Sample from = null, to = null;
        try {
            // TcpLoad prints "Starting test" as its clock starts; the measured part follows its warm-up. Reading the
            // server exactly at both ends leaves the generator's JVM start, connecting and shutting down outside.
            if (load.awaitLine(STARTING, Duration.ofSeconds(60)) != null) {
                double started = sampler.now();
                sleepUntil(sampler, started + plan.warmup().toNanos() / 1e9);
                from = sampler.sampleNow();
                sleepUntil(sampler, started + plan.warmup().toNanos() / 1e9 + step.measuredSeconds);
                to = sampler.sampleNow();
            }
            step.exitCode = load.await(plan.warmup().plus(plan.measure()).plusSeconds(120));
        } finally {
            load.kill();
        }
        step.loadLastLines = load.lastLines();
        step.warnings = load.lines.stream().filter(l -> l.startsWith("WARNING")).distinct().toList();
        if (Files.exists(json)) {
            step.load = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
            Files.delete(json); // its content lives on in data.json
        }
        if (from != null && to != null) {
            step.serverUserSeconds = to.userSeconds() - from.userSeconds();
            step.serverSystemSeconds = to.systemSeconds() - from.systemSeconds();
            for (ProcSampler.Sample s : sampler.samples()) {
                if (s.seconds() < from.seconds() || s.seconds() > to.seconds()) continue;
                step.serverRssPeakKiB = Math.max(step.serverRssPeakKiB, s.rssKiB());
                step.serverThreadsPeak = Math.max(step.serverThreadsPeak, s.threads());
                step.serverOpenFilesPeak = Math.max(step.serverOpenFilesPeak, s.openFiles());
            }
        }
        return step;
    }

    private static final Pattern STARTING = Pattern.compile("^Starting test");

    private static void sleepUntil(ProcSampler clock, double seconds) throws InterruptedException {
        long millis = Math.round((seconds - clock.now()) * 1000);
        if (millis > 0) TimeUnit.MILLISECONDS.sleep(millis);
    }

    private static String millis(Duration d) {
        return d.toMillis() + "ms";
    }

    static boolean withinSlo(ReportModel.Step step) {
        if (step.load == null || step.exitCode != 0) return false;
        JsonObject summary = step.load.getAsJsonObject("summary");
        return summary.get("failures").getAsLong() == 0 && summary.get("received").getAsLong() > 0 // nothing echoed sustains nothing
                && summary.getAsJsonObject("latencyUs").get("p99").getAsDouble() <= SWEEP_SLO_P99.toNanos() / 1e3;
    }

    /** SIGTERM, then the STATS line; a server that does not stop within 15 s (JFR dump included) is killed and the run marked failed. */
    private void stopServer(Child server, ReportModel.Run run) throws InterruptedException {
        if (!server.process.isAlive()) return;
        server.process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its output, losing STATS
        if (!server.process.waitFor(15, TimeUnit.SECONDS)) {
            run.status = "failed";
            run.failure = "the server did not exit within 15 s of SIGTERM: killed";
            return;
        }
        TimeUnit.MILLISECONDS.sleep(100); // let the reader drain the last line
        server.lines.stream().filter(l -> l.startsWith("STATS ")).reduce((a, b) -> b).ifPresent(stats -> {
            Matcher kv = KEY_VALUE.matcher(stats);
            while (kv.find()) run.stats.put(kv.group(1), kv.group(2));
        });
    }

    // ---- JFR analysis after each workload ---------------------------------------------------------------------------

    /** Workloads where the server is busy, so its CPU samples say something: quick draws flame graphs for these. */
    private static final Set<String> CPU_BOUND = Set.of("throughput", "handler-work");

    /**
     * One analyze-jfr call per workload, while nothing is measured: the side-by-side markdown of the first trial's
     * recordings and, where they say something, a flame graph of each (written by the same JVM).
     */
    private void analyseRecordings(ReportModel.Workload section) throws Exception {
        List<ReportModel.Run> recorded = section.runs.stream()
                .filter(r -> r.jfrFile != null && Files.exists(out.resolve(r.jfrFile))).toList();
        if (recorded.isEmpty() || analyzerBroken) return;
        List<ReportModel.Run> firstTrial = recorded.stream().filter(r -> r.trial == 1).toList();
        boolean flameGraphs = flameGraphs(section.name);
        List<String> options = new ArrayList<>(List.of("--format", "markdown"));
        if (flameGraphs) options.addAll(List.of("--flamegraph-dir", out.resolve(section.name).toAbsolutePath().toString()));
        List<String> said = analyze(options, firstTrial);
        // analyze-jfr's own remarks (one per flame graph, warnings) share the merged output: they are not table rows
        section.jfrMarkdown = said.stream().filter(l -> !l.startsWith("analyze-jfr:")).collect(Collectors.joining("\n"));
        said.stream().filter(l -> l.startsWith("analyze-jfr: warning:")).forEach(section.notes::add);
        for (ReportModel.Run run : flameGraphs ? firstTrial : List.<ReportModel.Run>of()) {
            String label = run.label + (run.setting.isEmpty() ? "" : " · " + run.setting);
            String html = run.jfrFile.replaceAll("\\.jfr$", "-flame.html");
            if (Files.exists(out.resolve(html)) && Files.size(out.resolve(html)) > 0) {
                section.flamegraphs.put(label, html);
            } else {
                section.notes.add("No flame graph for " + label + ": " + String.join(" / ", lastLines(said, 2)));
            }
        }
        if (!keepJfr) {
            for (ReportModel.Run run : recorded) Files.deleteIfExists(out.resolve(run.jfrFile));
        }
    }

    private boolean flameGraphs(String workload) {
        return switch (profile.flameGraphs) {
            case none -> false;
            case cpuBound -> CPU_BOUND.contains(workload);
            case all -> true;
        };
    }

    private List<String> analyze(List<String> options, List<ReportModel.Run> runs) {
        List<String> args = new ArrayList<>(options);
        runs.forEach(r -> args.add(out.resolve(r.jfrFile).toAbsolutePath().toString()));
        List<String> lines = new ArrayList<>();
        if (!runCollecting(launches.get("analyze-jfr.java").command(List.of(), args), lines, Duration.ofMinutes(5))) {
            return List.of("_analyze-jfr failed: " + String.join(" / ", lastLines(lines, 3)) + "_");
        }
        return lines;
    }

    // ---- report ------------------------------------------------------------------------------------------------

    private final ReentrantLock reportLock = new ReentrantLock();

    private Path writeReport() throws IOException {
        reportLock.lock();
        try {
            return new ReportWriter(out, data).write();
        } finally {
            reportLock.unlock();
        }
    }

    /** Ctrl-C: stop every process this runner started (and their children), then keep what finished. */
    private void onInterrupt() {
        if (finished) return;
        interrupted = true;
        for (Process process : liveProcesses) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        try {
            if (!reportLock.tryLock(10, TimeUnit.SECONDS)) return; // the report being written is the one to keep
            try {
                if (!keepJfr) deleteRecordings(); // those of the run cut short: they were never analysed
                data.notes.add("Interrupted: the series stopped early; the sections below hold the runs that finished.");
                System.err.println();
                System.err.println("interrupted: report of the finished runs in " + new ReportWriter(out, data).write());
            } finally {
                reportLock.unlock();
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("interrupted: could not write the report: " + e.getMessage());
        }
    }

    private void deleteRecordings() throws IOException {
        try (var files = Files.walk(out)) {
            for (Path jfr : files.filter(f -> f.toString().endsWith(".jfr")).toList()) Files.deleteIfExists(jfr);
        }
    }

    // ---- child processes ---------------------------------------------------------------------------------------

    /** A process this runner started: its merged output kept (the last lines for the report), registered for Ctrl-C. */
    private final class Child {
        final Process process;
        final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());

        Child(List<String> command) throws IOException {
            ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
            builder.environment().put("JBANG_NO_VERSION_CHECK", "true");
            process = builder.start();
            liveProcesses.add(process);
            process.onExit().thenRun(() -> liveProcesses.remove(process));
            Thread.ofVirtual().start(() -> collect(process.getInputStream(), lines));
        }

        Matcher awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            int seen = 0;
            while (System.nanoTime() < deadline && !interrupted) {
                synchronized (lines) {
                    for (; seen < lines.size(); seen++) {
                        Matcher m = pattern.matcher(lines.get(seen));
                        if (m.find()) return m;
                    }
                }
                if (!process.isAlive() && seen == lines.size()) {
                    TimeUnit.MILLISECONDS.sleep(100); // a last line may still be in the pipe
                    if (seen == lines.size()) return null;
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
            return null;
        }

        int await(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                lines.add("(killed by the experiment: still running after " + timeout.toSeconds() + " s)");
                kill();
                return -1;
            }
            TimeUnit.MILLISECONDS.sleep(50); // let the reader drain
            return process.exitValue();
        }

        List<String> lastLines() {
            synchronized (lines) {
                return Experiment.lastLines(lines, 20);
            }
        }

        void kill() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    private static void collect(InputStream stream, Collection<String> lines) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) lines.add(line);
        } catch (IOException gone) {
            // the process ended: what it said so far is kept
        }
    }

    private boolean runCollecting(List<String> command, List<String> lines, Duration timeout) {
        try {
            Child child = new Child(command);
            boolean ok = child.await(timeout) == 0;
            synchronized (child.lines) {
                lines.addAll(child.lines);
            }
            return ok;
        } catch (IOException | InterruptedException e) {
            lines.add(e.getMessage());
            return false;
        }
    }

    static List<String> lastLines(List<String> lines, int n) {
        Deque<String> last = new ArrayDeque<>();
        for (String line : lines) {
            if (last.size() == n) last.removeFirst();
            last.addLast(line);
        }
        return List.copyOf(last);
    }

    private static String shellQuote(String arg) {
        return arg.matches("[A-Za-z0-9_./:=,+-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'";
    }
}
