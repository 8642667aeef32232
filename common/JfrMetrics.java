import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import org.HdrHistogram.Histogram;

/**
 * The building blocks of analyze-jfr's views: small metrics that read a stream of JFR events and keep only
 * counters, HdrHistograms and capped maps, so memory stays bounded whatever the size of the recording.
 * A view is a list of these; each renders itself as a few {@link Line}s per recording.
 */
class JfrMetrics extends JfrThreadMetrics { // extends: the thread views by their short names

    /** One row of a view for one recording: a stable key (JSON), a human label (tables), a value and its text. */
    record Line(String key, String label, Object value, String text) {}

    /**
     * One entry of a ranked list (busiest threads, hot methods): shown as rows "#1", "#2"... in tables. {@code percent}
     * is its share of all samples (0–100) where the list ranks samples, else null.
     */
    record Ranked(String name, double value, Double percent, String text) {}

    /** What a metric may ask about the whole recording when it renders. */
    interface Context {
        /** Whether the recording had {@code eventType} enabled: true, false, or null when it does not say. */
        Boolean enabled(String eventType);

        /** Why {@code eventType} cannot appear in this recording ("not recorded"...), or null if it could. */
        String missing(String eventType);

        /** How many entries ranked lists show ({@code --top}). */
        int top();

        /** The value the recording had for a setting of {@code eventType} ("10 ms"), when it says. */
        Optional<String> setting(String eventType, String name);
    }

    /**
     * Stands in a distribution's label for its event's recording threshold: events shorter than it are not recorded,
     * so "parks (≥ {threshold})" must read "parks (≥ 10 ms)".
     */
    static final String THRESHOLD = "{threshold}";

    /** A metric definition: the events it reads, and how to start a fresh aggregate for each recording. */
    record Metric(Set<String> events, Supplier<Aggregate> start) {}

    /** The state of one metric over one recording. */
    interface Aggregate {
        void accept(RecordedEvent event);

        void render(Context context, List<Line> out);
    }

    /** How a value is stored in a histogram and shown; JSON gets the plain value (ns, bytes, percent 0–100). */
    enum Unit {
        COUNT(1), NANOS(1), BYTES(1), PER_SECOND(1), PERCENT(10_000);

        /** Histograms hold longs: fractions are scaled so that 0.01 % survives. */
        final double scale;

        Unit(double scale) {
            this.scale = scale;
        }

        Object json(double value) {
            return switch (this) {
                case PERCENT -> Math.round(value * 10_000) / 100.0;
                case COUNT, NANOS, BYTES -> Math.round(value);
                case PER_SECOND -> Math.round(value * 10) / 10.0;
            };
        }

        String text(double value) {
            return switch (this) {
                case COUNT -> String.format(Locale.ROOT, "%,d", Math.round(value));
                case NANOS -> Cli.formatNanos(value);
                case BYTES -> bytes(value);
                case PER_SECOND -> String.format(Locale.ROOT, "%,.0f/s", value);
                case PERCENT -> String.format(Locale.ROOT, "%.1f%%", value * 100);
            };
        }

        private static String bytes(double value) {
            if (value >= 1 << 30) return String.format(Locale.ROOT, "%.2f GiB", value / (1 << 30));
            if (value >= 1 << 20) return String.format(Locale.ROOT, "%.1f MiB", value / (1 << 20));
            if (value >= 1 << 10) return String.format(Locale.ROOT, "%.1f KiB", value / (1 << 10));
            return String.format(Locale.ROOT, "%.0f B", value);
        }
    }

    /** The summaries a distribution can show; each becomes one row. */
    enum Stat {
        COUNT("count"), TOTAL("total"), MIN("min"), MEAN("mean"), P50("p50"), P99("p99"), MAX("max");

        final String label;

        Stat(String label) {
            this.label = label;
        }
    }

    static Line line(String key, String label, Unit unit, double value) {
        return new Line(key, label, unit.json(value), unit.text(value));
    }

