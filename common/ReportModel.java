import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an experiment run found, as plain data: written to {@code data.json} with Gson and read by the report and
 * chart writers. Field names are the JSON keys, so they say what they hold and in which unit.
 */
final class ReportModel {
    private ReportModel() {}

    /** The whole experiment: where it ran, what it ran, and a section per workload. */
    static final class Experiment {
        Environment environment = new Environment();
        List<String> notes = new ArrayList<>();
        Map<String, String> skippedVariants = new LinkedHashMap<>(); // variant -> the line that said it is unavailable here
        // TcpLoad against c-epoll before and after the workloads (ping-pong and the seed workload); null when not measured
        List<Run> generatorCeiling = new ArrayList<>();
        List<Workload> workloads = new ArrayList<>();
        boolean complete;
    }

    /** The machine and the settings every figure depends on. */
    static final class Environment {
        String date;
        String command;
        String commit;
        String profile;
        String cpuModel;
        int cores;
        String kernel;
        String jdk;
        String nettyVersion;
        String launch; // how servers and TcpLoad were started
        boolean pinned;
        String pinning;
        String placement; // the placements this series ran: "pinned", "shared" or "pinned, shared" side by side
        long openFilesLimit;
        List<String> serverJvmOptions;
        String serverJvmOptionsWhy;
        int trials;
        String durations;
    }

    /** One workload: what it models, its parameters, every run of it and the JFR views of its recordings. */
    static final class Workload {
        String name;
        String title;
        String models;
        String parameters;
        String table; // the name of the table layout the report uses for it
        List<String> notes = new ArrayList<>();
        List<Run> runs = new ArrayList<>();
        String jfrMarkdown;
        Map<String, String> flamegraphs = new LinkedHashMap<>(); // row label -> html file, relative to the report
    }

    /** One server process: a variant (or a variant with a setting, such as Netty with --offload) under one workload. */
    static final class Run {
        String variant;
        String label; // the row label: the variant, or e.g. "netty-epoll + offload"
        String setting; // e.g. the server's --work, or "" when the workload has a single setting
        int trial;
        int sequence; // its place in the series (1 = first run): trials interleave variants in rotated orders
        String placement; // pinned (server and TcpLoad on their own CPU sets) | shared (both unpinned on all cores) | unpinned
        String cpus; // where exactly, e.g. "server on CPU 0, TcpLoad on CPU 1 (taskset)"
        boolean recorded; // true: the JFR-recorded trial, analysed for the JFR views and kept out of every table and chart
        double warmupSeconds; // the warm-up its first step took to get steady (or to reach the cap)
        boolean steady; // every step's warm-up ended steady (JIT quiet, rate stable), not at the cap
        String status = "ok"; // ok | failed | skipped
        String failure;
        List<String> serverLastLines = new ArrayList<>();
        Map<String, String> ready = new LinkedHashMap<>();
        Map<String, String> stats = new LinkedHashMap<>();
        ProcSampler.Sample idle; // the server before any load: the base of every per-connection figure
        Long idleLiveHeapKiB; // heap used after a full GC before any load (JVM servers, idle workload only)
        List<Step> steps = new ArrayList<>();
        List<ProcSampler.Sample> samples = new ArrayList<>();
        String jfrFile;
    }

    /** One load-generator process against the run's server. */
    static final class Step {
        String label; // e.g. "64 B", "10000 msg/s", or "" when the run has a single step
        List<String> command;
        int exitCode;
        JsonObject load; // TcpLoad's --json document
        List<String> loadLastLines = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        double measuredSeconds;
        double serverUserSeconds; // CPU the server used during the measured window
        double serverSystemSeconds;
        long serverRssPeakKiB;
        int serverThreadsPeak;
        int serverOpenFilesPeak;
        Boolean withinSlo; // rate-sweep only
        double warmupSeconds; // TcpLoad's warm-up before this step's measured window
        boolean steady;
        String notSteadyReason;
        long serverContextSwitches = -1; // voluntary + involuntary, summed over the server's threads, in the window; -1 unread
        long loadContextSwitches = -1; // the same for the TcpLoad process
        boolean probe; // a step that observes the server (live heap): not a measurement, kept out of the tables
        Long liveHeapKiB; // probe steps: heap used after a full GC with every connection open
    }
}
