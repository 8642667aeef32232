///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS info.picocli:picocli:4.7.7
//DEPS org.hdrhistogram:HdrHistogram:2.2.2
//DEPS com.google.code.gson:gson:2.13.2
//DEPS tools.profiler:jfr-converter:4.5
//SOURCES common/Cli.java
//SOURCES common/JfrMetrics.java
//SOURCES common/JfrThreadMetrics.java

import com.google.gson.GsonBuilder;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import one.convert.Arguments;
import one.convert.JfrToFlame;
import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import jdk.jfr.EventType;
import jdk.jfr.consumer.EventStream;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Looks inside the echo servers from their JFR recordings: CPU, threads, scheduling, socket I/O, GC and hot
 * methods, for several recordings side by side (one column each), in one streaming pass per file.
 */
@Command(name = "analyze-jfr", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Summarise JFR recordings of the echo servers side by side, or follow a running JVM.",
                "Views: recording, cpu, threads, scheduler, socket-io, gc, hot-methods.",
                "Exit codes: 0 ok, 1 unreadable input or a recording cut short (what could be read is still shown), 2 usage."})
class AnalyzeJfr extends JfrMetrics implements Callable<Integer> { // extends: the view building blocks by their short names

    @Parameters(paramLabel = "RECORDING.jfr", arity = "0..*", description = "Recordings to analyse, one column each.")
    List<Path> files = new ArrayList<>();

