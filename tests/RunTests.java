///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS org.junit.platform:junit-platform-console-standalone:6.1.3
//SOURCES *Test.java
//SOURCES TestSupport.java
//JAVA_OPTIONS -Xss1m

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The project's test suite: every {@code tests/*Test.java}, run with JUnit. Prints one line per test and ends
 * with {@code N passed, N failed}. Arguments, if any, are regular expressions on test class names
 * ({@code ./jbang tests/RunTests.java 'Server.*'}) to run a subset.
 */
public class RunTests {
    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.println("""
                    Usage: ./jbang tests/RunTests.java [<pattern>...]
                    Builds every script at the repository root, runs every tests/*Test.java with JUnit, prints one
                    line per test and ends with "N passed, N failed" (exit 0 only when none failed).
                      <pattern>   regular expression on test class names, e.g. 'EchoServer' or 'Hostile|Soak';
                                  several patterns run the union (default: every test class)
                    Environment: SOAK_SECONDS, the soak's length in seconds (default 60)""");
            return;
        }
        int buildFailures = buildScripts();
        Path classes = Path.of(RunTests.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClasspathRoots(Set.of(classes)))
                .configurationParameter("junit.jupiter.execution.timeout.default", "5m");
        if (args.length > 0) {
            request.filters(ClassNameFilter.includeClassNamePatterns(
                    // grouped, so 'A|B' matches either anywhere in the name: bare, it matched only names ending in A or starting with B
                    Arrays.stream(args).map(a -> ".*(?:" + a + ").*").toArray(String[]::new)));
        }
        Summary summary = new Summary();
        LauncherDiscoveryRequest discovery = request.build();
        LauncherFactory.create().execute(discovery, summary);
        summary.failed += buildFailures;
        System.out.println(summary.passed + " passed, " + summary.failed + " failed");
        System.exit(summary.failed == 0 && summary.passed > 0 ? 0 : 1);
    }

    /**
     * Compiles every script at the repository root once, up front, so that tests starting several copies of a
     * script at the same moment never race to build it, and a compile error shows as one clear failure.
     * Returns the number of scripts that failed to build (each counts as a failed test).
     */
    private static int buildScripts() throws Exception {
        int failures = 0;
        Path root = TestSupport.ROOT;
        try (var files = java.nio.file.Files.list(root)) {
            for (Path script : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                Process build = new ProcessBuilder(root.resolve("jbang").toString(), "build", script.getFileName().toString())
                        .directory(root.toFile()).redirectErrorStream(true).start();
                String output = new String(build.getInputStream().readAllBytes());
                if (build.waitFor() != 0) {
                    System.out.println("FAIL  build " + script.getFileName() + "\n" + output);
                    failures++;
                } else {
                    System.out.println("BUILT " + script.getFileName());
                }
            }
        }
        return failures;
    }

    /** Prints each finished test as it ends, so a long suite shows progress, and counts outcomes. */
    static final class Summary implements TestExecutionListener {
        int passed, failed;
        private final java.util.Map<TestIdentifier, Long> started = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public void executionStarted(TestIdentifier id) {
            started.put(id, System.nanoTime());
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            if (id.isTest()) System.out.println("SKIP  " + name(id) + ": " + reason);
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            long millis = (System.nanoTime() - started.getOrDefault(id, System.nanoTime())) / 1_000_000;
            boolean ok = result.getStatus() == TestExecutionResult.Status.SUCCESSFUL;
            if (!id.isTest()) {
                if (!ok) { // a failing @BeforeAll or class setup fails every test in it: count it once, loudly
                    failed++;
                    System.out.println("FAIL  " + name(id) + ": " + result.getThrowable().map(Throwable::toString).orElse("?"));
                }
                return;
            }
            if (ok) passed++; else failed++;
            System.out.printf("%s  %s (%d ms)%n", ok ? "PASS" : "FAIL", name(id), millis);
            result.getThrowable().ifPresent(t -> {
                if (!ok) {
                    System.out.println("      " + t);
                    Arrays.stream(t.getStackTrace()).filter(f -> f.getClassName().endsWith("Test")).limit(3)
                            .forEach(f -> System.out.println("        at " + f));
                }
            });
        }

        private static String name(TestIdentifier id) {
            String unique = id.getUniqueId();
            int cls = unique.indexOf("[class:");
            String className = cls < 0 ? "" : unique.substring(cls + 7, unique.indexOf(']', cls));
            return className + " > " + id.getDisplayName();
        }
    }
}