    /** A metric over one event type with an optional filter; renders "not recorded" when the event was off. */
    abstract static class Base implements Aggregate {
        final String key, label;
        final Set<String> events;
        final Predicate<RecordedEvent> filter;
        long seen;

        Base(String key, String label, Set<String> events, Predicate<RecordedEvent> filter) {
            this.key = key;
            this.label = label;
            this.events = events;
            this.filter = filter;
        }

        @Override
        public final void accept(RecordedEvent event) {
            if (filter.test(event)) {
                seen++;
                add(event);
            }
        }

        abstract void add(RecordedEvent event);

        abstract void renderValues(Context context, List<Line> out);

        @Override
        public final void render(Context context, List<Line> out) {
            String missing = null; // a reason only if none of the events could have appeared
            for (String event : events) {
                missing = context.missing(event);
                if (missing == null) break;
            }
            if (seen > 0 || missing == null) {
                renderValues(context, out);
                return;
            }
            List<Line> rows = new ArrayList<>(); // the usual rows, so that side-by-side tables still line up
            renderValues(context, rows);
            for (Line row : rows) out.add(new Line(row.key(), row.label(), null, missing));
        }

    }

    static Predicate<RecordedEvent> all() {
        return e -> true;
    }

    /** How many events matched. */
    static Metric count(String key, String label, String event, Predicate<RecordedEvent> filter) {
        return new Metric(Set.of(event), () -> new Base(key, label, Set.of(event), filter) {
            @Override
            void add(RecordedEvent e) {}

            @Override
            void renderValues(Context context, List<Line> out) {
                out.add(line(key, label, Unit.COUNT, seen));
            }
        });
    }

    /** The sum of a value over the matching events (bytes read, for instance). */
    static Metric sum(String key, String label, String event, Predicate<RecordedEvent> filter,
                      ToDoubleFunction<RecordedEvent> value, Unit unit) {
        return new Metric(Set.of(event), () -> new Base(key, label, Set.of(event), filter) {
            double total;

            @Override
            void add(RecordedEvent e) {
                total += value.applyAsDouble(e);
            }

            @Override
            void renderValues(Context context, List<Line> out) {
                out.add(line(key, label, unit, total));
            }
        });
    }

    /** An HdrHistogram of a value (3 significant digits), shown as the chosen {@link Stat}s, one row each. */
    static Metric distribution(String key, String label, String event, Predicate<RecordedEvent> filter,
                               ToDoubleFunction<RecordedEvent> value, Unit unit, Stat... stats) {
        return new Metric(Set.of(event), () -> new Base(key, label, Set.of(event), filter) {
            final Histogram histogram = new Histogram(3);
            double total;

            @Override
            void add(RecordedEvent e) {
                double v = value.applyAsDouble(e);
                total += v;
                histogram.recordValue(Math.max(0, Math.round(v * unit.scale)));
            }

            @Override
            void renderValues(Context context, List<Line> out) {
                String shownLabel = label.replace(THRESHOLD, context.setting(event, "threshold").orElse("?"));
                for (Stat stat : stats) {
                    String rowKey = key + "." + stat.name().toLowerCase(Locale.ROOT);
                    String rowLabel = shownLabel + " " + stat.label;
                    if (stat == Stat.COUNT) {
                        out.add(line(rowKey, rowLabel, Unit.COUNT, seen));
                    } else if (seen == 0) {
                        out.add(new Line(rowKey, rowLabel, null, "-"));
                    } else {
                        out.add(line(rowKey, rowLabel, unit, switch (stat) {
                            case TOTAL -> total;
                            case MIN -> histogram.getMinValue() / unit.scale;
                            case MEAN -> total / seen;
                            case P50 -> histogram.getValueAtPercentile(50) / unit.scale;
                            case P99 -> histogram.getValueAtPercentile(99) / unit.scale;
                            default -> histogram.getMaxValue() / unit.scale;
                        }));
                    }
                }
            }
        });
    }

