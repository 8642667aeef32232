import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a series runs, built once before it so that no measured run pays for a compile: the reference servers (C, Go)
 * and the java command line of every script. Variants this machine cannot build leave the series with a note.
 */
record SeriesBuild(Map<String, ScriptLaunch> launches, Map<String, Path> binaries) {

    /** Builds for {@code variants}, removing those whose toolchain is missing; notes go to {@code data}. */
    static SeriesBuild of(Path root, List<Plan.Variant> variants, ReportModel.Experiment data) throws Exception {
        SeriesProgress.line("building the reference servers ...");
        ReferenceBuild reference = ReferenceBuild.run(root); // c-epoll also measures the generator's ceiling
        for (Plan.Variant variant : List.copyOf(variants)) {
            if (variant.isJvm() || reference.built().containsKey(variant.name())) continue;
            variants.remove(variant);
            data.skippedVariants.put(variant.name(), reference.skipped().getOrDefault(variant.name(), "not built"));
        }
        if (!reference.built().containsKey("c-epoll")) {
            data.notes.add("No generator ceiling: c-epoll was not built (" + reference.skipped().getOrDefault("c-epoll", "?")
                    + "), so no row can be marked generator-bound by it.");
        }
        Set<String> scripts = new LinkedHashSet<>();
        variants.stream().filter(Plan.Variant::isJvm).forEach(v -> scripts.add(v.script()));
        scripts.add("TcpLoad.java");
        scripts.add("analyze-jfr.java");
        Map<String, ScriptLaunch> launches = ScriptLaunch.resolveAll(root, scripts, SeriesProgress::line, (script, why) -> {
            if (!script.equals("analyze-jfr.java")) throw new Cli.UserError(1, why);
            data.notes.add("No JFR analysis: " + why); // the measurements stand without it
        });
        return new SeriesBuild(launches, reference.built());
    }
}
