import io.netty.channel.SelectStrategy;
import io.netty.channel.SelectStrategyFactory;
import io.netty.util.IntSupplier;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An event loop that never sleeps: every turn polls its sockets without blocking (epoll_wait with a zero timeout),
 * so an echo is read the moment it lands and a timer runs the moment it is due, with no wake-up in between to be
 * late. The generator's own lateness then stays out of the latencies it measures, at the price of its whole core.
 * The time spent polling for nothing is counted, so the generator can still tell its work from its waiting.
 */
final class BusyPoll implements SelectStrategyFactory {
    private final List<Strategy> loops = new CopyOnWriteArrayList<>();

    @Override
    public SelectStrategy newSelectStrategy() {
        Strategy strategy = new Strategy();
        loops.add(strategy);
        return strategy;
    }

    /** CPU nanoseconds all loops have spent so far in turns that found no socket ready and nothing to run. */
    long idleNanos() {
        return loops.stream().mapToLong(s -> s.idle).sum();
    }

    private static final class Strategy implements SelectStrategy {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        /** Written by its loop only; read by others for a total. */
        private volatile long idle;
        private boolean idling;
        private long idleFrom;

        @Override
        public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
            int ready = selectNow.get();
            boolean nothingToDo = ready == 0 && !hasTasks;
            // the loop thread's own CPU time, read only where a stretch of idle turns begins or ends: wall time
            // would count the moments another process held the core as polling
            if (nothingToDo != idling) {
                long cpu = THREADS.getCurrentThreadCpuTime();
                if (idling) idle += cpu - idleFrom;
                idleFrom = cpu;
                idling = nothingToDo;
            }
            return ready;
        }
    }
}
