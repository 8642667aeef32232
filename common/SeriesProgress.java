import java.util.Locale;

/**
 * The series' progress line: which run of how many, elapsed time, and an ETA that starts as the plan's estimate and
 * then follows the pace measured so far. Rewritten in place on a terminal, one line each otherwise (logs, CI).
 */
final class SeriesProgress {
    private final long start = System.nanoTime();
    private final double plannedSeconds;
    private double doneSeconds; // the planned seconds of what has finished

    SeriesProgress(double plannedSeconds) {
        this.plannedSeconds = plannedSeconds;
    }

    void starting(String what) {
        double elapsed = (System.nanoTime() - start) / 1e9;
        double eta = doneSeconds == 0 ? plannedSeconds : (plannedSeconds - doneSeconds) * elapsed / doneSeconds;
        line(what + " · elapsed " + clock(elapsed) + " · ETA " + clock(eta));
    }

    void finished(double plannedSeconds) {
        doneSeconds += plannedSeconds;
    }

    static void line(String text) {
        if (System.console() != null) {
            System.err.print("\r\033[K" + text);
        } else {
            System.err.println(text);
        }
    }

    /** "45s", "5m03s". */
    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 60 ? (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s" : s + "s";
    }
}