    @Option(names = "--format", defaultValue = "text", description = "text, markdown or json (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = "--view", split = ",", paramLabel = "NAME", description = "Views to show (repeatable or comma-separated; default: all).")
    List<String> viewNames = new ArrayList<>();

    @Option(names = "--top", defaultValue = "10", paramLabel = "N", description = "Entries in ranked lists (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--flamegraph", paramLabel = "<out.html>", description = "Also write a flame graph of the first recording's CPU samples.")
    Path flamegraph;

    @Option(names = "--flamegraph-dir", paramLabel = "<dir>", description = "Also write a flame graph of every recording, "
            + "as <dir>/<recording name>-flame.html (one JVM for the tables and all the graphs).")
    Path flamegraphDir;

    @Option(names = "--live", paramLabel = "<pid>", description = "Follow the running JVM <pid>'s recording: one line per second until it exits or Ctrl-C.")
    Long livePid;

    @Option(names = "--repository", paramLabel = "<dir>", description = "Follow the recording in this JFR repository folder (instead of --live).")
    Path repository;

    enum Format { text, markdown, json }

    public static void main(String[] args) {
        System.exit(Cli.run(new AnalyzeJfr(), args));
    }

    /** A view: a named table made of metrics, in the spirit of {@code jfr view}. */
    record View(String name, String title, List<Metric> metrics) {
        View(String name, String title, Metric... metrics) {
            this(name, title, List.of(metrics));
        }
    }

    static final String SOCKET_READ = "jdk.SocketRead", SOCKET_WRITE = "jdk.SocketWrite";

    static final List<View> VIEWS = List.of(
            new View("recording", "Recording",
                    fact("variant", "variant"),
                    last("jvm", "JVM", "jdk.JVMInformation", AnalyzeJfr::jvmAndVersion),
                    last("command", "command", "jdk.JVMInformation", e -> e.getString("javaArguments")),
                    last("jvmArguments", "JVM arguments", "jdk.JVMInformation", e -> e.getString("jvmArguments")),
                    last("machine", "machine", "jdk.CPUInformation", e -> e.getInt("hwThreads") + " hardware threads"),
                    fact("duration", "duration"),
                    fact("settings", "settings of interest")),
            new View("cpu", "CPU",
                    distribution("jvmUser", "JVM user", "jdk.CPULoad", all(), e -> e.getFloat("jvmUser"), Unit.PERCENT, Stat.MEAN, Stat.MAX),
                    distribution("jvmSystem", "JVM system", "jdk.CPULoad", all(), e -> e.getFloat("jvmSystem"), Unit.PERCENT, Stat.MEAN, Stat.MAX),
                    distribution("machineTotal", "machine total", "jdk.CPULoad", all(), e -> e.getFloat("machineTotal"), Unit.PERCENT, Stat.MEAN, Stat.MAX),
                    busiestThreads("busiestThreads", "busiest threads (% of machine, mean over the recording)")),
            new View("threads", "Threads",
                    distribution("platformLive", "live platform threads", "jdk.JavaThreadStatistics", all(),
                            e -> e.getLong("activeCount"), Unit.COUNT, Stat.MIN, Stat.P50, Stat.MAX),
                    count("platformStarted", "platform threads started", "jdk.ThreadStart", all()),
                    count("platformEnded", "platform threads ended", "jdk.ThreadEnd", all()),
                    count("virtualStarted", "virtual threads started", "jdk.VirtualThreadStart", all()),
                    count("virtualEnded", "virtual threads ended", "jdk.VirtualThreadEnd", all()),
                    peakAlive("virtualPeak", "virtual threads alive, peak (started in recording)", "jdk.VirtualThreadStart", "jdk.VirtualThreadEnd"),
                    distinct("carriers", "carrier threads seen", Set.of("jdk.ThreadCPULoad", "jdk.ThreadStart"),
                            e -> isCarrier(e.getThread()), e -> e.getThread().getJavaThreadId())),
            new View("scheduler", "Scheduler",
                    // jdk.ThreadContextSwitchRate is the kernel's count for the whole machine, whatever runs on it
                    distribution("contextSwitches", "context switches, whole machine (not only this JVM)", "jdk.ThreadContextSwitchRate", all(),
                            e -> e.getFloat("switchRate"), Unit.PER_SECOND, Stat.P50, Stat.MAX),
                    distribution("park", "parks (≥ " + THRESHOLD + ")", "jdk.ThreadPark", all(), AnalyzeJfr::nanos, Unit.NANOS, Stat.COUNT, Stat.P50, Stat.P99, Stat.MAX),
                    distribution("monitorEnter", "monitor contention (≥ " + THRESHOLD + ")", "jdk.JavaMonitorEnter", all(), AnalyzeJfr::nanos, Unit.NANOS,
                            Stat.COUNT, Stat.P99, Stat.MAX),
                    distribution("pinned", "virtual-thread pinning (≥ " + THRESHOLD + ")", "jdk.VirtualThreadPinned", all(), AnalyzeJfr::nanos, Unit.NANOS,
                            Stat.COUNT, Stat.TOTAL, Stat.MAX),
                    top("pinnedAt", "pinned at", "jdk.VirtualThreadPinned", all(), e -> pinnedFrame(e.getStackTrace()),
                            e -> 1, Unit.COUNT),
                    count("submitFailed", "virtual-thread submit failures", "jdk.VirtualThreadSubmitFailed", all())),
            new View("socket-io", "Socket I/O (the note says whether counts are samples or totals)",
                    socketMetrics()),
            new View("gc", "GC",
                    distribution("pauses", "GC pauses", "jdk.GarbageCollection", all(), e -> e.getDuration("sumOfPauses").toNanos(),
                            Unit.NANOS, Stat.COUNT, Stat.TOTAL, Stat.P50, Stat.P99, Stat.MAX),
                    top("collectors", "collections by collector", "jdk.GarbageCollection", all(), e -> e.getString("name"),
                            e -> 1, Unit.COUNT),
                    distribution("heapAfterGc", "heap after GC", "jdk.GCHeapSummary", e -> "After GC".equals(e.getString("when")),
                            e -> e.getLong("heapUsed"), Unit.BYTES, Stat.P50, Stat.MAX)),
            new View("hot-methods", "Hot methods (share of CPU samples: self = on top of the stack, total = anywhere in it)",
                    hotMethods("hot", "jdk.CPUTimeSample", "jdk.ExecutionSample")));

    /** "OpenJDK 64-Bit Server VM 25.0.3+9-LTS": the name and the first parenthesised part of the long version text. */
    static String jvmAndVersion(RecordedEvent e) {
        Matcher version = Pattern.compile("\\(([^)]+)\\)").matcher(e.getString("jvmVersion"));
        return e.getString("jvmName") + (version.find() ? " " + version.group(1) : "");
    }

    /** The note, then reads and writes, each on virtual and on platform threads: duration and bytes. */
    static Metric[] socketMetrics() {
        List<Metric> metrics = new ArrayList<>(List.of(socketNote()));
        record Direction(String name, String event, String bytesField, String verb) {}
        for (Direction io : List.of(new Direction("reads", SOCKET_READ, "bytesRead", "read"),
                new Direction("writes", SOCKET_WRITE, "bytesWritten", "written"))) {
            for (boolean virtual : new boolean[] {true, false}) {
                String threads = virtual ? "virtual" : "platform";
                Predicate<RecordedEvent> onThreads = e -> onVirtualThread(e) == virtual;
                metrics.add(distribution(io.name() + "." + threads, io.name() + " on " + threads + " threads", io.event(), onThreads,
                        AnalyzeJfr::nanos, Unit.NANOS, Stat.COUNT, Stat.P50, Stat.P99, Stat.MAX));
                metrics.add(sum(io.name() + "." + threads + ".bytes", "bytes " + io.verb() + " on " + threads + " threads", io.event(),
                        onThreads, e -> e.getLong(io.bytesField()), Unit.BYTES));
            }
        }
        return metrics.toArray(Metric[]::new);
    }

    static double nanos(RecordedEvent e) {
        return e.getDuration().toNanos();
    }

    /** The virtual-thread scheduler's carriers are platform threads in the JDK's "CarrierThreads" group. */
    static boolean isCarrier(RecordedThread thread) {
        return thread != null && thread.getThreadGroup() != null && "CarrierThreads".equals(thread.getThreadGroup().getName());
    }

    /** A recording-wide fact (variant, duration...) as a row. */
    static Metric fact(String key, String label) {
        return new Metric(Set.of(), () -> new Aggregate() {
            @Override
            public void accept(RecordedEvent event) {}

            @Override
            public void render(Context context, List<Line> out) {
                String value = ((Facts) context).facts().get(key);
                out.add(new Line(key, label, value, value == null ? "-" : value));
            }
        });
    }

    /**
     * Why the socket view is what it is: sampled events, or no events at all because the transport does its I/O
     * in native code (Netty epoll / io_uring), which jdk.SocketRead and jdk.SocketWrite cannot see.
     */
    static Metric socketNote() {
        return new Metric(Set.of(SOCKET_READ, SOCKET_WRITE), () -> new Aggregate() {
            long events;

            @Override
            public void accept(RecordedEvent event) {
                events++;
            }

            @Override
            public void render(Context context, List<Line> out) {
                Facts facts = (Facts) context;
                String note;
                if (events > 0) {
                    note = facts.setting(SOCKET_READ, "throttle").map(throttle -> throttle.equals("off")
                                    ? "all events ≥ " + facts.setting(SOCKET_READ, "threshold").orElse("?") + " (throttle off): counts are totals"
                                    : "sampled: at most " + throttle + " per event type, so counts are samples, not totals")
                            .orElse("throttle unknown: counts may be samples");
                } else if (facts.nativeIo()) {
                    note = "none: Netty " + facts.transport() + " transport does native I/O, invisible to jdk.SocketRead/SocketWrite";
                } else if (Boolean.FALSE.equals(context.enabled(SOCKET_READ))) {
                    note = "none: jdk.SocketRead was not enabled in this recording";
                } else {
                    note = "none recorded";
                }
                out.add(new Line("note", "note", note, note));
            }
        });
    }

    /**
     * What the whole recording says about itself: the server variant (main class, Netty transport), its span
     * and the settings that shape the other views. Always collected, whichever views are shown.
     */
    static final class Facts implements Context, Aggregate {
        static final Set<String> EVENTS = Set.of("jdk.JVMInformation", "jdk.ActiveSetting", "jdk.NativeLibrary",
                "jdk.InitialSystemProperty", "jdk.ThreadStart", "jdk.CPUTimeSample", "jdk.ExecutionSample");
        private static final Pattern TRANSPORT_ARGUMENT = Pattern.compile("--transport[= ](\\S+)");

        final int top;
        String mainClass, javaArguments, transportFromArguments, transportFromLibrary, transportFromFrames, transportFromThreads;
        final Map<Long, Map<String, String>> settingsByTypeId = new HashMap<>();
        final Map<Long, String> typeNames = new HashMap<>();
        Instant first, last;
        long cpuTimeSamples;

        Facts(int top) {
            this.top = top;
        }

        void span(RecordedEvent e) {
            if (first == null || e.getStartTime().isBefore(first)) first = e.getStartTime();
            if (last == null || e.getEndTime().isAfter(last)) last = e.getEndTime();
        }

        @Override
        public void accept(RecordedEvent e) {
            switch (e.getEventType().getName()) {
                case "jdk.JVMInformation" -> {
                    javaArguments = e.getString("javaArguments");
                    List<String> words = javaArguments == null ? List.of() : Arrays.asList(javaArguments.trim().split("\\s+"));
                    if (!words.isEmpty() && words.get(0).endsWith("SourceLauncher")) words = words.subList(1, words.size()); // java X.java
                    if (!words.isEmpty() && !words.get(0).isEmpty()) mainClass = simpleMainClass(words.get(0));
                    Matcher m = TRANSPORT_ARGUMENT.matcher(javaArguments == null ? "" : javaArguments);
                    // "auto" says nothing about what the server chose: the evidence below does
                    if (m.find() && !m.group(1).equalsIgnoreCase("auto")) transportFromArguments = m.group(1).toLowerCase(Locale.ROOT);
                }
                case "jdk.ActiveSetting" -> settingsByTypeId.computeIfAbsent(e.getLong("id"), id -> new HashMap<>())
                        .put(e.getString("name"), e.getString("value"));
                case "jdk.NativeLibrary" -> transportFromLibrary = nettyTransport(e.getString("name"), transportFromLibrary);
                case "jdk.InitialSystemProperty" -> {
                    if (e.getString("key").startsWith("io.netty")) {
                        transportFromThreads = nettyTransport(e.getString("value"), transportFromThreads);
                    }
                }
                case "jdk.ThreadStart" -> transportFromThreads = nettyTransport(threadName(e.getThread("thread")), transportFromThreads);
                default -> { // a CPU sample: a Netty transport shows as io.netty.channel.epoll / .uring / .nio frames
                    if (e.getEventType().getName().equals("jdk.CPUTimeSample")) cpuTimeSamples++;
                    if (transportFromFrames == null && e.getStackTrace() != null) {
                        for (RecordedFrame frame : e.getStackTrace().getFrames()) {
                            transportFromFrames = nettyTransport(frame.getMethod().getType().getName(), null);
                            if (transportFromFrames != null) break;
                        }
                    }
                }
            }
        }

        /**
         * What betrays each Netty transport, in lower case: its native library, its package (Netty 4.2, or the
         * incubator's for io_uring) and its event-loop threads' names (Netty 4.1; 4.2 names them all alike).
         */
        static final Map<String, List<String>> TRANSPORT_MARKS = Map.of(
                "epoll", List.of("netty_transport_native_epoll", "io.netty.channel.epoll", "epolleventloop"),
                "io_uring", List.of("netty_transport_native_io_uring", "channel.uring", "iouringeventloop"),
                "nio", List.of("io.netty.channel.nio", "nioeventloop"));

        /** The Netty transport {@code text} names (case aside), else {@code previous}. */
        static String nettyTransport(String text, String previous) {
            if (text == null) return previous;
            String lower = text.toLowerCase(Locale.ROOT);
            return TRANSPORT_MARKS.entrySet().stream().filter(marks -> marks.getValue().stream().anyMatch(lower::contains))
                    .map(Map.Entry::getKey).findFirst().orElse(previous);
        }

        /** "EchoNetty" from "EchoNetty", "/x/y/EchoNetty.jar" or "org.example.EchoNetty". */
        static String simpleMainClass(String word) {
            String name = word.substring(word.lastIndexOf('/') + 1);
            if (name.endsWith(".jar")) name = name.substring(0, name.length() - 4);
            if (name.endsWith(".java")) name = name.substring(0, name.length() - 5);
            return name.substring(name.lastIndexOf('.') + 1);
        }

        void resolveTypeNames(List<EventType> types) {
            types.forEach(type -> typeNames.put(type.getId(), type.getName()));
        }

        @Override
        public java.util.Optional<String> setting(String eventType, String name) {
            return settingsByTypeId.entrySet().stream()
                    .filter(entry -> eventType.equals(typeNames.get(entry.getKey())))
                    .map(entry -> entry.getValue().get(name)).filter(java.util.Objects::nonNull).findFirst();
        }

        @Override
        public Boolean enabled(String eventType) {
            return setting(eventType, "enabled").map(Boolean::parseBoolean).orElse(null);
        }

        @Override
        public String missing(String eventType) {
            if (Boolean.FALSE.equals(enabled(eventType))) return "not recorded";
            return nativeIo() && (eventType.equals(SOCKET_READ) || eventType.equals(SOCKET_WRITE)) ? "n/a (native I/O)" : null;
        }

        /** Netty's epoll and io_uring transports read and write sockets in native code, which JFR's socket events miss. */
        boolean nativeIo() {
            return transport() != null && !transport().equals("nio");
        }

        @Override
        public int top() {
            return top;
        }

        /** The transport asked for, else the one seen running (frames, then thread names), else the library loaded. */
        String transport() {
            if (transportFromArguments != null) return transportFromArguments;
            if (transportFromFrames != null) return transportFromFrames;
            if (transportFromThreads != null) return transportFromThreads;
            return transportFromLibrary;
        }

        String label() {
            String transport = transport();
            String name = mainClass == null ? "?" : mainClass;
            return transport == null ? name : name + " (" + transport + ")";
        }

        Map<String, String> facts() {
            Map<String, String> facts = new LinkedHashMap<>();
            facts.put("variant", label());
            facts.put("transport", transport());
            facts.put("duration", first == null ? null : String.format(Locale.ROOT, "%.1fs",
                    Duration.between(first, last).toMillis() / 1000.0));
            facts.put("settings", SETTINGS_OF_INTEREST.entrySet().stream()
                    .map(entry -> shortName(entry.getKey()) + " " + entry.getValue().stream()
                            .map(name -> name + "=" + setting(entry.getKey(), name).orElse("?"))
                            .collect(Collectors.joining(",")))
                    .collect(Collectors.joining("; ")));
            return facts;
        }

        @Override
        public void render(Context context, List<Line> out) {}

        private static String shortName(String eventType) {
            return eventType.substring(eventType.indexOf('.') + 1);
        }
    }

    static final Map<String, List<String>> SETTINGS_OF_INTEREST = new LinkedHashMap<>();

    static {
        SETTINGS_OF_INTEREST.put(SOCKET_READ, List.of("threshold", "throttle"));
        SETTINGS_OF_INTEREST.put("jdk.VirtualThreadPinned", List.of("threshold"));
        SETTINGS_OF_INTEREST.put("jdk.ThreadPark", List.of("threshold"));
        SETTINGS_OF_INTEREST.put("jdk.JavaMonitorEnter", List.of("threshold"));
        SETTINGS_OF_INTEREST.put("jdk.VirtualThreadStart", List.of("enabled"));
        SETTINGS_OF_INTEREST.put("jdk.CPUTimeSample", List.of("enabled", "throttle"));
        SETTINGS_OF_INTEREST.put("jdk.ExecutionSample", List.of("period"));
    }

    /** One recording, analysed: its label and, per view, its rows. */
    record Analysis(Path file, String label, Map<String, List<Line>> views, List<String> warnings, boolean cpuTimeSamples) {}

    @Override
    public Integer call() throws Exception {
        if (livePid != null || repository != null) {
            if (!files.isEmpty()) throw new Cli.UserError(2, "--live/--repository follow a running JVM: give no recording files");
            return new LiveFollower(livePid, repository != null ? repository : findRepository(livePid)).follow();
        }
        List<View> views = selectedViews();
        if (files.isEmpty()) throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "give at least one recording");
        if (top < 1) throw new Cli.UserError(2, "--top must be at least 1");
        List<Analysis> analyses = new ArrayList<>();
        for (Path file : files) analyses.add(analyze(file, views));
        disambiguateLabels(analyses);
        analyses.forEach(a -> a.warnings().forEach(w -> System.err.println("analyze-jfr: warning: " + a.file() + ": " + w)));
        System.out.print(switch (format) {
            case json -> json(analyses);
            case markdown -> tables(views, analyses, true);
            case text -> tables(views, analyses, false);
        });
        if (flamegraph != null) writeFlameGraph(analyses.get(0), flamegraph, "--flamegraph");
        if (flamegraphDir != null) {
            Files.createDirectories(flamegraphDir);
            for (Analysis analysis : analyses) {
                String name = analysis.file().getFileName().toString().replaceAll("\\.jfr$", "");
                writeFlameGraph(analysis, flamegraphDir.resolve(name + "-flame.html"), "--flamegraph-dir");
            }
        }
        return analyses.stream().anyMatch(a -> !a.warnings().isEmpty()) ? 1 : 0; // incomplete data must not pass silently
    }

