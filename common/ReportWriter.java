import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

/**
 * Turns an experiment's data into {@code report.md}, {@code data.json} and the PNG charts beside them. Every figure
 * in the report is computed here from the data; nothing is typed in except the seed's own Go figures, quoted as such.
 */
final class ReportWriter {
    private final Path out;
    private final ReportModel.Experiment data;
    private final ReportCharts charts;
    private final StringBuilder md = new StringBuilder();

    ReportWriter(Path out, ReportModel.Experiment data) {
        this.out = out;
        this.data = data;
        this.charts = new ReportCharts(new ChartWriter(out.resolve("charts")));
    }

    /** Writes everything and returns the report's path. */
    Path write() throws IOException {
        Files.writeString(out.resolve("data.json"), new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                .create().toJson(data));
        return report();
    }

    /**
     * Rewrites {@code report.md} and the charts of a finished series from its {@code data.json} (or {@code data.json.gz}),
     * so a change to the report needs no new run; the data stays as it is.
     */
    static Path rewrite(Path dir) throws IOException {
        Path json = dir.resolve("data.json"), gz = dir.resolve("data.json.gz");
        if (!Files.exists(json) && !Files.exists(gz)) throw new Cli.UserError(2, "--report-from: no data.json(.gz) in " + dir);
        try (Reader reader = Files.exists(json) ? Files.newBufferedReader(json)
                : new InputStreamReader(new GZIPInputStream(Files.newInputStream(gz)), StandardCharsets.UTF_8)) {
            return new ReportWriter(dir, new Gson().fromJson(reader, ReportModel.Experiment.class)).report();
        }
    }

    private Path report() throws IOException {
        String cpuPerThousand = charts.cpuPerThousandMessages(data); // first, so the header links it only where it has charts
        header(!cpuPerThousand.isEmpty());
        for (ReportModel.Workload workload : data.workloads) {
            if (!workload.runs.isEmpty()) section(workload);
        }
        md.append(cpuPerThousand);
        Path report = out.resolve("report.md");
        Files.writeString(report, md);
        return report;
    }

    // ---- header --------------------------------------------------------------------------------------------------

    private void header(boolean cpuPerThousand) {
        ReportModel.Environment env = data.environment;
        md.append("# Virtual threads vs event loop for TCP servers: experiment report\n\n");
        if (!data.complete) md.append("> **Partial report**: the series has not finished (or was interrupted); the sections below hold the runs that finished.\n\n");
        md.append("Each server variant ran in its own process (a Java server with the java command line `./jbang info tools` "
                + "resolves for its script), without any recorder in the measured trials: JFR ran only in the separate, labelled "
                + "recorded trials, whose figures stay out of every table and chart. Each step warmed up until the server's and "
                + "TcpLoad's JIT compilers were quiet and the rate had stopped rising (or a cap, then marked not steady); ")
                .append(env.pinned ? "servers and TcpLoad (another process) pinned to separate cores with taskset. "
                        : "TcpLoad ran in another process, not pinned: it shared the servers' cores (see Pinning). ")
                .append(generatorTransports())
                .append("Server CPU (user + system), RSS, threads and open files come from `/proc` every second; latencies "
                        + "from TcpLoad's HdrHistogram (µs resolution). ")
                .append(env.trials > 1 ? "Each figure is the median of " + env.trials + " trials, with min–max in brackets; each trial ran "
                        + "the variants in an order rotated by one place.\n\n" : "One trial per run.\n\n");
        md.append("## Environment\n\n| | |\n|---|---|\n");
        row("Date", env.date);
        row("Command", "`" + env.command + "`");
        row("Commit", env.commit);
        row("Profile", env.profile + " (" + env.durations + "; trials " + env.trials + ")");
        row("CPU", env.cpuModel + ", " + env.cores + " cores");
        row("Kernel", "Linux " + env.kernel);
        row("JDK", env.jdk);
        row("Launch", env.launch);
        row("Netty", env.nettyVersion + "; transports: " + transports());
        row("Pinning", env.pinning);
        row("Placement", env.placement);
        row("Open-files limit", Long.toString(env.openFilesLimit));
        row("Server JVM options", "`" + String.join(" ", env.serverJvmOptions) + "`: " + env.serverJvmOptionsWhy);
        md.append('\n');
        List<String> notes = new ArrayList<>(data.notes);
        data.skippedVariants.forEach((variant, why) -> notes.add("**" + variant + " skipped**: not available on this machine (`" + why + "`)."));
        notes.addAll(skippedRuns());
        if (!notes.isEmpty()) {
            md.append("**Notes**\n\n");
            notes.forEach(n -> md.append("- ").append(n).append('\n'));
            md.append('\n');
        }
        variantsTable();
        generatorCeiling();
        md.append(ReportFindings.markdown(data, ceiling(), this::rankable));
        // a workload without runs has no section (a profile left it out, or the series stopped first): named, not linked
        md.append("**Workloads**: ").append(data.workloads.stream().map(w -> w.runs.isEmpty() ? w.name + " (not run: see the notes)"
                        : "[" + w.name + "](#" + w.name + ")").collect(Collectors.joining(" · ")))
                .append(cpuPerThousand ? " · [CPU per 1,000 messages](#cpu-per-1000-messages)" : "").append("\n\n");
    }

