import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Samples a process from Linux's /proc every second: CPU time (user and system, from {@code /proc/<pid>/stat}),
 * resident memory ({@code VmRSS} from {@code /proc/<pid>/status}), threads and open files. Read from the kernel,
 * not from the JVM's own view, so every server model is measured the same way, heap or no heap.
 */
final class ProcSampler implements AutoCloseable {
    /** One reading. {@code seconds} counts from the sampler's start; CPU figures are cumulative since the process began. */
    record Sample(double seconds, double userSeconds, double systemSeconds, long rssKiB, int threads, int openFiles) {
        double cpuSeconds() {
            return userSeconds + systemSeconds;
        }
    }

    /** Clock ticks per second of the utime/stime fields; 100 on every Linux this runs on (USER_HZ). */
    private static final double TICKS_PER_SECOND = 100.0;

    private final long pid;
    private final long startNanos = System.nanoTime();
    private final List<Sample> samples = new ArrayList<>();
    private final Thread sampler;

    ProcSampler(long pid) {
        this.pid = pid;
        sampleNow();
        sampler = Thread.ofPlatform().daemon().name("proc-sampler-" + pid).start(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    TimeUnit.SECONDS.sleep(1);
                    if (sampleNow() == null) return; // the process is gone
                }
            } catch (InterruptedException stopped) {
                // close() ends the sampling
            }
        });
    }

    /** Takes a reading now (in addition to the periodic ones) and returns it, or null when the process is gone. */
    synchronized Sample sampleNow() {
        Sample sample = read(pid, (System.nanoTime() - startNanos) / 1e9);
        if (sample != null) samples.add(sample);
        return sample;
    }

    synchronized List<Sample> samples() {
        return List.copyOf(samples);
    }

    long pid() {
        return pid;
    }

    /** Seconds since the sampler started, on the same clock as {@link Sample#seconds()}. */
    double now() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    @Override
    public void close() {
        sampler.interrupt();
    }

    /**
     * Context switches (voluntary + involuntary) per live thread of the process (thread id → switches), from
     * {@code /proc/<pid>/task/*}{@code /status}; null when the process is gone.
     */
    static Map<Long, Long> contextSwitchesByThread(long pid) {
        Map<Long, Long> byThread = new HashMap<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    long switches = 0;
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            switches += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                    byThread.put(Long.parseLong(task.getFileName().toString()), switches);
                } catch (IOException threadEnded) {
                    // a thread that ends while we read: its switches leave with it
                }
            }
            return byThread;
        } catch (IOException | RuntimeException gone) {
            return null;
        }
    }

    /**
     * The switches between two readings: a thread's growth where it lived at both, all of a thread's born in
     * between. A thread that ended in between (a closed connection's, an idle JIT compiler thread) takes its
     * switches with it: the kernel keeps no per-process total a reader can see, so the figure is a lower bound
     * where threads come and go. -1 when either reading is missing.
     */
    static long switchesBetween(Map<Long, Long> before, Map<Long, Long> after) {
        if (before == null || after == null) return -1;
        long total = 0;
        for (var thread : after.entrySet()) total += thread.getValue() - before.getOrDefault(thread.getKey(), 0L);
        return total;
    }

    /** One reading of {@code pid}, or null when the process has exited. */
    static Sample read(long pid, double atSeconds) {
        Path proc = Path.of("/proc", Long.toString(pid));
        try {
            // the command name in field 2 may hold spaces and parentheses: the numeric fields start after the last ')'
            String stat = Files.readString(proc.resolve("stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            double user = Long.parseLong(fields[11]) / TICKS_PER_SECOND; // field 14 of proc(5): utime
            double system = Long.parseLong(fields[12]) / TICKS_PER_SECOND; // field 15: stime
            int threads = Integer.parseInt(fields[17]); // field 20: num_threads
            long rssKiB = 0;
            for (String line : Files.readAllLines(proc.resolve("status"))) {
                if (line.startsWith("VmRSS:")) rssKiB = Long.parseLong(line.replaceAll("\\D+", ""));
            }
            int openFiles;
            try (var fds = Files.list(proc.resolve("fd"))) {
                openFiles = (int) fds.count();
            }
            return new Sample(atSeconds, user, system, rssKiB, threads, openFiles);
        } catch (IOException | RuntimeException gone) {
            return null;
        }
    }
}
