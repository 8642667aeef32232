//SOURCES ../common/ScalingPlan.java

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Which points the scaling workload runs, on which CPU sets and with how many TcpLoad processes, for 2, 8 and 16 CPUs. */
class ScalingPlanTest {

    @Test
    void twoCpusRunTheOneCorePoint() {
        List<ScalingPlan.Point> points = ScalingPlan.points(cpus(2));
        assertEquals(List.of(new ScalingPlan.Point(1, "0", List.of("1"), List.of(1))), points);
    }

    @Test
    void eightCpusRunOneTwoAndFourServerCores() {
        List<ScalingPlan.Point> points = ScalingPlan.points(cpus(8));
        assertEquals(List.of(
                new ScalingPlan.Point(1, "0", List.of("1-3", "4-7"), List.of(3, 4)),
                new ScalingPlan.Point(2, "0-1", List.of("2-4", "5-7"), List.of(3, 3)),
                new ScalingPlan.Point(4, "0-3", List.of("4-7"), List.of(4))), points);
        assertEquals("1-3,4-7", points.get(0).loadCpus());
    }

    @Test
    void sixteenCpusGoUpToHalfTheMachineWithSeveralGenerators() {
        List<ScalingPlan.Point> points = ScalingPlan.points(cpus(16));
        assertEquals(List.of(1, 2, 4, 8), points.stream().map(ScalingPlan.Point::serverCores).toList());
        assertEquals(List.of(4, 4, 3, 2), points.stream().map(ScalingPlan.Point::processes).toList());
        ScalingPlan.Point eight = points.get(3);
        assertEquals("0-7", eight.serverCpus());
        assertEquals(List.of("8-11", "12-15"), eight.loadCpuSets());
        for (ScalingPlan.Point p : points) { // every CPU used once, and no generator above its thread limit
            assertEquals(16, p.serverCores() + p.threads().stream().mapToInt(Integer::intValue).sum());
            p.threads().forEach(t -> assertEquals(true, t <= ScalingPlan.THREADS_PER_PROCESS, p.toString()));
        }
    }

    @Test
    void cpuListsFollowTheOnlineCpusNotTheirCount() {
        List<ScalingPlan.Point> points = ScalingPlan.points(List.of(0, 2, 3, 5));
        assertEquals("0", points.get(0).serverCpus());
        assertEquals(List.of("2-3,5"), points.get(0).loadCpuSets());
        assertEquals("0,2", points.get(1).serverCpus());
        assertThrows(IllegalArgumentException.class, () -> ScalingPlan.points(List.of(0)));
    }

    private static List<Integer> cpus(int n) {
        return IntStream.range(0, n).boxed().toList();
    }
}
