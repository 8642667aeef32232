import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
     * tail gets as much room as the median, y is latency on a log axis.
     */
    String spectrum(String name, String title, Map<String, double[][]> percentilesAndMicros) throws IOException {
        XYChart chart = chart(title, "percentile", "latency (µs, log)");
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setxAxisTickLabelsFormattingFunction(nines -> percentileLabel(nines));
        for (var series : percentilesAndMicros.entrySet()) {
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            double[][] points = series.getValue();
            for (int i = 0; i < points[0].length; i++) {
                if (points[0][i] >= 100 || points[1][i] <= 0) continue; // 100% is at infinity on this axis; log(0) has no place
                x.add(Math.log10(100 / (100 - points[0][i])));
                y.add(points[1][i]);
            }
            if (!x.isEmpty()) chart.addSeries(series.getKey(), x, y).setMarker(SeriesMarkers.NONE);
        }
        return save(chart, name);
    }

    /** The percentile at {@code nines} on the axis, with as many decimals as its nines need (so labels stay distinct). */
    private static String percentileLabel(double nines) {
        double percentile = 100 - 100 / Math.pow(10, nines);
        int decimals = (int) Math.max(0, Math.min(9, Math.ceil(nines) - 1));
        return String.format(Locale.ROOT, "%." + decimals + "f%%", percentile);
    }

    /** Lines with markers, one per variant: {x[], y[]}. */
    String lines(String name, String title, String xTitle, String yTitle, boolean logY, Map<String, double[][]> series) throws IOException {
        XYChart chart = chart(title, xTitle, yTitle);
        chart.getStyler().setYAxisLogarithmic(logY);
        for (var entry : series.entrySet()) {
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            for (int i = 0; i < entry.getValue()[0].length; i++) {
                if (logY && entry.getValue()[1][i] <= 0) continue; // a step that echoed nothing has no place on a log axis
                x.add(entry.getValue()[0][i]);
                y.add(entry.getValue()[1][i]);
            }
            if (x.isEmpty()) continue;
            XYSeries line = chart.addSeries(entry.getKey(), x, y);
            line.setMarker(SeriesMarkers.CIRCLE);
        }
        return save(chart, name);
    }

    /** Grouped bars: a group per category, a bar per variant; every variant must have a value in every category. */
    String bars(String name, String title, String yTitle, List<String> categories, Map<String, Map<String, Double>> byVariant) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH + 300).height(HEIGHT).title(title).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (var variant : byVariant.entrySet()) {
            chart.addSeries(variant.getKey(), categories, categories.stream().map(variant.getValue()::get).toList());
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
