///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2
//DEPS org.knowm.xchart:xchart:3.8.8
//DEPS org.hdrhistogram:HdrHistogram:2.2.2
//SOURCES common/Cli.java
//SOURCES common/Plan.java
//SOURCES common/Trials.java
//SOURCES common/CpuPlacement.java
//SOURCES common/ScalingPlan.java
//SOURCES common/MachineFacts.java
//SOURCES common/ScriptLaunch.java
//SOURCES common/ChildProcess.java
//SOURCES common/ServerRun.java
//SOURCES common/ReferenceBuild.java
//SOURCES common/SeriesBuild.java
//SOURCES common/LiveHeap.java
//SOURCES common/LoadStep.java
//SOURCES common/LoadMerge.java
//SOURCES common/LoadReport.java
//SOURCES common/ProcSampler.java
//SOURCES common/RecordingAnalysis.java
//SOURCES common/SeriesProgress.java
//SOURCES common/SeriesReport.java
//SOURCES common/ReportModel.java
//SOURCES common/Separation.java
//SOURCES common/ReportRanking.java
//SOURCES common/ReportFindings.java
//SOURCES common/ReportArrival.java
//SOURCES common/ReportTables.java
//SOURCES common/ReportWriter.java
//SOURCES common/ReportCharts.java
//SOURCES common/ChartWriter.java
//JAVA_OPTIONS -Djava.awt.headless=true

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The experiment: runs a series of workloads against every server variant, each server in its own pinned process,
 * the load generator in another, and writes {@code report.md}, {@code data.json} and charts into one results folder.
 *
 * <p>The plan is data, at the top: profiles, variants, workloads. A series is plan → run → analyse → report
 * ({@link #call}); the machinery is in {@code common/} (docs/CONTRACTS.md, "Layout", says which file does what).
 * The report is rewritten after every workload, so an interrupted series keeps what finished.
 */
@Command(name = "Experiment", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs the series of workloads against every server variant and writes results/<timestamp>/report.md.")
public class Experiment implements Callable<Integer> {

    // ---- profiles: how long each measured part lasts, how many trials, how far the sweeps go -----------------------

    /**
     * quick is the default (at most 8 minutes here: one trial, 64 B messages, two sweep rates, one handler-work spec,
     * only seed-echo recorded, the reference servers in seed-echo and throughput only); full is what results.md is
     * written from: five trials of every comparison within an hour here, so it keeps the workloads that decide a choice
     * (see {@link #LEFT_OUT}) and runs the extra Netty transports only where the transport is the question
     * ({@link #TRANSPORT_WORKLOADS});
     * smoke exists for the test suite: every workload once against netty-epoll alone (handler-work adds its --offload
     * row, so tables and charts still compare two rows), with the shortest runs that still echo something: its figures
     * only prove the machinery works. Each server and each TcpLoad is a JVM of its own, so the profiles differ mostly
     * in how many runs they start. --variants, --trials and --duration override.
     *
     * <p>Every step warms up for at least {@code warmup} (later steps of the same server: {@code settle}) and then
     * until the server's and TcpLoad's JIT compilers are quiet and the echo rate has stopped rising, at most
     * {@code warmupMax} (the run is then marked not steady). Measured trials run without JFR; the workloads in
     * {@code recorded} get one more trial per row, with the recording, for the JFR views and the recorder's cost.
     */
    enum Profile {
        smoke(1, "300ms", "1s", "300ms", "500ms", "500ms", 1_000, List.of(64), List.of(2_000), "500ms",
                List.of("sleep:5ms"), List.of("netty-epoll"), Set.of("seed-echo", "handler-work"), FlameGraphs.none, null, PINNED, null),
        quick(1, "2s", "20s", "1s", "2s", "2s", 10_000, List.of(64), List.of(10_000, 40_000), "2s",
                List.of("sleep:5ms"), List.of("platform", "virtual", "netty-epoll", "go-net", "c-epoll"),
                Set.of("seed-echo"), FlameGraphs.cpuBound, List.of("seed-echo", "idle", "throughput", "rate-sweep", "handler-work"), PINNED,
                Set.of("seed-echo", "throughput")),
        full(5, "3s", "30s", "3s", "10s", "5s", 19_000, List.of(64), List.of(5_000, 20_000, 40_000), "3s",
                List.of("sleep:5ms"), List.of("platform", "virtual", "netty-epoll", "netty-nio", "netty-io_uring", "go-net", "c-epoll"),
                Set.of("seed-echo"), FlameGraphs.all, List.of("seed-echo", "idle", "throughput", "rate-sweep", "handler-work", "scaling"), PINNED, null),
        /** The settings a maintainer asks about, each a row beside its model's default, where they could matter. */
        settings(3, "3s", "30s", "3s", "10s", "4s", 10_000, List.of(64), List.of(10_000), "2s", List.of(),
                List.of("virtual", "virtual-poller1", "netty-epoll", "netty-epoll-noleak"), Set.of(), FlameGraphs.none,
                List.of("seed-echo", "throughput", "churn"), PINNED, null),
        /** The seed's question on this machine: its workload with a server pinned to its own core and with both sides sharing all cores. */
        seed(3, "3s", "30s", "3s", "10s", "4s", 10_000, List.of(64), List.of(10_000), "2s", List.of(),
                List.of("platform", "virtual", "netty-epoll", "go-net", "c-epoll"), Set.of(), FlameGraphs.none,
                List.of("seed-echo"), List.of("pinned", "shared"), null);

        final int trials;
        final Duration warmup, warmupMax, settle, seedDuration, measure;
        final int idleConnections;
        final List<Integer> messageSizes, sweepRates;
        final Duration sweepStep;
        final List<String> handlerWork;
        final List<String> variants;
        final Set<String> recorded; // the workloads that get a recorded trial; null: all of them
        final FlameGraphs flameGraphs;
        final List<String> workloads; // null: all of them
        final List<String> placements;
        final Set<String> referencesIn; // the workloads the reference servers (go-net, c-epoll) run in; null: all of them

        Profile(int trials, String warmup, String warmupMax, String settle, String seedDuration, String measure, int idleConnections,
                List<Integer> messageSizes, List<Integer> sweepRates, String sweepStep, List<String> handlerWork,
                List<String> variants, Set<String> recorded, FlameGraphs flameGraphs, List<String> workloads, List<String> placements,
                Set<String> referencesIn) {
            this.trials = trials;
            this.warmup = Cli.parseDuration(warmup);
            this.warmupMax = Cli.parseDuration(warmupMax);
            this.settle = Cli.parseDuration(settle);
            this.seedDuration = Cli.parseDuration(seedDuration);
            this.measure = Cli.parseDuration(measure);
            this.idleConnections = idleConnections;
            this.messageSizes = messageSizes;
            this.sweepRates = sweepRates;
            this.sweepStep = Cli.parseDuration(sweepStep);
            this.handlerWork = handlerWork;
            this.variants = variants;
            this.recorded = recorded;
            this.flameGraphs = flameGraphs;
            this.workloads = workloads;
            this.placements = placements;
            this.referencesIn = referencesIn;
        }
    }

    /** Server and TcpLoad each on their own CPUs: the default, so the generator never steals the server's CPU. */
    static final List<String> PINNED = List.of("pinned");

    /** Which recordings get a flame graph: each is drawn from the recording's CPU samples, about 1 s of analysis. */
    enum FlameGraphs {
        none, cpuBound, all
    }

    /** Workloads where the server is busy, so its CPU samples say something: quick draws flame graphs for these. */
    static final Set<String> CPU_BOUND = Set.of("throughput", "handler-work");

    /**
     * Where the Netty transport is the question: flat-out small messages (the system calls per echo decide) and the
     * seed's workload. Elsewhere a profile's run keeps the first Netty variant in place of its other transports (a Netty
     * variant with a setting of its own stays: {@link Plan#oneNettyTransport}); --variants runs every one it names everywhere.
     */
    static final Set<String> TRANSPORT_WORKLOADS = Set.of("seed-echo", "throughput");

    /** Why a profile may leave a workload out; the report says so, and --workloads runs it anyway. */
    static final Map<String, String> LEFT_OUT = Map.of(
            "burst", "the seed-echo table's closed loop already shows clumped arrivals against an even open loop",
            "churn", "TcpLoad's connect-echo-close loop is the bottleneck on this machine (its rate sits at the generator's own "
                    + "ceiling in every variant), so the rows do not separate the servers",
            "scaling", "a machine with fewer than 4 CPUs has only its 1-core point, the same question as throughput");

    // ---- variants: one server model each --------------------------------------------------------------------------

    static final List<Plan.Variant> VARIANTS = List.of(
            new Plan.Variant("platform", "EchoPlatformThreads.java", List.of(), false, "blocking sockets, one platform (OS) thread per connection"),
            new Plan.Variant("virtual", "EchoVirtualThreads.java", List.of(), false, "blocking sockets, one virtual thread per connection"),
            new Plan.Variant("netty-epoll", "EchoNetty.java", List.of("--transport", "epoll"), false, "Netty event loop, native epoll transport"),
            new Plan.Variant("netty-nio", "EchoNetty.java", List.of("--transport", "nio"), false, "Netty event loop, JDK NIO selector transport"),
            new Plan.Variant("netty-io_uring", "EchoNetty.java", List.of("--transport", "io_uring"), true, "Netty event loop, native io_uring transport (where the kernel allows)"),
            new Plan.Variant("virtual-poller1", "EchoVirtualThreads.java", List.of(), List.of("-Djdk.pollerMode=1"), false,
                    "virtual threads with platform poller threads (jdk.pollerMode=1; JDK 25's default, 2, makes the pollers virtual threads)"),
            new Plan.Variant("netty-epoll-noleak", "EchoNetty.java", List.of("--transport", "epoll"), List.of("-Dio.netty.leakDetection.level=disabled"),
                    false, "Netty epoll with resource-leak detection off (as tuned deployments run it; the default samples allocations)"),
            new Plan.Variant("go-net", "reference/go-net.go", List.of(), true, "reference: Go's net package, one goroutine per connection (the seed's winning server; needs go)"),
            new Plan.Variant("c-epoll", "reference/c-epoll.c", List.of(), true, "reference: single-threaded epoll in C, the floor (needs cc)"));

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

    // ---- workloads: what each runs; a new one is one more entry (README, "Adding a workload") ----------------------

    /** {@code plans} turns the workload into server runs, usually with {@link #perVariant}: every variant, every trial. */
    record Workload(String name, String summary, String models, String table, Planner plans) {}

    interface Planner {
        List<Plan.Run> plan(Experiment e, String workload);
    }

    final List<Workload> workloads = List.of(
            new Workload("seed-echo", "the seed's headline case: 1,000 users send \"hello\" every 100 ms (closed loop), and the same 10,000 msg/s evenly spaced",
                    "Many mostly-waiting clients exchanging tiny messages: the seed's own run, so its Go table sits beside ours. "
                            + "The seed's closed loop waits for each echo, so the sends clump; the open loop spaces the same "
                            + "10,000 msg/s evenly: how the load arrives changes what each model pays.",
                    "seed", (e, name) -> e.perVariant(name, e.step(ReportTables.CLOSED_LOOP, e.seedDuration(),
                            "--users", "1000", "--message", "hello", "--interval", "100ms"),
                            e.step(ReportTables.OPEN_LOOP, e.measure(), "--users", "1000", "--message", "hello", "--rate", "10000"))),
            new Workload("idle", "10,000 open connections (full: 19,000), each sending a keepalive every second",
                    "A chat or push server: many long-lived connections that are quiet most of the time. What each model pays "
                            + "per open connection (memory above the server's idle RSS, threads), how fast it accepts them all, "
                            + "and the latency of the keepalives.",
                    "idle", (e, name) -> e.perVariant(name, e.step("", e.idleMeasure(),
                            "--idle", "--users", Integer.toString(e.idleConnections), "--interval", "1s"),
                            e.liveHeapProbe("--idle", "--users", Integer.toString(e.idleConnections), "--interval", "1s"))),
            new Workload("burst", "1,000 users all send at the same instant every 100 ms",
                    "Synchronised clients (a timer tick, a broadcast, a market open): the server gets a burst of 1,000 "
                            + "messages at once, then silence; tail latency shows how each model drains a queue.",
                    "latency", (e, name) -> e.perVariant(name, e.step("", e.measure(),
                            "--burst", "--users", "1000", "--message", "hello", "--interval", "100ms"))),
            new Workload("throughput", "100 users, closed loop without pause, 64 B / 16 KiB / 256 KiB messages",
                    "Bulk transfer and RPC at full speed: every user sends its next message as soon as the echo is back. "
                            + "Message rate, bandwidth and the server CPU each costs.",
                    "throughput", (e, name) -> e.perVariant(name, e.profile.messageSizes.stream()
                            .map(size -> e.step(ReportTables.bytes(size), e.measure(),
                                    "--users", "100", "--size", Integer.toString(size), "--interval", "0"))
                            .toArray(Plan.Step[]::new))),
            new Workload("rate-sweep", "open loop at rising offered rates until p99 exceeds the SLO or errors appear",
                    "A service facing a given request rate whatever its speed (open loop, latency from the intended send "
                            + "time, so queueing is not hidden): the highest rate each variant sustains within the SLO "
                            + "(p99 ≤ " + Cli.formatNanos(SWEEP_SLO_P99.toNanos()) + ", no errors) and its latency-vs-throughput curve.",
                    "sweep", (e, name) -> e.untilSlo(e.perVariant(name, e.profile.sweepRates.stream()
                            .map(rate -> e.step(rate + " msg/s", e.sweepStep(),
                                    "--users", "100", "--size", "64", "--rate", Integer.toString(rate)))
                            .toArray(Plan.Step[]::new)))),
            new Workload("handler-work", "per-message work in the handler (the profile's: sleep:5ms, cpu:50us); Netty on the event loop and with --offload",
                    "A handler that computes (cpu:50us per message) or waits on something slow, such as a database "
                            + "(sleep:5ms): thread-per-connection models block their own thread, an event loop blocks "
                            + "every connection it serves unless the work is offloaded to another executor.",
                    "work", Experiment::handlerWorkPlans),
            new Workload("scaling", "the server on 1, 2, 4, ... cores up to half the machine, TcpLoad on the rest: ping-pong and the seed's rate, scaled",
                    "The many-core question: does a model's lead hold when the server may spread over more cores? Ping-pong "
                            + "(100 users × 16 B per server core) and the seed workload as an open loop at 10,000 msg/s per server "
                            + "core; TcpLoad on the other cores with one event loop per core. A 2-core machine runs only the 1-core point.",
                    "scaling", Experiment::scalingPlans),
            new Workload("churn", "connect, echo once, close, repeat (10 concurrent users)",
                    "Short-lived connections (HTTP/1.0-style clients, health checks): the cost of accepting and tearing "
                            + "down a connection in each model.",
                    "churn", (e, name) -> e.perVariant(name, e.step("", e.measure(), "--churn", "--users", "10", "--message", "hello"))));

    // ---- command line ----------------------------------------------------------------------------------------------

    @Option(names = "--profile", description = "smoke | quick | full (default: ${DEFAULT-VALUE})", defaultValue = "quick")
    Profile profile;

    @Option(names = "--variants", split = ",", paramLabel = "NAME", description = "variants to run (default: the profile's; see --list)")
    List<String> variantNames;

    @Option(names = "--workloads", split = ",", paramLabel = "NAME", description = "workloads to run (default: the profile's; see --list)")
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

    @Option(names = "--placement", split = ",", paramLabel = "pinned|shared", description = "pinned: servers and TcpLoad on "
            + "their own CPUs (default); shared: both unpinned on all cores, as the seed ran; pinned,shared: both, side by side")
    List<String> placementNames;

    @Option(names = "--keep-jfr", description = "keep the servers' .jfr recordings (deleted after analysis by default)")
    boolean keepJfr;

    @Option(names = "--list", description = "list the workloads and variants and exit")
    boolean list;

    @Option(names = "--report-from", paramLabel = "DIR", description = "rewrite DIR/report.md and DIR/charts from DIR/data.json(.gz) "
            + "of an earlier series, running nothing, and exit")
    Path reportFrom;

    static String[] commandLineArgs = new String[0];

    public static void main(String[] args) {
        commandLineArgs = args;
        System.exit(Cli.run(new Experiment(), args));
    }

    // ---- the series: plan → run → analyse → report -----------------------------------------------------------------

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private final ReportModel.Experiment data = new ReportModel.Experiment();
    private SeriesReport report;
    private List<Plan.Variant> variants;
    private List<String> placements = PINNED;
    private Map<String, Path> binaries = Map.of();
    private int idleConnections;
    private RecordingAnalysis analysis;
    private volatile boolean interrupted, finished;

    @Override
    public Integer call() throws Exception {
        if (list) {
            printList();
            return 0;
        }
        if (reportFrom != null) {
            System.out.println("report: " + ReportWriter.rewrite(reportFrom));
            return 0;
        }
        variants = new ArrayList<>(Cli.select(variantNames == null ? profile.variants : variantNames, VARIANTS, Plan.Variant::name, "--variants", "variant"));
        List<Workload> selected = Cli.select(workloadNames != null ? workloadNames : profile.workloads, workloads, Workload::name,
                "--workloads", "workload");
        placements = Cli.select(placementNames != null ? placementNames : profile.placements, List.of("pinned", "shared"), p -> p,
                "--placement", "placement");
        if (placements.contains("shared") && (serverCpus != null || loadCpus != null)) {
            throw new Cli.UserError(2, "--placement shared runs unpinned: it does not go with --server-cpus/--load-cpus");
        }
        if (trialsOption != null && trialsOption < 1) throw new Cli.UserError(2, "--trials must be at least 1");
        if (durationOption != null && durationOption.toMillis() < 500) throw new Cli.UserError(2, "--duration must be at least 500ms");
        CpuPlacement placement = CpuPlacement.choose(serverCpus, loadCpus);
        if (out == null) out = Path.of("results", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Cli.createFolder("--out", out);
        describeEnvironment(placement);
        idleConnections = fitToOpenFiles(profile.idleConnections, selected);
        if (workloadNames == null && profile.workloads != null) {
            LEFT_OUT.keySet().stream().filter(w -> !profile.workloads.contains(w)).sorted().forEach(w -> data.notes.add(leftOut(w)));
        }
        List<String> references = variants.stream().filter(v -> !v.isJvm()).map(Plan.Variant::name).toList();
        if (variantNames == null && profile.referencesIn != null && !references.isEmpty()
                && selected.stream().anyMatch(w -> !profile.referencesIn.contains(w.name()))) {
            data.notes.add("the reference servers (" + String.join(", ", references) + ") ran in " + String.join(" and ",
                    profile.referencesIn.stream().sorted().toList()) + " only: the " + profile.name() + " profile keeps them where"
                    + " they answer the seed's question and set the floor (`--variants` runs every variant it names in every workload).");
        }
        ServerRun runner = build(placement);
        List<Plan.Run> plans = plan(selected);
        ChartWriter.prepare();
        report = new SeriesReport(out, data);
        Runtime.getRuntime().addShutdownHook(new Thread(this::onInterrupt, "experiment-interrupted"));
        Path written;
        try {
            measureCeiling(runner, "before");
            run(plans, runner);
            // a second ceiling guards several trials' generator-bound marks against one busy moment; one trial is indicative
            if (!interrupted && trials() > 1) measureCeiling(runner, "after");
            data.complete = !interrupted;
            written = report.write();
        } finally {
            finished = true; // from here on an exit is not an interruption (an error ends the run with its own line)
        }
        long failed = data.workloads.stream().flatMap(w -> w.runs.stream()).filter(r -> r.status.equals("failed")).count();
        System.err.println();
        System.out.println("report: " + written + (failed > 0 ? " (" + failed + " runs failed: see the report)" : ""));
        return 0;
    }

    /** Builds every script and reference server once, so no measured run pays for it; drops the variants unavailable here. */
    private ServerRun build(CpuPlacement placement) throws Exception {
        SeriesBuild build = SeriesBuild.of(ROOT, variants, data);
        binaries = build.binaries();
        analysis = new RecordingAnalysis(build.launches().get("analyze-jfr.java"), ROOT, out, keepJfr);
        ServerRun runner = new ServerRun(ROOT, out, build.launches(), binaries, placement, SERVER_JVM_OPTIONS, trials() > 1);
        runner.dropUnavailable(variants, data.skippedVariants);
        if (variants.isEmpty()) throw new Cli.UserError(1, "no selected variant is available here: " + data.skippedVariants.values());
        return runner;
    }

    private List<Plan.Run> plan(List<Workload> selected) {
        List<Plan.Run> plans = new ArrayList<>();
        for (Workload workload : selected) {
            ReportModel.Workload section = new ReportModel.Workload();
            section.name = workload.name();
            section.title = workload.summary();
            section.models = workload.models();
            section.table = workload.table();
            data.workloads.add(section);
            List<Plan.Run> workloadPlans = workload.plans().plan(this, workload.name());
            section.parameters = Plan.describe(workloadPlans, trials());
            plans.addAll(workloadPlans);
        }
        SeriesProgress.line(String.format(Locale.ROOT, "plan: %d server runs, %d load steps, estimated %s", plans.size(),
                plans.stream().mapToInt(r -> r.steps().size()).sum(), SeriesProgress.clock(estimatedSeconds(plans))));
        return plans;
    }

    private void run(List<Plan.Run> plans, ServerRun runner) throws Exception {
        SeriesProgress progress = new SeriesProgress(estimatedSeconds(plans));
        for (int i = 0; i < plans.size() && !interrupted; i++) {
            Plan.Run plan = plans.get(i);
            progress.starting(String.format(Locale.ROOT, "step %d of %d · %s · %s%s%s", i + 1, plans.size(), plan.workload(),
                    plan.label(), plan.setting().isEmpty() ? "" : " · " + plan.setting(),
                    plan.recorded() ? " · recorded" : trials() > 1 ? " · trial " + plan.trial() : ""));
            ReportModel.Workload section = section(plan.workload());
            ReportModel.Run run = runner.execute(plan);
            run.sequence = i + 1;
            report.add(section, run);
            progress.finished(plan.plannedSeconds());
            boolean lastOfWorkload = i + 1 == plans.size() || !plans.get(i + 1).workload().equals(plan.workload());
            if (lastOfWorkload && !interrupted) {
                analyse(section);
                progress.finished(analysisSeconds(plans, plan.workload()));
                report.write();
            }
        }
    }

    /**
     * TcpLoad against c-epoll, the cheapest server there is: ping-pong and the seed workload, what the generator can
     * drive at all. Before the workloads and, with more than one trial, after them, so one busy moment on the machine
     * does not set it.
     */
    private void measureCeiling(ServerRun runner, String when) throws Exception {
        Plan.Variant floor = VARIANTS.stream().filter(v -> v.name().equals("c-epoll")).findFirst().orElseThrow();
        if (!binaries.containsKey(floor.name())) return;
        SeriesProgress.line("measuring the generator's ceiling against c-epoll (" + when + " the workloads) ...");
        data.generatorCeiling.add(runner.execute(new Plan.Run("generator-ceiling", floor, floor.name(), when, List.of(), List.of(
                step("ping-pong 100 × 16 B", measure(), "--users", "100", "--size", "16", "--interval", "0"),
                step("seed 1,000 × 10 msg/s", seedDuration(), "--users", "1000", "--message", "hello", "--interval", "100ms")),
                1, null, false, null)));
    }

    private void analyse(ReportModel.Workload section) throws IOException {
        SeriesProgress.line("analysing the JFR recordings of " + section.name + " ...");
        analysis.analyse(section, flameGraphs(section.name));
    }

    /** Ctrl-C: every process the series started is stopped, and the report keeps what finished. */
    private void onInterrupt() {
        if (finished) return;
        interrupted = true;
        report.interrupted(analysis);
    }

    // ---- plans: what each workload runs ----------------------------------------------------------------------------

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

    Plan.Step step(String label, Duration measure, String... loadArgs) {
        return new Plan.Step(label, List.of(loadArgs), profile.warmup, profile.warmupMax, measure, false);
    }

    /** A step after the measured one: the same connections opened again, and the server's live heap read with all open. */
    Plan.Step liveHeapProbe(String... loadArgs) {
        return new Plan.Step("live heap", List.of(loadArgs), profile.warmup, profile.warmupMax, Duration.ofSeconds(2), true);
    }

    /**
     * Every selected variant in every trial. The first step warms the fresh server up; the later ones, against the
     * same warm server, only settle.
     */
    List<Plan.Run> perVariant(String workload, Plan.Step... steps) {
        List<Plan.Step> warmOnce = new ArrayList<>(List.of(steps[0]));
        Arrays.stream(steps).skip(1).forEach(s -> warmOnce.add(s.withWarmup(profile.settle)));
        return interleaved(workload, variantsOf(workload).stream().map(v -> new Trials.Row(v, v.name(), "", List.of())).toList(), warmOnce, null);
    }

    /**
     * The selected variants, where a profile chose them the first Netty one standing for its other transports outside
     * {@link #TRANSPORT_WORKLOADS} (Netty rows with settings of their own stay), and the reference servers only in the
     * profile's {@code referencesIn}.
     */
    List<Plan.Variant> variantsOf(String workload) {
        if (variantNames != null) return variants;
        List<Plan.Variant> chosen = TRANSPORT_WORKLOADS.contains(workload) ? variants : Plan.oneNettyTransport(variants);
        if (profile.referencesIn == null || profile.referencesIn.contains(workload)) return chosen;
        return chosen.stream().filter(Plan.Variant::isJvm).toList();
    }

    /** Each row in every trial, rotated, and in each placement; then the recorded trial where the profile records it. */
    List<Plan.Run> interleaved(String workload, List<Trials.Row> rows, List<Plan.Step> steps, Duration sloP99) {
        boolean recorded = profile.recorded == null || profile.recorded.contains(workload);
        return new Trials(trials(), placements, recorded).plan(workload, rows, steps, sloP99);
    }

    /** The same runs, each stopping at its first step past the sweep's SLO. */
    static List<Plan.Run> untilSlo(List<Plan.Run> plans) {
        return plans.stream().map(p -> new Plan.Run(p.workload(), p.variant(), p.label(), p.setting(), p.serverArgs(),
                p.steps(), p.trial(), SWEEP_SLO_P99, p.recorded(), p.cpus())).toList();
    }

    /**
     * Each work spec of the profile against every Java variant (the reference servers have no --work), plus Netty with
     * --offload. Offload runs on the first Netty variant selected only: the question it answers (event loop or
     * executor) does not depend on the transport.
     */
    List<Plan.Run> handlerWorkPlans(String workload) {
        List<Plan.Step> steps = List.of(step("", measure(), "--users", "100", "--message", "hello", "--interval", "10ms"));
        Plan.Variant offloaded = Plan.firstNetty(variants);
        List<Trials.Row> rows = new ArrayList<>();
        for (String work : profile.handlerWork) {
            for (Plan.Variant variant : variantsOf(workload)) {
                if (variant.isJvm()) rows.add(new Trials.Row(variant, variant.name(), work, List.of("--work", work)));
            }
            if (offloaded != null) rows.add(new Trials.Row(offloaded, offloaded.name() + " + offload", work, List.of("--work", work, "--offload")));
        }
        return interleaved(workload, rows, steps, null);
    }

    /**
     * Each scaling point (its own CPU sets) against every variant, with steps scaled to its server cores. A profile that
     * lists the workload leaves a single point out ({@link #LEFT_OUT}); --workloads scaling, or a profile of all, runs it.
     */
    List<Plan.Run> scalingPlans(String workload) {
        List<Plan.Run> plans = new ArrayList<>();
        List<ScalingPlan.Point> points = ScalingPlan.points(List.copyOf(CpuPlacement.onlineCpus()));
        if (points.size() == 1 && workloadNames == null && profile.workloads != null) {
            data.notes.add(leftOut(workload));
            return plans;
        }
        for (ScalingPlan.Point point : points) {
            int k = point.serverCores();
            // of several processes, each gets one thread per CPU of its own set (LoadStep), and its share of the users and rate
            String threads = Integer.toString(point.threads().get(0));
            CpuPlacement cpus = CpuPlacement.of(point.serverCpus(), point.loadCpuSets());
            List<Trials.Row> rows = variants.stream().map(v -> new Trials.Row(v, v.name(), k + (k == 1 ? " core" : " cores"), List.of(), cpus)).toList();
            List<Plan.Step> steps = List.of(
                    step("ping-pong", measure(), "--users", Integer.toString(100 * k), "--size", "16", "--interval", "0", "--threads", threads),
                    step("seed rate", measure(), "--users", Integer.toString(1000 * k), "--message", "hello",
                            "--rate", Integer.toString(10_000 * k), "--threads", threads).withWarmup(profile.settle));
            plans.addAll(interleaved(workload, rows, steps, null));
        }
        return plans;
    }

    /** The plan's wall time: its runs, and one analysis per workload (see {@link Plan#RUN_OVERHEAD_SECONDS}). */
    double estimatedSeconds(List<Plan.Run> plans) {
        return plans.stream().mapToDouble(Plan.Run::plannedSeconds).sum()
                + plans.stream().map(Plan.Run::workload).distinct().mapToDouble(w -> analysisSeconds(plans, w)).sum();
    }

    private double analysisSeconds(List<Plan.Run> plans, String workload) {
        long recordings = plans.stream().filter(p -> p.workload().equals(workload) && p.recorded()).count();
        return Plan.ANALYSIS_SECONDS + Plan.PER_RECORDING_SECONDS * recordings * (flameGraphs(workload) ? 2 : 1);
    }

    private boolean flameGraphs(String workload) {
        return switch (profile.flameGraphs) {
            case none -> false;
            case cpuBound -> CPU_BOUND.contains(workload);
            case all -> true;
        };
    }

    private String leftOut(String workload) {
        return "not in this run: " + workload + ", because " + LEFT_OUT.get(workload) + " (`--workloads " + workload + "` runs it).";
    }

    private ReportModel.Workload section(String name) {
        return data.workloads.stream().filter(w -> w.name.equals(name)).findFirst().orElseThrow();
    }

    // ---- what the report says about the series ---------------------------------------------------------------------

    private void describeEnvironment(CpuPlacement placement) throws IOException {
        ReportModel.Environment env = data.environment;
        env.date = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        env.command = "./jbang Experiment.java" + Arrays.stream(commandLineArgs).map(Cli::shellQuote)
                .map(a -> " " + a).collect(Collectors.joining());
        env.profile = profile.name();
        MachineFacts.describe(env, ROOT);
        env.pinned = placement.pinned();
        env.pinning = placements.equals(List.of("shared")) ? "none (--placement shared); only the generator's ceiling ran pinned ("
                + placement.description() + ")" : placement.description();
        env.placement = String.join(", ", placements) + (placements.contains("shared") ? " (shared: server and TcpLoad unpinned on all "
                + Runtime.getRuntime().availableProcessors() + " cores, so carriers, event loops and GOMAXPROCS follow the core count)" : "");
        if (placement.note() != null) data.notes.add(placement.note());
        env.serverJvmOptions = SERVER_JVM_OPTIONS;
        env.serverJvmOptionsWhy = "Identical for every Java server (the reference servers go-net and c-epoll are not JVMs: "
                + "JVM options, JFR recording and --work do not apply to them). Serial GC because each server is pinned to one core, where "
                + "the JVM's ergonomics picks Serial anyway (stated so an unpinned run keeps it); a 32 MiB initial heap growing "
                + "up to 1 GiB so RSS shows what each model touches rather than a pre-sized young generation; 1 GiB holds "
                + "19,000 connections' buffers in any model.";
        env.trials = trials();
        env.durations = "warm-up at least " + seconds(profile.warmup) + " (later steps of the same server: " + seconds(profile.settle)
                + ") and until steady, at most " + seconds(profile.warmupMax) + "; measured: seed-echo " + seconds(seedDuration())
                + ", rate-sweep steps " + seconds(sweepStep()) + ", others " + seconds(measure());
    }

    /** Both ends of every idle connection hold a file each: the limit caps how many the idle workload can open. */
    private int fitToOpenFiles(int wanted, List<Workload> selected) {
        int fitted = MachineFacts.fitToOpenFiles(wanted, data.environment.openFilesLimit);
        if (fitted < wanted && selected.stream().anyMatch(w -> w.name().equals("idle"))) {
            data.notes.add(String.format(Locale.ROOT, "idle: scaled down from %,d to %,d connections: the open-files limit is %d "
                    + "(ulimit -n) and each process needs %d files of its own.", wanted, fitted, data.environment.openFilesLimit,
                    MachineFacts.OWN_FILES));
        }
        return fitted;
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
            planner.variants = Cli.select(p.variants, VARIANTS, Plan.Variant::name, "--profile", "variant");
            planner.idleConnections = p.idleConnections;
            planner.placements = p.placements;
            List<Plan.Run> plans = planner.workloads.stream().filter(w -> p.workloads == null || p.workloads.contains(w.name()))
                    .flatMap(w -> w.plans().plan(planner, w.name()).stream()).toList();
            System.out.printf(Locale.ROOT, "  %-8s ~%s: %d trial(s), %d server runs, %d load steps, warm-up %s, measured %s per step"
                            + " (seed-echo %s, rate-sweep %s), variants %s%s%n", p.name(), SeriesProgress.clock(planner.estimatedSeconds(plans)),
                    p.trials, plans.size(), plans.stream().mapToInt(r -> r.steps().size()).sum(), p.warmup.toMillis() + "ms",
                    p.measure.toMillis() + "ms", p.seedDuration.toMillis() + "ms", p.sweepStep.toMillis() + "ms", String.join(", ", p.variants),
                    (p.workloads == null ? "" : "; workloads " + String.join(", ", p.workloads))
                            + (p.placements.equals(PINNED) ? "" : "; placements " + String.join(" and ", p.placements) + ", side by side"));
        }
    }

    private static String seconds(Duration d) {
        return Cli.formatNanos(d.toNanos());
    }
}
