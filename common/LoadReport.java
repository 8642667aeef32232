import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.HdrHistogram.Recorder;

/**
 * TcpLoad's measurements and how they are reported: thread-safe HdrHistogram recorders (nanoseconds, 3 significant
 * digits, up to an hour), the seed-compatible text summary, the JSON of docs/CONTRACTS.md and the percentile spectrum.
 */
final class LoadReport {
    private LoadReport() {}

    static final int SIGNIFICANT_DIGITS = 3;
    /** The largest latency recorded as itself (longer ones are clamped): far beyond any run's duration + timeout. */
    static final long HIGHEST_NANOS = 3_600_000_000_000L;
    /** Tag of the uncorrected (from actual send) histograms in an --hlog. */
    static final String UNCORRECTED_TAG = "uncorrected";
    /** Tags of the intervals before the measured window in an --hlog: merge leaves them out. */
    static final String WARMUP_TAG = "warmup", WARMUP_UNCORRECTED_TAG = "warmup-uncorrected";
    /** Above this send lag p99, the generator's own timing is the noise: it says so. */
    static final long LAG_LIMIT_NANOS = 1_000_000;

    enum Kind { CONNECT, TIMEOUT, CLOSED, MISMATCH, IO }

    record Config(String host, int users, double durationSeconds, double warmupSeconds, String mode, int size,
                  double intervalMs, double rate, int inflight, double timeoutMs, double rampUpSeconds,
                  double connectRate, List<String> sourceIps, boolean scheduled, boolean steady, double warmupMaxSeconds,
                  String transport) {
        boolean openLoop() {
            return mode.equals("open") || mode.equals("idle") || mode.equals("burst");
        }

        /** Messages per second the schedule asks for; 0 in closed loop, where the server's speed sets the pace. */
        double requestedRate() {
            return switch (mode) {
                case "open" -> rate;
                case "idle", "burst" -> users * 1000.0 / intervalMs;
                default -> 0;
            };
        }
    }

    /**
     * How the warm-up ended: its planned minimum (--warmup) and actual length, SteadyState's verdict at its end, and
     * the compiler threads' share of a core in its last whole second (null when not watched or no second was sampled).
     */
    record Warmup(double plannedSeconds, double seconds, boolean steady, String reason, Double serverJitPercentOfCore,
                  Double loadJitPercentOfCore) {}

    /** One second of the run, for the JSON series. */
    record Second(int second, long sent, long received, double p99Us, double lagMaxUs, int connections, long failures) {}

    /** What the recorders gathered in one interval. */
    record Interval(Histogram latency, Histogram uncorrected, long lagMax, long sent, long received, long failures, int connections) {
        Second asSecond(int second) {
            return new Second(second, sent, received, latency.getValueAtPercentile(99) / 1e3, lagMax / 1e3, connections, failures);
        }
    }

    record Result(Config config, Warmup warmup, long sent, long received, long[] failuresByKind, Histogram latency, Histogram uncorrected,
                  Histogram lag, Histogram connect, long opened, int peakOpen, double timeToOpenAllMs,
                  long wallNanos, long cpuNanos, long spinNanos, long contextSwitches, int cores, List<Second> series, List<String> warnings) {
        long failures() {
            long total = 0;
            for (long count : failuresByKind) total += count;
            return total;
        }

        double msgPerSec() {
            return received / config.durationSeconds();
        }

        boolean saturated() {
            return !warnings.isEmpty();
        }
    }

    /**
     * Where the users record. HdrHistogram's {@link Recorder} is wait-free for writers, so the event loops
     * record without a lock; the ticker swaps out one latency interval per second and adds it to the totals. Send
     * lag and connect times are read once, at the end: each interval swap costs about 0.5 ms of the generator's core
     * (the C1 JIT's loops over a 270 KB histogram), which it takes from the event loop, so a second is only as
     * cheap as the few swaps it needs (four per second made every send due meanwhile 2-5 ms late).
     */
    static final class Recorders {
        private final long startedAt = System.nanoTime();
        private final boolean openLoop;
        private final Recorder latency = newRecorder(), uncorrected, lag = newRecorder(), connect = newRecorder();
        private final Histogram latencyTotal = newHistogram(), uncorrectedTotal = newHistogram();
        private final LongAccumulator lagMax = new LongAccumulator(Math::max, 0);
        private final LongAdder sent = new LongAdder(), received = new LongAdder(),
                opened = new LongAdder(), warmupEchoes = new LongAdder(), spin = new LongAdder();
        private final LongAdder[] failures = new LongAdder[Kind.values().length];
        private final AtomicInteger open = new AtomicInteger(), peakOpen = new AtomicInteger();
        private final AtomicLong allOpenAfterNanos = new AtomicLong(-1);
        private final int users;
        private Histogram latencyInterval, uncorrectedInterval;
        private long sentBefore, receivedBefore, failuresBefore;

