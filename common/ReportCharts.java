import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Which charts the report draws from a workload's rows, and the figures each plots; {@link ChartWriter} draws them.
 * Every trial shows: a line per trial, or a median with the trials' min–max.
 */
final class ReportCharts {
    private final ChartWriter charts;

    ReportCharts(ChartWriter charts) {
        this.charts = charts;
    }

    /** The charts of one workload's section, as markdown image lines. */
    String of(ReportModel.Workload workload, List<ReportTables.Row> rows) throws IOException {
        StringBuilder md = new StringBuilder();
        List<String> images = new ArrayList<>();
        if (workload.table.equals("scaling")) {
            images.addAll(scalingCharts(workload, rows));
        } else if (workload.table.equals("sweep")) {
            Function<ReportTables.Cell, Double> offered = c -> c.step().load.getAsJsonObject("config").get("rate").getAsDouble();
            images.add(charts.bands(workload.name + "-cost-curve", "Server CPU per message at each offered rate", "offered msg/s",
                    "server CPU µs per message", false, bands(rows, offered, c -> 1e6 * c.cpuSeconds() / c.received())));
            images.add(charts.bands(workload.name + "-latency-vs-rate", "p99 latency at each offered rate (open loop, corrected)",
                    "offered msg/s", "p99 latency (µs, log)", true, bands(rows, offered, c -> c.summary("latencyUs", "p99"))));
        } else {
            Map<String, List<ReportTables.Row>> groups = rows.stream().collect(Collectors.groupingBy(
                    r -> (r.setting() + " " + r.step()).trim(), LinkedHashMap::new, Collectors.toList()));
            for (var group : groups.entrySet()) {
                Map<String, List<double[][]>> spectra = new LinkedHashMap<>();
                for (ReportTables.Row row : group.getValue()) {
                    List<double[][]> trials = row.cells().stream().map(ReportCharts::spectrum).filter(Objects::nonNull).toList();
                    if (!trials.isEmpty()) spectra.put(row.label(), trials);
                }
                String suffix = group.getKey().isEmpty() ? "" : " (" + group.getKey() + ")";
                images.add(charts.spectrum(workload.name + (group.getKey().isEmpty() ? "" : "-" + group.getKey()) + "-spectrum",
                        "Latency percentile spectrum: " + workload.name + suffix, spectra));
            }
        }
        if (workload.table.equals("idle")) {
            images.add(charts.trialLines("idle-rss-vs-connections", "Server RSS vs open connections", "connections", "RSS (MiB)",
                    perConnectionCurves(workload, s -> s.rssKiB() / 1024.0)));
            images.add(charts.trialLines("idle-threads-vs-connections", "Server threads vs open connections", "connections", "threads",
                    perConnectionCurves(workload, s -> (double) s.threads())));
        }
        images.removeIf(Objects::isNull);
        if (!images.isEmpty()) {
            images.forEach(image -> md.append("![").append(image).append("](charts/").append(image).append(")\n"));
            md.append("\n_Every trial is drawn: a line per trial in its variant's colour, or the median with the trials' min–max._\n\n");
        }
        return md.toString();
    }

    /** Per step (ping-pong, the seed's rate): msg/s and server CPU per message against the server's cores, a line per variant. */
    private List<String> scalingCharts(ReportModel.Workload workload, List<ReportTables.Row> rows) throws IOException {
        List<String> images = new ArrayList<>();
        for (String step : rows.stream().map(ReportTables.Row::step).distinct().toList()) {
            List<ReportTables.Row> points = rows.stream().filter(r -> r.step().equals(step)).toList();
            Function<ReportTables.Cell, Double> cores = c -> Double.parseDouble(c.run().setting.split(" ")[0]);
            Map<String, double[][]> rates = bands(points, cores, c -> c.summary("throughput", "msgPerSec"));
            Map<String, double[][]> costs = bands(points, cores, c -> 1e6 * c.cpuSeconds() / c.received());
            String name = workload.name + "-" + step.replaceAll("[^A-Za-z0-9]+", "-");
            images.add(charts.bands(name + "-rate", "Echo rate against server cores: " + step, "server cores", "msg/s", false, rates));
            images.add(charts.bands(name + "-cpu", "Server CPU per message against server cores: " + step, "server cores",
                    "server CPU µs per message", false, costs));
        }
        return images;
    }

    /**
     * Per variant {x[], median[], min[], max[]} of a figure over each row's trials, x read from the row's first trial:
     * the rows of one variant are the points of its curve.
     */
    private static Map<String, double[][]> bands(List<ReportTables.Row> rows, Function<ReportTables.Cell, Double> x,
                                                 Function<ReportTables.Cell, Double> figure) {
        Map<String, double[][]> curves = new LinkedHashMap<>();
        rows.stream().filter(r -> !r.cells().isEmpty())
                .collect(Collectors.groupingBy(ReportTables.Row::label, LinkedHashMap::new, Collectors.toList()))
                .forEach((variant, points) -> {
                    double[][] curve = new double[4][points.size()];
                    for (int i = 0; i < points.size(); i++) {
                        double[] values = ReportTables.values(points.get(i).cells(), figure);
                        curve[0][i] = x.apply(points.get(i).cells().get(0));
                        curve[1][i] = ReportTables.median(points.get(i).cells(), figure);
                        curve[2][i] = values.length == 0 ? Double.NaN : values[0];
                        curve[3][i] = values.length == 0 ? Double.NaN : values[values.length - 1];
                    }
                    curves.put(variant, curve);
                });
        return curves;
    }