    /** The last value of a text field (for once-per-chunk events such as jdk.JVMInformation). */
    static Metric last(String key, String label, String event, Function<RecordedEvent, String> value) {
        return new Metric(Set.of(event), () -> new Base(key, label, Set.of(event), all()) {
            String text;

            @Override
            void add(RecordedEvent e) {
                text = value.apply(e);
            }

            @Override
            void renderValues(Context context, List<Line> out) {
                out.add(new Line(key, label, text, text == null ? "-" : text));
            }
        });
    }

    /** How many distinct keys (threads, for instance) the matching events name. */
    static Metric distinct(String key, String label, Set<String> events, Predicate<RecordedEvent> filter,
                           Function<RecordedEvent, Object> identity) {
        return new Metric(events, () -> new Base(key, label, events, filter) {
            final Set<Object> keys = new HashSet<>();

            @Override
            void add(RecordedEvent e) {
                if (keys.size() < CAP) keys.add(identity.apply(e));
            }

            @Override
            void renderValues(Context context, List<Line> out) {
                out.add(line(key, label, Unit.COUNT, keys.size()));
            }
        });
    }

    /**
     * The top entries of a value summed per key (bytes, samples); at most {@link #CAP} keys are kept, the rest go to
     * "(other)". Not for loads sampled each period: averaging those over a key's own events overstates a key that was
     * present in few periods ({@link #busiestThreads} says how to weigh them).
     */
    static Metric top(String key, String label, String event, Predicate<RecordedEvent> filter,
                      Function<RecordedEvent, String> name, ToDoubleFunction<RecordedEvent> value, Unit unit) {
        return new Metric(Set.of(event), () -> new Base(key, label, Set.of(event), filter) {
            final CappedCounter totals = new CappedCounter();

            @Override
            void add(RecordedEvent e) {
                totals.add(name.apply(e), value.applyAsDouble(e));
            }

            @Override
            void renderValues(Context context, List<Line> out) {
                List<Ranked> ranked = new ArrayList<>();
                for (Map.Entry<String, Double> entry : totals.top(context.top())) {
                    ranked.add(new Ranked(entry.getKey(), entry.getValue(), null, unit.text(entry.getValue()) + "  " + entry.getKey()));
                }
                out.add(new Line(key, label, ranked, null));
            }
        });
    }

    /**
     * The most threads alive at once among those started during the recording: starts and ends are counted in
     * 100 ms buckets (events within a chunk are not in time order) and the running balance is taken per bucket.
     */
    static Metric peakAlive(String key, String label, String startEvent, String endEvent) {
        return new Metric(Set.of(startEvent, endEvent), () -> new Base(key, label, Set.of(startEvent, endEvent), all()) {
            final TreeMap<Long, long[]> buckets = new TreeMap<>();

            @Override
            void add(RecordedEvent e) {
                long bucket = e.getStartTime().toEpochMilli() / 100;
                buckets.computeIfAbsent(bucket, b -> new long[1])[0] += e.getEventType().getName().equals(startEvent) ? 1 : -1;
            }

            @Override
            void renderValues(Context context, List<Line> out) {
                long alive = 0, peak = 0;
                for (long[] delta : buckets.values()) {
                    alive += delta[0];
                    peak = Math.max(peak, alive);
                }
                out.add(line(key, label, Unit.COUNT, peak));
            }
        });
    }

    /**
     * pprof's "top": the methods most often on top of a sampled stack (self) and anywhere in it (total), as a
     * share of all samples. Reads jdk.CPUTimeSample (JDK 25, true CPU time) and falls back to jdk.ExecutionSample.
     */
    static Metric hotMethods(String key, String preferred, String fallback) {
        return new Metric(Set.of(preferred, fallback), () -> new Base(key, "samples", Set.of(preferred, fallback), all()) {
            final Map<String, Samples> bySource = new HashMap<>();

            @Override
            void add(RecordedEvent e) {
                RecordedStackTrace stack = e.getStackTrace();
                if (stack == null || stack.getFrames().isEmpty()) return;
                bySource.computeIfAbsent(e.getEventType().getName(), s -> new Samples()).add(stack.getFrames());
            }

            @Override
            void renderValues(Context context, List<Line> out) {
                String source = bySource.containsKey(preferred) ? preferred : fallback;
                Samples samples = bySource.get(source);
                if (samples == null) {
                    out.add(new Line(key + ".source", "samples", null, "none with a stack trace"));
                    return;
                }
                out.add(new Line(key + ".source", "samples", Map.of("event", source, "count", samples.count),
                        String.format(Locale.ROOT, "%,d (%s)", samples.count, source)));
                out.add(new Line(key + ".self", "self", samples.ranked(samples.self, context.top()), null));
                out.add(new Line(key + ".total", "total", samples.ranked(samples.total, context.top()), null));
            }
        });
    }