        Recorders(boolean openLoop, int users) {
            this.openLoop = openLoop;
            this.users = users;
            this.uncorrected = openLoop ? newRecorder() : null;
            for (int i = 0; i < failures.length; i++) failures[i] = new LongAdder();
        }

        private static Recorder newRecorder() {
            return new Recorder(1, HIGHEST_NANOS, SIGNIFICANT_DIGITS);
        }

        private static Histogram newHistogram() {
            return new Histogram(1, HIGHEST_NANOS, SIGNIFICANT_DIGITS);
        }

        private static void record(Recorder recorder, long nanos) {
            recorder.recordValue(Math.max(0, Math.min(nanos, HIGHEST_NANOS)));
        }

        void connected(long connectNanos) {
            record(connect, connectNanos);
            opened.increment();
            int now = open.incrementAndGet();
            peakOpen.accumulateAndGet(now, Math::max);
            if (now == users) allOpenAfterNanos.compareAndSet(-1, System.nanoTime() - startedAt);
        }

        void disconnected() {
            open.decrementAndGet();
        }

        void sent(boolean measured) {
            if (measured) sent.increment();
        }

        /** A complete, matching echo: its latency from the due time (open loop) and from the actual send. */
        void received(long fromDue, long fromSend, boolean measured) {
            if (!measured) {
                warmupEchoes.increment();
                return;
            }
            received.increment();
            record(latency, fromDue);
            if (uncorrected != null) record(uncorrected, fromSend);
        }

        /** Complete echoes outside the measurement so far (the warm-up's, for SteadyState). */
        long warmupEchoes() {
            return warmupEchoes.sum();
        }

        void lag(long nanos, boolean measured) {
            if (!measured) return;
            record(lag, nanos);
            lagMax.accumulate(nanos);
        }

        /** Time spent polling instead of sleeping (a due send, or a busy-polling loop), not trusting a wake-up to be on time. */
        void spun(long nanos, boolean measured) {
            if (measured) spin.add(nanos);
        }

        void fail(Kind kind, boolean measured) {
            if (measured) failures[kind.ordinal()].increment();
        }

        long failureCount() {
            long total = 0;
            for (LongAdder count : failures) total += count.sum();
            return total;
        }

        synchronized Interval closeInterval() {
            latencyInterval = latency.getIntervalHistogram(latencyInterval);
            latencyTotal.add(latencyInterval);
            if (uncorrected != null) {
                Thread.yield(); // let the event loop send what fell due during the first swap
                uncorrectedInterval = uncorrected.getIntervalHistogram(uncorrectedInterval);
                uncorrectedInterval.setTag(UNCORRECTED_TAG);
                uncorrectedTotal.add(uncorrectedInterval);
            }
            long sentNow = sent.sum(), receivedNow = received.sum(), failuresNow = failureCount();
            Interval interval = new Interval(latencyInterval, uncorrected != null ? uncorrectedInterval : null, lagMax.getThenReset(),
                    sentNow - sentBefore, receivedNow - receivedBefore, failuresNow - failuresBefore, open.get());
            sentBefore = sentNow;
            receivedBefore = receivedNow;
            failuresBefore = failuresNow;
            return interval;
        }

        /** Everything measured, with the generator's verdict on itself (the warnings) added. */
        Result result(Config config, Warmup warmup, List<Second> series, long wallNanos, long cpuNanos, long contextSwitches, int cores,
                      List<String> notes) {
            Histogram lagTotal = lag.getIntervalHistogram(), connectTotal = connect.getIntervalHistogram();
            long[] byKind = new long[failures.length];
            for (int i = 0; i < byKind.length; i++) byKind[i] = failures[i].sum();
            List<String> warnings = new ArrayList<>(notes);
            double requested = config.requestedRate();
            double achieved = sent.sum() / config.durationSeconds();
            if (requested > 0 && achieved < 0.95 * requested) {
                warnings.add(String.format(Locale.ROOT, "sent %.0f msg/s, %.0f%% of the requested %.0f msg/s%s", achieved,
                        100 * achieved / requested, requested, lagTotal.getValueAtPercentile(99) <= LAG_LIMIT_NANOS
                                ? " (sends waited for echoes: the server is slow, or raise --inflight / --users)" : ""));
            }
            if (config.scheduled() && lagTotal.getValueAtPercentile(99) > LAG_LIMIT_NANOS) {
                warnings.add("send lag p99 " + goDuration(lagTotal.getValueAtPercentile(99)) + " exceeds "
                        + goDuration(LAG_LIMIT_NANOS) + ": sends left later than scheduled");
            }
            // spinning before due sends is CPU the generator would give up if it had work: not a sign of saturation
            long spinNanos = spin.sum();
            double cpuShare = Math.max(0, cpuNanos - spinNanos) / (double) wallNanos;
            if (cpuShare > 0.9 * cores) {
                warnings.add(String.format(Locale.ROOT, "the generator used %.0f%% of its %d cpu(s)%s", 100 * cpuShare, cores,
                        spinNanos > 0 ? " besides its spinning" : ""));
            }
            long allOpen = allOpenAfterNanos.get();
            return new Result(config, warmup, sent.sum(), received.sum(), byKind, latencyTotal, openLoop ? uncorrectedTotal : null,
                    lagTotal, connectTotal, opened.sum(), peakOpen.get(), allOpen < 0 ? -1 : allOpen / 1e6,
                    wallNanos, cpuNanos, spinNanos, contextSwitches, cores, series, warnings);
        }
    }

