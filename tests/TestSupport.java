import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the project's scripts as a user would, through {@code ./jbang}, in real subprocesses. */
final class TestSupport {
    private TestSupport() {}

    /** The repository root: the nearest folder, from the working directory up, holding the {@code jbang} launcher. */
    static final Path ROOT = findRoot();

    private static Path findRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isExecutable(dir.resolve("jbang")) && Files.isDirectory(dir.resolve("tests"))) return dir;
        }
        throw new IllegalStateException("run the tests from inside the repository");
    }

    /** A script running in its own process; its stdout and stderr are collected line by line. */
    static final class Script implements AutoCloseable {
        final Process process;
        final List<String> stdout = Collections.synchronizedList(new ArrayList<>());
        final List<String> stderr = Collections.synchronizedList(new ArrayList<>());

        Script(List<String> command) throws IOException {
            ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile());
            builder.environment().put("JBANG_NO_VERSION_CHECK", "true");
            process = builder.start();
            collect(process.getInputStream(), stdout);
            collect(process.getErrorStream(), stderr);
        }

        private static void collect(java.io.InputStream stream, List<String> lines) {
            Thread.ofVirtual().start(() -> {
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                    for (String line; (line = reader.readLine()) != null; ) lines.add(line);
                } catch (IOException ignored) {
                    // the process went away: the lines read so far are what it said
                }
            });
        }

        /** Waits for a stdout line matching {@code pattern}; fails with everything the process said otherwise. */
        Matcher awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                synchronized (stdout) {
                    for (String line : stdout) {
                        Matcher m = pattern.matcher(line);
                        if (m.find()) return m;
                    }
                }
                if (!process.isAlive() && process.exitValue() >= 0) {
                    Thread.sleep(100); // let the collectors drain
                    synchronized (stdout) {
                        for (String line : stdout) {
                            Matcher m = pattern.matcher(line);
                            if (m.find()) return m;
                        }
                    }
                    throw new AssertionError("process exited " + process.exitValue() + " before printing " + pattern + "\n" + output());
                }
                Thread.sleep(20);
            }
            throw new AssertionError("no line matching " + pattern + " within " + timeout + "\n" + output());
        }

        /** Waits for the process to end and returns its exit code; kills it if it outlives {@code timeout}. */
        int await(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("process still running after " + timeout + "\n" + output());
            }
            Thread.sleep(50); // let the collectors drain
            return process.exitValue();
        }

        /**
         * Sends SIGTERM, the way a service manager stops a server. Through the process handle, because
         * {@code Process.destroy()} also closes our ends of its pipes and would lose its last lines (the STATS line).
         */
        void terminate() {
            process.toHandle().destroy();
        }

        long pid() {
            return process.pid();
        }

        String output() {
            synchronized (stdout) {
                synchronized (stderr) {
                    return "--- stdout:\n" + String.join("\n", stdout) + "\n--- stderr:\n" + String.join("\n", stderr);
                }
            }
        }

        @Override
        public void close() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    /** Starts {@code ./jbang <script> <args...>}. */
    static Script jbang(String script, String... args) throws IOException {
        return jbang(List.of(), List.of(), script, args);
    }

    /**
     * Starts {@code <launcher...> ./jbang -R=<javaOption>... <script> <args...>}: {@code launcher} is a command prefix
     * such as {@code prlimit --nofile=256:256}, {@code javaOptions} go to the script's JVM (JBang's {@code -R}).
     */
    static Script jbang(List<String> launcher, List<String> javaOptions, String script, String... args) throws IOException {
        List<String> command = new ArrayList<>(launcher);
        command.add(ROOT.resolve("jbang").toString());
        for (String option : javaOptions) command.add("-R=" + option);
        command.add(script);
        command.addAll(List.of(args));
        return new Script(command);
    }

    /** A started echo server: its process, and what its ready line said. */
    record Server(Script script, String host, int port, long pid, Map<String, String> ready) implements AutoCloseable {
        @Override
        public void close() {
            script.close();
        }
    }

    static final Pattern READY = Pattern.compile("^READY (\\S+) (\\S+):(\\d+)(.*)$");
    private static final Pattern KEY_VALUE = Pattern.compile("(\\S+)=(\\S+)");

    /** Starts a server on an ephemeral port ({@code --port 0}) and waits for its ready line. */
    static Server startServer(String script, String... args) throws Exception {
        return startServer(List.of(), script, args);
    }

    /** The same, with {@code javaOptions} for the server's JVM (JBang's {@code -R}), e.g. a fixed heap. */
    static Server startServer(List<String> javaOptions, String script, String... args) throws Exception {
        return startServer(List.of(), javaOptions, script, args);
    }

    /** The same, started by {@code launcher} (a command prefix such as {@code prlimit --nofile=256:256}). */
    static Server startServer(List<String> launcher, List<String> javaOptions, String script, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--port", "0"));
        all.addAll(List.of(args));
        Script process = jbang(launcher, javaOptions, script, all.toArray(String[]::new));
        try {
            Matcher ready = process.awaitLine(READY, Duration.ofSeconds(120));
            Map<String, String> fields = new java.util.LinkedHashMap<>();
            Matcher kv = KEY_VALUE.matcher(ready.group(4));
            while (kv.find()) fields.put(kv.group(1), kv.group(2));
            return new Server(process, ready.group(2), Integer.parseInt(ready.group(3)),
                    Long.parseLong(fields.getOrDefault("pid", "-1")), fields);
        } catch (Throwable t) {
            process.close();
            throw t;
        }
    }

    /** The three echo servers, by script name. */
    static final List<String> SERVERS = List.of("EchoPlatformThreads.java", "EchoVirtualThreads.java", "EchoNetty.java");

    /**
     * The three servers plus EchoNetty's other transports (its default is epoll), each as a script and its
     * arguments separated by spaces, for {@link #startServerOrSkip}: for the tests of transport-specific behaviour.
     */
    static final List<String> SERVERS_AND_NETTY_TRANSPORTS = List.of("EchoPlatformThreads.java", "EchoVirtualThreads.java",
            "EchoNetty.java", "EchoNetty.java --transport nio", "EchoNetty.java --transport io_uring");

    /**
     * Starts {@code server}, a script and its arguments separated by spaces, followed by {@code args}. A transport
     * this machine lacks (EchoNetty exits 1 with "--transport io_uring is not available here: ..." before its ready
     * line, e.g. where io_uring is disabled in a container) skips the test instead of failing it.
     */
    static Server startServerOrSkip(String server, String... args) throws Exception {
        return startServerOrSkip(List.of(), server, args);
    }

    /** The same, started by {@code launcher} (a command prefix). */
    static Server startServerOrSkip(List<String> launcher, String server, String... args) throws Exception {
        List<String> words = new ArrayList<>(List.of(server.split(" ")));
        words.addAll(List.of(args));
        try {
            return startServer(launcher, List.of(), words.get(0), words.subList(1, words.size()).toArray(String[]::new));
        } catch (AssertionError e) {
            if (String.valueOf(e.getMessage()).contains("is not available here")) {
                org.junit.jupiter.api.Assumptions.abort(server + ": " + e.getMessage().lines()
                        .filter(l -> l.contains("is not available here")).findFirst().orElse(""));
            }
            throw e;
        }
    }

    static CompletableFuture<Void> async(ThrowingRunnable task) {
        return CompletableFuture.runAsync(() -> {
            try {
                task.run();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
