import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much CPU a JVM's JIT compiler threads have used, from Linux's {@code /proc/<pid>/task/<tid>/stat}: the sum of
 * utime + stime (fields 14 and 15, in USER_HZ = 100 ticks per second) of the threads whose name (the stat's comm
 * field, as in {@code comm}: 15 characters) starts with {@code C1 CompilerThre} or {@code C2 CompilerThre}.
 * HotSpot stops idle compiler threads (and their ticks leave the sum with them), so a caller taking differences
 * should treat a drop as zero.
 */
final class JitActivity {
    private JitActivity() {}

    private static final double USER_HZ = 100;

    /** Compiler threads' CPU seconds so far, or NaN when the process is gone or its threads cannot be read. */
    static double compilerCpuSeconds(long pid) {
        long ticks = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) ticks += compilerTicks(task.resolve("stat"));
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return ticks / USER_HZ;
    }

    /** The thread's utime + stime when it is a compiler thread, else 0 (also when it ended meanwhile). */
    private static long compilerTicks(Path stat) {
        String line;
        try {
            line = Files.readString(stat);
        } catch (IOException e) {
            return 0;
        }
        int open = line.indexOf('('), close = line.lastIndexOf(')');
        String name = line.substring(open + 1, close);
        if (!name.startsWith("C1 CompilerThre") && !name.startsWith("C2 CompilerThre")) return 0;
        // after the name: state (field 3) ... utime (14), stime (15)
        String[] fields = line.substring(close + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