    /** The seed's block, then what the seed lacked. */
    static void printSummary(PrintStream out, Result r) {
        out.println("=== Load Test Complete ===");
        out.println("Sent:     " + r.sent());
        out.println("Received: " + r.received());
        out.println("Failures: " + r.failures());
        printLatency(out, "", r.latency());
        Config c = r.config();
        if (c.openLoop()) {
            out.println("RTT above counts from each message's intended send time (corrected for coordinated omission);");
            out.println("uncorrected RTT, from the actual send (what a closed-loop tool would report):");
            printLatency(out, "Uncorrected ", r.uncorrected());
        }
        out.printf(Locale.ROOT, "Throughput: %.1f msg/s, %.3f MB/s echoed (%d-byte messages)%n",
                r.msgPerSec(), r.msgPerSec() * c.size() / 1e6, c.size());
        long[] f = r.failuresByKind();
        out.printf("Failures by kind: connect=%d timeout=%d closed=%d mismatch=%d io=%d%n", f[0], f[1], f[2], f[3], f[4]);
        out.printf(Locale.ROOT, "Connections: %d opened (peak %d open), all %d open after %s, connect p50 %s p99 %s max %s%n",
                r.opened(), r.peakOpen(), c.users(), r.timeToOpenAllMs() < 0 ? "never" : goDuration((long) (r.timeToOpenAllMs() * 1e6)),
                goDuration(r.connect().getValueAtPercentile(50)), goDuration(r.connect().getValueAtPercentile(99)),
                goDuration(r.connect().getMaxValue()));
        out.printf(Locale.ROOT, "Generator: %s, CPU %.2fs (%.1f%% of one core, %s per message), send lag %s%n",
                c.transport(), r.cpuNanos() / 1e9, 100.0 * r.cpuNanos() / r.wallNanos(), goDuration(r.sent() == 0 ? 0 : r.cpuNanos() / r.sent()),
                c.scheduled() ? "p50 " + goDuration(r.lag().getValueAtPercentile(50)) + " p99 " + goDuration(r.lag().getValueAtPercentile(99))
                        + " max " + goDuration(r.lag().getMaxValue()) : "n/a (closed loop without --interval has no schedule)");
        if (r.spinNanos() > 0 || c.openLoop()) { // the open loop always says what its polling cost, 0 included
            out.printf(Locale.ROOT, "Spin: %.2fs of that CPU (%.1f%% of one core) polled instead of sleeping, to send and read on time%n",
                    r.spinNanos() / 1e9, 100.0 * r.spinNanos() / r.wallNanos());
        }
        if (c.requestedRate() > 0) {
            out.printf(Locale.ROOT, "Rate: requested %.1f msg/s, sent %.1f msg/s%n", c.requestedRate(), r.sent() / c.durationSeconds());
        }
        for (String warning : r.warnings()) out.println("WARNING: generator saturated: " + warning);
    }

    /** Avg, p90, p95, p99 (the seed's lines), then p50, p99.9 and max. */
    static void printLatency(PrintStream out, String prefix, Histogram h) {
        out.println(prefix + "Avg RTT:  " + goDuration(Math.round(h.getMean())));
        out.println(prefix + "p90 RTT:  " + goDuration(h.getValueAtPercentile(90)));
        out.println(prefix + "p95 RTT:  " + goDuration(h.getValueAtPercentile(95)));
        out.println(prefix + "p99 RTT:  " + goDuration(h.getValueAtPercentile(99)));
        out.println(prefix + "p50 RTT:  " + goDuration(h.getValueAtPercentile(50)));
        out.println(prefix + "p99.9 RTT: " + goDuration(h.getValueAtPercentile(99.9)));
        out.println(prefix + "Max RTT:  " + goDuration(h.getMaxValue()));
        out.println(prefix + "Count:    " + h.getTotalCount());
    }

