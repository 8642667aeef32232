import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A process the experiment started: its merged stdout and stderr kept line by line (the last lines go into the
 * report when it fails), and registered so that Ctrl-C can stop every one of them, children included.
 */
final class ChildProcess {
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static volatile boolean stopping;

    final Process process;
    final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final Thread reader;

    ChildProcess(List<String> command, Path directory) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true);
        builder.environment().put("JBANG_NO_VERSION_CHECK", "true");
        process = builder.start();
        LIVE.add(process);
        process.onExit().thenRun(() -> LIVE.remove(process));
        reader = Thread.ofVirtual().start(() -> collect(process.getInputStream(), lines));
    }

    /** Ctrl-C: every live child and its descendants killed; waits in progress return as if timed out. */
    static void stopAll() {
        stopping = true;
        for (Process process : LIVE) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    static boolean stopping() {
        return stopping;
    }

    /** The first line matching {@code pattern}, or null when the process ends or the timeout passes without one. */
    Matcher awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (System.nanoTime() < deadline && !stopping) {
            synchronized (lines) {
                for (; seen < lines.size(); seen++) {
                    Matcher m = pattern.matcher(lines.get(seen));
                    if (m.find()) return m;
                }
            }
            if (!process.isAlive() && seen == lines.size()) {
                TimeUnit.MILLISECONDS.sleep(100); // a last line may still be in the pipe
                if (seen == lines.size()) return null;
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        return null;
    }

    /** Writes a line to the process's stdin (TcpLoad --measure-on-stdin waits for one); a process gone is left alone. */
    void writeLine(String line) {
        try {
            process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
        } catch (IOException gone) {
            // it exited (or closed its stdin): it needs no line
        }
    }

    /** The exit code, or -1 when the process outlived {@code timeout} and was killed. */
    int await(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            lines.add("(killed by the experiment: still running after " + timeout.toSeconds() + " s)");
            kill();
            return -1;
        }
        reader.join(Duration.ofSeconds(5)); // every line it wrote, read (a child of its own could keep the pipe open)
        return process.exitValue();
    }

    List<String> lastLines() {
        synchronized (lines) {
            return lastLines(lines, 20);
        }
    }

    void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** Runs {@code command} to its end, adding what it said to {@code lines}; true when it exited 0 in time. */
    static boolean run(List<String> command, Path directory, List<String> lines, Duration timeout) {
        try {
            ChildProcess child = new ChildProcess(command, directory);
            boolean ok = child.await(timeout) == 0;
            synchronized (child.lines) {
                lines.addAll(child.lines);
            }
            return ok;
        } catch (IOException | InterruptedException e) {
            lines.add(e.getMessage());
            return false;
        }
    }

    static void collect(InputStream stream, Collection<String> lines) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) lines.add(line);
        } catch (IOException gone) {
            // the process ended: what it said so far is kept
        }
    }

    static List<String> lastLines(List<String> lines, int n) {
        Deque<String> last = new ArrayDeque<>();
        for (String line : lines) {
            if (last.size() == n) last.removeFirst();
            last.addLast(line);
        }
        return List.copyOf(last);
    }
}
