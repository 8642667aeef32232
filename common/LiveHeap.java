import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JVM's live heap: {@code jcmd <pid> GC.run}, then the heap used from {@code GC.heap_info}. Garbage not yet
 * collected then does not count as a model's cost per connection (virtual threads keep their stacks on the heap).
 * It stops the server for the collection, so it runs only in probe steps, never in a measured window.
 */
final class LiveHeap {
    private LiveHeap() {}

    /**
     * A generation's or a whole heap's line, unindented ("DefNew     total 116160K, used 31005K [...", "garbage-first
     * heap   total reserved ..., used 11322K [...", "ZHeap   used 62M, ..."); indented lines are its spaces, and
     * Metaspace is not heap.
     */
    private static final Pattern USED = Pattern.compile("^(?!Metaspace)\\S.*?\\bused (\\d+)([KM])");

    /** KiB used after a full collection, or null when {@code jcmd} (beside {@code java}) cannot say. */
    static Long afterFullGc(String java, long pid, Path root) {
        Path jcmd = Path.of(java).resolveSibling("jcmd");
        if (!Files.isExecutable(jcmd)) return null;
        List<String> ignored = new ArrayList<>(), info = new ArrayList<>();
        if (!ChildProcess.run(List.of(jcmd.toString(), Long.toString(pid), "GC.run"), root, ignored, Duration.ofSeconds(30))) return null;
        if (!ChildProcess.run(List.of(jcmd.toString(), Long.toString(pid), "GC.heap_info"), root, info, Duration.ofSeconds(30))) return null;
        return used(info);
    }

    /** The used KiB of every generation (Serial, Parallel) or of the one heap (G1, ZGC) in {@code GC.heap_info}'s lines. */
    static Long used(List<String> heapInfo) {
        long total = 0;
        boolean found = false;
        for (String line : heapInfo) {
            Matcher m = USED.matcher(line);
            if (m.find()) {
                total += Long.parseLong(m.group(1)) * (m.group(2).equals("M") ? 1024 : 1);
                found = true;
            }
        }
        return found ? total : null;
    }
}
