import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The report's tables as data: a row per variant (and setting and step) holding the cells of all its trials, the
 * columns of each table layout and how each figure is computed from a cell, the median (min–max) of a column, and
 * the formats of its figures. {@link ReportWriter} lays them out as markdown and charts.
 */
final class ReportTables {
    private ReportTables() {}

    /** A table row: one variant (and setting and step) with the cells of all its trials. */
    record Row(String label, String setting, String step, List<ReportModel.Run> runs, List<Cell> cells) {
        String name() {
            return label + (setting.isEmpty() ? "" : " · " + setting) + (step.isEmpty() ? "" : " · " + step);
        }
    }

    /** One measured step of one trial. */
    record Cell(ReportModel.Run run, ReportModel.Step step) {
        JsonObject summary() {
            return step.load.getAsJsonObject("summary");
        }

        double summary(String... path) {
            JsonElement e = summary();
            for (String key : path) {
                if (e == null || !e.isJsonObject()) return Double.NaN;
                e = e.getAsJsonObject().get(key);
            }
            return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
        }

        double cpuSeconds() {
            return step.serverUserSeconds + step.serverSystemSeconds;
        }

        double received() {
            return summary("received");
        }

        /** The live heap added per open connection: the probe step's heap after a full GC above the idle server's. */
        double liveHeapPerConnectionKiB() {
            ReportModel.Step probe = run.steps.stream().filter(s -> s.probe && s.liveHeapKiB != null).findFirst().orElse(null);
            if (probe == null || run.idleLiveHeapKiB == null) return Double.NaN;
            return (probe.liveHeapKiB - run.idleLiveHeapKiB) / summary("connections", "peakOpen");
        }

        /** The server's context switches per message echoed (all its threads, voluntary and involuntary). */
        double serverSwitchesPerMessage() {
            return step.serverContextSwitches < 0 ? Double.NaN : step.serverContextSwitches / received();
        }
    }

    /** The seed workload's two arrival patterns, as seed-echo labels its steps. */
    static final String CLOSED_LOOP = "closed loop", OPEN_LOOP = "open loop 10,000 msg/s";

    /** The median over the trials, NaN when no trial has the figure. */
    static double median(List<Cell> cells, Function<Cell, Double> figure) {
        double[] values = values(cells, figure);
        if (values.length == 0) return Double.NaN;
        return values.length % 2 == 1 ? values[values.length / 2] : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
    }

    /** The figure of every trial that has one, sorted. */
    static double[] values(List<Cell> cells, Function<Cell, Double> figure) {
        return cells.stream().mapToDouble(c -> {
            Double v = figure.apply(c);
            return v == null ? Double.NaN : v;
        }).filter(v -> !Double.isNaN(v) && !Double.isInfinite(v)).sorted().toArray();
    }

    /** The measured rows: the unrecorded runs' measured steps (recorded runs and probe steps observe, they do not measure). */
    static List<Row> rows(ReportModel.Workload workload) {
        return rows(workload, false);
    }

    /** The rows of the recorded runs or of the measured ones, never both. */
    static List<Row> rows(ReportModel.Workload workload, boolean recorded) {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (ReportModel.Run run : workload.runs) {
            if (run.recorded != recorded) continue;
            List<ReportModel.Step> measured = run.steps.stream().filter(s -> !s.probe).toList();
            List<String> steps = measured.isEmpty() ? List.of("") : measured.stream().map(s -> s.label).toList();
            for (int i = 0; i < steps.size(); i++) {
                String key = run.label + "\u0000" + run.setting + "\u0000" + steps.get(i);
                String step = steps.get(i);
                Row row = rows.computeIfAbsent(key, k -> new Row(run.label, run.setting, step, new ArrayList<>(), new ArrayList<>()));
                row.runs.add(run);
                if (i < measured.size() && measured.get(i).load != null) row.cells.add(new Cell(run, measured.get(i)));
            }
        }
        return new ArrayList<>(rows.values());
    }

    /**
     * A column of a workload's table: its header and how to compute (and print) its figure from one cell.
     * {@code ranked}: which way is better, for the columns whose leader the report names (null: not compared).
     * {@code fromServer}: read from the server's /proc alone (CPU, memory), so it stays comparable where the
     * generator limited a row's rate or timing.
     */
    record Column(String header, Function<Cell, Double> value, Function<Double, String> format, Separation.Better ranked, boolean fromServer) {
        Column(String header, Function<Cell, Double> value, Function<Double, String> format) {
            this(header, value, format, null, false);
        }

        Column lowerIsBetter() {
            return new Column(header, value, format, Separation.Better.LOWER, fromServer);
        }

