///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS info.picocli:picocli:4.7.7
//SOURCES common/Cli.java
//SOURCES common/ServerOptions.java
//SOURCES common/ServerRuntime.java
//SOURCES common/EchoBlockingServer.java
//FILES echo.jfc=echo.jfc
//JAVAC_OPTIONS -XDignore.symbol.file

import java.util.concurrent.Callable;
import java.util.concurrent.ThreadFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Echoes every byte back on the connection it came from, with one virtual thread per connection, each blocking in
 * plain socket reads and writes; the JDK parks the virtual thread and frees its carrier while it waits.
 */
@Command(name = "EchoVirtualThreads", mixinStandardHelpOptions = true, sortOptions = false,
        description = "TCP echo server: one virtual thread per connection.")
public class EchoVirtualThreads implements Callable<Integer> {
    @Mixin
    ServerOptions options = new ServerOptions(8081);

    public static void main(String[] args) {
        System.exit(Cli.run(new EchoVirtualThreads(), args));
    }

    @Override
    public Integer call() throws Exception {
        ThreadFactory connectionThreads = Thread.ofVirtual().name("echo-", 0).factory();

        ServerRuntime runtime = new ServerRuntime(options);
        EchoBlockingServer server = new EchoBlockingServer(options, runtime, connectionThreads);
        runtime.ready(getClass().getSimpleName(), options.bind, server.port(), "virtual", options,
                "carriers=" + carriers(), server::stop);
        server.serve(); // until a signal stops it
        return runtime.awaitStopped();
    }

    /** The virtual threads' scheduler runs on this many carrier threads: the processor count unless overridden. */
    private static int carriers() {
        return Integer.getInteger("jdk.virtualThreadScheduler.parallelism", Runtime.getRuntime().availableProcessors());
    }
}
