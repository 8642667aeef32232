import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a report must say about the machine and the code it measured, read from the machine and the clone. */
final class MachineFacts {
    private MachineFacts() {}

    /** The machine's part of a report's environment: CPU, kernel, JDK, how scripts were launched, Netty, commit, limits. */
    static void describe(ReportModel.Environment env, Path root) throws IOException {
        env.cpuModel = cpuModel();
        env.cores = Runtime.getRuntime().availableProcessors();
        env.kernel = kernel();
        env.jdk = jdk();
        env.launch = "each server and each TcpLoad exec'd directly with the java command line `./jbang info tools` resolves "
                + "for its script (the launcher's JDK, the script's //JAVA_OPTIONS, its built jar and dependencies), resolved "
                + "once per series: the launcher's own two JVM starts stay out of every run. TcpLoad runs with the full C2 JIT "
                + "(-XX:TieredStopAtLevel=4 after its script's C1-only option) in every step but idle's, where C1 keeps "
                + "19,000 connects within 2 s";
        env.nettyVersion = nettyVersion(root);
        env.commit = kitCommit(root);
        env.openFilesLimit = openFilesLimit();
    }

    static String cpuModel() throws IOException {
        return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
    }

    static String kernel() throws IOException {
        return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
    }

    static String jdk() {
        return System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " " + Runtime.version();
    }

    /** The kit's git commit, so a report names the code it measured; "unknown" outside a git clone. */
    static String kitCommit(Path root) {
        List<String> head = new ArrayList<>(), changes = new ArrayList<>();
        if (!ChildProcess.run(List.of("git", "rev-parse", "--short", "HEAD"), root, head, Duration.ofSeconds(30)) || head.isEmpty()) {
            return "unknown (not a git clone)";
        }
        ChildProcess.run(List.of("git", "status", "--porcelain", "--untracked-files=no", "--", "*.java", "common", "echo.jfc"),
                root, changes, Duration.ofSeconds(30));
        return head.get(0) + (changes.isEmpty() ? "" : " with uncommitted changes to " + changes.size() + " file(s)");
    }

    static String nettyVersion(Path root) {
        try {
            Matcher m = Pattern.compile("//DEPS io\\.netty:netty-all:(\\S+)").matcher(Files.readString(root.resolve("EchoNetty.java")));
            return m.find() ? "Netty " + m.group(1) : "unknown";
        } catch (IOException missing) {
            return "unknown (EchoNetty.java not found)";
        }
    }

    /** Files a process needs of its own besides its connections: the JVM's jars, sockets and pipes. */
    static final int OWN_FILES = 300;

    /** How many connections fit under the open-files limit with the process's own files: {@code wanted}, or fewer. */
    static int fitToOpenFiles(int wanted, long limit) {
        return wanted + OWN_FILES <= limit ? wanted : (int) Math.max(100, limit - OWN_FILES);
    }

    /** This process's soft limit on open files (what ulimit -n says); the servers and TcpLoad inherit it. */
    static long openFilesLimit() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/limits")).stream().filter(l -> l.startsWith("Max open files"))
                .findFirst().map(l -> l.substring(26).trim().split("\\s+")[0])
                .map(soft -> soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft)).orElse(Long.MAX_VALUE);
    }
}
