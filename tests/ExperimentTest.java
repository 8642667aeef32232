//DEPS com.google.code.gson:gson:2.13.2

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Experiment.java end to end (the smoke profile: every workload, briefly, against its variant), a server that dies
 * mid-series, and bad input.
 */
class ExperimentTest {
    static final List<String> WORKLOADS = List.of("seed-echo", "idle", "burst", "throughput", "rate-sweep", "handler-work", "scaling", "churn");
    static final List<String> VARIANTS = List.of("platform", "virtual", "netty-epoll", "netty-nio", "netty-io_uring",
            "virtual-poller1", "netty-epoll-noleak", "go-net", "c-epoll");

    @Test
    @Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
    void smokeProfileWritesEverySectionForEveryVariantWithDataAndCharts(@TempDir Path out) throws Exception {
        try (TestSupport.Script run = TestSupport.jbang("Experiment.java", "--profile", "smoke", "--out", out.toString())) {
            assertEquals(0, run.await(Duration.ofMinutes(9)), run.output());
        }
        String report = Files.readString(out.resolve("report.md"));
        for (String field : List.of("| Date |", "| Command |", "| CPU |", "| Kernel |", "| JDK |", "| Launch |", "| Netty |", "| Pinning |",
                "| Open-files limit |", "| Server JVM options |")) {
            assertTrue(report.contains(field), "environment lacks " + field);
        }
        assertFalse(report.contains("Partial report"), "a finished series is not partial");

        JsonObject data = JsonParser.parseString(Files.readString(out.resolve("data.json"))).getAsJsonObject();
        assertTrue(data.get("complete").getAsBoolean());
        List<String> ran = new ArrayList<>();
        data.getAsJsonArray("workloads").forEach(w -> ran.add(w.getAsJsonObject().get("name").getAsString()));
        assertEquals(WORKLOADS, ran);
        // the rows the series ran (the smoke profile's netty-epoll, and with --offload in handler-work): each must show
        // in every workload's section where it ran
        Set<String> variants = new TreeSet<>();
        data.getAsJsonArray("workloads").forEach(w -> w.getAsJsonObject().getAsJsonArray("runs")
                .forEach(r -> variants.add(r.getAsJsonObject().get("variant").getAsString())));
        assertTrue(variants.contains("netty-epoll"), "variants run: " + variants);

        for (String workload : WORKLOADS) {
            String section = section(report, workload);
            assertTrue(section.contains("**What it models.**") && section.contains("**Parameters.**"), workload + " lacks its description");
            assertTrue(section.contains("| variant |"), workload + " has no table");
            JsonObject json = data.getAsJsonArray("workloads").asList().stream().map(JsonElement::getAsJsonObject)
                    .filter(w -> w.get("name").getAsString().equals(workload)).findFirst().orElseThrow();
            boolean recorded = json.getAsJsonArray("runs").asList().stream().anyMatch(r -> r.getAsJsonObject().get("recorded").getAsBoolean());
            assertEquals(recorded, section.contains("### Inside the servers (JFR)"), workload + ": a JFR section exactly where a trial was recorded");
            assertEquals(recorded, section.contains("What recording cost here"), workload + ": the recorder's cost exactly where it was measured");
            for (String variant : variants) {
                assertTrue(section.contains("| " + variant + " ") || section.contains("**" + variant), workload + " lacks " + variant + "\n" + section);
            }
            for (JsonElement run : json.getAsJsonArray("runs")) {
                String label = run.getAsJsonObject().get("label").getAsString();
                assertTrue(section.contains("| " + label + " ") || section.contains("**" + label), workload + " lacks " + label + "\n" + section);
            }
            assertTrue(json.getAsJsonArray("runs").asList().stream().anyMatch(r -> r.getAsJsonObject().get("status").getAsString()
                    .equals("ok")), workload + ": no run succeeded\n" + section);
            for (JsonElement run : json.getAsJsonArray("runs")) {
                JsonObject r = run.getAsJsonObject();
                if (!r.get("status").getAsString().equals("ok")) {
                    assertTrue(section.contains("**" + r.get("label").getAsString()), "a failed run is explained in the report");
                    continue;
                }
                JsonObject step = r.getAsJsonArray("steps").get(0).getAsJsonObject();
                assertTrue(step.getAsJsonObject("load").getAsJsonObject("summary").get("received").getAsLong() > 0,
                        workload + " " + r.get("label") + ": nothing echoed");
                assertTrue(step.get("serverRssPeakKiB").getAsLong() > 0, workload + " " + r.get("label") + ": no /proc samples");
                assertTrue(step.get("serverContextSwitches").getAsLong() >= 0 && step.get("loadContextSwitches").getAsLong() >= 0,
                        workload + " " + r.get("label") + ": context switches of the server and of TcpLoad, each from its own /proc");
                // smoke's warm-up cap (1 s) is shorter than the 3 s the steadiness check needs: marked, not hung
                assertTrue(r.has("warmupSeconds") && r.get("warmupSeconds").getAsDouble() > 0, workload + ": warmupSeconds");
                assertFalse(r.get("steady").getAsBoolean(), workload + " " + r.get("label") + ": a capped warm-up is not steady");
            }
            assertTrue(section.contains("**Not steady**"), workload + ": the report says which steps were not steady\n" + section);
        }
        // the recorded trial never enters a table: seed-echo's row shows the unrecorded run's count of messages sent
        List<JsonObject> seedRuns = data.getAsJsonArray("workloads").get(0).getAsJsonObject().getAsJsonArray("runs").asList().stream()
                .map(JsonElement::getAsJsonObject).filter(r -> r.get("label").getAsString().equals("netty-epoll")).toList();
        long sent = seedRuns.stream().filter(r -> !r.get("recorded").getAsBoolean()).findFirst().orElseThrow().getAsJsonArray("steps")
                .get(0).getAsJsonObject().getAsJsonObject("load").getAsJsonObject("summary").get("sent").getAsLong();
        assertTrue(seedRuns.stream().anyMatch(r -> r.get("recorded").getAsBoolean()), "seed-echo has its recorded trial");
        assertTrue(section(report, "seed-echo").contains(String.format(java.util.Locale.ROOT, "| netty-epoll ⚠ | closed loop | %,d |", sent))
                || section(report, "seed-echo").contains(String.format(java.util.Locale.ROOT, "| netty-epoll | closed loop | %,d |", sent)),
                "the table shows the unrecorded trial\n" + section(report, "seed-echo"));
        assertTrue(section(report, "idle").matches("(?s).*\\| [0-9.]+ KiB \\| [0-9.-]+ KiB \\|.*"),
                "idle shows RSS and live heap per connection\n" + section(report, "idle"));
        assertTrue(section(report, "seed-echo").contains("Go net (seed"), "the seed's reference rows are missing");
        assertTrue(section(report, "rate-sweep").contains("saturation rate"), "rate-sweep lacks its saturation table");
        // one trial: the generator's ceiling is measured before the workloads only (where c-epoll could be built)
        if (report.contains("**The generator's ceiling**")) {
            assertTrue(report.contains("the C floor, before the workloads):") && report.contains("\n- before: ") && !report.contains("\n- after: "), report);
        }

        // the generated findings, undecided on one trial a row, and seed-echo's two arrival patterns side by side
        assertTrue(report.contains("## Findings (generated from this run)") && report.contains("not decided (fewer than 2 trials)"), report);
        assertTrue(section(report, "seed-echo").contains("**Arrival pattern.**"), section(report, "seed-echo"));
        // every chart the report shows exists as a non-empty PNG, and the required kinds are there
        Matcher image = Pattern.compile("\\]\\((charts/[^)]+\\.png)\\)").matcher(report);
        List<String> charts = new ArrayList<>();
        while (image.find()) charts.add(image.group(1));
        for (String chart : charts) {
            byte[] png = Files.readAllBytes(out.resolve(chart));
            assertTrue(png.length > 1000, chart + " is empty");
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4), chart + " is not a PNG");
        }
        for (String required : List.of("charts/seed-echo-closed-loop-spectrum.png", "charts/seed-echo-open-loop-10-000-msg-s-spectrum.png",
                "charts/rate-sweep-cost-curve.png", "charts/rate-sweep-latency-vs-rate.png",
                "charts/idle-rss-vs-connections.png", "charts/idle-threads-vs-connections.png", "charts/cpu-per-1000-messages.png")) {
            assertTrue(charts.contains(required), "the report lacks " + required + " (has " + charts + ")");
        }
        // flame graphs linked from the report exist; the recordings themselves are deleted after analysis
        Matcher flame = Pattern.compile("\\]\\(([^)]+-flame\\.html)\\)").matcher(report);
        while (flame.find()) assertTrue(Files.size(out.resolve(flame.group(1))) > 0, flame.group(1));
        try (var files = Files.walk(out)) {
            assertEquals(List.of(), files.filter(f -> f.toString().endsWith(".jfr")).toList(), "recordings left behind");
        }
    }

    /** The text of a workload's section: from its heading to the next one. */
    private static String section(String report, String workload) {
        int start = report.indexOf("\n## " + workload + ":");
        assertTrue(start >= 0, "no section for " + workload);
        int end = report.indexOf("\n## ", start + 1);
        return report.substring(start, end < 0 ? report.length() : end);
    }

    /**
     * A server killed while its load runs (as the OOM killer would) is marked failed in the report with its last lines,
     * and the series goes on to the next variant.
     */
    @Test
    @Timeout(value = 4, unit = java.util.concurrent.TimeUnit.MINUTES)
    void aServerThatDiesMidRunIsMarkedFailedAndTheSeriesGoesOn(@TempDir Path out) throws Exception {
        try (TestSupport.Script run = TestSupport.jbang("Experiment.java", "--profile", "smoke", "--workloads", "seed-echo",
                "--variants", "virtual,netty-epoll", "--duration", "1s", "--out", out.toString())) {
            // the virtual-thread server (its main class, then its options), once TcpLoad runs against it
            ProcessHandle server = null;
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (server == null && System.nanoTime() < deadline && run.process.isAlive()) {
                List<ProcessHandle> children = run.process.descendants().toList();
                if (children.stream().anyMatch(p -> commandLine(p).contains(" TcpLoad --host "))) {
                    server = children.stream().filter(p -> commandLine(p).contains(" EchoVirtualThreads --port ")).findFirst().orElse(null);
                }
                Thread.sleep(20);
            }
            assertTrue(server != null, "no virtual-thread server under load was seen\n" + run.output());
            server.destroyForcibly();
            assertEquals(0, run.await(Duration.ofMinutes(2)), run.output());
            assertTrue(run.stdout.stream().anyMatch(l -> l.contains("1 runs failed")), run.output());
        }
        String section = section(Files.readString(out.resolve("report.md")), "seed-echo");
        assertTrue(section.contains("**virtual: failed** — the server died during step closed loop"), section);
        assertTrue(section.contains("READY EchoVirtualThreads"), "the failed run shows the server's last lines\n" + section);
        JsonObject data = JsonParser.parseString(Files.readString(out.resolve("data.json"))).getAsJsonObject();
        List<JsonObject> runs = data.getAsJsonArray("workloads").get(0).getAsJsonObject().getAsJsonArray("runs").asList()
                .stream().map(JsonElement::getAsJsonObject).toList();
        List<JsonObject> measured = runs.stream().filter(r -> !r.get("recorded").getAsBoolean()).toList();
        assertEquals(List.of("virtual", "netty-epoll"), measured.stream().map(r -> r.get("variant").getAsString()).toList());
        assertEquals(List.of("failed", "ok"), measured.stream().map(r -> r.get("status").getAsString()).toList());
    }

    /** From /proc: ProcessHandle.Info cuts a command line at 4 KiB, before TcpLoad's main class (its class path is long). */
    private static String commandLine(ProcessHandle process) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(process.pid()), "cmdline")).replace('\0', ' ');
        } catch (java.io.IOException | RuntimeException gone) {
            return "";
        }
    }

    @Test
    void listsEveryWorkloadAndVariantWithOneLineEach() throws Exception {
        try (TestSupport.Script list = TestSupport.jbang("Experiment.java", "--list")) {
            assertEquals(0, list.await(Duration.ofMinutes(2)), list.output());
            for (String name : concat(WORKLOADS, VARIANTS)) {
                assertEquals(1, list.stdout.stream().filter(l -> l.trim().startsWith(name + " ")).count(), name + "\n" + list.output());
            }
            for (String profile : List.of("smoke", "quick", "full", "settings", "seed")) { // each with the time its plan is estimated to take
                assertTrue(list.stdout.stream().anyMatch(l -> l.matches("\\s+" + profile + "\\s+~(\\d+m)?\\d+s: .*")), profile + "\n" + list.output());
            }
        }
    }

    @Test
    void badInputGivesOneLineAndExitCode2() throws Exception {
        String[][] cases = {
                {"--variants", "platform,carrier-pigeon"}, {"--workloads", "nope"}, {"--profile", "huge"},
                {"--trials", "0"}, {"--server-cpus", "0"}, {"--duration", "soon"},
                {"--variants", ","}, {"--workloads", "idle,,churn"}, {"--variants", " "},
                {"--server-cpus", "0", "--load-cpus", "0-1"}, {"--load-cpus", "4095", "--server-cpus", "0"},
                {"--out", "/proc/experiment"}, {"--placement", "nowhere"}, {"--placement", "shared", "--server-cpus", "0", "--load-cpus", "1"}};
        List<TestSupport.Script> runs = new ArrayList<>(); // all at once: each is a JVM start of its own
        try {
            for (String[] args : cases) runs.add(TestSupport.jbang("Experiment.java", args));
            for (int i = 0; i < cases.length; i++) {
                String[] args = cases[i];
                TestSupport.Script run = runs.get(i);
                assertEquals(2, run.await(Duration.ofMinutes(2)), String.join(" ", args) + "\n" + run.output());
                List<String> errors = run.stderr.stream().filter(l -> !l.startsWith("[jbang]")).toList();
                assertEquals(1, errors.size(), String.join(" ", args) + "\n" + run.output());
                assertTrue(errors.get(0).contains(args[0]), "the line names the flag: " + errors.get(0));
            }
        } finally {
            runs.forEach(TestSupport.Script::close);
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
