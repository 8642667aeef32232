import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Who leads each ranked column of a table, decided over the trials by {@link Separation}: a leader separated from
 * the runner-up is bolded, otherwise the column is a tie and the line below the table names every tied row. Rows
 * compete within their setting and step; a row the generator could not drive competes only in the server-side
 * columns, and with fewer than two trials a row no leader is named at all.
 */
record ReportRanking(Set<String> bolded, List<String> verdicts, boolean tooFewTrials) {
    static final int MIN_TRIALS = 2;

    boolean bold(ReportTables.Row row, ReportTables.Column column) {
        return bolded.contains(row.name() + "\u0000" + column.header());
    }

    /** {@code rankable}: for a column, which rows may lead in it (a row the generator limited keeps only its server-side figures). */
    static ReportRanking of(List<ReportTables.Row> rows, List<ReportTables.Column> columns,
                            Function<ReportTables.Column, Predicate<ReportTables.Row>> rankable) {
        Set<String> bolded = new HashSet<>();
        List<String> verdicts = new ArrayList<>();
        boolean tooFew = false;
        Map<String, List<ReportTables.Row>> groups = new LinkedHashMap<>();
        for (ReportTables.Row row : rows) {
            if (!row.cells().isEmpty()) groups.computeIfAbsent((row.setting() + " " + row.step()).trim(), k -> new ArrayList<>()).add(row);
        }
        for (var group : groups.entrySet()) {
            for (ReportTables.Column column : columns) {
                if (column.ranked() == null) continue;
                List<ReportTables.Row> competing = group.getValue().stream().filter(rankable.apply(column)).toList();
                Map<String, List<Double>> trials = trials(competing, column);
                if (trials.size() < 2) continue;
                if (!enoughTrials(trials)) {
                    tooFew = true;
                    continue;
                }
                Optional<Separation.Verdict> verdict = Separation.decide(trials, column.ranked());
                if (verdict.isEmpty()) continue;
                if (verdict.get().separated()) {
                    competing.stream().filter(r -> r.label().equals(verdict.get().leader().label())).findFirst()
                            .ifPresent(r -> bolded.add(r.name() + "\u0000" + column.header()));
                }
                verdicts.add("`" + column.header() + "`" + (group.getKey().isEmpty() ? "" : " (" + group.getKey() + ")") + ": "
                        + Separation.describe(verdict.get(), v -> column.format().apply(v), ""));
            }
        }
        return new ReportRanking(bolded, verdicts, tooFew);
    }

    /** Each row's figures in a column over its trials, by label; a row without any is left out. */
    static Map<String, List<Double>> trials(List<ReportTables.Row> rows, ReportTables.Column column) {
        Map<String, List<Double>> trials = new LinkedHashMap<>();
        for (ReportTables.Row row : rows) {
            List<Double> values = new ArrayList<>();
            for (double v : ReportTables.values(row.cells(), column.value())) values.add(v);
            if (!values.isEmpty()) trials.put(row.label(), values);
        }
        return trials;
    }

    /** Whether every row has the {@link #MIN_TRIALS} a leader needs: with fewer, a difference cannot be told from noise. */
    static boolean enoughTrials(Map<String, List<Double>> trials) {
        return trials.values().stream().allMatch(v -> v.size() >= MIN_TRIALS);
    }
}