    /** HdrHistogram's own percentile distribution, in microseconds. */
    static void printSpectrum(PrintStream out, Histogram h, String what) {
        out.println("Percentile spectrum of " + what + " (µs):");
        h.outputPercentileDistribution(out, 5, 1000.0);
    }

    /** A duration the way Go prints one ({@code 1.069272ms}, {@code 850µs}, {@code 10s}, {@code 1m30s}), as the seed did. */
    static String goDuration(long nanos) {
        if (nanos < 0) return "-" + goDuration(-nanos);
        if (nanos == 0) return "0s";
        if (nanos < 1_000) return nanos + "ns";
        if (nanos < 1_000_000) return decimal(nanos, 1_000) + "µs";
        if (nanos < 1_000_000_000) return decimal(nanos, 1_000_000) + "ms";
        long hours = nanos / 3_600_000_000_000L, minutes = nanos / 60_000_000_000L % 60;
        String seconds = decimal(nanos % 60_000_000_000L, 1_000_000_000) + "s";
        if (hours > 0) return hours + "h" + minutes + "m" + seconds;
        return minutes > 0 ? minutes + "m" + seconds : seconds;
    }

    private static String decimal(long value, long unit) {
        long whole = value / unit, fraction = value % unit;
        if (fraction == 0) return Long.toString(whole);
        String digits = String.format("%0" + Long.toString(unit).length() + "d", fraction).substring(1).replaceAll("0+$", "");
        return whole + "." + digits;
    }

    static void writeJson(Path file, Result r) throws IOException {
        Config c = r.config();
        JsonObject root = new JsonObject();
        root.addProperty("tool", "TcpLoad");
        root.addProperty("version", 1);

        JsonObject config = new JsonObject();
        config.addProperty("host", c.host());
        config.addProperty("users", c.users());
        config.addProperty("durationSeconds", c.durationSeconds());
        config.addProperty("warmupSeconds", c.warmupSeconds());
        config.addProperty("steady", c.steady());
        config.addProperty("warmupMaxSeconds", c.warmupMaxSeconds());
        config.addProperty("mode", c.mode());
        config.addProperty("transport", c.transport());
        config.addProperty("size", c.size());
        config.addProperty("intervalMs", c.intervalMs());
        config.addProperty("rate", c.rate());
        config.addProperty("inflight", c.inflight());
        config.addProperty("timeoutMs", c.timeoutMs());
        config.addProperty("rampUpSeconds", c.rampUpSeconds());
        config.addProperty("connectRate", c.connectRate());
        JsonArray sourceIps = new JsonArray();
        c.sourceIps().forEach(sourceIps::add);
        config.add("sourceIps", sourceIps);
        root.add("config", config);

        JsonObject environment = new JsonObject();
        environment.addProperty("jdk", Runtime.version().toString() + " (" + System.getProperty("java.vm.vendor") + ")");
        environment.addProperty("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        environment.addProperty("cores", r.cores());
        environment.addProperty("hostname", hostname());
        environment.addProperty("date", Instant.now().toString());
        root.add("environment", environment);

        JsonObject summary = new JsonObject();
        summary.addProperty("sent", r.sent());
        summary.addProperty("received", r.received());
        summary.addProperty("failures", r.failures());
        JsonObject byKind = new JsonObject();
        for (Kind kind : Kind.values()) byKind.addProperty(kind.name().toLowerCase(Locale.ROOT), r.failuresByKind()[kind.ordinal()]);
        summary.add("failuresByKind", byKind);
        summary.add("latencyUs", latencyJson(r.latency()));
        if (r.uncorrected() != null) summary.add("uncorrectedLatencyUs", latencyJson(r.uncorrected()));
        summary.add("spectrum", spectrumJson(r.latency()));
        JsonObject throughput = new JsonObject();
        throughput.addProperty("msgPerSec", r.msgPerSec());
        throughput.addProperty("mbPerSec", r.msgPerSec() * c.size() / 1e6);
        summary.add("throughput", throughput);
        JsonObject connections = new JsonObject();
        connections.addProperty("opened", r.opened());
        connections.addProperty("peakOpen", r.peakOpen());
        connections.addProperty("timeToOpenAllMs", r.timeToOpenAllMs());
        connections.add("connectLatencyUs", latencyJson(r.connect()));
        summary.add("connections", connections);
        JsonObject generator = new JsonObject();
        generator.addProperty("cpuSeconds", r.cpuNanos() / 1e9);
        generator.addProperty("cpuPercentOfCore", 100.0 * r.cpuNanos() / r.wallNanos());
        generator.addProperty("cpuNanosPerMessage", r.sent() == 0 ? 0 : (double) r.cpuNanos() / r.sent());
        generator.addProperty("spinSeconds", r.spinNanos() / 1e9);
        if (r.contextSwitches() >= 0) generator.addProperty("contextSwitches", r.contextSwitches());
        generator.addProperty("wallSeconds", r.wallNanos() / 1e9);
        generator.addProperty("requestedRate", c.requestedRate());
        generator.addProperty("sentRate", r.sent() / c.durationSeconds());
        generator.add("lagUs", lagJson(r.lag(), c.scheduled()));
        generator.addProperty("saturated", r.saturated());
        JsonArray warnings = new JsonArray();
        r.warnings().forEach(warnings::add);
        generator.add("warnings", warnings);
        summary.add("generator", generator);
        Warmup w = r.warmup();
        JsonObject warmup = new JsonObject();
        warmup.addProperty("plannedSeconds", w.plannedSeconds());
        warmup.addProperty("seconds", w.seconds());
        warmup.addProperty("steady", w.steady());
        warmup.addProperty("reason", w.reason());
        warmup.addProperty("serverJitPercentOfCore", w.serverJitPercentOfCore());
        warmup.addProperty("loadJitPercentOfCore", w.loadJitPercentOfCore());
        summary.add("warmup", warmup);
        root.add("summary", summary);

        JsonArray series = new JsonArray();
        for (Second s : r.series()) {
            JsonObject second = new JsonObject();
            second.addProperty("second", s.second());
            second.addProperty("sent", s.sent());
            second.addProperty("received", s.received());
            second.addProperty("p99Us", s.p99Us());
            second.addProperty("lagMaxUs", s.lagMaxUs());
            second.addProperty("connections", s.connections());
            second.addProperty("failures", s.failures());
            series.add(second);
        }
        root.add("series", series);
        write(file, root);
    }

    /** A document as --json writes it (a merged one too). */
    static void write(Path file, JsonObject root) throws IOException {
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(root) + "\n");
    }

