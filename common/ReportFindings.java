import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The report's findings, generated: for each kind of server a reader may run, the Java model this run's data picks
 * by one figure, decided over the trials by {@link Separation} (a tie names every tied model), with the numbers that
 * decide it. The reference servers are context, quoted beside the pick, never the pick.
 */
final class ReportFindings {
    /** The seed's own server and the C floor: measured here to place the Java models, not candidates for them. */
    static final Set<String> REFERENCE = Set.of("go-net", "c-epoll");

    /**
     * One question: the workload, row setting and step its figure comes from ({@code step} null: each step of the
     * workload, a line each) and the table column that decides it (its direction is the column's).
     */
    record Rule(String question, String workload, String setting, String step, String column) {}

    static final List<Rule> RULES = List.of(
            new Rule("holds many mostly idle connections (chat, push)", "idle", "", "", "RSS per connection"),
            new Rule("serves the seed's load: 1,000 clients × 10 msg/s, each waiting for its echo", "seed-echo", "",
                    ReportTables.CLOSED_LOOP, "server CPU"),
            new Rule("… and its tail latency is what matters", "seed-echo", "", ReportTables.CLOSED_LOOP, "p99"),
            new Rule("serves the same 10,000 msg/s arriving evenly spaced", "seed-echo", "", ReportTables.OPEN_LOOP, "server CPU"),
            // by its CPU per message, not msg/s: the generator sets the rate here (every row near its ceiling or ⚠)
            new Rule("echoes small messages as fast as 100 clients take them (the CPU each costs)", "throughput", "", "64 B", "CPU per 1k msgs"),
            new Rule("faces a given request rate", "rate-sweep", "", null, "server CPU"),
            new Rule("waits on something slow per message (sleep:5ms)", "handler-work", "sleep:5ms", "", "p99"),
            new Rule("computes per message (cpu:50us)", "handler-work", "cpu:50us", "", "p99"));

    /** The findings table, or "" when no rule has data in this series. */
    static String markdown(ReportModel.Experiment data, double ceiling,
                           Function<List<ReportTables.Column>, Function<ReportTables.Column, Predicate<ReportTables.Row>>> rankable) {
        List<String> lines = new ArrayList<>();
        for (Rule rule : RULES) {
            ReportModel.Workload workload = data.workloads.stream().filter(w -> w.name.equals(rule.workload())).findFirst().orElse(null);
            if (workload == null) continue;
            List<ReportTables.Column> columns = ReportTables.columns(workload.table, ceiling);
            ReportTables.Column column = columns.stream().filter(c -> c.header().equals(rule.column())).findFirst().orElseThrow();
            List<ReportTables.Row> rows = ReportTables.rows(workload).stream()
                    .filter(r -> r.setting().equals(rule.setting()) && !r.cells().isEmpty()).toList();
            List<String> steps = rule.step() != null ? List.of(rule.step()) : rows.stream().map(ReportTables.Row::step).distinct().toList();
            for (String step : steps) {
                List<ReportTables.Row> stepRows = rows.stream().filter(r -> r.step().equals(step)).toList();
                if (stepRows.isEmpty()) continue;
                String question = rule.question() + (rule.step() == null ? ": " + step : "");
                lines.add(line(question, rule.workload(), column, stepRows, rankable.apply(columns).apply(column)));
            }
        }
        if (lines.isEmpty()) return "";
        return "<a id=\"findings\"></a>\n## Findings (generated from this run)\n\n"
                + "Each line is decided by one figure of the linked table, among the Java models only, over the trials: a pick is "
                + "named where the leader is separated from the runner-up (" + Separation.BOOTSTRAP + " with "
                + Separation.MIN_TRIALS_FOR_BOOTSTRAP + " or more trials, else " + Separation.RANGES + "), otherwise every "
                + "tied model is. go-net (the seed's server) and c-epoll (the floor) are quoted beside them, not ranked.\n\n"
                + "| if your server mostly … | pick | medians (min–max) | decided by | beside them |\n|---|---|---|---|---|\n"
                + String.join("\n", lines) + "\n\n";
    }

    private static String line(String question, String workload, ReportTables.Column column, List<ReportTables.Row> rows,
                               Predicate<ReportTables.Row> rankable) {
        List<ReportTables.Row> candidates = rows.stream().filter(r -> !REFERENCE.contains(r.runs().get(0).variant)).toList();
        List<ReportTables.Row> ranked = candidates.stream().filter(rankable).toList();
        Map<String, List<Double>> trials = ReportRanking.trials(ranked, column);
        Optional<Separation.Verdict> verdict = Separation.decide(trials, column.ranked());
        boolean enoughTrials = ReportRanking.enoughTrials(trials);
        // one rankable row is no comparison: it is not a pick when every other row was limited by the generator
        boolean compared = enoughTrials && trials.size() >= 2;
        String pick = verdict.isEmpty() ? "–"
                : !enoughTrials ? "not decided (fewer than " + ReportRanking.MIN_TRIALS + " trials)"
                : !compared ? "–"
                : verdict.get().separated() ? "**" + verdict.get().leader().label() + "**"
                : "tie: " + String.join(", ", verdict.get().tieGroup());
        List<ReportTables.Row> unrankedRows = candidates.stream().filter(r -> !ranked.contains(r)).toList();
        String medians = Stream.concat((verdict.isEmpty() ? ranked : order(ranked, verdict.get())).stream()
                        .map(r -> r.label() + " " + ReportTables.aggregate(r.cells(), column)),
                unrankedRows.stream().map(r -> r.label() + " ⚠ " + ReportTables.aggregate(r.cells(), column)))
                .collect(Collectors.joining(" · "));
        List<String> unranked = unrankedRows.stream().map(ReportTables.Row::label).toList();
        String decided = "[" + workload + "](#" + workload + ") `" + column.header() + "`, "
                + (column.ranked() == Separation.Better.LOWER ? "lower" : "higher") + " is better"
                + (verdict.isPresent() && compared ? ": " + Separation.describe(verdict.get(), v -> column.format().apply(v), "") : "")
                + (unranked.isEmpty() ? "" : "; not ranked, the generator limited them (⚠ or generator-bound): " + String.join(", ", unranked));
        String beside = rows.stream().filter(r -> REFERENCE.contains(r.runs().get(0).variant))
                .map(r -> r.label() + " " + ReportTables.aggregate(r.cells(), column)).collect(Collectors.joining(" · "));
        return "| " + question + " | " + pick + " | " + medians + " | " + decided + " | " + (beside.isEmpty() ? "–" : beside) + " |";
    }

    /** The rows in the verdict's rank order, best first. */
    private static List<ReportTables.Row> order(List<ReportTables.Row> rows, Separation.Verdict verdict) {
        List<String> labels = new ArrayList<>(List.of(verdict.leader().label()));
        verdict.others().forEach(c -> labels.add(c.variant().label()));
        return labels.stream().flatMap(l -> rows.stream().filter(r -> r.label().equals(l))).toList();
    }
}
