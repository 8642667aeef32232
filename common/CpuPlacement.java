import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Where the servers and TcpLoad run: servers on one set of cores, TcpLoad on the others (with taskset), so the
 * generator never steals the server's CPU. {@code serverPin} prefixes the server's command and each of {@code loadPins}
 * one TcpLoad process's (several where the scaling workload splits the load cores); empty when pinning is impossible,
 * and {@code note} then says why.
 */
record CpuPlacement(List<String> serverPin, List<List<String>> loadPins, boolean pinned, String description, String note) {

    /** The placement asked for ({@code serverCpus}/{@code loadCpus} null: the default), checked against this machine. */
    static CpuPlacement choose(String serverCpus, String loadCpus) {
        int cores = Runtime.getRuntime().availableProcessors();
        boolean taskset = Files.isExecutable(Path.of("/usr/bin/taskset")) || Files.isExecutable(Path.of("/bin/taskset"));
        boolean asked = serverCpus != null || loadCpus != null;
        if (asked && (serverCpus == null || loadCpus == null)) {
            throw new Cli.UserError(2, "--server-cpus and --load-cpus go together");
        }
        if (asked) checkApart(serverCpus, loadCpus);
        if (!taskset) {
            if (asked) throw new Cli.UserError(2, "--server-cpus: taskset is not installed");
            return unpinned("none (taskset not installed)", "Pinning impossible: taskset is not installed; servers and TcpLoad share all cores.");
        }
        if (!asked && cores < 2) {
            return unpinned("none (1 core)", "Pinning impossible: only " + cores
                    + " core; servers and TcpLoad share it, so the generator's CPU competes with the server's.");
        }
        if (!asked) {
            serverCpus = "0";
            loadCpus = cores == 2 ? "1" : "1-" + (cores - 1);
        }
        for (String[] cpus : new String[][] {{"--server-cpus", serverCpus}, {"--load-cpus", loadCpus}}) {
            if (!ChildProcess.run(List.of("taskset", "-c", cpus[1], "true"), Path.of("").toAbsolutePath(), new ArrayList<>(), java.time.Duration.ofSeconds(10))) {
                throw new Cli.UserError(2, cpus[0] + ": taskset cannot use CPUs '" + cpus[1] + "' on this machine");
            }
        }
        return of(serverCpus, List.of(loadCpus));
    }

    /** Both sides unpinned on every core, as the seed ran on one laptop. */
    static final CpuPlacement SHARED = new CpuPlacement(List.of(), List.of(List.of()), false, "shared: server and TcpLoad unpinned on all cores", null);

    /** The given sets, already known to be valid (the scaling workload's points): one TcpLoad process per load set. */
    static CpuPlacement of(String serverCpus, List<String> loadCpuSets) {
        String load = loadCpuSets.size() == 1 ? "TcpLoad on CPU " + loadCpuSets.get(0)
                : "TcpLoad in " + loadCpuSets.size() + " processes on CPU " + String.join(" and ", loadCpuSets);
        return new CpuPlacement(List.of("taskset", "-c", serverCpus), loadCpuSets.stream().map(set -> List.of("taskset", "-c", set)).toList(),
                true, "server on CPU " + serverCpus + ", " + load + " (taskset)", null);
    }

    private static CpuPlacement unpinned(String description, String note) {
        return new CpuPlacement(List.of(), List.of(List.of()), false, description, note);
    }

    /** Both sets online, and apart, so the generator never competes with the server for a core. */
    private static void checkApart(String serverCpus, String loadCpus) {
        Set<Integer> online = onlineCpus();
        Set<Integer> shared = cpuSet("--server-cpus", serverCpus, online);
        shared.retainAll(cpuSet("--load-cpus", loadCpus, online));
        if (!shared.isEmpty()) {
            throw new Cli.UserError(2, "--server-cpus " + serverCpus + " and --load-cpus " + loadCpus + " share CPU "
                    + names(shared) + ": the generator would compete with the server for it");
        }
    }

    private static final Pattern RANGE = Pattern.compile("(\\d+)(?:-(\\d+)(?::(\\d+))?)?");

    /** A CPU list in taskset's syntax ("0", "1-3", "0,2", "0-6:2"), the kernel's too; null when malformed. */
    static Set<Integer> parse(String list) {
        Set<Integer> cpus = new TreeSet<>();
        for (String part : list.split(",", -1)) {
            Matcher range = RANGE.matcher(part.trim());
            if (!range.matches()) return null;
            int first = Integer.parseInt(range.group(1));
            int last = range.group(2) == null ? first : Integer.parseInt(range.group(2));
            int stride = range.group(3) == null ? 1 : Math.max(1, Integer.parseInt(range.group(3)));
            for (int cpu = first; cpu <= last; cpu += stride) cpus.add(cpu);
        }
        return cpus;
    }

    private static Set<Integer> cpuSet(String flag, String list, Set<Integer> online) {
        Set<Integer> cpus = parse(list);
        if (cpus == null || cpus.isEmpty()) throw new Cli.UserError(2, flag + ": '" + list + "' is not a CPU list (examples: 0, 1-3, 0,2)");
        Set<Integer> offline = new TreeSet<>(cpus);
        offline.removeAll(online);
        if (!offline.isEmpty()) throw new Cli.UserError(2, flag + ": CPU " + names(offline) + " not online (online: " + names(online) + ")");
        return cpus;
    }

    static String names(Set<Integer> cpus) {
        return cpus.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /** The kernel's list of online CPUs; 0 to n-1 where it cannot be read. */
    static Set<Integer> onlineCpus() {
        try {
            Set<Integer> online = parse(Files.readString(Path.of("/sys/devices/system/cpu/online")).trim());
            if (online != null) return online;
        } catch (IOException unreadable) {
            // the fallback below
        }
        Set<Integer> all = new TreeSet<>();
        for (int cpu = 0; cpu < Runtime.getRuntime().availableProcessors(); cpu++) all.add(cpu);
        return all;
    }
}