    /** Which I/O transport TcpLoad's event loop used, by how many steps; empty for data from before it said so. */
    private String generatorTransports() {
        Map<String, Integer> steps = new TreeMap<>();
        for (ReportModel.Workload workload : data.workloads) {
            for (ReportModel.Run run : workload.runs) {
                for (ReportModel.Step step : run.steps) {
                    JsonElement transport = step.load == null || !step.load.has("config") ? null : step.load.getAsJsonObject("config").get("transport");
                    if (transport != null) steps.merge(transport.getAsString(), 1, Integer::sum);
                }
            }
        }
        if (steps.isEmpty()) return "";
        List<String> parts = new ArrayList<>();
        steps.forEach((transport, count) -> parts.add(transport + " in " + count + (count == 1 ? " step" : " steps")));
        return "TcpLoad's event loop ran on " + String.join(", ", parts) + " (its `--transport auto`: io_uring for closed loops "
                + "without pause, where it drives the most echoes from one core, epoll for paced sends, which it sends sooner on time). ";
    }

    /** TcpLoad's ping-pong rate against the C floor in this series, the higher of its measurements; NaN when not measured. */
    private double ceiling() {
        return data.generatorCeiling.stream().filter(r -> !r.steps.isEmpty() && r.steps.get(0).load != null)
                .mapToDouble(r -> new ReportTables.Cell(r, r.steps.get(0)).summary("throughput", "msgPerSec")).max().orElse(Double.NaN);
    }

    /** What the generator can drive at all: TcpLoad against c-epoll, the cheapest server there is, around the workloads. */
    private void generatorCeiling() {
        if (data.generatorCeiling.isEmpty()) return;
        String when = data.generatorCeiling.stream().map(r -> r.setting).collect(Collectors.joining(" and "));
        md.append("**The generator's ceiling** (TcpLoad against c-epoll, the C floor, ").append(when).append(" the workloads):\n\n");
        for (ReportModel.Run run : data.generatorCeiling) {
            List<String> parts = new ArrayList<>();
            for (ReportModel.Step step : run.steps) {
                if (step.load == null) {
                    parts.add(step.label + ": no result (TcpLoad exited " + step.exitCode + ")");
                    continue;
                }
                ReportTables.Cell cell = new ReportTables.Cell(run, step);
                parts.add(String.format(Locale.ROOT, "%s: %s msg/s, p50 %s, p99 %s, TcpLoad at %.0f%% of its core, server at %.0f%%",
                        step.label, ReportTables.integer(cell.summary("throughput", "msgPerSec")), ReportTables.micros(cell.summary("latencyUs", "p50")),
                        ReportTables.micros(cell.summary("latencyUs", "p99")), cell.summary("generator", "cpuPercentOfCore"),
                        100 * cell.cpuSeconds() / step.measuredSeconds));
            }
            md.append("- ").append(run.setting).append(": ").append(String.join("; ", parts)).append('\n');
        }
        md.append("\nThroughput rows give their rate as a share of the higher ping-pong figure; a row within 10% of it is marked "
                + "generator-bound: its rate is TcpLoad's limit, not the server's.\n\n");
    }

