import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reference servers (C and Go), built once per series with {@code reference/build.sh}: each is either built (its
 * binary's path) or skipped because its toolchain is missing (the script's line saying so).
 */
record ReferenceBuild(Map<String, Path> built, Map<String, String> skipped) {
    private static final Pattern BUILT = Pattern.compile("^built (\\S+) (.+)$");
    private static final Pattern SKIPPED = Pattern.compile("^skipped (\\S+): (.+)$");

    static ReferenceBuild run(Path root) throws Exception {
        Path dir = Files.createTempDirectory("experiment-reference");
        dir.toFile().deleteOnExit();
        List<String> lines = new ArrayList<>();
        boolean ok = ChildProcess.run(List.of("bash", root.resolve("reference/build.sh").toString(), dir.toString()), root, lines,
                Duration.ofMinutes(5));
        Map<String, Path> built = new LinkedHashMap<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher b = BUILT.matcher(line), s = SKIPPED.matcher(line);
            if (b.matches()) built.put(b.group(1), Path.of(b.group(2)));
            if (s.matches()) skipped.put(s.group(1), s.group(2));
        }
        if (!ok) {
            String why = "reference/build.sh failed: " + String.join(" / ", ChildProcess.lastLines(lines, 5));
            for (String name : List.of("c-epoll", "go-net")) {
                if (!built.containsKey(name)) skipped.putIfAbsent(name, why);
            }
        }
        return new ReferenceBuild(built, skipped);
    }
}
