import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * How to start a script's JVM without the launcher: the java command line {@code ./jbang} would exec (its JDK, the
 * script's //JAVA_OPTIONS, the jar it built and the resolved dependencies), read once from {@code ./jbang info tools}.
 * Each launcher call costs two extra JVM starts (2–4 s here) and a series starts over a hundred processes; resolving
 * once also pins every run of the series to the same build of each script.
 */
record ScriptLaunch(String java, List<String> jvmOptions, String classPath, String mainClass) {

    List<String> command(List<String> extraJvmOptions, List<String> args) {
        return command(extraJvmOptions, List.of(), args);
    }

    /** {@code overrides} come after the script's own options, so they win where both set the same flag. */
    List<String> command(List<String> extraJvmOptions, List<String> overrides, List<String> args) {
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(extraJvmOptions); // first, as the launcher places -R options before the script's own
        command.addAll(jvmOptions);
        command.addAll(overrides);
        command.addAll(List.of("-classpath", classPath, mainClass));
        command.addAll(args);
        return command;
    }

    /**
     * Builds and resolves every script. The {@code ./jbang info tools} calls (a JVM start each) run side by side;
     * only the scripts not built yet are then built, one at a time. A script that does not build maps to null,
     * with the reason given to {@code broken}.
     */
    static Map<String, ScriptLaunch> resolveAll(Path root, Collection<String> scripts, Consumer<String> progress,
                                                java.util.function.BiConsumer<String, String> broken) throws Exception {
        for (String script : scripts) {
            if (!Files.exists(root.resolve(script))) throw new Cli.UserError(1, script + " not found in " + root);
        }
        progress.accept("resolving " + String.join(", ", scripts) + " ...");
        Path copies = Files.createTempDirectory("experiment-jars");
        copies.toFile().deleteOnExit();
        Map<String, Future<ScriptLaunch>> resolving = new LinkedHashMap<>();
        try (var resolvers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String script : scripts) resolving.put(script, resolvers.submit(() -> resolve(root, script, copies, new ArrayList<>())));
        }
        Map<String, ScriptLaunch> launches = new LinkedHashMap<>();
        for (String script : scripts) {
            ScriptLaunch launch = result(resolving.get(script)); // null until the script is built
            List<String> lines = new ArrayList<>();
            if (launch == null) {
                progress.accept("building " + script + " ...");
                if (ChildProcess.run(List.of(root.resolve("jbang").toString(), "build", script), root, lines, Duration.ofMinutes(5))) {
                    launch = resolve(root, script, copies, lines);
                }
            }
            if (launch == null) broken.accept(script, script + " does not build: " + String.join(" / ", ChildProcess.lastLines(lines, 5)));
            launches.put(script, launch);
        }
        return launches;
    }

    private static <T> T result(Future<T> future) throws Exception {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** The launcher's own description of the script; null (with the reason in {@code lines}) when its jar is not built yet. */
    private static ScriptLaunch resolve(Path root, String script, Path copies, List<String> lines) {
        List<String> info = new ArrayList<>();
        if (!ChildProcess.run(List.of(root.resolve("jbang").toString(), "info", "tools", script), root, info, Duration.ofMinutes(2))) {
            lines.addAll(info);
            return null;
        }
        String json = info.stream().filter(l -> !l.startsWith("[jbang]")).collect(Collectors.joining("\n"));
        JsonObject tools = JsonParser.parseString(json).getAsJsonObject();
        String jar = tools.get("applicationJar").getAsString();
        if (!Files.exists(Path.of(jar))) {
            lines.add("its jar " + jar + " is not built");
            return null;
        }
        List<String> classPath = new ArrayList<>(List.of(privateCopy(Path.of(jar), script, copies).toString()));
        tools.getAsJsonArray("resolvedDependencies").forEach(d -> classPath.add(d.getAsString()));
        List<String> options = new ArrayList<>();
        if (tools.has("runtimeOptions")) tools.getAsJsonArray("runtimeOptions").forEach(o -> options.add(o.getAsString()));
        return new ScriptLaunch(Path.of(tools.get("availableJdkPath").getAsString(), "bin", "java").toString(), options,
                String.join(File.pathSeparator, classPath), tools.get("mainClass").getAsString());
    }

    /**
     * A copy of the script's jar that lives as long as this series: the launcher's cache entry can be rebuilt (and is
     * briefly missing) when someone runs an edited script meanwhile, and the series must use one build throughout.
     */
    private static Path privateCopy(Path jar, String script, Path copies) {
        try {
            Path copy = copies.resolve(script.replaceAll("\\.java$", "") + ".jar");
            Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
            copy.toFile().deleteOnExit();
            return copy;
        } catch (IOException e) {
            throw new Cli.UserError(1, "cannot copy " + jar + ": " + e.getMessage());
        }
    }
}
