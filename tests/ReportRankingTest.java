//SOURCES ../common/ReportRanking.java
//SOURCES ../common/ReportFindings.java
//SOURCES ../common/ReportTables.java
//SOURCES ../common/ReportModel.java
//SOURCES ../common/Separation.java
//SOURCES ../common/ProcSampler.java
//SOURCES ../common/Cli.java
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The report names a leader only where the trials separate it, and writes "tie" otherwise, in its tables and in its
 * generated findings: synthetic trials.
 */
class ReportRankingTest {

    @Test
    void aNegativeIntervalEndReadsInTheSameUnitAsItsPositiveOne() {
        // a tie's interval on a latency column runs from below zero: "-790.5µs–938.0µs", not "-790528ns–938.0µs"
        assertEquals("-790.5µs", ReportTables.micros(-790.528));
        assertEquals("938.0µs", ReportTables.micros(938.0));
    }

    @Test
    void aSeparatedLeaderIsBoldedAndNamed() {
        ReportModel.Workload workload = workload(
                "netty-epoll", new double[] {150_000, 151_000, 149_000, 150_500, 152_000},
                "virtual", new double[] {110_000, 111_000, 109_500, 112_000, 110_500});
        Ranked ranked = rankByRate(workload);
        assertTrue(ranked.bold("netty-epoll"));
        assertFalse(ranked.bold("virtual"));
        assertEquals(1, ranked.ranking().verdicts().size());
        assertTrue(ranked.verdict().contains("netty-epoll leads, separated from virtual"), ranked.verdict());
    }

    @Test
    void overlappingTrialsAreATieAndNobodyIsBolded() {
        ReportModel.Workload workload = workload(
                "netty-epoll", new double[] {150_000, 120_000, 149_000, 118_000, 152_000},
                "virtual", new double[] {148_000, 121_000, 151_000, 119_000, 150_500});
        Ranked ranked = rankByRate(workload);
        assertFalse(ranked.bold("netty-epoll"));
        assertFalse(ranked.bold("virtual"));
        assertTrue(ranked.verdict().contains("tie: "), ranked.verdict());
    }

    @Test
    void oneTrialARowNamesNoLeader() {
        ReportModel.Workload workload = workload("netty-epoll", new double[] {150_000}, "virtual", new double[] {110_000});
        List<ReportTables.Row> rows = ReportTables.rows(workload);
        ReportRanking ranking = ReportRanking.of(rows, List.of(ReportTables.MSG_PER_SEC.higherIsBetter()), c -> r -> true);
        assertTrue(ranking.bolded().isEmpty());
        assertTrue(ranking.verdicts().isEmpty());
        assertTrue(ranking.tooFewTrials());
    }

    @Test
    void aRowThatMayNotBeRankedIsLeftOutAndRecordedRunsNeverCount() {
        ReportModel.Workload workload = workload(
                "netty-epoll", new double[] {150_000, 151_000, 149_000},
                "virtual", new double[] {110_000, 111_000, 109_500},
                "platform", new double[] {100_000, 101_000, 99_000});
        workload.runs.add(run("platform", 1, 900_000, true)); // a recorded trial far ahead: must not lead
        List<ReportTables.Row> rows = ReportTables.rows(workload);
        assertEquals(3, row(rows, "platform").cells().size(), "the recorded trial is not one of the row's cells");
        List<ReportTables.Column> columns = List.of(ReportTables.MSG_PER_SEC.higherIsBetter());
        ReportRanking ranking = ReportRanking.of(rows, columns, c -> r -> !r.label().equals("netty-epoll")); // say, generator-bound
        assertTrue(ranking.bold(row(rows, "virtual"), columns.get(0)), ranking.verdicts().toString());
        assertFalse(ranking.verdicts().get(0).contains("netty-epoll"), ranking.verdicts().get(0));
    }

    @Test
    void aRowTheGeneratorLimitedCompetesOnlyInTheServersOwnFigures() {
        ReportModel.Workload workload = workload(
                "netty-epoll", new double[] {150_000, 151_000, 149_000},
                "virtual", new double[] {110_000, 111_000, 109_500});
        // the same server CPU for every trial: netty-epoll spends less of it per message
        workload.runs.forEach(r -> r.steps.get(0).serverUserSeconds = 0.9);
        List<ReportTables.Row> rows = ReportTables.rows(workload);
        List<ReportTables.Column> columns = List.of(ReportTables.MSG_PER_SEC.higherIsBetter(), ReportTables.CPU_PER_1K.lowerIsBetter());
        ReportRanking ranking = ReportRanking.of(rows, columns, c -> r -> c.fromServer() || !r.label().equals("netty-epoll"));
        assertFalse(ranking.bold(row(rows, "netty-epoll"), columns.get(0)), "its rate is the generator's: " + ranking.verdicts());
        assertTrue(ranking.bold(row(rows, "netty-epoll"), columns.get(1)), "its CPU per message is its own: " + ranking.verdicts());
    }