    private static final class Samples {
        final CappedCounter self = new CappedCounter(), total = new CappedCounter();
        long count;

        void add(List<RecordedFrame> frames) {
            count++;
            self.add(methodName(frames.get(0)), 1);
            Set<String> once = new HashSet<>(); // recursion must not count a method twice in one sample
            for (RecordedFrame frame : frames) {
                String method = methodName(frame);
                if (once.add(method)) total.add(method, 1);
            }
        }

        List<Ranked> ranked(CappedCounter counter, int n) {
            List<Ranked> ranked = new ArrayList<>();
            for (Map.Entry<String, Double> entry : counter.top(n)) {
                double share = entry.getValue() / count;
                ranked.add(new Ranked(entry.getKey(), entry.getValue(), (Double) Unit.PERCENT.json(share),
                        String.format(Locale.ROOT, "%5.1f%% %,7d  %s", share * 100, entry.getValue().longValue(), entry.getKey())));
            }
            return ranked;
        }
    }

    static String methodName(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }

    /** The first frame of a stack outside the JDK: where application code stood (or the top frame if none). */
    static String applicationFrame(RecordedStackTrace stack) {
        if (stack == null || stack.getFrames().isEmpty()) return "(no stack trace)";
        for (RecordedFrame frame : stack.getFrames()) {
            if (!isJdk(frame)) {
                return methodName(frame) + (frame.getLineNumber() > 0 ? ":" + frame.getLineNumber() : "");
            }
        }
        return methodName(stack.getFrames().get(0));
    }

    static boolean isJdk(RecordedFrame frame) {
        String type = frame.getMethod().getType().getName();
        return type.startsWith("java.") || type.startsWith("jdk.") || type.startsWith("sun.");
    }

    /**
     * Where a virtual thread was pinned: the application frame, and the class initializer or native method that
     * holds the carrier when there is one ("Foo.sleep:8 in Bar.<clinit>").
     */
    static String pinnedFrame(RecordedStackTrace stack) {
        String where = applicationFrame(stack);
        if (stack == null) return where;
        boolean inApplication = false; // the JDK's own native frames (park, the event, the continuation) are not the cause
        for (RecordedFrame frame : stack.getFrames()) {
            inApplication |= !isJdk(frame);
            boolean holdsCarrier = frame.getMethod().getName().equals("<clinit>") || "Native".equals(frame.getType()) && !isJdk(frame);
            if (inApplication && holdsCarrier) {
                String holder = methodName(frame);
                return where.startsWith(holder) ? where : where + " in " + holder;
            }
        }
        return where;
    }

    static boolean onVirtualThread(RecordedEvent e) {
        RecordedThread thread = e.getThread();
        return thread != null && thread.isVirtual();
    }

    /** Keys beyond this many are lumped together, so a recording with 20,000 named threads stays small. */
    static final int CAP = 10_000;

    /** A map of key → amount that stops growing at {@link #CAP} keys. */
    static final class CappedCounter {
        private final Map<String, double[]> amounts = new HashMap<>();

        void add(String key, double amount) {
            double[] slot = amounts.get(key);
            if (slot == null) {
                slot = amounts.computeIfAbsent(amounts.size() < CAP ? key : "(other)", k -> new double[1]);
            }
            slot[0] += amount;
        }

        List<Map.Entry<String, Double>> top(int n) {
            return amounts.entrySet().stream()
                    .map(e -> Map.entry(e.getKey(), e.getValue()[0]))
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .limit(n)
                    .toList();
        }
    }
}
