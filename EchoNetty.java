///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS io.netty:netty-all:4.2.18.Final
//DEPS info.picocli:picocli:4.7.7
//SOURCES common/Cli.java
//SOURCES common/ServerOptions.java
//SOURCES common/ServerRuntime.java
//FILES echo.jfc=echo.jfc
//JAVAC_OPTIONS -XDignore.symbol.file
//JAVA_OPTIONS --enable-native-access=ALL-UNNAMED

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Echoes every byte back on the connection it came from, with a few event loops each serving many connections
 * without blocking: Netty's model. The shape follows Netty's own example/echo server.
 */
@Command(name = "EchoNetty", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, sortOptions = false,
        description = "TCP echo server: Netty event loops.")
public class EchoNetty implements Callable<Integer> {
    @Mixin
    ServerOptions options = new ServerOptions(8082);

    @Option(names = "--transport", description = "auto, nio, epoll or io_uring; auto is epoll where available, else nio (default: ${DEFAULT-VALUE})")
    Transport transport = Transport.AUTO;

    @Option(names = "--threads", converter = ServerOptions.Positive.class, description = "event loop threads (default: the processor count)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--offload", description = "run --work on a separate thread pool instead of the event loop")
    boolean offload;

    @Option(names = "--offload-threads", converter = ServerOptions.Positive.class,
            description = "threads of that pool; it bounds how many --work sleeps run at once (default: ${DEFAULT-VALUE})")
    int offloadThreads = 64;

    public static void main(String[] args) {
        System.exit(Cli.run(new EchoNetty(), args));
    }

