///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS info.picocli:picocli:4.7.7
//SOURCES common/Cli.java
//SOURCES common/ServerOptions.java
//SOURCES common/ServerRuntime.java
//SOURCES common/ReceiveBuffer.java
//FILES echo.jfc=echo.jfc
//JAVAC_OPTIONS -XDignore.symbol.file

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Echoes every byte back on the connection it came from, with one virtual thread per connection, each blocking in
 * plain socket reads and writes; the JDK parks the virtual thread and frees its carrier while it waits.
 *
 * <p>EchoPlatformThreads is this file with a platform thread in place of the virtual one: the accept and echo loops
 * are repeated there on purpose, so that each variant reads top to bottom and {@code diff} shows that the thread is
 * the only difference measured. What is not the model (flags, stats, JFR, stop, the adaptive buffer) is in common/.
 */
@Command(name = "EchoVirtualThreads", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, sortOptions = false,
        description = "TCP echo server: one virtual thread per connection.")
public class EchoVirtualThreads implements Callable<Integer> {
    @Mixin
    ServerOptions options = new ServerOptions(8081);

    public static void main(String[] args) {
        System.exit(Cli.run(new EchoVirtualThreads(), args));
    }

    @Override
    public Integer call() throws Exception {
        Thread.Builder connectionThreads = Thread.ofVirtual().name("echo-", 0);

        ServerRuntime runtime = new ServerRuntime(options);
        ServerSocket listener = listen();
        Set<Socket> connections = ConcurrentHashMap.newKeySet();
        runtime.ready(getClass().getSimpleName(), options.bind, listener.getLocalPort(), "virtual", options,
                "carriers=" + carriers(), () -> {
                    ServerRuntime.closeQuietly(listener); // ends the accept loop below
                    connections.forEach(ServerRuntime::closeQuietly); // ends each thread's blocking read or write
                });
        while (!listener.isClosed()) { // until a signal stops the server
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (listener.isClosed()) break;
                runtime.acceptFailed(e); // e.g. "Too many open files": wait for descriptors to free up
                Thread.sleep(ServerRuntime.ACCEPT_PAUSE_MILLIS);
                continue;
            }
            if (!runtime.admit()) { // --max-connections already open
                ServerRuntime.closeQuietly(socket);
                continue;
            }
            connections.add(socket);
            try {
                connectionThreads.start(() -> echo(socket, runtime, connections));
            } catch (OutOfMemoryError e) { // no thread could be created for it: drop this connection, serve the next
                connections.remove(socket);
                runtime.noThreadFor(socket, e);
            }
        }
        return runtime.awaitStopped();
    }

    /** Echoes every byte back in order until the peer closes its side, resets, or stays silent past --idle-timeout. */
    private void echo(Socket socket, ServerRuntime runtime, Set<Socket> connections) {
        ReceiveBuffer buffer = new ReceiveBuffer(options);
        try (socket) {
            socket.setTcpNoDelay(true);
            if (options.idleTimeout != null) socket.setSoTimeout((int) Math.max(1, options.idleTimeout.toMillis()));
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            for (int read; (read = in.read(buffer.bytes)) > 0; ) {
                options.work.perform();
                out.write(buffer.bytes, 0, read); // blocks until all is sent: a client that never reads stalls only itself
                runtime.bytes.add(read);
                buffer.adaptTo(read);
            }
            // end of stream: everything read has been written back, so closing now completes a half-closed echo
        } catch (IOException | InterruptedException e) {
            // reset, idle timeout or server stop: only this connection ends
        } finally {
            connections.remove(socket);
            runtime.release();
        }
    }

    /** Listens on --bind:--port; a port already taken or an address not ours is a one-line error (exit 1). */
    private ServerSocket listen() throws IOException {
        try {
            return new ServerSocket(options.port, options.backlog, InetAddress.getByName(options.bind));
        } catch (IOException e) {
            throw ServerRuntime.cannotListen(options, e);
        }
    }

    /** The virtual threads' scheduler runs on this many carrier threads: the processor count unless overridden. */
    private static int carriers() {
        return Integer.getInteger("jdk.virtualThreadScheduler.parallelism", Runtime.getRuntime().availableProcessors());
    }
}