    List<View> selectedViews() {
        if (viewNames.isEmpty()) return VIEWS;
        List<View> chosen = new ArrayList<>();
        for (String name : viewNames) {
            View view = VIEWS.stream().filter(v -> v.name().equals(name.trim())).findFirst().orElseThrow(() -> new Cli.UserError(2,
                    "unknown --view '" + name + "' (views: " + VIEWS.stream().map(View::name).collect(Collectors.joining(", ")) + ")"));
            if (!chosen.contains(view)) chosen.add(view);
        }
        return chosen;
    }

    /** One streaming pass: each event goes to the aggregates that asked for its type, and is then forgotten. */
    Analysis analyze(Path file, List<View> views) {
        if (!Files.isRegularFile(file)) throw new Cli.UserError(1, "no such recording: " + file);
        Facts facts = new Facts(top);
        Map<String, List<Aggregate>> byEventType = new HashMap<>();
        Facts.EVENTS.forEach(type -> byEventType.computeIfAbsent(type, t -> new ArrayList<>()).add(facts));
        Map<View, List<Aggregate>> aggregates = new LinkedHashMap<>();
        for (View view : views) {
            List<Aggregate> started = new ArrayList<>();
            for (Metric metric : view.metrics()) {
                Aggregate aggregate = metric.start().get();
                started.add(aggregate);
                metric.events().forEach(type -> byEventType.computeIfAbsent(type, t -> new ArrayList<>()).add(aggregate));
            }
            aggregates.put(view, started);
        }
        List<String> warnings = new ArrayList<>();
        Path readable = readableChunks(file, warnings);
        AtomicLong events = new AtomicLong();
        AtomicBoolean stalled = new AtomicBoolean();
        try (EventStream stream = EventStream.openFile(readable)) {
            stream.setOrdered(false); // no view needs time order, and sorting costs
            stream.setReuse(true); // nothing keeps an event after accept()
            stream.onMetadata(metadata -> facts.resolveTypeNames(metadata.getEventTypes()));
            // only the subscribed event types are parsed at all: the rest of the file is skipped cheaply
            byEventType.forEach((type, interested) -> stream.onEvent(type, event -> {
                events.setRelease(events.getPlain() + 1); // one writer: published to the watchdog without a locked add
                facts.span(event);
                for (Aggregate aggregate : interested) aggregate.accept(event);
            }));
            Thread watchdog = Thread.ofVirtual().start(() -> closeWhenStalled(file, stream, events, stalled));
            try {
                stream.start();
            } catch (RuntimeException e) {
                if (events.get() == 0) throw e;
                warnings.add("recording is damaged after " + events.get() + " events (" + e.getMessage() + "): showing what could be read");
            } finally {
                watchdog.interrupt();
            }
            if (stalled.get()) {
                warnings.add("the JDK's parser stopped making progress after " + events.get() + " events: showing what was read");
            }
        } catch (IOException | RuntimeException e) {
            throw new Cli.UserError(1, file + " is not a readable JFR recording (" + e.getMessage() + ")");
        } finally {
            if (!readable.equals(file)) deleteQuietly(readable);
        }
        Map<String, List<Line>> rendered = new LinkedHashMap<>();
        aggregates.forEach((view, list) -> {
            List<Line> lines = new ArrayList<>();
            list.forEach(aggregate -> aggregate.render(facts, lines));
            rendered.put(view.name(), lines);
        });
        return new Analysis(file, facts.label(), rendered, warnings, facts.cpuTimeSamples > 0);
    }

