import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;

/**
 * A thread-per-connection echo server: one thread accepts, and every connection gets its own thread that reads,
 * works, writes back and repeats, blocking in each call. EchoPlatformThreads and EchoVirtualThreads run exactly this
 * code and differ only in the {@link ThreadFactory} they hand over, so any difference measured between them is the
 * threads'.
 */
final class EchoBlockingServer {
    private final ServerOptions options;
    private final ServerRuntime runtime;
    private final ThreadFactory connectionThreads;
    private final ServerSocket listener;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();

    /** Listens on --bind:--port; a port already taken is a one-line error (exit 1), not a stack trace. */
    EchoBlockingServer(ServerOptions options, ServerRuntime runtime, ThreadFactory connectionThreads) throws IOException {
        this.options = options;
        this.runtime = runtime;
        this.connectionThreads = connectionThreads;
        try {
            listener = new ServerSocket(options.port, options.backlog, InetAddress.getByName(options.bind));
        } catch (BindException e) {
            throw new Cli.UserError(1, "port " + options.port + " is already in use");
        }
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Accepts connections until {@link #stop()}; each one is served by a new thread. */
    void serve() throws InterruptedException {
        while (!listener.isClosed()) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (listener.isClosed()) return;
                runtime.acceptFailed(e); // e.g. "Too many open files": wait for descriptors to free up
                Thread.sleep(ServerRuntime.ACCEPT_PAUSE_MILLIS);
                continue;
            }
            if (!runtime.admit()) {
                closeQuietly(socket);
                continue;
            }
            try {
                connectionThreads.newThread(() -> echo(socket)).start();
            } catch (OutOfMemoryError | RuntimeException e) { // "unable to create native thread": drop this one, live on
                runtime.refuse();
                runtime.acceptFailed(e);
                closeQuietly(socket);
            }
        }
    }

    /** Echoes every byte back in order until the peer closes its side, resets, or stays silent past --idle-timeout. */
    private void echo(Socket socket) {
        connections.add(socket);
        ReceiveBuffer buffer = options.bufferPolicy == ServerOptions.BufferPolicy.FIXED
                ? new ReceiveBuffer(options.bufferSize, options.bufferSize)
                : new ReceiveBuffer(Math.min(ReceiveBuffer.SMALLEST, options.bufferSize), options.bufferSize);
        try (socket) {
            socket.setTcpNoDelay(true);
            if (options.idleTimeout != null) socket.setSoTimeout((int) Math.max(1, options.idleTimeout.toMillis()));
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            for (int read; (read = in.read(buffer.bytes)) > 0; ) {
                options.work.perform();
                out.write(buffer.bytes, 0, read); // blocks until all is sent: a slow reader slows only its own sender
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

    /** Closes the listener, then every connection, which ends their threads' blocking reads and writes. */
    void stop() {
        closeQuietly(listener);
        connections.forEach(EchoBlockingServer::closeQuietly);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // closing is all we wanted; there is nobody left to tell
        }
    }

    /**
     * A receive buffer that follows the reads, the idea of Netty's AdaptiveRecvByteBufAllocator: it starts at
     * {@link #SMALLEST}, doubles when a read fills it (up to --buffer-size) and halves after two reads in a row would
     * have fitted in half of it. An idle connection holds its buffer while blocked in read, so this keeps thousands of
     * idle connections cheap while a bulk transfer still moves --buffer-size per system call. Resizing allocates,
     * but only when the traffic changes shape, never per message.
     */
    static final class ReceiveBuffer {
        /**
         * 2 KiB, Netty's initial guess too: a typical request ("hello" up to 1 KiB) arrives in one read, and 19,000
         * idle connections hold 38 MB of it rather than 300 MB at 16 KiB.
         */
        static final int SMALLEST = 2048;

        private final int smallest;
        private final int largest;
        byte[] bytes;
        private boolean lastReadSmall;

        ReceiveBuffer(int smallest, int largest) {
            this.smallest = smallest;
            this.largest = largest;
            this.bytes = new byte[smallest];
        }

        void adaptTo(int read) {
            boolean small = read <= bytes.length / 2 && bytes.length > smallest;
            if (read == bytes.length && bytes.length < largest) {
                bytes = new byte[Math.min(largest, bytes.length * 2)];
            } else if (small && lastReadSmall) {
                bytes = new byte[Math.max(smallest, bytes.length / 2)];
                small = false;
            }
            lastReadSmall = small;
        }
    }
}
