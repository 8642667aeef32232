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
import picocli.CommandLine.Option;

/**
 * Echoes every byte back on the connection it came from, with one platform (operating system) thread per
 * connection, each blocking in plain socket reads and writes: the classic Java server.
 */
@Command(name = "EchoPlatformThreads", mixinStandardHelpOptions = true, sortOptions = false,
        description = "TCP echo server: one platform thread per connection.")
public class EchoPlatformThreads implements Callable<Integer> {
    @Mixin
    ServerOptions options = new ServerOptions(8080);

    @Option(names = "--stack-size", converter = Cli.Size.class,
            description = "stack size of each connection's thread, e.g. 256KiB (default: the JVM's, -Xss)")
    Integer stackSize;

    public static void main(String[] args) {
        System.exit(Cli.run(new EchoPlatformThreads(), args));
    }

    @Override
    public Integer call() throws Exception {
        // a stack size of 0 means "the JVM's default", as in the Thread constructor
        ThreadFactory connectionThreads = Thread.ofPlatform().name("echo-", 0).stackSize(stackSize == null ? 0 : stackSize).factory();

        ServerRuntime runtime = new ServerRuntime(options);
        EchoBlockingServer server = new EchoBlockingServer(options, runtime, connectionThreads);
        runtime.ready(getClass().getSimpleName(), options.bind, server.port(), "platform", options,
                "stack-size=" + (stackSize == null ? "default" : stackSize), server::stop);
        server.serve(); // until a signal stops it
        return runtime.awaitStopped();
    }
}
