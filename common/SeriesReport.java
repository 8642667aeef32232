import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The report of a series as it runs: rewritten after every workload, so an interrupted series keeps what finished,
 * and once more on Ctrl-C. The lock keeps a run being added and a report being written from overlapping.
 */
final class SeriesReport {
    private final Path out;
    private final ReportModel.Experiment data;
    private final ReentrantLock lock = new ReentrantLock();

    SeriesReport(Path out, ReportModel.Experiment data) {
        this.out = out;
        this.data = data;
    }

    void add(ReportModel.Workload section, ReportModel.Run run) {
        lock.lock();
        try {
            section.runs.add(run);
        } finally {
            lock.unlock();
        }
    }

    Path write() throws IOException {
        lock.lock();
        try {
            return new ReportWriter(out, data).write();
        } finally {
            lock.unlock();
        }
    }

    /** Ctrl-C: stop every process the series started (and their children), then write the report of what finished. */
    void interrupted(RecordingAnalysis analysis) {
        ChildProcess.stopAll();
        try {
            if (!lock.tryLock(10, TimeUnit.SECONDS)) return; // the report being written is the one to keep
            try {
                if (analysis != null) analysis.deleteAll(); // those of the run cut short: they were never analysed
                data.notes.add("Interrupted: the series stopped early; the sections below hold the runs that finished.");
                System.err.println();
                System.err.println("interrupted: report of the finished runs in " + new ReportWriter(out, data).write());
            } finally {
                lock.unlock();
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("interrupted: could not write the report: " + e.getMessage());
        }
    }
}