    @Test
    void aFindingPicksTheSeparatedJavaModelAndQuotesTheReferenceServersBesideIt() {
        ReportModel.Workload workload = workload(
                "netty-epoll", new double[] {150_000, 151_000, 149_000, 150_500, 152_000},
                "virtual", new double[] {110_000, 111_000, 109_500, 112_000, 110_500},
                "c-epoll", new double[] {190_000, 191_000, 189_000, 190_500, 192_000});
        String line = findingOf(workload);
        assertTrue(line.contains("| **netty-epoll** |"), line);
        assertTrue(line.contains("netty-epoll leads, separated from virtual"), line);
        assertTrue(line.contains("`CPU per 1k msgs`, lower is better"), line);
        assertTrue(line.endsWith("| c-epoll 5.249ms (5.208ms–5.291ms) |"), line);
    }

    @Test
    void aFindingWithOverlappingTrialsNamesEveryTiedModel() {
        ReportModel.Workload workload = workload(
                "netty-epoll", new double[] {150_000, 120_000, 149_000, 118_000, 152_000},
                "virtual", new double[] {148_000, 121_000, 151_000, 119_000, 150_500},
                "platform", new double[] {90_000, 91_000, 89_000, 90_500, 92_000});
        String line = findingOf(workload);
        assertTrue(line.contains("| tie: netty-epoll, virtual |"), line);
        assertFalse(line.contains("**"), line);
    }

    @Test
    void theThroughputFindingRanksTheServersCpuPerMessageEvenWhereTheGeneratorLimitedTheRate() {
        ReportModel.Workload workload = workload(
                "netty-epoll", new double[] {150_000, 151_000, 149_000, 150_500, 152_000},
                "virtual", new double[] {110_000, 111_000, 109_500, 112_000, 110_500});
        ReportModel.Experiment data = new ReportModel.Experiment();
        data.workloads.add(workload);
        // a rankable that admits only the server's own figures, as for rows the generator limited
        String md = ReportFindings.markdown(data, Double.NaN, columns -> c -> r -> c.fromServer());
        assertTrue(md.contains("| **netty-epoll** |"), md);
    }

    @Test
    void aFindingWithOneRankableRowPicksNobody() {
        ReportModel.Workload workload = workload(
                "netty-epoll", new double[] {150_000, 151_000, 149_000, 150_500, 152_000},
                "virtual", new double[] {110_000, 111_000, 109_500, 112_000, 110_500},
                "platform", new double[] {90_000, 91_000, 89_000, 90_500, 92_000});
        // the generator limited all but platform, the costliest: it stands alone, it does not win
        String line = findingOf(workload, r -> r.label().equals("platform"));
        assertTrue(line.startsWith("| echoes small messages as fast as 100 clients take them (the CPU each costs) | – |"), line);
        assertTrue(line.contains("not ranked, the generator limited them (⚠ or generator-bound): netty-epoll, virtual"), line);
    }

    /** The findings line of the throughput rule, every row rankable. */
    private static String findingOf(ReportModel.Workload workload) {
        return findingOf(workload, r -> true);
    }

    private static String findingOf(ReportModel.Workload workload, java.util.function.Predicate<ReportTables.Row> rankable) {
        ReportModel.Experiment data = new ReportModel.Experiment();
        data.workloads.add(workload);
        String md = ReportFindings.markdown(data, Double.NaN, columns -> c -> rankable);
        return md.lines().filter(l -> l.startsWith("| echoes small messages")).findFirst().orElseThrow(() -> new AssertionError(md));
    }

    /** A workload's rows ranked on msg/s, every row rankable. */
    record Ranked(List<ReportTables.Row> rows, ReportTables.Column column, ReportRanking ranking) {
        boolean bold(String label) {
            return ranking.bold(row(rows, label), column);
        }

        String verdict() {
            return ranking.verdicts().get(0);
        }
    }

    private static Ranked rankByRate(ReportModel.Workload workload) {
        List<ReportTables.Row> rows = ReportTables.rows(workload);
        ReportTables.Column column = ReportTables.MSG_PER_SEC.higherIsBetter();
        return new Ranked(rows, column, ReportRanking.of(rows, List.of(column), c -> r -> true));
    }

    /** Label, msg/s of each trial; label, ... */
    private static ReportModel.Workload workload(Object... labelsAndRates) {
        ReportModel.Workload workload = new ReportModel.Workload();
        workload.name = "throughput";
        workload.table = "throughput";
        for (int i = 0; i < labelsAndRates.length; i += 2) {
            double[] rates = (double[]) labelsAndRates[i + 1];
            for (int t = 0; t < rates.length; t++) workload.runs.add(run((String) labelsAndRates[i], t + 1, rates[t], false));
        }
        return workload;
    }

    static ReportModel.Run run(String label, int trial, double msgPerSec, boolean recorded) {
        ReportModel.Run run = new ReportModel.Run();
        run.variant = label;
        run.label = label;
        run.setting = "";
        run.trial = trial;
        run.recorded = recorded;
        ReportModel.Step step = new ReportModel.Step();
        step.label = "64 B";
        step.measuredSeconds = 1;
        step.serverUserSeconds = 1; // a server busy all the window: its CPU per message falls as its rate rises
        JsonObject throughput = new JsonObject();
        throughput.addProperty("msgPerSec", msgPerSec);
        JsonObject summary = new JsonObject();
        summary.add("throughput", throughput);
        summary.addProperty("received", msgPerSec);
        step.load = new JsonObject();
        step.load.add("summary", summary);
        run.steps.add(step);
        return run;
    }

    private static ReportTables.Row row(List<ReportTables.Row> rows, String label) {
        return rows.stream().filter(r -> r.label().equals(label)).findFirst().orElseThrow();
    }
}
