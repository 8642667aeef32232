import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One analyze-jfr call per workload, after its runs, while nothing is measured: the side-by-side markdown of the
 * first trial's recordings and, where asked, a flame graph of each (written by the same JVM). The recordings are
 * deleted afterwards unless kept.
 */
record RecordingAnalysis(ScriptLaunch analyzer, Path root, Path out, boolean keepRecordings) {

    void analyse(ReportModel.Workload section, boolean flameGraphs) throws IOException {
        List<ReportModel.Run> recorded = section.runs.stream()
                .filter(r -> r.jfrFile != null && Files.exists(out.resolve(r.jfrFile))).toList();
        if (recorded.isEmpty() || analyzer == null) return;
        List<ReportModel.Run> firstTrial = recorded.stream().filter(r -> r.trial == 1).toList();
        List<String> options = new ArrayList<>(List.of("--format", "markdown"));
        if (flameGraphs) options.addAll(List.of("--flamegraph-dir", out.resolve(section.name).toAbsolutePath().toString()));
        List<String> said = run(options, firstTrial);
        // analyze-jfr's own remarks (one per flame graph, warnings) share the merged output: they are not table rows
        section.jfrMarkdown = said.stream().filter(l -> !l.startsWith("analyze-jfr:")).collect(Collectors.joining("\n"));
        said.stream().filter(l -> l.startsWith("analyze-jfr: warning:")).forEach(section.notes::add);
        for (ReportModel.Run run : flameGraphs ? firstTrial : List.<ReportModel.Run>of()) {
            String label = run.label + (run.setting.isEmpty() ? "" : " · " + run.setting);
            String html = run.jfrFile.replaceAll("\\.jfr$", "-flame.html");
            if (Files.exists(out.resolve(html)) && Files.size(out.resolve(html)) > 0) {
                section.flamegraphs.put(label, html);
            } else {
                section.notes.add("No flame graph for " + label + ": " + String.join(" / ", ChildProcess.lastLines(said, 2)));
            }
        }
        if (!keepRecordings) {
            for (ReportModel.Run run : recorded) Files.deleteIfExists(out.resolve(run.jfrFile));
        }
    }

    private List<String> run(List<String> options, List<ReportModel.Run> runs) {
        List<String> args = new ArrayList<>(options);
        runs.forEach(r -> args.add(out.resolve(r.jfrFile).toAbsolutePath().toString()));
        List<String> lines = new ArrayList<>();
        if (!ChildProcess.run(analyzer.command(List.of(), args), root, lines, Duration.ofMinutes(5))) {
            return List.of("_analyze-jfr failed: " + String.join(" / ", ChildProcess.lastLines(lines, 3)) + "_");
        }
        return lines;
    }

    /** The recordings of a run cut short by Ctrl-C: never analysed, so not kept either. */
    void deleteAll() throws IOException {
        if (keepRecordings) return;
        try (var files = Files.walk(out)) {
            for (Path jfr : files.filter(f -> f.toString().endsWith(".jfr")).toList()) Files.deleteIfExists(jfr);
        }
    }
}
