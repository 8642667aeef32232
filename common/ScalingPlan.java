import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The points of the scaling workload on a machine: the server on 1, 2, 4, ... of its CPUs, up to half of them, and
 * TcpLoad on the rest, as many processes as it takes to give each at most {@link #THREADS_PER_PROCESS} event-loop
 * threads (one per core it runs on). Pure logic over the list of online CPUs, so it is tested for machines the test
 * does not run on.
 */
final class ScalingPlan {
    private ScalingPlan() {}

    /** One event loop per core; beyond this many a single TcpLoad process stops scaling (its ticker, one JSON). */
    static final int THREADS_PER_PROCESS = 4;

    /** One point: the server's CPUs, and TcpLoad's, split into {@code processes} sets of {@code threads} or fewer. */
    record Point(int serverCores, String serverCpus, List<String> loadCpuSets, List<Integer> threads) {
        int processes() {
            return loadCpuSets.size();
        }

        String loadCpus() {
            return String.join(",", loadCpuSets);
        }
    }

    /** The points for these online CPUs (at least 2): server cores 1, 2, 4, ... while at most half of them. */
    static List<Point> points(List<Integer> online) {
        if (online.size() < 2) throw new IllegalArgumentException("the scaling workload needs 2 CPUs at least, one for each side");
        List<Point> points = new ArrayList<>();
        for (int cores = 1; cores <= online.size() / 2; cores *= 2) {
            List<Integer> server = online.subList(0, cores), load = online.subList(cores, online.size());
            int processes = (load.size() + THREADS_PER_PROCESS - 1) / THREADS_PER_PROCESS;
            List<String> sets = new ArrayList<>();
            List<Integer> threads = new ArrayList<>();
            for (int p = 0; p < processes; p++) {
                // as evenly as the cores allow: 7 cores make processes of 3 and 4
                int from = p * load.size() / processes, to = (p + 1) * load.size() / processes;
                sets.add(list(load.subList(from, to)));
                threads.add(to - from);
            }
            points.add(new Point(cores, list(server), sets, threads));
        }
        return points;
    }

    /** A CPU list in taskset's syntax, ranges where the CPUs run on ("0-3,6"). */
    static String list(List<Integer> cpus) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < cpus.size(); ) {
            int j = i;
            while (j + 1 < cpus.size() && cpus.get(j + 1) == cpus.get(j) + 1) j++;
            parts.add(i == j ? Integer.toString(cpus.get(i)) : cpus.get(i) + "-" + cpus.get(j));
            i = j + 1;
        }
        return parts.stream().collect(Collectors.joining(","));
    }
}