    @Override
    public Integer call() throws Exception {
        // Netty 4.2.18's multishot accept re-arms itself after a failed accept even while accepting is paused, so at
        // the open-files limit the io_uring acceptor spun through millions of failures a second (a whole core);
        // single-shot accepts honour the pause. Set before the io_uring classes load, which read it once.
        System.setProperty("io.netty.iouring.acceptMultiShotEnabled", "false");
        Transport chosen = transport.resolve();
        ServerRuntime runtime = new ServerRuntime(options);
        EventLoopGroup acceptor = new MultiThreadIoEventLoopGroup(1, chosen.ioHandlerFactory());
        EventLoopGroup eventLoops = new MultiThreadIoEventLoopGroup(threads, chosen.ioHandlerFactory());
        ExecutorService offloadPool = offload ? Executors.newFixedThreadPool(offloadThreads) : null;
        ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        int bufferSize = options.bufferSize;

        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptor, eventLoops)
                .channel(chosen.serverChannel())
                .option(ChannelOption.SO_BACKLOG, options.backlog)
                .handler(new AcceptFailures(runtime))
                .childOption(ChannelOption.TCP_NODELAY, true)
                // the long-established pooled allocator, stated explicitly: Netty 4.2 changed its default
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, receiveBuffers())
                // Up to 8 buffers of output may wait for a slow reader before reading stops (and reading resumes at
                // 4): a 64 KiB message read and written back in 16 KiB pieces never toggles reading, while a client
                // that sends without reading costs the server at most this much plus one read batch.
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(4 * bufferSize, 8 * bufferSize))
                // a half-closed connection stays open for writing: it gets the rest of its echo before the close
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) { // admitted by AcceptFailures.channelRead
                        connections.add(channel);
                        channel.closeFuture().addListener(closed -> runtime.release());
                        if (options.idleTimeout != null) {
                            channel.pipeline().addLast(new ReadTimeoutHandler(options.idleTimeout.toNanos(), TimeUnit.NANOSECONDS));
                        }
                        channel.pipeline().addLast(new EchoHandler(runtime, options.work, offloadPool));
                    }
                });

        Channel listener;
        try {
            listener = bootstrap.bind(options.bind, options.port).sync().channel();
        } catch (Exception e) {
            acceptor.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            eventLoops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw ServerRuntime.cannotListen(options, e);
        }
        int port = ((InetSocketAddress) listener.localAddress()).getPort();
        runtime.ready(getClass().getSimpleName(), options.bind, port, "netty", options,
                "transport=" + chosen.label() + " threads=" + threads + " offload=" + offload, () -> {
                    // Half a second for the closes and half for the loops: an event loop busy in --work sleep:5s
                    // cannot act sooner, and the stop (JFR dump included) must end within 2 s whatever the handler.
                    listener.close().syncUninterruptibly();
                    connections.close().awaitUninterruptibly(500, TimeUnit.MILLISECONDS);
                    acceptor.shutdownGracefully(0, 500, TimeUnit.MILLISECONDS);
                    eventLoops.shutdownGracefully(0, 500, TimeUnit.MILLISECONDS).awaitUninterruptibly(500);
                    if (offloadPool != null) offloadPool.shutdownNow();
                });
        listener.closeFuture().sync(); // until a signal stops it
        return runtime.awaitStopped();
    }

    /** Netty's own adaptive allocator with the blocking servers' bounds, or --buffer-size for every read. */
    private RecvByteBufAllocator receiveBuffers() {
        if (options.bufferPolicy == ServerOptions.BufferPolicy.FIXED) return new FixedRecvByteBufAllocator(options.bufferSize);
        int smallest = Math.min(2048, options.bufferSize);
        return new AdaptiveRecvByteBufAllocator(smallest, smallest, options.bufferSize);
    }

    /**
     * Echoes each read at once and flushes once per batch of reads (one system call for all of them). When the peer
     * does not read its echo fast enough the channel turns unwritable and this handler stops reading from it, so a
     * client that only sends cannot grow the server's memory; it reads again once the backlog has drained.
     */
    static final class EchoHandler extends ChannelInboundHandlerAdapter {
        private final ServerRuntime runtime;
        private final ServerOptions.Work work;
        private final ExecutorService offloadPool;
        private final ArrayDeque<Object> waiting = new ArrayDeque<>(0);
        private boolean unflushed;
        private boolean working;
        private boolean inputShutdown;

        EchoHandler(ServerRuntime runtime, ServerOptions.Work work, ExecutorService offloadPool) {
            this.runtime = runtime;
            this.work = work;
            this.offloadPool = offloadPool;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            runtime.bytes.add(((ByteBuf) msg).readableBytes());
            if (offloadPool == null || work.isNone()) {
                work.perform(); // on the event loop: a sleep here stalls every connection of this loop, as measured
                ctx.write(msg, ctx.voidPromise());
                unflushed = true;
                return;
            }
            // Offloaded: one message at a time per connection, in order, like a blocking server. Reading is off
            // meanwhile; the messages of the read batch already under way wait here.
            waiting.add(msg);
            if (!working) workOnNext(ctx);
        }

        private void workOnNext(ChannelHandlerContext ctx) {
            Object msg = waiting.poll();
            working = msg != null;
            if (!working) {
                if (inputShutdown) closeWhenFlushed(ctx);
                else updateReading(ctx);
                return;
            }
            updateReading(ctx);
            offloadPool.execute(() -> {
                try {
                    work.perform();
                } catch (InterruptedException stopping) {
                    Thread.currentThread().interrupt();
                }
                ctx.executor().execute(() -> {
                    ctx.writeAndFlush(msg, ctx.voidPromise());
                    workOnNext(ctx);
                });
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            waiting.forEach(ReferenceCountUtil::release);
            waiting.clear();
            ctx.fireChannelInactive();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (unflushed) {
                unflushed = false;
                ctx.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            updateReading(ctx);
            ctx.fireChannelWritabilityChanged();
        }

        private void updateReading(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(ctx.channel().isWritable() && !working);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent) { // the peer half-closed: finish its echo, then close
                inputShutdown = true;
                if (!working) closeWhenFlushed(ctx);
            }
            ctx.fireUserEventTriggered(event);
        }

        private static void closeWhenFlushed(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // reset, idle timeout: only this connection ends
        }
    }

    /**
     * Failed accepts (EMFILE "Too many open files" ...) on the listening channel: pause accepting briefly and log at
     * most once a second, instead of Netty's default of a 1 s pause and a warning per failure. Also --max-connections:
     * an extra connection is closed here, on the accepting thread as the blocking servers do, not later on its event
     * loop, where a flood would have accepted many more (and run out of open files) before the first were closed.
     */
    static final class AcceptFailures extends ChannelInboundHandlerAdapter {
        private final ServerRuntime runtime;

        AcceptFailures(ServerRuntime runtime) {
            this.runtime = runtime;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object child) {
            if (runtime.admit()) {
                ctx.fireChannelRead(child); // on to Netty's acceptor, which registers it with an event loop
            } else {
                ((Channel) child).unsafe().closeForcibly();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            runtime.acceptFailed(cause);
            Channel listener = ctx.channel();
            listener.config().setAutoRead(false);
            listener.eventLoop().schedule(() -> listener.config().setAutoRead(true),
                    ServerRuntime.ACCEPT_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Which I/O mechanism the event loops use. The default, auto, takes epoll when available: it is Netty's
     * long-standing production transport on Linux and what a typical Netty deployment runs, so the comparison is
     * against Netty as people use it. io_uring is newer (out of incubation only in 4.2), often disabled in containers,
     * and is measured explicitly with --transport io_uring.
     */
    enum Transport {
        AUTO, NIO, EPOLL, IO_URING;

        Transport resolve() {
            switch (this) {
                case AUTO -> {
                    return Epoll.isAvailable() ? EPOLL : NIO;
                }
                case EPOLL -> {
                    if (!Epoll.isAvailable()) throw unavailable(Epoll.unavailabilityCause());
                }
                case IO_URING -> {
                    if (!IoUring.isAvailable()) throw unavailable(IoUring.unavailabilityCause());
                }
                default -> { }
            }
            return this;
        }

        private Cli.UserError unavailable(Throwable cause) {
            return new Cli.UserError(1, "--transport " + label() + " is not available here: " + cause);
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        IoHandlerFactory ioHandlerFactory() {
            return switch (this) {
                case EPOLL -> EpollIoHandler.newFactory();
                case IO_URING -> IoUringIoHandler.newFactory();
                default -> NioIoHandler.newFactory();
            };
        }

        Class<? extends ServerChannel> serverChannel() {
            return switch (this) {
                case EPOLL -> EpollServerSocketChannel.class;
                case IO_URING -> IoUringServerSocketChannel.class;
                default -> NioServerSocketChannel.class;
            };
        }
    }
}
