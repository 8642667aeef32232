//SOURCES ../common/Plan.java
//SOURCES ../common/CpuPlacement.java
//SOURCES ../common/Cli.java
//SOURCES ../common/ChildProcess.java
//DEPS info.picocli:picocli:4.7.7

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which variants stand for Netty where the transport is not the question: its other transports go, its settings stay. */
class PlanTest {
    static final Plan.Variant VIRTUAL = new Plan.Variant("virtual", "EchoVirtualThreads.java", List.of(), false, "");
    static final Plan.Variant POLLER1 = new Plan.Variant("virtual-poller1", "EchoVirtualThreads.java", List.of(),
            List.of("-Djdk.pollerMode=1"), false, "");
    static final Plan.Variant EPOLL = netty("netty-epoll", "epoll", List.of());
    static final Plan.Variant NIO = netty("netty-nio", "nio", List.of());
    static final Plan.Variant NOLEAK = netty("netty-epoll-noleak", "epoll", List.of("-Dio.netty.leakDetection.level=disabled"));

    @Test
    void theOtherTransportsOfTheFirstNettyVariantGo() {
        assertEquals(List.of(VIRTUAL, EPOLL), Plan.oneNettyTransport(List.of(VIRTUAL, EPOLL, NIO)));
        assertEquals(List.of(NIO, VIRTUAL), Plan.oneNettyTransport(List.of(NIO, VIRTUAL, EPOLL)));
    }

    @Test
    void aNettyVariantWithJvmSettingsOfItsOwnStays() {
        List<Plan.Variant> settings = List.of(VIRTUAL, POLLER1, EPOLL, NOLEAK);
        assertEquals(settings, Plan.oneNettyTransport(settings));
        assertEquals(List.of(EPOLL, NOLEAK), Plan.oneNettyTransport(List.of(EPOLL, NIO, NOLEAK)));
    }

    @Test
    void withoutNettyEveryVariantStays() {
        assertEquals(List.of(VIRTUAL, POLLER1), Plan.oneNettyTransport(List.of(VIRTUAL, POLLER1)));
        assertNull(Plan.firstNetty(List.of(VIRTUAL)));
    }

    private static Plan.Variant netty(String name, String transport, List<String> jvmOptions) {
        return new Plan.Variant(name, "EchoNetty.java", List.of("--transport", transport), jvmOptions, false, "");
    }
}
