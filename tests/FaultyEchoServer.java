import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A test-only echo server that misbehaves on purpose, so that the load generator's failure accounting can be checked
 * against a known fault. It runs inside the test JVM on an ephemeral loopback port, one virtual thread per connection.
 */
final class FaultyEchoServer implements AutoCloseable {
    enum Fault {
        /** A correct echo. */
        NONE,
        /** Correct bytes, but one byte per write with a pause between, so the client needs many reads per echo. */
        ONE_BYTE_AT_A_TIME,
        /** Flips one bit of the first byte of every echo. */
        CORRUPT_A_BYTE,
        /** Reads everything, answers nothing. */
        NEVER_ANSWER,
        /** Echoes the first half of a message, then closes the connection. */
        CLOSE_MID_MESSAGE,
        /** After {@link #STALL_AFTER} echoes, holds every connection's echoes for {@link #STALL_NANOS}, once. */
        STALL_ONCE
    }

    static final int STALL_AFTER = 1000;
    static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Fault fault;
    private final ServerSocket listener;
    private final AtomicInteger echoes = new AtomicInteger();
    private volatile long stalledUntil;

    FaultyEchoServer(Fault fault) throws IOException {
        this.fault = fault;
        this.listener = new ServerSocket(0, 4096, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("faulty-accept").start(this::acceptLoop);
    }

    /** {@code 127.0.0.1:<port>}, for {@code --host}. */
    String address() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket connection = listener.accept();
                Thread.ofVirtual().start(() -> serve(connection));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket connection) {
        try (connection) {
            connection.setTcpNoDelay(true);
            InputStream in = connection.getInputStream();
            OutputStream out = connection.getOutputStream();
            byte[] buffer = new byte[16384];
            for (int n; (n = in.read(buffer)) > 0; ) {
                switch (fault) {
                    case NONE -> out.write(buffer, 0, n);
                    case ONE_BYTE_AT_A_TIME -> {
                        for (int i = 0; i < n; i++) {
                            out.write(buffer[i]);
                            LockSupport.parkNanos(50_000);
                        }
                    }
                    case CORRUPT_A_BYTE -> {
                        buffer[0] ^= 1;
                        out.write(buffer, 0, n);
                    }
                    case NEVER_ANSWER -> {}
                    case CLOSE_MID_MESSAGE -> {
                        out.write(buffer, 0, Math.max(1, n / 2));
                        return;
                    }
                    case STALL_ONCE -> {
                        if (echoes.incrementAndGet() == STALL_AFTER) stalledUntil = System.nanoTime() + STALL_NANOS;
                        for (long left; (left = stalledUntil - System.nanoTime()) > 0; ) LockSupport.parkNanos(left);
                        out.write(buffer, 0, n);
                    }
                }
            }
        } catch (IOException gone) {
            // the client closed or reset the connection: nothing to serve
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