    /** Send lag: fewer figures than a latency, and whether there was a schedule to be late against. */
    static JsonObject lagJson(Histogram h, boolean measured) {
        JsonObject lag = new JsonObject();
        lag.addProperty("p50", h.getValueAtPercentile(50) / 1e3);
        lag.addProperty("p99", h.getValueAtPercentile(99) / 1e3);
        lag.addProperty("max", h.getMaxValue() / 1e3);
        lag.addProperty("count", h.getTotalCount());
        lag.addProperty("measured", measured);
        lag.addProperty("histogram", encode(h));
        return lag;
    }

    /** Each latency's figures, and its histogram, so that documents of several generators merge exactly (LoadMerge). */
    static JsonObject latencyJson(Histogram h) {
        JsonObject json = new JsonObject();
        json.addProperty("mean", h.getMean() / 1e3);
        json.addProperty("p50", h.getValueAtPercentile(50) / 1e3);
        json.addProperty("p90", h.getValueAtPercentile(90) / 1e3);
        json.addProperty("p95", h.getValueAtPercentile(95) / 1e3);
        json.addProperty("p99", h.getValueAtPercentile(99) / 1e3);
        json.addProperty("p999", h.getValueAtPercentile(99.9) / 1e3);
        json.addProperty("max", h.getMaxValue() / 1e3);
        json.addProperty("count", h.getTotalCount());
        json.addProperty("histogram", encode(h));
        return json;
    }

    /** HdrHistogram's compressed form in base64, as an hlog line carries it. */
    static String encode(Histogram h) {
        ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int length = h.encodeIntoCompressedByteBuffer(buffer);
        return Base64.getEncoder().encodeToString(Arrays.copyOf(buffer.array(), length));
    }

    static Histogram decode(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
        } catch (java.util.zip.DataFormatException e) {
            throw new IllegalArgumentException("a histogram that does not decode: " + e.getMessage(), e);
        }
    }

    static JsonArray spectrumJson(Histogram h) {
        JsonArray spectrum = new JsonArray();
        for (HistogramIterationValue v : h.percentiles(5)) {
            JsonObject point = new JsonObject();
            point.addProperty("percentile", v.getPercentileLevelIteratedTo());
            point.addProperty("valueUs", v.getValueIteratedTo() / 1e3);
            spectrum.add(point);
        }
        return spectrum;
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