    /** Runs not started because of an earlier run's failure, grouped by that failure: one note each. */
    private List<String> skippedRuns() {
        Map<String, List<String>> byCause = new LinkedHashMap<>();
        for (ReportModel.Workload workload : data.workloads) {
            for (ReportModel.Run run : workload.runs) {
                if (!run.status.equals("skipped")) continue;
                byCause.computeIfAbsent(run.failure, k -> new ArrayList<>()).add(workload.name + " (" + run.label
                        + (run.setting.isEmpty() ? "" : " · " + run.setting) + (run.trial > 1 ? ", trial " + run.trial : "") + ")");
            }
        }
        List<String> notes = new ArrayList<>();
        byCause.forEach((cause, runs) -> notes.add("**Skipped runs** because " + cause + ": " + String.join(", ", runs) + "."));
        return notes;
    }

    private void row(String key, String value) {
        md.append("| ").append(key).append(" | ").append(value == null ? "" : value.replace("|", "\\|")).append(" |\n");
    }

    private String transports() {
        return data.workloads.stream().flatMap(w -> w.runs.stream()).map(r -> r.ready.get("transport"))
                .filter(Objects::nonNull).distinct().collect(Collectors.joining(", "));
    }

    /** What each variant's READY line said about itself (threads, carriers, transport...), from its first run. */
    private void variantsTable() {
        Map<String, ReportModel.Run> first = new LinkedHashMap<>();
        data.workloads.stream().flatMap(w -> w.runs.stream()).filter(r -> !r.ready.isEmpty())
                .forEach(r -> first.putIfAbsent(r.variant, r));
        if (first.isEmpty()) return;
        md.append("**Variants** (as each server described itself in its READY line)\n\n| variant | ready line | idle RSS | idle threads |\n|---|---|---|---|\n");
        first.forEach((variant, run) -> md.append("| ").append(variant).append(" | `").append(run.ready.entrySet().stream()
                        .filter(e -> !e.getKey().equals("pid")).map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")))
                .append("` | ").append(run.idle == null ? "" : ReportTables.mib(run.idle.rssKiB())).append(" | ")
                .append(run.idle == null ? "" : run.idle.threads()).append(" |\n"));
        md.append('\n');
    }

    // ---- one workload ----------------------------------------------------------------------------------------------

    private void section(ReportModel.Workload workload) throws IOException {
        md.append("<a id=\"").append(workload.name).append("\"></a>\n## ").append(workload.name).append(": ")
                .append(workload.title).append("\n\n");
        md.append("**What it models.** ").append(workload.models).append("\n\n");
        md.append("**Parameters.** ").append(workload.parameters).append("\n\n");
        workload.notes.forEach(n -> md.append("> ").append(n).append("\n\n"));
        List<ReportTables.Row> rows = ReportTables.rows(workload);
        List<ReportTables.Column> columns = ReportTables.columns(workload.table, ceiling());
        table(rows, columns, workload.table.equals("seed"));
        if (workload.table.equals("seed")) md.append(ReportArrival.markdown(rows));
        if (workload.table.equals("sweep")) saturationTable(rows);
        warnings(rows);
        steadiness(rows);
        failures(workload);
        cpuSets(workload);
        md.append(charts.of(workload, rows));
        recordingCost(rows, ReportTables.rows(workload, true));
        jfr(workload);
    }

    /** The seed's own figures (Go on a Mac, its README): quoted beside seed-echo for reference only. */
    private static final List<String[]> SEED_GO_ROWS = List.of(
            new String[] {"Go net (seed, a Mac: reference only)", "98,728", "", "", "1.07 ms", "2.37 ms", "3.23 ms", "5.29 ms"},
            new String[] {"Go netpoll (seed, a Mac: reference only)", "97,227", "", "", "1.81 ms", "3.98 ms", "5.23 ms", "7.49 ms"});

    /**
     * Which rows of a table with these columns may lead in a column: a row the generator limited (a warning, or
     * generator-bound) only in the figures read from the server's /proc, which TcpLoad's rate and timing do not set.
     */
    private Function<ReportTables.Column, Predicate<ReportTables.Row>> rankable(List<ReportTables.Column> columns) {
        boolean ceilingColumn = columns.stream().anyMatch(c -> c.header().contains("ceiling"));
        return column -> r -> column.fromServer() || !warned(r) && !(ceilingColumn && ReportTables.generatorBound(r, ceiling()));
    }

    private void table(List<ReportTables.Row> rows, List<ReportTables.Column> columns, boolean withSeedRows) {
        boolean ceilingColumn = columns.stream().anyMatch(c -> c.header().contains("ceiling"));
        ReportRanking ranking = ReportRanking.of(rows, columns, rankable(columns));
        boolean steps = rows.stream().anyMatch(r -> !r.step().isEmpty());
        boolean settings = rows.stream().anyMatch(r -> !r.setting().isEmpty());
        md.append("| variant |").append(settings ? " setting |" : "").append(steps ? " step |" : "");
        columns.forEach(c -> md.append(' ').append(c.header()).append(" |"));
        md.append("\n|---|").append(settings ? "---|" : "").append(steps ? "---|" : "").append("---:|".repeat(columns.size())).append('\n');
        for (ReportTables.Row row : rows) {
            boolean generatorBound = ceilingColumn && ReportTables.generatorBound(row, ceiling());
            md.append("| ").append(row.label()).append(warned(row) ? " ⚠" : "").append(generatorBound ? " (generator-bound)" : "").append(" |");
            if (settings) md.append(' ').append(row.setting()).append(" |");
            if (steps) md.append(' ').append(row.step()).append(" |");
            if (row.cells().isEmpty()) {
                String status = row.runs().get(0).status.equals("ok") ? "no data" : row.runs().get(0).status;
                md.append(' ').append(status).append(" (see below) |").append(" |".repeat(columns.size() - 1)).append('\n');
                continue;
            }
            for (ReportTables.Column column : columns) {
                String figure = ReportTables.aggregate(row.cells(), column);
                md.append(' ').append(ranking.bold(row, column) ? "**" + figure + "**" : figure).append(" |");
            }
            md.append('\n');
        }
        if (withSeedRows) {
            for (String[] go : SEED_GO_ROWS) {
                md.append("| _").append(go[0]).append("_ |").append(settings ? " |" : "").append(steps ? " _" + ReportTables.CLOSED_LOOP + "_ |" : "");
                for (int i = 1; i <= columns.size(); i++) md.append(' ').append(i < go.length && !go[i].isEmpty() ? "_" + go[i] + "_" : "").append(" |");
                md.append('\n');
            }
            md.append("\n_The italic Go rows are the seed's published figures from a different machine (a Mac) and a closed-loop "
                    + "tool that neither counts connect errors nor corrects coordinated omission: a reference for shape, not a "
                    + "comparison. A `go-net` row above, where there is one, is Go's net package measured here, in this harness._\n");
        }
        md.append('\n');
        if (ceilingColumn) {
            List<String> above = rows.stream().filter(r -> ReportTables.median(r.cells(), c -> c.summary("throughput", "msgPerSec"))
                    > 1.1 * ceiling()).map(ReportTables.Row::name).toList();
            if (!above.isEmpty()) {
                md.append("⚠ ").append(String.join(", ", above)).append(" went more than 10% past the generator's ceiling: the "
                        + "ceiling was measured at a busier moment, so it is a lower bound and the generator-bound marks above "
                        + "may be too many.\n\n");
            }
        }
        if (!ranking.verdicts().isEmpty()) {
            md.append("**Separated or tie** (bold: a leader separated from the runner-up; ")
                    .append(Separation.BOOTSTRAP).append(" with ").append(Separation.MIN_TRIALS_FOR_BOOTSTRAP)
                    .append(" or more trials a row, min–max ranges below; rows marked ⚠ or generator-bound compete only in the server's own "
                            + "figures, CPU and memory, read from its /proc):\n\n");
            ranking.verdicts().forEach(v -> md.append("- ").append(v).append('\n'));
            md.append('\n');
        } else if (ranking.tooFewTrials()) {
            md.append("_No leader is named: with fewer than ").append(ReportRanking.MIN_TRIALS)
                    .append(" trials a row, a difference cannot be told from noise (run with --trials 3 or more)._\n\n");
        }
    }

    private static boolean warned(ReportTables.Row row) {
        return row.cells().stream().anyMatch(c -> !ReportTables.warnings(c).isEmpty());
    }

    private void warnings(List<ReportTables.Row> rows) {
        for (ReportTables.Row row : rows) {
            for (ReportTables.Cell cell : row.cells()) {
                for (String warning : ReportTables.warnings(cell)) {
                    md.append("⚠ **").append(row.name()).append(cell.run().trial > 1 ? " (trial " + cell.run().trial + ")" : "")
                            .append("**: ").append(warning).append(" — the figures in this row are the generator's limit, not the server's.\n\n");
                }
            }
        }
    }

    /** Saturation rate per variant: the highest offered rate within the SLO without errors. */
    private void saturationTable(List<ReportTables.Row> rows) {
        Map<String, List<ReportTables.Row>> byVariant = rows.stream().collect(Collectors.groupingBy(ReportTables.Row::label, LinkedHashMap::new, Collectors.toList()));
        md.append("| variant | saturation rate (highest offered msg/s within the SLO) | p99 there | first rate past the SLO |\n|---|---:|---:|---|\n");
        byVariant.forEach((variant, variantRows) -> {
            ReportTables.Row best = null, firstMiss = null;
            for (ReportTables.Row row : variantRows) {
                boolean ok = !row.cells().isEmpty() && row.cells().stream().allMatch(c -> Boolean.TRUE.equals(c.step().withinSlo));
                if (ok && firstMiss == null) best = row;
                if (!ok && firstMiss == null && !row.cells().isEmpty()) firstMiss = row;
            }
            md.append("| ").append(variant).append(" | ")
                    .append(best == null ? "below the lowest rate" : (firstMiss == null ? "≥ " : "") + best.step())
                    .append(" | ").append(best == null ? "–" : ReportTables.aggregate(best.cells(), ReportTables.latency("p99", "p99")))
                    .append(" | ").append(firstMiss == null ? "none reached" : firstMiss.step() + ": p99 " + ReportTables.aggregate(firstMiss.cells(), ReportTables.latency("p99", "p99"))
                            + ", failures " + ReportTables.aggregate(firstMiss.cells(), ReportTables.count("f", "failures")))
                    .append(" |\n");
        });
        md.append('\n');
    }

    /** How each row's warm-up ended: its median length, and the trials that hit the cap before the JIT was quiet. */
    private void steadiness(List<ReportTables.Row> rows) {
        List<String> parts = new ArrayList<>(), notSteady = new ArrayList<>();
        for (ReportTables.Row row : rows) {
            if (row.cells().isEmpty()) continue;
            parts.add(row.name() + " " + ReportTables.aggregate(row.cells(), new ReportTables.Column("", c -> c.step().warmupSeconds,
                    v -> String.format(Locale.ROOT, "%.1f s", v))));
            for (ReportTables.Cell cell : row.cells()) {
                if (!cell.step().steady) notSteady.add(row.name() + (cell.run().trial > 1 ? " (trial " + cell.run().trial + ")" : "")
                        + (cell.step().notSteadyReason == null ? "" : ": " + cell.step().notSteadyReason));
            }
        }
        if (parts.isEmpty()) return;
        md.append("**Warm-up** (until the server's and TcpLoad's JIT compilers were quiet and the rate stopped rising): ")
                .append(String.join("; ", parts)).append(". ");
        md.append(notSteady.isEmpty() ? "Every measured step was steady.\n\n"
                : "**Not steady** (the warm-up reached its cap; these figures may include JIT work): " + String.join("; ", notSteady) + ".\n\n");
    }

    /**
     * What recording cost in this very run: each row's recorded trial against the median of its unrecorded ones,
     * as server CPU per message and p99 (one recorded trial: a measurement of the recorder's bias, not a test of it).
     */
    private void recordingCost(List<ReportTables.Row> measured, List<ReportTables.Row> recorded) {
        List<String> lines = new ArrayList<>();
        for (ReportTables.Row row : recorded) {
            ReportTables.Row plain = measured.stream().filter(m -> m.name().equals(row.name())).findFirst().orElse(null);
            if (plain == null || plain.cells().isEmpty() || row.cells().isEmpty()) continue;
            double cpu = ReportTables.median(plain.cells(), c -> c.cpuSeconds() / c.received());
            double cpuRecorded = ReportTables.median(row.cells(), c -> c.cpuSeconds() / c.received());
            double p99 = ReportTables.median(plain.cells(), c -> c.summary("latencyUs", "p99"));
            double p99Recorded = ReportTables.median(row.cells(), c -> c.summary("latencyUs", "p99"));
            lines.add("| " + row.name() + " | " + Cli.formatNanos(cpu * 1e9) + " | " + Cli.formatNanos(cpuRecorded * 1e9) + " | "
                    + ratio(cpuRecorded, cpu) + " | " + ReportTables.micros(p99) + " | " + ReportTables.micros(p99Recorded) + " | "
                    + ratio(p99Recorded, p99) + " |");
        }
        if (lines.isEmpty()) return;
        md.append("**What recording cost here** (the recorded trial against the median of the unrecorded ones, same load):\n\n")
                .append("| row | server CPU per msg | with JFR | × | p99 | with JFR | × |\n|---|---:|---:|---:|---:|---:|---:|\n");
        lines.forEach(l -> md.append(l).append('\n'));
        md.append('\n');
    }

    private static String ratio(double with, double without) {
        return Double.isNaN(with / without) || Double.isInfinite(with / without) ? "–" : String.format(Locale.ROOT, "%.2f", with / without);
    }

    /** Where each setting's runs ran, when the runs of a workload have CPU sets of their own (scaling's points). */
    private void cpuSets(ReportModel.Workload workload) {
        if (!workload.table.equals("scaling")) return;
        Map<String, String> sets = new LinkedHashMap<>();
        workload.runs.forEach(r -> sets.putIfAbsent(r.setting, r.cpus));
        md.append("**CPU sets**: ").append(sets.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue())
                .collect(Collectors.joining("; "))).append(". ").append(Runtime.getRuntime().availableProcessors() < 4
                ? "With fewer than 4 cores only the 1-core point fits; a bigger machine adds points up to half its cores, "
                + "where the lines of the charts show whether a model's lead holds as the server spreads." : "").append("\n\n");
    }