    /** The spectrum as {x = percentile, y = µs}; the chart writer puts x on a "nines" axis. */
    private static double[][] spectrum(ReportTables.Cell cell) {
        JsonElement spectrum = cell.summary().get("spectrum");
        if (spectrum == null || !spectrum.isJsonArray()) return null;
        JsonArray points = spectrum.getAsJsonArray();
        double[][] xy = new double[2][points.size()];
        for (int i = 0; i < points.size(); i++) {
            xy[0][i] = points.get(i).getAsJsonObject().get("percentile").getAsDouble();
            xy[1][i] = points.get(i).getAsJsonObject().get("valueUs").getAsDouble();
        }
        return xy;
    }

    /**
     * A figure against the server's open connections (open files above its idle count), from the /proc samples taken
     * while the connections opened and were held: samples after the connections started closing are left out.
     */
    private static Map<String, List<double[][]>> perConnectionCurves(ReportModel.Workload workload, Function<ProcSampler.Sample, Double> figure) {
        Map<String, List<double[][]>> curves = new LinkedHashMap<>();
        for (ReportModel.Run run : workload.runs) {
            if (run.recorded || run.idle == null || run.samples.isEmpty()) continue;
            int peak = run.samples.stream().mapToInt(ProcSampler.Sample::openFiles).max().orElse(0);
            int last = 0;
            for (int i = 0; i < run.samples.size(); i++) {
                if (run.samples.get(i).openFiles() >= run.idle.openFiles() + 0.95 * (peak - run.idle.openFiles())) last = i;
            }
            List<ProcSampler.Sample> held = run.samples.subList(0, last + 1);
            curves.computeIfAbsent(run.label, k -> new ArrayList<>()).add(new double[][] {
                    held.stream().mapToDouble(s -> Math.max(0, s.openFiles() - run.idle.openFiles())).toArray(),
                    held.stream().mapToDouble(figure::apply).toArray()});
        }
        return curves;
    }

    /** The closing chart: server CPU per 1,000 echoed messages, for every workload that echoes messages. */
    String cpuPerThousandMessages(ReportModel.Experiment data) throws IOException {
        StringBuilder md = new StringBuilder();
        Map<String, Map<String, double[]>> byVariant = new LinkedHashMap<>();
        List<String> categories = new ArrayList<>();
        for (ReportModel.Workload workload : data.workloads) {
            if (workload.table.equals("idle") || workload.table.equals("sweep")) continue; // keepalives and a sweep: not comparable per message
            for (ReportTables.Row row : ReportTables.rows(workload)) {
                // large messages cost per byte, not per message: the throughput table gives their CPU per GB
                if (row.cells().isEmpty() || row.step().endsWith("KiB")) continue;
                String category = workload.name + (row.setting().isEmpty() ? "" : " " + row.setting()) + (row.step().isEmpty() ? "" : " " + row.step());
                if (!categories.contains(category)) categories.add(category);
                double[] values = row.cells().stream().mapToDouble(c -> 1000 * c.cpuSeconds() / c.received())
                        .filter(v -> !Double.isNaN(v) && !Double.isInfinite(v)).sorted().toArray();
                if (values.length == 0) continue;
                double median = ReportTables.median(row.cells(), c -> 1000 * c.cpuSeconds() / c.received());
                double farthest = Math.max(median - values[0], values[values.length - 1] - median);
                byVariant.computeIfAbsent(row.label(), k -> new LinkedHashMap<>()).put(category, new double[] {median * 1000, farthest * 1000});
            }
        }
        // a chart per set of rows, so each group of bars compares the same rows: the offload row, say, is in handler-work only
        Map<Set<String>, List<String>> byRows = new LinkedHashMap<>();
        for (String category : categories) {
            Set<String> rows = byVariant.keySet().stream().filter(v -> byVariant.get(v).containsKey(category))
                    .collect(Collectors.toCollection(LinkedHashSet::new));
            if (!rows.isEmpty()) byRows.computeIfAbsent(rows, k -> new ArrayList<>()).add(category);
        }
        if (byRows.isEmpty()) return "";
        md.append("<a id=\"cpu-per-1000-messages\"></a>\n## CPU per 1,000 messages\n\nServer CPU (user + system, from /proc) during the "
                + "measured window divided by the messages echoed in it: what each model spends per unit of work (bars: the median "
                + "over the trials; error bars: as far as the farthest trial from it)"
                + (byRows.size() > 1 ? "; a chart for each set of rows that ran the same workloads" : "") + ".\n\n");
        int chart = 0;
        for (var group : byRows.entrySet()) {
            Map<String, Map<String, double[]>> rows = new LinkedHashMap<>();
            group.getKey().forEach(v -> rows.put(v, byVariant.get(v)));
            String image = charts.bars("cpu-per-1000-messages" + (chart++ == 0 ? "" : "-" + chart), "Server CPU per 1,000 messages"
                    + (byRows.size() > 1 ? ": " + String.join(", ", group.getValue()) : ""), "server CPU ms per 1,000 messages", group.getValue(), rows);
            if (image != null) md.append("![").append(image).append("](charts/").append(image).append(")\n\n");
        }
        return md.toString();
    }
}
