import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code ./jbang} launcher: runs a script on a JDK 21+, passes arguments and the exit code through. */
class LauncherTest {
    @Test
    void runsAScriptOnJdk21OrNewerAndPassesArgumentsAndExitCode(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("Probe.java");
        Files.writeString(script, """
                ///usr/bin/env jbang "$0" "$@" ; exit $?
                //JAVA 21+
                public class Probe {
                    public static void main(String[] args) {
                        System.out.println("feature=" + Runtime.version().feature() + " args=" + String.join(",", args));
                        System.exit(7);
                    }
                }
                """);
        try (TestSupport.Script probe = TestSupport.jbang(script.toString(), "a b", "c")) {
            assertEquals(7, probe.await(Duration.ofMinutes(2)), probe.output());
            String line = probe.stdout.get(0);
            assertTrue(Integer.parseInt(line.replaceAll("feature=(\\d+).*", "$1")) >= 21, line);
            assertTrue(line.endsWith("args=a b,c"), line);
        }
    }

    @Test
    void failsWithOneLineWhenNoJdk21IsFound(@TempDir Path dir) throws Exception {
        // a JAVA_HOME that does not qualify and no JVM folder to search: the launcher must say what to install
        ProcessBuilder builder = new ProcessBuilder("bash", "-c",
                "sed 's#/usr/lib/jvm/\\*/#" + dir + "/*/#; s#command -v javac#false#' jbang > " + dir + "/jbang && bash "
                        + dir + "/jbang --version")
                .directory(TestSupport.ROOT.toFile());
        builder.environment().put("JAVA_HOME", "/nonexistent");
        Process process = builder.redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes()).trim();
        assertEquals(1, process.waitFor());
        assertEquals(1, output.lines().count(), output);
        assertTrue(output.contains("JDK 21 or newer"), output);
    }
}