        Column higherIsBetter() {
            return new Column(header, value, format, Separation.Better.HIGHER, fromServer);
        }

        Column fromTheServer() {
            return new Column(header, value, format, ranked, true);
        }
    }

    static Column latency(String header, String key) {
        return new Column(header, c -> c.summary("latencyUs", key), ReportTables::micros);
    }

    static Column count(String header, String key) {
        return new Column(header, c -> c.summary(key), ReportTables::integer);
    }

    static final Column SERVER_CPU = new Column("server CPU", c -> 100 * c.cpuSeconds() / c.step.measuredSeconds,
            v -> String.format(Locale.ROOT, "%.0f%%", v)).fromTheServer();
    /** How much of the server's CPU was the kernel's (system time): socket calls and wake-ups against the model's own work. */
    static final Column KERNEL_SHARE = new Column("of it kernel", c -> 100 * c.step.serverSystemSeconds / c.cpuSeconds(),
            v -> String.format(Locale.ROOT, "%.0f%%", v));
    static final Column CPU_PER_1K = new Column("CPU per 1k msgs", c -> 1000 * c.cpuSeconds() / c.received(),
            v -> Cli.formatNanos(v * 1e9)).fromTheServer();
    static final Column RSS_PEAK = new Column("server RSS", c -> (double) c.step.serverRssPeakKiB, ReportTables::mib);
    static final Column THREADS_PEAK = new Column("threads", c -> (double) c.step.serverThreadsPeak, ReportTables::integer);
    /** Voluntary and involuntary switches of the server's threads, from /proc: wake-ups and preemptions per echo. */
    static final Column SWITCHES_PER_MSG = new Column("server ctx switches per msg", Cell::serverSwitchesPerMessage,
            v -> String.format(Locale.ROOT, "%.2f", v));
    static final Column MSG_PER_SEC = new Column("msg/s", c -> c.summary("throughput", "msgPerSec"), ReportTables::integer);

    /**
     * The columns of a table layout. {@code ceilingMsgPerSec}: TcpLoad's rate against the C floor in this series
     * (NaN when not measured); throughput rows give their rate as a share of it.
     */
    static List<Column> columns(String table, double ceilingMsgPerSec) {
        return switch (table) {
            case "seed" -> List.of(count("Sent", "sent"), count("Received", "received"), count("Failures", "failures"),
                    latency("Avg", "mean"), latency("p90", "p90"), latency("p95", "p95"), latency("p99", "p99").lowerIsBetter(),
                    latency("p99.9", "p999"), latency("max", "max"), SERVER_CPU.lowerIsBetter(), KERNEL_SHARE, SWITCHES_PER_MSG, RSS_PEAK, THREADS_PEAK);
            case "idle" -> List.of(
                    new Column("connections", c -> c.summary("connections", "peakOpen"), ReportTables::integer),
                    new Column("time to open all", c -> c.summary("connections", "timeToOpenAllMs") < 0 ? Double.NaN // not all opened
                            : c.summary("connections", "timeToOpenAllMs") * 1000, ReportTables::micros),
                    new Column("connect p99", c -> c.summary("connections", "connectLatencyUs", "p99"), ReportTables::micros),
                    new Column("idle RSS", c -> (double) c.run().idle.rssKiB(), ReportTables::mib),
                    new Column("RSS with all open", c -> (double) c.step.serverRssPeakKiB, ReportTables::mib),
                    new Column("RSS per connection", c -> (c.step.serverRssPeakKiB - c.run().idle.rssKiB())
                            / c.summary("connections", "peakOpen"), v -> String.format(Locale.ROOT, "%.1f KiB", v)).fromTheServer().lowerIsBetter(),
                    new Column("live heap per connection", Cell::liveHeapPerConnectionKiB, v -> String.format(Locale.ROOT, "%.2f KiB", v))
                            .fromTheServer().lowerIsBetter(),
                    new Column("threads idle", c -> (double) c.run().idle.threads(), ReportTables::integer),
                    THREADS_PEAK, latency("keepalive Avg", "mean"), latency("keepalive p99", "p99").lowerIsBetter(),
                    count("Failures", "failures"), SERVER_CPU.lowerIsBetter());
            case "throughput" -> List.of(MSG_PER_SEC.higherIsBetter(),
                    new Column("of the generator's ceiling", c -> c.summary("throughput", "msgPerSec") / ceilingMsgPerSec,
                            v -> String.format(Locale.ROOT, "%.0f%%", 100 * v)),
                    new Column("MB/s", c -> c.summary("throughput", "mbPerSec"), v -> String.format(Locale.ROOT, "%.1f", v)),
                    latency("p50", "p50"), latency("p99", "p99").lowerIsBetter(), count("Failures", "failures"), SERVER_CPU, KERNEL_SHARE,
                    new Column("CPU s per GB", c -> c.cpuSeconds() / (c.summary("throughput", "mbPerSec") * c.step.measuredSeconds / 1000),
                            v -> String.format(Locale.ROOT, "%.2f", v)), CPU_PER_1K.lowerIsBetter(), SWITCHES_PER_MSG, RSS_PEAK);
            case "sweep" -> List.of(new Column("offered msg/s", c -> c.step.load.getAsJsonObject("config").get("rate").getAsDouble(),
                            ReportTables::integer), MSG_PER_SEC, latency("p50", "p50"), latency("p99", "p99").lowerIsBetter(),
                    new Column("p99 uncorrected", c -> c.summary("uncorrectedLatencyUs", "p99"), ReportTables::micros),
                    count("Failures", "failures"), SERVER_CPU.lowerIsBetter(),
                    new Column("within SLO", c -> Boolean.TRUE.equals(c.step.withinSlo) ? 1.0 : 0.0, v -> v >= 0.5 ? "yes" : "**no**"));
            case "scaling" -> List.of(MSG_PER_SEC.higherIsBetter(), latency("p50", "p50"), latency("p99", "p99").lowerIsBetter(),
                    count("Failures", "failures"), SERVER_CPU, CPU_PER_1K.lowerIsBetter(),
                    new Column("TcpLoad CPU", c -> c.summary("generator", "cpuPercentOfCore"), v -> String.format(Locale.ROOT, "%.0f%%", v)));
            case "churn" -> List.of(new Column("connections/s", c -> c.received() / c.step.measuredSeconds, ReportTables::integer)
                            .higherIsBetter(), latency("echo Avg", "mean"), latency("echo p99", "p99").lowerIsBetter(),
                    new Column("connect p99", c -> c.summary("connections", "connectLatencyUs", "p99"), ReportTables::micros),
                    count("Failures", "failures"), SERVER_CPU, KERNEL_SHARE,
                    new Column("CPU per 1k connections", c -> 1000 * c.cpuSeconds() / c.received(), v -> Cli.formatNanos(v * 1e9))
                            .fromTheServer().lowerIsBetter());
            default -> List.of(MSG_PER_SEC, count("Sent", "sent"), count("Failures", "failures"), latency("Avg", "mean"),
                    latency("p50", "p50"), latency("p99", "p99").lowerIsBetter(), latency("p99.9", "p999"), latency("max", "max"),
                    SERVER_CPU, CPU_PER_1K.lowerIsBetter(), SWITCHES_PER_MSG, THREADS_PEAK);
        };
    }