    private void failures(ReportModel.Workload workload) {
        for (ReportModel.Run run : workload.runs) {
            if (run.status.equals("ok")) continue;
            md.append("**").append(run.label).append(run.setting.isEmpty() ? "" : " · " + run.setting)
                    .append(run.trial > 1 ? " (trial " + run.trial + ")" : "").append(": ").append(run.status).append("** — ")
                    .append(run.failure).append('\n');
            if (!run.serverLastLines.isEmpty()) {
                md.append("\n```\n").append(String.join("\n", run.serverLastLines)).append("\n```\n");
            }
            md.append('\n');
        }
        for (ReportModel.Run run : workload.runs) {
            for (ReportModel.Step step : run.steps) {
                if (step.load == null) {
                    md.append("**").append(run.label).append(run.setting.isEmpty() ? "" : " · " + run.setting)
                            .append(step.label.isEmpty() ? "" : " · " + step.label)
                            .append("**: TcpLoad exited ").append(step.exitCode).append(" without its JSON document:\n\n```\n")
                            .append(String.join("\n", step.loadLastLines)).append("\n```\n\n");
                }
            }
        }
    }

    private void jfr(ReportModel.Workload workload) {
        if (workload.jfrMarkdown == null && workload.flamegraphs.isEmpty()) return;
        md.append("### Inside the servers (JFR)\n\n");
        md.append("_From the recorded trial: each row's server ran once more with its JFR recording (`--jfr`, echo.jfc) under "
                + "the same load; none of its figures is in the tables or charts above._\n\n");
        if (workload.jfrMarkdown != null) md.append(workload.jfrMarkdown.strip()).append("\n\n");
        if (!workload.flamegraphs.isEmpty()) {
            md.append("Flame graphs (CPU samples): ").append(workload.flamegraphs.entrySet().stream()
                    .map(e -> "[" + e.getKey() + "](" + e.getValue() + ")").collect(Collectors.joining(" · "))).append("\n\n");
        }
    }
}
