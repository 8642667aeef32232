/**
 * The receive buffer of one blocking connection, following the reads: the idea of Netty's
 * AdaptiveRecvByteBufAllocator, which EchoNetty uses with the same bounds. It starts at {@link #SMALLEST}, doubles when
 * a read fills it (up to --buffer-size) and halves after two reads in a row would have fitted in half of it. An idle
 * connection holds its buffer while blocked in read, so this keeps thousands of idle connections cheap while a bulk
 * transfer still moves --buffer-size per system call. Resizing allocates, but only when the traffic changes shape,
 * never per message. With --buffer-policy fixed it is always --buffer-size.
 */
final class ReceiveBuffer {
    /**
     * 2 KiB, Netty's initial guess too: a typical request ("hello" up to 1 KiB) arrives in one read, and 19,000
     * idle connections hold 38 MB of it rather than 300 MB at 16 KiB.
     */
    static final int SMALLEST = 2048;

    private final int smallest;
    private final int largest;
    byte[] bytes;
    private boolean lastReadSmall;

    ReceiveBuffer(ServerOptions options) {
        this.largest = options.bufferSize;
        this.smallest = options.bufferPolicy == ServerOptions.BufferPolicy.FIXED ? largest : Math.min(SMALLEST, largest);
        this.bytes = new byte[smallest];
    }

    /** Resizes after a read of {@code read} bytes, if the reads have changed shape. */
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
