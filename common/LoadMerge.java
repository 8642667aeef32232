import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.DoubleBinaryOperator;
import org.HdrHistogram.Histogram;

/**
 * Several TcpLoad --json documents of one measured window (generator processes or hosts loading one server) as one
 * document of the same shape, so whatever reads one process's reads the merge unchanged. Counts, CPU and rates add
 * up; latencies come from the sum of the documents' histograms; the warm-up is as long as the longest and steady
 * only when every one was. Where no exact figure exists the merge says which bound it keeps: peakOpen is the sum of
 * the peaks, a per-second p99Us the highest of the processes'.
 */
final class LoadMerge {
    private LoadMerge() {}

    /** The merged document; {@code mergedFrom} says of how many. Parts of different runs (mode, size, duration) are refused. */
    static JsonObject merge(List<JsonObject> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("nothing to merge");
        JsonObject first = parts.get(0);
        for (JsonObject part : parts) {
            for (String key : List.of("mode", "size", "durationSeconds")) {
                if (!Objects.equals(at(part, "config").get(key), at(first, "config").get(key))) {
                    throw new IllegalArgumentException("documents of different runs: config." + key + " " + at(first, "config").get(key)
                            + " and " + at(part, "config").get(key));
                }
            }
        }
        JsonObject merged = first.deepCopy();
        merged.addProperty("mergedFrom", parts.size());
        JsonObject config = at(merged, "config");
        config.addProperty("users", Math.round(sum(parts, "config", "users")));
        config.addProperty("rate", sum(parts, "config", "rate"));
        at(merged, "environment").addProperty("cores", Math.round(sum(parts, "environment", "cores")));

        JsonObject summary = at(merged, "summary");
        for (String count : List.of("sent", "received", "failures")) summary.addProperty(count, Math.round(sum(parts, "summary", count)));
        JsonObject byKind = at(summary, "failuresByKind");
        for (String kind : byKind.keySet()) byKind.addProperty(kind, Math.round(sum(parts, "summary.failuresByKind", kind)));
        Histogram latency = histogram(parts, "summary.latencyUs");
        summary.add("latencyUs", LoadReport.latencyJson(latency));
        if (summary.has("uncorrectedLatencyUs")) summary.add("uncorrectedLatencyUs", LoadReport.latencyJson(histogram(parts, "summary.uncorrectedLatencyUs")));
        summary.add("spectrum", LoadReport.spectrumJson(latency));
        double duration = config.get("durationSeconds").getAsDouble(), msgPerSec = summary.get("received").getAsLong() / duration;
        at(summary, "throughput").addProperty("msgPerSec", msgPerSec);
        at(summary, "throughput").addProperty("mbPerSec", msgPerSec * config.get("size").getAsInt() / 1e6);

        JsonObject connections = at(summary, "connections");
        connections.addProperty("opened", Math.round(sum(parts, "summary.connections", "opened")));
        connections.addProperty("peakOpen", Math.round(sum(parts, "summary.connections", "peakOpen")));
        // all were open once the last process had opened all of its own; never, if one never did
        double allOpen = fold(parts, "summary.connections", "timeToOpenAllMs", (a, b) -> a < 0 || b < 0 ? -1 : Math.max(a, b));
        connections.addProperty("timeToOpenAllMs", allOpen);
        connections.add("connectLatencyUs", LoadReport.latencyJson(histogram(parts, "summary.connections.connectLatencyUs")));

        mergeGenerator(parts, at(summary, "generator"), summary.get("sent").getAsLong(), duration);
        mergeWarmup(parts, at(summary, "warmup"));
        merged.add("series", series(parts));
        return merged;
    }

