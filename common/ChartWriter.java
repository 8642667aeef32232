import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's PNG charts, drawn with XChart (headless). Each method takes series keyed by variant and returns the
 * file name it wrote, or null when there was nothing to draw.
 */
final class ChartWriter {
    private static final int WIDTH = 900, HEIGHT = 520;
    private final Path dir;

    ChartWriter(Path dir) {
        this.dir = dir;
    }

    /**
     * Draws a throw-away chart so that Java2D and its fonts are loaded now: they register a JVM shutdown hook when
     * first used, which fails once Ctrl-C has started the shutdown, and the report of an interrupted run needs them.
     * ImageIO's disk cache is turned off for the same reason: its first cached write registers a hook too ("Shutdown
     * in progress"), and a PNG of a few tens of KiB needs no cache file.
     */
    static void prepare() {
        ImageIO.setUseCache(false);
        XYChart chart = chart("", "", "");
        chart.addSeries("-", new double[] {1, 2}, new double[] {1, 2});
        BitmapEncoder.getBufferedImage(chart);
    }

    /**
     * Latency percentile spectrum, HdrHistogram style: x is the number of nines (90% → 1, 99% → 2, 99.9% → 3) so the
     * tail gets as much room as the median, y is latency on a log axis. Every trial of a variant is a line of its
     * colour, so the spread of the trials shows.
     */
    String spectrum(String name, String title, Map<String, List<double[][]>> trialsOfPercentilesAndMicros) throws IOException {
        XYChart chart = chart(title, "percentile", "latency (µs, log)");
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setxAxisTickLabelsFormattingFunction(nines -> percentileLabel(nines));
        Map<String, List<double[][]>> onNines = new LinkedHashMap<>();
        trialsOfPercentilesAndMicros.forEach((variant, trials) -> onNines.put(variant, trials.stream().map(ChartWriter::onNines).toList()));
        addTrials(chart, onNines);
        return save(chart, name);
    }

    /** One trial's {percentile[], µs[]} as {nines[], µs[]}. */
    private static double[][] onNines(double[][] points) {
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (int i = 0; i < points[0].length; i++) {
            if (points[0][i] >= 100 || points[1][i] <= 0) continue; // 100% is at infinity on this axis; log(0) has no place
            x.add(Math.log10(100 / (100 - points[0][i])));
            y.add(points[1][i]);
        }
        return new double[][] {x.stream().mapToDouble(Double::doubleValue).toArray(), y.stream().mapToDouble(Double::doubleValue).toArray()};
    }

    /** The percentile at {@code nines} on the axis, with as many decimals as its nines need (so labels stay distinct). */
    private static String percentileLabel(double nines) {
        double percentile = 100 - 100 / Math.pow(10, nines);
        int decimals = (int) Math.max(0, Math.min(9, Math.ceil(nines) - 1));
        return String.format(Locale.ROOT, "%." + decimals + "f%%", percentile);
    }

    /** Lines, one per trial ({x[], y[]}), a colour per variant: the spread of the trials is the spread of its lines. */
    String trialLines(String name, String title, String xTitle, String yTitle, Map<String, List<double[][]>> trials) throws IOException {
        XYChart chart = chart(title, xTitle, yTitle);
        addTrials(chart, trials);
        return save(chart, name);
    }

    /** A line per trial ({x[], y[]}, an empty one left out) in its variant's colour, the variant named once in the legend. */
    private static void addTrials(XYChart chart, Map<String, List<double[][]>> trials) {
        int colour = 0;
        for (var variant : trials.entrySet()) {
            boolean first = true;
            for (double[][] points : variant.getValue()) {
                if (points[0].length == 0) continue;
                XYSeries line = chart.addSeries(seriesName(chart, variant.getKey()), points[0], points[1]);
                line.setMarker(SeriesMarkers.NONE).setLineColor(PALETTE[colour % PALETTE.length]).setShowInLegend(first);
                first = false;
            }
            colour++;
        }
    }

    /**
     * A median line with markers per variant, {x[], median[], min[], max[]}, and its trials' min and max as dashed
     * lines of the same colour: the band the trials spread over.
     */
    String bands(String name, String title, String xTitle, String yTitle, boolean logY, Map<String, double[][]> series) throws IOException {
        XYChart chart = chart(title + " (median, dashed: min–max of the trials)", xTitle, yTitle);
        chart.getStyler().setYAxisLogarithmic(logY);
        int colour = 0;
        for (var entry : series.entrySet()) {
            java.awt.Color c = PALETTE[colour++ % PALETTE.length];
            for (int line = 1; line <= 3; line++) {
                List<Double> x = new ArrayList<>(), y = new ArrayList<>();
                for (int i = 0; i < entry.getValue()[0].length; i++) {
                    double v = entry.getValue()[line][i];
                    if (!Double.isFinite(v) || logY && v <= 0) continue; // a step that echoed nothing has no place on a log axis
                    x.add(entry.getValue()[0][i]);
                    y.add(v);
                }
                if (x.isEmpty()) continue;
                XYSeries s = chart.addSeries(seriesName(chart, entry.getKey()), x, y);
                s.setLineColor(c);
                if (line == 1) {
                    s.setMarker(SeriesMarkers.CIRCLE).setMarkerColor(c);
                } else {
                    s.setMarker(SeriesMarkers.NONE).setLineStyle(SeriesLines.DASH_DASH).setShowInLegend(false);
                }
            }
        }
        return save(chart, name);
    }

    /** XChart needs a distinct name per series; the legend shows the first, the others are hidden. */
    private static String seriesName(XYChart chart, String label) {
        String name = label;
        for (int i = 2; chart.getSeriesMap().containsKey(name); i++) name = label + " #" + i;
        return name;
    }

    /** One colour per variant, distinct on white. */
    private static final java.awt.Color[] PALETTE = {
            new java.awt.Color(31, 119, 180), new java.awt.Color(255, 127, 14), new java.awt.Color(44, 160, 44),
            new java.awt.Color(214, 39, 40), new java.awt.Color(148, 103, 189), new java.awt.Color(140, 86, 75),
            new java.awt.Color(227, 119, 194), new java.awt.Color(127, 127, 127), new java.awt.Color(188, 189, 34)};

    /**
     * Grouped bars at the medians: a group per category, a bar per variant, {median, farthest trial from it} for each
     * (drawn as an error bar); every variant must have a value in every category.
     */
    String bars(String name, String title, String yTitle, List<String> categories, Map<String, Map<String, double[]>> byVariant) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH + 300).height(HEIGHT).title(title).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (var variant : byVariant.entrySet()) {
            chart.addSeries(variant.getKey(), categories, categories.stream().map(c -> variant.getValue().get(c)[0]).toList(),
                    categories.stream().map(c -> variant.getValue().get(c)[1]).toList());
        }
        if (chart.getSeriesMap().isEmpty()) return null;
        return save(chart, name);
    }

    private static XYChart chart(String title, String xTitle, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        return chart;
    }

    private String save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, String name) throws IOException {
        if (chart.getSeriesMap().isEmpty()) return null;
        Files.createDirectories(dir);
        String file = name.replaceAll("[^A-Za-z0-9_.-]+", "-") + ".png";
        BitmapEncoder.saveBitmap(chart, dir.resolve(file).toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }
}
