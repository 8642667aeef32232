import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedThread;

/** analyze-jfr's thread building blocks: which threads used the CPU, weighed so none exceeds its JVM; thread names. */
class JfrThreadMetrics {

    /**
     * The threads that used the most CPU, each as a mean share of the whole machine over the recording, so that it can
     * be set beside the JVM's own share (jdk.CPULoad jvmUser + jvmSystem) and never exceed it. jdk.ThreadCPULoad needs
     * two corrections for that:
     * <ul>
     * <li>a thread gets an event only in the periods where it used at least 1 ms of CPU, so its loads are summed and
     *     divided by all the periods of the recording (each batch of events, all stamped alike, is one period), not
     *     averaged over its own events, which made a thread busy in a few periods look busy throughout. The first
     *     batch is left out, as is jdk.CPULoad's first event: they cover the time before the first period, and
     *     jdk.CPULoad's is 0 for want of a baseline. The JVM's share is the mean of jdk.CPULoad over the same periods;</li>
     * <li>a thread's load is a share of the CPUs the JVM may run on (the JDK's active processor count: its CPU affinity
     *     or container limit), jdk.CPULoad's a share of the machine's: a server pinned to 1 of 2 CPUs shows a busy
     *     thread at twice its share of the machine. The recording does not say how many CPUs the JVM could use, so it
     *     is estimated: the most, up to the machine's hardware threads, for which its Java threads together stay within
     *     the JVM's CPU (they are part of it), and within what the loads allow (a thread's load is at most one CPU, 1/n).
     *     It is exact when the Java threads did most of the JVM's work, and shown as a row of its own.</li>
     * </ul>
     */
    static JfrMetrics.Metric busiestThreads(String key, String label) {
        Set<String> events = Set.of(THREAD_CPU_LOAD, CPU_LOAD, CPU_INFORMATION);
        return new JfrMetrics.Metric(events, () -> new JfrMetrics.Base(key, label, events, JfrMetrics.all()) {
            final Map<String, ThreadLoad> threads = new HashMap<>();
            final TreeSet<Long> batches = new TreeSet<>(); // the distinct times of jdk.ThreadCPULoad events, in ns
            final TreeMap<Long, Double> jvm = new TreeMap<>(); // jdk.CPULoad: time -> jvmUser + jvmSystem
            double maxLoad;
            int hardwareThreads;

            @Override
            void add(RecordedEvent e) {
                long time = epochNanos(e.getStartTime());
                switch (e.getEventType().getName()) {
                    case THREAD_CPU_LOAD -> {
                        double load = e.getFloat("user") + e.getFloat("system");
                        String name = threadName(e.getThread());
                        ThreadLoad thread = threads.get(name);
                        if (thread == null) thread = threads.computeIfAbsent(threads.size() < JfrMetrics.CAP ? name : "(other)", k -> new ThreadLoad());
                        thread.add(time, load);
                        batches.add(time);
                        maxLoad = Math.max(maxLoad, load);
                    }
                    case CPU_LOAD -> jvm.merge(time, (double) (e.getFloat("jvmUser") + e.getFloat("jvmSystem")), Double::sum);
                    default -> hardwareThreads = e.getInt("hwThreads");
                }
            }

            @Override
            void renderValues(JfrMetrics.Context context, List<JfrMetrics.Line> out) {
                int periods = batches.size() - 1;
                String jvmKey = key + ".jvm", jvmLabel = "JVM user + system over the same periods";
                String cpusKey = key + ".cpus", cpusLabel = "CPUs the JVM could use (estimated)";
                if (periods < 1) { // fewer than two batches: no whole period to weigh the threads over
                    out.add(new JfrMetrics.Line(key, label, List.of(), null));
                    out.add(new JfrMetrics.Line(jvmKey, jvmLabel, null, "-"));
                    out.add(new JfrMetrics.Line(cpusKey, cpusLabel, null, "-"));
                    return;
                }
                long first = batches.first(), last = batches.last();
                long halfPeriod = (last - first) / periods / 2; // jdk.CPULoad is taken at the same moments, give or take
                double jvmShare = jvm.subMap(first + halfPeriod, true, last + halfPeriod, true).values().stream()
                        .mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
                double javaThreads = threads.values().stream().mapToDouble(t -> t.inPeriods(first)).sum() / periods;
                int machine = Math.max(1, hardwareThreads);
                int cpus = machine; // how many CPUs the loads are shares of
                if (javaThreads > 0 && !Double.isNaN(jvmShare)) {
                    // 1% slack for the two events' clocks (ticks against thread CPU time); an exact integer stays itself
                    cpus = (int) Math.floor(machine * jvmShare / javaThreads * 1.01);
                }
                if (maxLoad > 0) cpus = Math.min(cpus, (int) Math.floor(1 / maxLoad * 1.0001));
                cpus = Math.max(1, Math.min(machine, cpus));
                double scale = (double) cpus / machine;
                List<JfrMetrics.Ranked> ranked = new ArrayList<>();
                threads.forEach((name, thread) -> {
                    double share = thread.inPeriods(first) / periods * scale;
                    ranked.add(new JfrMetrics.Ranked(name, share, null, JfrMetrics.Unit.PERCENT.text(share) + "  " + name));
                });
                ranked.sort(Comparator.comparingDouble(JfrMetrics.Ranked::value).reversed());
                out.add(new JfrMetrics.Line(key, label, ranked.subList(0, Math.min(context.top(), ranked.size())), null));
                out.add(Double.isNaN(jvmShare) ? new JfrMetrics.Line(jvmKey, jvmLabel, null, "-") : JfrMetrics.line(jvmKey, jvmLabel, JfrMetrics.Unit.PERCENT, jvmShare));
                out.add(new JfrMetrics.Line(cpusKey, cpusLabel, cpus, hardwareThreads == 0 ? cpus + " (hardware threads unknown)"
                        : cpus + " of " + hardwareThreads + (cpus < hardwareThreads ? " (its CPU affinity or limit)" : "")));
            }
        });
    }

    static final String THREAD_CPU_LOAD = "jdk.ThreadCPULoad", CPU_LOAD = "jdk.CPULoad", CPU_INFORMATION = "jdk.CPUInformation";

    /** One thread's jdk.ThreadCPULoad events: their sum, and the earliest one (it may belong to the first batch). */
    private static final class ThreadLoad {
        double sum, earliestLoad;
        long earliest = Long.MAX_VALUE;

        void add(long time, double load) { // threads of one name share an entry: the earliest loads are summed
            sum += load;
            if (time < earliest) {
                earliest = time;
                earliestLoad = 0;
            }
            if (time == earliest) earliestLoad += load;
        }

        /** The sum over the periods after the first batch. */
        double inPeriods(long firstBatch) {
            return earliest == firstBatch ? sum - earliestLoad : sum;
        }
    }

    static long epochNanos(java.time.Instant instant) {
        return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
    }

    static String threadName(RecordedThread thread) {
        if (thread == null) return "(unknown)";
        String name = thread.getJavaName() != null ? thread.getJavaName() : thread.getOSName();
        return name == null || name.isEmpty() ? "#" + thread.getJavaThreadId() : name;
    }
}
