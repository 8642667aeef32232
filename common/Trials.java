import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How a workload's rows become server runs: each row once per trial, trials outermost and each trial's order rotated
 * by one place, so a slow drift of the machine touches every row alike and no row always runs first; each row in every
 * placement asked for; then, where the profile records the workload, each row once more with its JFR recording under its first
 * step's load (kept out of the tables; the reference servers are not JVMs and have none).
 */
record Trials(int count, List<String> placements, boolean recorded) {

    /** A row of a workload's table: a variant, or a variant with a setting (its server arguments). */
    record Row(Plan.Variant variant, String label, String setting, List<String> serverArgs, CpuPlacement cpus) {
        Row(Plan.Variant variant, String label, String setting, List<String> serverArgs) {
            this(variant, label, setting, serverArgs, null);
        }

        /** The same row in each placement; with both, the placement joins the setting, so rows compete within one. */
        List<Row> placed(List<String> placements) {
            if (cpus != null) return List.of(this); // a scaling point has its own
            if (placements.size() == 1) return List.of(new Row(variant, label, setting, serverArgs, placement(placements.get(0))));
            return placements.stream().map(p -> new Row(variant, label, setting.isEmpty() ? p : setting + " · " + p, serverArgs,
                    placement(p))).toList();
        }

        private static CpuPlacement placement(String name) {
            return name.equals("shared") ? CpuPlacement.SHARED : null;
        }
    }

    List<Plan.Run> plan(String workload, List<Row> unplaced, List<Plan.Step> steps, Duration sloP99) {
        List<Row> rows = unplaced.stream().flatMap(r -> r.placed(placements).stream()).toList();
        List<Plan.Run> plans = new ArrayList<>();
        for (int trial = 1; trial <= count; trial++) {
            for (int i = 0; i < rows.size(); i++) {
                Row row = rows.get((i + trial - 1) % rows.size());
                plans.add(new Plan.Run(workload, row.variant(), row.label(), row.setting(), row.serverArgs(), steps, trial, sloP99,
                        false, row.cpus()));
            }
        }
        if (recorded) {
            for (Row row : rows) {
                if (row.variant().isJvm()) plans.add(new Plan.Run(workload, row.variant(), row.label(), row.setting(), row.serverArgs(),
                        steps.subList(0, 1), 1, sloP99, true, row.cpus()));
            }
        }
        return plans;
    }
}
