//SOURCES ReportRankingTest.java
//SOURCES ../common/ReportWriter.java
//SOURCES ../common/ReportCharts.java
//SOURCES ../common/ChartWriter.java
//SOURCES ../common/ReportArrival.java
//SOURCES ../common/ReportRanking.java
//SOURCES ../common/ReportFindings.java
//SOURCES ../common/ReportTables.java
//SOURCES ../common/ReportModel.java
//SOURCES ../common/Separation.java
//SOURCES ../common/ProcSampler.java
//SOURCES ../common/Cli.java
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2
//DEPS org.knowm.xchart:xchart:3.8.8

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report written from a series' data, synthetic here: and written again, the same, from its saved data.json.gz. */
class ReportWriterTest {

    @Test
    void theReportIsRewrittenTheSameFromItsGzippedData(@TempDir Path out) throws Exception {
        String report = Files.readString(new ReportWriter(out, series()).write());
        try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(out.resolve("data.json.gz")))) {
            Files.copy(out.resolve("data.json"), gz);
        }
        Files.delete(out.resolve("data.json"));
        Files.delete(out.resolve("report.md"));
        assertEquals(report, Files.readString(ReportWriter.rewrite(out)));
    }

    @Test
    void cpuPerThousandMessagesChartsEveryRowWithAFigureAndIsLinkedOnlyWhenItHasCharts(@TempDir Path out) throws Exception {
        String report = Files.readString(new ReportWriter(out, series()).write());
        // the offload row runs in handler-work only: its own chart, rather than no chart for anyone
        assertTrue(report.contains("](charts/cpu-per-1000-messages.png)") && report.contains("](charts/cpu-per-1000-messages-2.png)"), report);
        assertTrue(Files.size(out.resolve("charts/cpu-per-1000-messages-2.png")) > 1000);
        assertTrue(report.contains("[CPU per 1,000 messages](#cpu-per-1000-messages)"), report);

        ReportModel.Experiment scalingOnly = series();
        scalingOnly.workloads.removeIf(w -> !w.name.equals("scaling"));
        String empty = Files.readString(new ReportWriter(out, scalingOnly).write());
        assertFalse(empty.contains("#cpu-per-1000-messages"), empty);
    }

    @Test
    void aWorkloadLeftOutIsNamedButNotLinked(@TempDir Path out) throws Exception {
        String report = Files.readString(new ReportWriter(out, series()).write());
        assertTrue(report.contains("[throughput](#throughput)") && report.contains("scaling (not run: see the notes)"), report);
        assertFalse(report.contains("(#scaling)"), report);
    }

    @Test
    void theHeaderSaysWhichTransportTcpLoadRanOnAndNothingForDataThatDoesNotSay(@TempDir Path out) throws Exception {
        String before = Files.readString(new ReportWriter(out, series()).write());
        assertFalse(before.contains("TcpLoad's event loop ran on"), before);

        ReportModel.Experiment data = series();
        for (ReportModel.Workload workload : data.workloads) {
            for (ReportModel.Run run : workload.runs) {
                JsonObject config = new JsonObject();
                config.addProperty("transport", workload.name.equals("throughput") ? "io_uring" : "epoll");
                run.steps.get(0).load.add("config", config);
            }
        }
        String report = Files.readString(new ReportWriter(out, data).write());
        // throughput: 2 rows x 3 trials; handler-work: 3 rows x 3 trials; scaling has no runs
        assertTrue(report.contains("TcpLoad's event loop ran on epoll in 9 steps, io_uring in 6 steps (its `--transport auto`"), report);
    }

    /** A finished series: throughput with two rows, handler-work with Netty's offload row beside them, scaling left out. */
    static ReportModel.Experiment series() {
        ReportModel.Experiment data = new ReportModel.Experiment();
        data.complete = true;
        data.environment.serverJvmOptions = List.of("-XX:+UseSerialGC");
        data.workloads.add(workload("throughput", "64 B", "", "netty-epoll", "virtual"));
        data.workloads.add(workload("handler-work", "", "sleep:5ms", "netty-epoll", "virtual", "netty-epoll + offload"));
        data.workloads.add(workload("scaling", "ping-pong", ""));
        return data;
    }

    private static ReportModel.Workload workload(String name, String step, String setting, String... labels) {
        ReportModel.Workload workload = new ReportModel.Workload();
        workload.name = name;
        workload.title = name;
        workload.table = name.equals("handler-work") ? "work" : name;
        for (int l = 0; l < labels.length; l++) {
            for (int trial = 1; trial <= 3; trial++) workload.runs.add(run(labels[l], setting, step, trial, 100_000 + 10_000 * l + 500 * trial));
        }
        return workload;
    }

    /** ReportRankingTest's run, with this row's setting and step. */
    private static ReportModel.Run run(String label, String setting, String step, int trial, double msgPerSec) {
        ReportModel.Run run = ReportRankingTest.run(label, trial, msgPerSec, false);
        run.variant = label.split(" ")[0];
        run.setting = setting;
        run.steps.get(0).label = step;
        return run;
    }
}