    private static void mergeGenerator(List<JsonObject> parts, JsonObject generator, long sent, double duration) {
        String path = "summary.generator";
        double cpuSeconds = sum(parts, path, "cpuSeconds");
        generator.addProperty("cpuSeconds", cpuSeconds);
        generator.addProperty("cpuPercentOfCore", sum(parts, path, "cpuPercentOfCore")); // of one core, so they add up
        generator.addProperty("cpuNanosPerMessage", sent == 0 ? 0 : cpuSeconds * 1e9 / sent);
        generator.addProperty("spinSeconds", sum(parts, path, "spinSeconds"));
        if (parts.stream().allMatch(p -> at(p, path).has("contextSwitches"))) {
            generator.addProperty("contextSwitches", Math.round(sum(parts, path, "contextSwitches")));
        } else {
            generator.remove("contextSwitches"); // unknown for one of them: unknown for the whole
        }
        generator.addProperty("wallSeconds", fold(parts, path, "wallSeconds", Math::max));
        generator.addProperty("requestedRate", sum(parts, path, "requestedRate"));
        generator.addProperty("sentRate", sent / duration);
        generator.add("lagUs", LoadReport.lagJson(histogram(parts, path + ".lagUs"), at(generator, "lagUs").get("measured").getAsBoolean()));
        generator.addProperty("saturated", parts.stream().anyMatch(p -> at(p, path).get("saturated").getAsBoolean()));
        JsonArray warnings = new JsonArray();
        for (int i = 0; i < parts.size(); i++) {
            for (JsonElement warning : at(parts.get(i), path).getAsJsonArray("warnings")) warnings.add("process " + (i + 1) + ": " + warning.getAsString());
        }
        generator.add("warnings", warnings);
    }

    private static void mergeWarmup(List<JsonObject> parts, JsonObject warmup) {
        String path = "summary.warmup";
        warmup.addProperty("seconds", fold(parts, path, "seconds", Math::max));
        warmup.addProperty("steady", parts.stream().allMatch(p -> at(p, path).get("steady").getAsBoolean()));
        List<String> reasons = parts.stream().map(p -> at(p, path).get("reason")).filter(r -> r != null && !r.isJsonNull())
                .map(JsonElement::getAsString).distinct().toList();
        warmup.addProperty("reason", reasons.isEmpty() ? null : String.join("; ", reasons));
        for (String jit : List.of("serverJitPercentOfCore", "loadJitPercentOfCore")) {
            List<Double> shares = parts.stream().map(p -> at(p, path).get(jit)).filter(v -> v != null && !v.isJsonNull())
                    .map(JsonElement::getAsDouble).toList();
            warmup.addProperty(jit, shares.isEmpty() ? null : shares.stream().max(Double::compare).get());
        }
    }

    /** Second by second: counts added, p99Us and lagMaxUs the highest of the processes' (percentiles do not add). */
    private static JsonArray series(List<JsonObject> parts) {
        Map<Long, JsonObject> seconds = new TreeMap<>();
        for (JsonObject part : parts) {
            for (JsonElement element : part.getAsJsonArray("series")) {
                JsonObject second = element.getAsJsonObject();
                JsonObject into = seconds.get(second.get("second").getAsLong());
                if (into == null) {
                    seconds.put(second.get("second").getAsLong(), second.deepCopy());
                    continue;
                }
                for (String key : second.keySet()) {
                    if (key.equals("second")) continue;
                    double a = into.get(key).getAsDouble(), b = second.get(key).getAsDouble();
                    if (key.equals("p99Us") || key.equals("lagMaxUs")) into.addProperty(key, Math.max(a, b));
                    else into.addProperty(key, Math.round(a + b));
                }
            }
        }
        JsonArray series = new JsonArray();
        seconds.values().forEach(series::add);
        return series;
    }

    private static Histogram histogram(List<JsonObject> parts, String path) {
        Histogram total = new Histogram(LoadReport.SIGNIFICANT_DIGITS);
        for (JsonObject part : parts) {
            JsonElement encoded = at(part, path).get("histogram");
            if (encoded == null) throw new IllegalArgumentException(path + " has no histogram (written by an older TcpLoad?)");
            total.add(LoadReport.decode(encoded.getAsString()));
        }
        return total;
    }

    private static double sum(List<JsonObject> parts, String path, String field) {
        return fold(parts, path, field, Double::sum);
    }

    private static double fold(List<JsonObject> parts, String path, String field, DoubleBinaryOperator op) {
        List<Double> values = new ArrayList<>();
        for (JsonObject part : parts) {
            JsonElement value = at(part, path).get(field);
            if (value == null || value.isJsonNull()) throw new IllegalArgumentException(path + "." + field + " is missing");
            values.add(value.getAsDouble());
        }
        return values.stream().mapToDouble(Double::doubleValue).reduce(op).orElseThrow();
    }

    /** The object at a dotted path ("summary.generator"); missing means not a TcpLoad --json document. */
    private static JsonObject at(JsonObject root, String path) {
        JsonObject object = root;
        for (String key : path.split("\\.")) {
            JsonElement next = object.get(key);
            if (next == null || !next.isJsonObject()) throw new IllegalArgumentException("no " + path + " object: not a TcpLoad --json document");
            object = next.getAsJsonObject();
        }
        return object;
    }
}