    /** A row whose median rate is within 10% of the generator's ceiling measures TcpLoad, whatever TcpLoad's CPU said. */
    static boolean generatorBound(Row row, double ceilingMsgPerSec) {
        return median(row.cells(), c -> c.summary("throughput", "msgPerSec")) >= 0.9 * ceilingMsgPerSec;
    }

    /** The median of a column over the trials, with min–max when there is more than one. */
    static String aggregate(List<Cell> cells, Column column) {
        double[] values = values(cells, column.value);
        if (values.length == 0) return "–";
        String text = column.format.apply(median(cells, column.value));
        if (values.length > 1) text += " (" + column.format.apply(values[0]) + "–" + column.format.apply(values[values.length - 1]) + ")";
        return text;
    }

    /** TcpLoad's saturation warnings, from its output and its JSON. */
    static List<String> warnings(Cell cell) {
        List<String> all = new ArrayList<>(cell.step.warnings);
        JsonElement generator = cell.summary().get("generator");
        if (generator != null && generator.isJsonObject() && generator.getAsJsonObject().has("warnings")) {
            for (JsonElement w : generator.getAsJsonObject().getAsJsonArray("warnings")) {
                String text = w.getAsString();
                if (all.stream().noneMatch(line -> line.contains(text))) all.add(text);
            }
        }
        return all;
    }

    // ---- formats -----------------------------------------------------------------------------------------------

    static String micros(double us) {
        return Cli.formatNanos(us * 1000);
    }

    static String mib(double kib) {
        return String.format(Locale.ROOT, "%.1f MiB", kib / 1024);
    }

    static String integer(double value) {
        return String.format(Locale.ROOT, "%,d", Math.round(value));
    }

    /** "64 B", "16 KiB", "256 KiB". */
    static String bytes(long size) {
        if (size >= 1 << 20 && size % (1 << 20) == 0) return (size >> 20) + " MiB";
        if (size >= 1 << 10 && size % (1 << 10) == 0) return (size >> 10) + " KiB";
        return size + " B";
    }
}