    /**
     * A recording is a sequence of chunks. The JDK's parser reads a chunk only up to the size its header gives, and
     * only once the header's file-state byte says "finished" (0): until then it waits for the JVM to write more,
     * forever when that JVM was killed. Every second the JVM flushes: it writes a checkpoint (constant pools) marked
     * FLUSH, then updates the header's size and offsets, so a chunk can be read up to any flush point. Whole finished
     * chunks are kept as they are; the first chunk that is not (a killed JVM's chunk, a copy cut short) is cut at its
     * last flush point found in the file, with its header patched to say "finished" there, in a temporary copy that
     * is analysed instead, with a warning. Returns {@code file} itself when it is complete.
     */
    static Path readableChunks(Path file, List<String> warnings) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size(), complete = 0;
            ByteBuffer header = ByteBuffer.allocate(CHUNK_HEADER_SIZE);
            boolean atChunk = false; // whether a whole chunk header starts at `complete`
            while (complete < size) {
                header.clear();
                atChunk = channel.read(header, complete) == CHUNK_HEADER_SIZE && header.getInt(0) == CHUNK_MAGIC;
                if (!atChunk) break;
                long chunkSize = header.getLong(CHUNK_SIZE_POSITION);
                if (header.get(FILE_STATE_POSITION) != 0 || chunkSize <= 0 || complete + chunkSize > size) break;
                complete += chunkSize;
            }
            if (complete == size) return file;
            boolean unfinished = atChunk && header.get(FILE_STATE_POSITION) != 0;
            FlushPoint flush = atChunk
                    ? lastFlushPoint(channel, complete, (header.get(FLAG_BYTE_POSITION) & COMPRESSED_INTS) != 0) : null;
            if (complete == 0 && flush == null) {
                throw new Cli.UserError(1, file + (atChunk
                        ? " is a JFR recording cut short before its first flush: nothing in it can be read"
                        : " is not a JFR recording"));
            }
            long readable = complete + (flush == null ? 0 : flush.end());
            warnings.add((unfinished ? "recording not finished (its JVM was killed, or is still writing it)" : "recording cut short")
                    + ": analysed up to its last flush, " + Unit.BYTES.text(readable) + " of " + Unit.BYTES.text(size));
            Path copy = Files.createTempFile("analyze-jfr-", ".jfr");
            try (FileChannel out = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                for (long copied = 0; copied < readable; ) copied += channel.transferTo(copied, readable - copied, out);
                if (flush != null) {
                    out.write(ByteBuffer.allocate(3 * Long.BYTES).putLong(flush.end()).putLong(flush.constantPools())
                            .putLong(flush.metadata()).flip(), complete + CHUNK_SIZE_POSITION);
                    out.write(ByteBuffer.wrap(new byte[] {0}), complete + FILE_STATE_POSITION);
                }
            }
            return copy;
        } catch (IOException e) {
            throw new Cli.UserError(1, "cannot read " + file + ": " + e.getMessage());
        }
    }

    /** How long the parser may go without delivering an event before the watchdog gives up on the file. */
    static final Duration STALL = Duration.ofSeconds(30);

    /**
     * A backstop for {@link #readableChunks}: the JDK's parser waits without end when it takes a file for a recording
     * still being written. If no event arrives for {@link #STALL}, close the stream (which ends such a wait); should
     * even that not end it, give up on the whole run with one line rather than hang.
     */
    static void closeWhenStalled(Path file, EventStream stream, AtomicLong events, AtomicBoolean stalled) {
        try {
            for (long seen = -1; events.get() != seen; ) {
                seen = events.get();
                Thread.sleep(STALL);
            }
            stalled.set(true);
            stream.close();
            Thread.sleep(STALL);
            System.err.println("analyze-jfr: " + file + ": the JDK's JFR parser is stuck on this recording, even after closing it; giving up");
            Runtime.getRuntime().halt(1);
        } catch (InterruptedException parsed) {
            // the stream ended: nothing to watch
        }
    }

    /** Where a chunk can end: its size up to the end of a flush, and the offsets of its constant pools and metadata. */
    record FlushPoint(long end, long constantPools, long metadata) {}

    /**
     * The last flush point of the chunk at {@code start}, by walking its events (each starts with its size and type)
     * up to the end of the file or the first one cut short; null if it has none.
     */
    static FlushPoint lastFlushPoint(FileChannel channel, long start, boolean compressedInts) throws IOException {
        JfrInput in = new JfrInput(channel, compressedInts);
        FlushPoint last = null;
        long metadata = 0, available = channel.size();
        try {
            for (long event = start + CHUNK_HEADER_SIZE; event < available; ) {
                in.position = event;
                long size = in.readInt(), type = in.readLong();
                if (size <= 0 || event + size > available) break;
                if (type == METADATA_EVENT) {
                    metadata = event - start;
                    if (last != null && last.end() == metadata) last = new FlushPoint(event + size - start, last.constantPools(), metadata);
                } else if (type == CHECKPOINT_EVENT) {
                    in.readLong(); // start time
                    in.readLong(); // duration
                    in.readLong(); // delta to the previous checkpoint
                    if ((in.readByte() & FLUSH_CHECKPOINT) != 0 && metadata > 0) last = new FlushPoint(event + size - start, event - start, metadata);
                }
                event += size;
            }
        } catch (EOFException cutInsideAnEventHeader) {
            // the events before it are all there is
        }
        return last;
    }

    /** Reads a file forwards through a window, decoding JFR's integers (LEB128 when the chunk compresses them). */
    static final class JfrInput {
        final FileChannel channel;
        final boolean compressedInts;
        final ByteBuffer window = ByteBuffer.allocate(1 << 20).limit(0);
        long windowStart, position;

        JfrInput(FileChannel channel, boolean compressedInts) {
            this.channel = channel;
            this.compressedInts = compressedInts;
        }

        byte readByte() throws IOException {
            if (position < windowStart || position >= windowStart + window.limit()) {
                window.clear();
                windowStart = position;
                if (channel.read(window, position) <= 0) throw new EOFException("end of file at " + position);
                window.flip();
            }
            return window.get((int) (position++ - windowStart));
        }

        long readInt() throws IOException {
            return compressedInts ? readCompressed() : readRaw(Integer.BYTES);
        }

        long readLong() throws IOException {
            return compressedInts ? readCompressed() : readRaw(Long.BYTES);
        }

        private long readRaw(int bytes) throws IOException {
            long value = 0;
            for (int i = 0; i < bytes; i++) value = value << 8 | (readByte() & 0xFF);
            return value;
        }

        /** Seven bits a byte, low first, the top bit saying "more"; the ninth byte, if any, gives all eight bits. */
        private long readCompressed() throws IOException {
            long value = 0;
            for (int shift = 0; shift < 56; shift += 7) {
                byte b = readByte();
                value |= (b & 0x7FL) << shift;
                if (b >= 0) return value;
            }
            return value | (readByte() & 0xFFL) << 56;
        }
    }

    /** The chunk header's layout, from the JDK's jdk.jfr.internal.consumer.ChunkHeader and ChunkParser. */
    static final int CHUNK_MAGIC = 0x464c5200, // "FLR\0", the first four bytes of every chunk
            CHUNK_HEADER_SIZE = 68, CHUNK_SIZE_POSITION = 8, FILE_STATE_POSITION = 64, FLAG_BYTE_POSITION = 67,
            COMPRESSED_INTS = 1, METADATA_EVENT = 0, CHECKPOINT_EVENT = 1, FLUSH_CHECKPOINT = 1;

    static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // a temporary copy left behind in java.io.tmpdir is harmless
        }
    }

    /**
     * An HTML flame graph by async-profiler's converter, run in-process. Its ExecutionSample mode ("--cpu") draws
     * nothing for HotSpot recordings, so: true CPU time (jdk.CPUTimeSample) when recorded, else its default mode.
     */
    void writeFlameGraph(Analysis analysis, Path flamegraph, String flag) {
        List<String> options = new ArrayList<>(List.of("--title", analysis.label() + " — " + analysis.file().getFileName()));
        if (analysis.cpuTimeSamples()) options.add("--cpu-time");
        try {
            JfrToFlame.convert(analysis.file().toString(), flamegraph.toString(), new Arguments(options.toArray(String[]::new)));
        } catch (IOException | RuntimeException e) {
            throw new Cli.UserError(1, flag + ": cannot write " + flamegraph + ": " + e.getMessage());
        }
        System.err.println("analyze-jfr: flame graph of " + analysis.file() + " (" + (analysis.cpuTimeSamples()
                ? "jdk.CPUTimeSample" : "execution samples") + ") written to " + flamegraph);
    }

    /** Two recordings of the same variant get their file names too, so columns stay distinguishable. */
    static void disambiguateLabels(List<Analysis> analyses) {
        Map<String, Long> counts = analyses.stream().collect(Collectors.groupingBy(Analysis::label, Collectors.counting()));
        for (int i = 0; i < analyses.size(); i++) {
            Analysis a = analyses.get(i);
            if (counts.get(a.label()) > 1) {
                analyses.set(i, new Analysis(a.file(), a.label() + " [" + a.file().getFileName() + "]", a.views(), a.warnings(),
                        a.cpuTimeSamples()));
            }
        }
    }

    static String json(List<Analysis> analyses) {
        List<Map<String, Object>> recordings = new ArrayList<>();
        for (Analysis a : analyses) {
            Map<String, Object> views = new LinkedHashMap<>();
            a.views().forEach((name, lines) -> {
                Map<String, Object> values = new LinkedHashMap<>();
                lines.forEach(line -> values.put(line.key(), line.value()));
                views.put(name, values);
            });
            Map<String, Object> recording = new LinkedHashMap<>();
            recording.put("file", a.file().toString());
            recording.put("label", a.label());
            recording.put("warnings", a.warnings());
            recording.put("views", views);
            recordings.add(recording);
        }
        return new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create().toJson(Map.of("recordings", recordings)) + "\n";
    }

    /** One table per view, one row per metric, one column per recording. */
    static String tables(List<View> views, List<Analysis> analyses, boolean markdown) {
        StringBuilder out = new StringBuilder();
        for (View view : views) {
            // metric key -> its labels, in first-seen order: a label may name a setting ("parks (≥ 10 ms)"), so
            // recordings that differ in it get rows of their own, next to each other
            Map<String, Set<String>> labels = new LinkedHashMap<>();
            List<Map<String, String>> columns = new ArrayList<>();
            for (Analysis a : analyses) {
                Map<String, String> column = new HashMap<>();
                for (Line line : a.views().get(view.name())) {
                    if (line.value() instanceof List<?> ranked) {
                        for (int i = 0; i < ranked.size(); i++) {
                            cell(labels, column, line.key() + "#" + (i + 1), line.label() + " #" + (i + 1), ((Ranked) ranked.get(i)).text());
                        }
                        if (ranked.isEmpty()) { // on the "#1" row, where other recordings show their first entry
                            cell(labels, column, line.key() + "#1", line.label() + " #1", "none");
                        }
                    } else {
                        cell(labels, column, line.key(), line.label(), line.text());
                    }
                }
                columns.add(column);
            }
            List<String> header = new ArrayList<>(List.of(view.name()));
            analyses.forEach(a -> header.add(a.label()));
            List<List<String>> rows = new ArrayList<>();
            labels.forEach((key, rowLabels) -> rowLabels.forEach(label -> {
                List<String> row = new ArrayList<>(List.of(label));
                columns.forEach(column -> row.add(column.getOrDefault(key + "\n" + label, "-")));
                rows.add(row);
            }));
            if (markdown) {
                out.append("#### ").append(view.title()).append("\n\n");
                out.append(markdownRow(header)).append(markdownRow(header.stream().map(h -> "---").toList()));
                rows.forEach(row -> out.append(markdownRow(row)));
            } else {
                out.append("== ").append(view.title()).append(" ==\n");
                int[] widths = new int[header.size()];
                for (List<String> row : concat(header, rows)) {
                    for (int i = 0; i < row.size(); i++) widths[i] = Math.max(widths[i], row.get(i).length());
                }
                for (List<String> row : concat(header, rows)) {
                    StringBuilder text = new StringBuilder();
                    for (int i = 0; i < row.size(); i++) {
                        text.append(i == 0 ? "" : "  ").append(String.format("%-" + widths[i] + "s", row.get(i)));
                    }
                    out.append(text.toString().stripTrailing()).append('\n');
                }
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** Puts a recording's value in its column under the row named by its metric key and label. */
    private static void cell(Map<String, Set<String>> labels, Map<String, String> column, String key, String label, String text) {
        labels.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(label);
        column.put(key + "\n" + label, text);
    }

    private static List<List<String>> concat(List<String> header, List<List<String>> rows) {
        List<List<String>> all = new ArrayList<>(List.of(header));
        all.addAll(rows);
        return all;
    }

    private static String markdownRow(List<String> cells) {
        return "| " + cells.stream().map(c -> c.replace("|", "\\|")).collect(Collectors.joining(" | ")) + " |\n";
    }

    /**
     * Where a running JVM keeps its JFR chunks: the jdk.jfr.repository system property, read through the Attach
     * API; failing that, JFR's default folder naming, {@code <java.io.tmpdir>/<yyyy_MM_dd_HH_mm_ss>_<pid>}.
     */
    static Path findRepository(long pid) {
        if (ProcessHandle.of(pid).isEmpty()) throw new Cli.UserError(1, "--live: no process with pid " + pid);
        try {
            VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
            try {
                String property = vm.getSystemProperties().getProperty("jdk.jfr.repository");
                if (property != null && Files.isDirectory(Path.of(property))) return Path.of(property);
            } finally {
                vm.detach();
            }
        } catch (AttachNotSupportedException | IOException | RuntimeException e) {
            // not a HotSpot JVM we may attach to: try the default folder naming below
        }
        try (var candidates = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return candidates.filter(dir -> Files.isDirectory(dir) && dir.getFileName().toString().matches("\\d{4}(_\\d\\d){5}_" + pid))
                    .max(Comparator.comparing(dir -> dir.getFileName().toString()))
                    .orElseThrow(() -> new Cli.UserError(1, "--live: JVM " + pid
                            + " has no JFR repository: is it recording (a server's --jfr, or -XX:StartFlightRecording)?"
                            + " Give the JVM's pid, as the server's READY line prints it (pid=...)"));
        } catch (IOException e) {
            throw new Cli.UserError(1, "--live: cannot look for JVM " + pid + "'s JFR repository: " + e.getMessage());
        }
    }

    /** Follows a repository with EventStream.openRepository and prints one line of counters per second. */
    static final class LiveFollower {
        final Long pid;
        final Path repository;
        final LongAdder virtualStarted = new LongAdder(), pinned = new LongAdder(), socketReads = new LongAdder(),
                gcPauses = new LongAdder(), gcPauseNanos = new LongAdder();
        volatile long liveThreads = -1;
        volatile double jvmCpu = Double.NaN, machineCpu = Double.NaN;

        LiveFollower(Long pid, Path repository) {
            this.pid = pid;
            this.repository = repository;
        }

        int follow() throws Exception {
            if (!Files.isDirectory(repository)) throw new Cli.UserError(1, "--repository: no such folder: " + repository);
            CountDownLatch interrupted = new CountDownLatch(1);
            CountDownLatch finished = new CountDownLatch(1);
            Thread hook = new Thread(() -> { // Ctrl-C: let the loop print its last line and close the stream
                interrupted.countDown();
                try {
                    finished.await(2, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    // exiting anyway
                }
            });
            Runtime.getRuntime().addShutdownHook(hook);
            try (EventStream stream = EventStream.openRepository(repository)) {
                stream.setStartTime(Instant.now()); // count from now, not from the start of the current chunk
                stream.onEvent("jdk.JavaThreadStatistics", e -> liveThreads = e.getLong("activeCount"));
                stream.onEvent("jdk.VirtualThreadStart", e -> virtualStarted.increment());
                stream.onEvent("jdk.VirtualThreadPinned", e -> pinned.increment());
                stream.onEvent(SOCKET_READ, e -> socketReads.increment());
                stream.onEvent("jdk.CPULoad", e -> {
                    jvmCpu = e.getFloat("jvmUser") + e.getFloat("jvmSystem");
                    machineCpu = e.getFloat("machineTotal");
                });
                stream.onEvent("jdk.GarbageCollection", e -> {
                    gcPauses.increment();
                    gcPauseNanos.add(e.getDuration("sumOfPauses").toNanos());
                });
                stream.startAsync();
                System.out.println("following " + (pid != null ? "JVM " + pid + ", " : "") + "repository " + repository
                        + " (socket reads are sampled events; Ctrl-C stops)");
                String reason;
                while (true) {
                    if (interrupted.await(1, TimeUnit.SECONDS)) {
                        reason = "interrupted";
                        break;
                    }
                    System.out.println(line());
                    if (pid != null && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) == false) {
                        reason = "JVM " + pid + " exited";
                        break;
                    }
                    if (!Files.isDirectory(repository)) {
                        reason = "repository removed (the JVM exited)";
                        break;
                    }
                }
                System.out.println("stopped: " + reason);
            } finally {
                finished.countDown();
                if (interrupted.getCount() > 0) Runtime.getRuntime().removeShutdownHook(hook);
            }
            return 0;
        }

        /** The counters since the previous line, and the latest gauges. */
        String line() {
            long pauses = gcPauses.sumThenReset();
            return String.format(Locale.ROOT, "%tT  platform threads %s  virtual started %,d  pinned %,d  socket reads %,d/s  "
                            + "CPU jvm %s machine %s  GC pauses %d (%s)",
                    new java.util.Date(), liveThreads < 0 ? "?" : Long.toString(liveThreads), virtualStarted.sumThenReset(),
                    pinned.sumThenReset(), socketReads.sumThenReset(), percent(jvmCpu), percent(machineCpu), pauses,
                    Cli.formatNanos(gcPauseNanos.sumThenReset()));
        }

        private static String percent(double fraction) {
            return Double.isNaN(fraction) ? "?" : String.format(Locale.ROOT, "%.0f%%", fraction * 100);
        }
    }
}
