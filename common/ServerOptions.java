import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The flags every echo server takes, with the same names and defaults, so that the three are started and compared
 * the same way. Each server picks only its default port: {@code @Mixin ServerOptions options = new ServerOptions(8081)}.
 */
final class ServerOptions {
    ServerOptions(int defaultPort) {
        this.port = defaultPort;
    }

    @Option(names = "--port", converter = Port.class, description = "TCP port; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--bind", converter = Address.class, description = "address to listen on (default: ${DEFAULT-VALUE})")
    String bind = "127.0.0.1";

    @Option(names = "--buffer-size", converter = PositiveSize.class,
            description = "largest receive buffer per connection, e.g. 16KiB (default: 16KiB)")
    int bufferSize = 16 * 1024;

    @Option(names = "--buffer-policy", description = "adaptive: start small, grow to --buffer-size while reads fill the "
            + "buffer, shrink back when they stay small; fixed: always --buffer-size (default: ${DEFAULT-VALUE})")
    BufferPolicy bufferPolicy = BufferPolicy.ADAPTIVE;

    // Java's default of 50 is far below somaxconn (4096 here): SYNs beyond the accept queue are retried by the client
    // after about a second, which shows up as 1 s steps in connect times when thousands of users connect at once.
    @Option(names = "--backlog", converter = Positive.class, description = "accept queue length (default: ${DEFAULT-VALUE})")
    int backlog = 4096;

    @Option(names = "--max-connections", converter = NonNegative.class,
            description = "connections served at once; extra ones are closed at once and counted as rejected; 0 = unlimited (default: ${DEFAULT-VALUE})")
    int maxConnections = 0;

    @Option(names = "--work", converter = Work.Converter.class,
            description = "work per message read: none, cpu:<duration> (busy spin) or sleep:<duration> (a blocking handler) (default: none)")
    Work work = Work.NONE;

    @Option(names = "--idle-timeout", description = "close a connection silent for longer than this (default: off)")
    Duration idleTimeout;

    @Option(names = "--jfr", paramLabel = "<file>", description = "record with the project's JFR settings (echo.jfc), dumped to <file> on exit")
    Path jfr;

    enum BufferPolicy { ADAPTIVE, FIXED }

    /** The fields every ready line carries, in a fixed order (the contract puts buffer-size and work first). */
    String readyFields() {
        return "buffer-size=" + bufferSize + " work=" + work
                + " buffer-policy=" + bufferPolicy.name().toLowerCase(Locale.ROOT) + " backlog=" + backlog
                + " max-connections=" + maxConnections
                + " idle-timeout=" + (idleTimeout == null ? "off" : idleTimeout.toMillis() + "ms");
    }

    /** What a server does with each message it reads before echoing it, to model a handler that is not free. */
    record Work(String spec, String kind, long nanos) {
        static final Work NONE = new Work("none", "none", 0);

        void perform() throws InterruptedException {
            switch (kind) {
                case "cpu" -> {
                    long end = System.nanoTime() + nanos;
                    while (System.nanoTime() - end < 0) Thread.onSpinWait();
                }
                case "sleep" -> Thread.sleep(Duration.ofNanos(nanos));
                default -> { }
            }
        }

        boolean isNone() {
            return this == NONE;
        }

        @Override
        public String toString() {
            return spec;
        }

        static final class Converter implements ITypeConverter<Work> {
            @Override
            public Work convert(String text) {
                if (text.equals("none")) return NONE;
                int colon = text.indexOf(':');
                String kind = colon < 0 ? text : text.substring(0, colon);
                if (colon < 0 || !(kind.equals("cpu") || kind.equals("sleep"))) {
                    throw new TypeConversionException("'" + text + "' is not none, cpu:<duration> or sleep:<duration>");
                }
                return new Work(text, kind, Cli.parseDuration(text.substring(colon + 1)).toNanos());
            }
        }
    }

    /** A whole number within bounds; out of bounds is reported against the flag, like any other bad value. */
    abstract static class WholeNumber implements ITypeConverter<Integer> {
        private final long smallest;
        private final long largest;
        private final String expected;

        WholeNumber(long smallest, long largest, String expected) {
            this.smallest = smallest;
            this.largest = largest;
            this.expected = expected;
        }

        @Override
        public Integer convert(String text) {
            try {
                long value = Long.parseLong(text.trim());
                if (value >= smallest && value <= largest) return (int) value;
            } catch (NumberFormatException notANumber) {
                // reported below, like an out-of-range value
            }
            throw new TypeConversionException("'" + text + "' is not " + expected);
        }
    }

    /** A host name or address that resolves, kept as written for the ready line: a typo is bad input (exit 2). */
    static final class Address implements ITypeConverter<String> {
        @Override
        public String convert(String text) {
            try {
                java.net.InetAddress.getByName(text);
                return text;
            } catch (java.net.UnknownHostException e) {
                throw new TypeConversionException("'" + text + "' is not an address or a known host name");
            }
        }
    }

    static final class Port extends WholeNumber {
        Port() {
            super(0, 65535, "a port (0-65535)");
        }
    }

    static final class Positive extends WholeNumber {
        Positive() {
            super(1, Integer.MAX_VALUE, "a whole number of at least 1");
        }
    }

    static final class NonNegative extends WholeNumber {
        NonNegative() {
            super(0, Integer.MAX_VALUE, "a whole number of at least 0");
        }
    }

    static final class PositiveSize implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String text) {
            int bytes = new Cli.Size().convert(text);
            if (bytes < 1) throw new TypeConversionException("'" + text + "' must be at least 1 byte");
            return bytes;
        }
    }
}
