import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The seed workload's two arrival patterns side by side per variant: the seed's closed loop, where each client waits
 * for its echo so the sends clump, and the same rate evenly spaced. Both are steps of the same server run, so the
 * ratio is taken within each trial, and its median and range reported.
 */
final class ReportArrival {

    /** The table, or "" when the rows do not hold both patterns. */
    static String markdown(List<ReportTables.Row> rows) {
        StringBuilder md = new StringBuilder();
        for (ReportTables.Row closed : rows) {
            if (!closed.step().equals(ReportTables.CLOSED_LOOP)) continue;
            ReportTables.Row open = rows.stream().filter(r -> r.label().equals(closed.label()) && r.setting().equals(closed.setting())
                    && r.step().equals(ReportTables.OPEN_LOOP)).findFirst().orElse(null);
            if (open == null || closed.cells().isEmpty() || open.cells().isEmpty()) continue;
            md.append("| ").append(closed.label()).append(closed.setting().isEmpty() ? "" : " · " + closed.setting()).append(" | ")
                    .append(ReportTables.aggregate(closed.cells(), ReportTables.SERVER_CPU)).append(" | ")
                    .append(ReportTables.aggregate(open.cells(), ReportTables.SERVER_CPU)).append(" | ")
                    .append(perTrialRatio(closed, open, c -> c.cpuSeconds() / c.step().measuredSeconds)).append(" | ")
                    .append(ReportTables.aggregate(closed.cells(), ReportTables.latency("p99", "p99"))).append(" | ")
                    .append(ReportTables.aggregate(open.cells(), ReportTables.latency("p99", "p99"))).append(" |\n");
        }
        if (md.isEmpty()) return "";
        return "**Arrival pattern.** The same 10,000 msg/s from 1,000 connections, as the seed's closed loop (sends clump "
                + "behind the echoes) and as an open loop (evenly spaced sends, latency from the intended send time):\n\n"
                + "| variant | server CPU, closed loop | server CPU, open loop | open ÷ closed, per trial | p99 closed | p99 open |\n"
                + "|---|---:|---:|---:|---:|---:|\n" + md + "\n";
    }

    /** The open step's figure over the closed step's, within each run; median (min–max). */
    private static String perTrialRatio(ReportTables.Row closed, ReportTables.Row open, Function<ReportTables.Cell, Double> figure) {
        List<Double> ratios = new ArrayList<>();
        for (ReportTables.Cell c : closed.cells()) {
            open.cells().stream().filter(o -> o.run() == c.run()).findFirst()
                    .ifPresent(o -> ratios.add(figure.apply(o) / figure.apply(c)));
        }
        double[] sorted = ratios.stream().mapToDouble(Double::doubleValue).filter(Double::isFinite).sorted().toArray();
        if (sorted.length == 0) return "–";
        String median = String.format(Locale.ROOT, "%.2f×", Separation.quantile(sorted, 0.5));
        return sorted.length == 1 ? median
                : median + String.format(Locale.ROOT, " (%.2f–%.2f×)", sorted[0], sorted[sorted.length - 1]);
    }
}
