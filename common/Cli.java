import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine;

/**
 * What every script of the kit shares on its command line: one-line errors (no stack traces), the exit codes
 * (2 usage, 1 failure) and the converters for durations ("100ms", "50us", "1.5s") and sizes ("16KiB", "64k").
 */
final class Cli {
    private Cli() {}

    /** {@code --version} of a script: its name and the JDK running it, the one version that varies between machines. */
    static final class Version implements CommandLine.IVersionProvider {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public String[] getVersion() {
            return new String[] {spec.name() + " on JDK " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")"};
        }
    }

    /** A failure the user can act on: printed as one line, exits with {@code exitCode}. */
    static final class UserError extends RuntimeException {
        final int exitCode;

        UserError(int exitCode, String message) {
            super(message, null, false, false);
            this.exitCode = exitCode;
        }
    }

    /** Parses {@code args} into {@code command}, runs it and returns the exit code; never prints a stack trace. */
    static int run(Object command, String... args) {
        CommandLine commandLine = new CommandLine(command)
                .registerConverter(Duration.class, Cli::parseDuration)
                .setCaseInsensitiveEnumValuesAllowed(true);
        String name = commandLine.getCommandName();
        commandLine.setParameterExceptionHandler((e, ignored) -> {
            System.err.println(name + ": " + e.getMessage() + " (see --help)");
            return 2;
        });
        commandLine.setExecutionExceptionHandler((e, cl, parseResult) -> {
            Throwable cause = e;
            if (cause instanceof UserError userError) {
                System.err.println(name + ": " + userError.getMessage());
                return userError.exitCode;
            }
            if (System.getenv("DEBUG") != null) cause.printStackTrace();
            System.err.println(name + ": " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
            return 1;
        });
        return commandLine.execute(args);
    }

    /** Creates {@code folder} (and its parents) or fails with one line naming {@code flag} and why. */
    static void createFolder(String flag, Path folder) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            String why = e instanceof FileSystemException f && f.getReason() != null ? f.getReason()
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof FileAlreadyExistsException ? "a file of that name is in the way"
                    : e instanceof NoSuchFileException ? "no such file or directory"
                    : e.getClass().getSimpleName();
            throw new UserError(2, flag + ": cannot create the folder " + folder + ": " + why);
        }
        if (!Files.isWritable(folder)) throw new UserError(2, flag + ": " + folder + " is not writable");
    }

    /** The named subset of {@code all}; null means the default. An empty list or a blank name is refused, not read as "all". */
    static <T> List<T> select(List<String> names, List<T> all, Function<T, String> name, String flag, String what) {
        if (names == null) return all;
        if (names.isEmpty() || names.stream().anyMatch(String::isBlank)) {
            throw new UserError(2, flag + ": " + (names.isEmpty() ? "an empty list" : "a blank name in '" + String.join(",", names) + "'")
                    + ": name one " + what + " or more, separated by commas (see --list)");
        }
        List<T> chosen = new ArrayList<>();
        for (String wanted : names) {
            T match = all.stream().filter(t -> name.apply(t).equals(wanted.trim())).findFirst().orElseThrow(() ->
                    new UserError(2, flag + ": unknown " + what + " '" + wanted + "' (known: "
                            + all.stream().map(name).collect(Collectors.joining(", ")) + ")"));
            if (!chosen.contains(match)) chosen.add(match);
        }
        return chosen;
    }

    /** The argument as a POSIX shell reads it back: as is when safe, single-quoted otherwise. */
    static String shellQuote(String arg) {
        return arg.matches("[A-Za-z0-9_./:=,+-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'";
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s|m|h)?");

    /** "0", "250us", "100ms", "1.5s", "2m", "1h"; a bare number means seconds. */
    static Duration parseDuration(String text) {
        Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a duration (examples: 500us, 100ms, 10s, 2m)");
        }
        double value = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        double nanosPerUnit = switch (unit) {
            case "ns" -> 1;
            case "us", "µs" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            case "m" -> 60e9;
            default -> 3600e9;
        };
        return Duration.ofNanos(Math.round(value * nanosPerUnit));
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?");

    /** "1024", "16k", "16KiB", "1MiB", "1g": binary multiples, since buffers and messages are counted in bytes. */
    static long parseSize(String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a size (examples: 64, 16KiB, 1MiB)");
        }
        long value = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        return value << switch (unit.charAt(0)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            default -> 0;
        };
    }

    /** Converter for picocli options holding a byte count: {@code @Option(converter = Cli.Size.class) int size}. */
    static final class Size implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String text) {
            long bytes = parseSize(text);
            if (bytes > Integer.MAX_VALUE) throw new CommandLine.TypeConversionException("'" + text + "' is too large");
            return (int) bytes;
        }
    }

    /** "12.3 µs" style human rendering of a nanosecond value, for progress lines and summaries. */
    static String formatNanos(double nanos) {
        if (nanos < 0) return "-" + formatNanos(-nanos); // an interval's low end, say
        if (nanos >= 1e9) return String.format(Locale.ROOT, "%.3fs", nanos / 1e9);
        if (nanos >= 1e6) return String.format(Locale.ROOT, "%.3fms", nanos / 1e6);
        if (nanos >= 1e3) return String.format(Locale.ROOT, "%.1fµs", nanos / 1e3);
        return String.format(Locale.ROOT, "%.0fns", nanos);
    }
}
