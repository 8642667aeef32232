#!/usr/bin/env bash
# Benchmark of analyze-jfr.java on a large recording, with a heap far smaller than the file (-Xmx256m):
# the analysis streams, so it must finish, and this prints how long it took and its throughput in MB/s.
#
#   bench/analyze-jfr.sh                 # records a ~220 MB recording first (about a minute), then analyses it
#   bench/analyze-jfr.sh big.jfr         # analyses an existing recording
#   TARGET_MB=300 bench/analyze-jfr.sh   # a bigger generated recording
#
# Not a test: timings on a shared machine are noisy. Run from anywhere; the recording is kept in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET_MB="${TARGET_MB:-220}"
recording="${1:-}"

if [[ -z "$recording" ]]; then
  mkdir -p bench/out
  recording="bench/out/analyze-jfr-${TARGET_MB}mb.jfr"
  if [[ ! -f "$recording" ]]; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    # A virtual-thread echo workload over loopback, recorded with echo.jfc but with the socket throttle off and
    # every park recorded, so the file fills with the events the views read (socket I/O, parks, virtual threads,
    # CPU samples). It stops itself once its JFR repository holds TARGET_MB.
    cat >"$work/RecordingGenerator.java" <<EOF
///usr/bin/env jbang "\$0" "\$@" ; exit \$?
//JAVA 21+
//JAVA_OPTIONS -XX:StartFlightRecording:settings=$PWD/echo.jfc,dumponexit=true,filename=$PWD/$recording,maxsize=2g,jdk.SocketRead#throttle=off,jdk.SocketWrite#throttle=off,jdk.ThreadPark#threshold=0ms
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

public class RecordingGenerator {
    public static void main(String[] args) throws Exception {
        long target = ${TARGET_MB}L << 20;
        ServerSocket server = new ServerSocket(0, 4096);
        Thread.ofVirtual().start(() -> {
            while (true) {
                try {
                    Socket socket = server.accept();
                    Thread.ofVirtual().start(() -> echo(socket));
                } catch (IOException e) {
                    return;
                }
            }
        });
        for (int i = 0; i < 200; i++) {
            Thread.ofVirtual().start(() -> {
                while (true) { // short connections: virtual threads start and end, sockets open and close
                    try (Socket socket = new Socket("127.0.0.1", server.getLocalPort())) {
                        for (int round = 0; round < 1000; round++) {
                            socket.getOutputStream().write("hello".getBytes());
                            socket.getInputStream().readNBytes(5);
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }
            });
        }
        Path repository = null;
        while (true) {
            Thread.sleep(1000);
            if (repository == null && System.getProperty("jdk.jfr.repository") != null) repository = Path.of(System.getProperty("jdk.jfr.repository"));
            if (repository == null) continue;
            long size = 0;
            try (var chunks = Files.list(repository)) {
                for (Path chunk : chunks.toList()) size += Files.size(chunk);
            } catch (IOException racedWithRotation) {
                continue;
            }
            System.out.printf("recorded %d MB%n", size >> 20);
            if (size >= target) System.exit(0);
        }
    }

    static void echo(Socket socket) {
        try (socket) {
            byte[] buffer = new byte[512];
            for (int n; (n = socket.getInputStream().read(buffer)) > 0; ) socket.getOutputStream().write(buffer, 0, n);
        } catch (IOException closed) {
        }
    }
}
EOF
    echo "recording about ${TARGET_MB} MB into $recording ..."
    ./jbang "$work/RecordingGenerator.java" | awk 'NR % 10 == 0' # every 10th progress line
  fi
fi

[[ -f "$recording" ]] || { echo "analyze-jfr.sh: no such recording: $recording" >&2; exit 1; }
bytes=$(stat -c %s "$recording")
if (( bytes < 200000000 )); then
  echo "analyze-jfr.sh: warning: $recording is $((bytes / 1000000)) MB, under the 200 MB this benchmark is about" >&2
fi
./jbang build analyze-jfr.java >/dev/null # compile outside the timing
start=$(date +%s.%N)
status=0 # 1 is a warning (a recording cut short: what could be read was analysed), so the figures still print
/usr/bin/time -f "%M" -o "${TMPDIR:-/tmp}/analyze-jfr-rss.$$" \
  ./jbang -R-Xmx256m analyze-jfr.java "$recording" >"${TMPDIR:-/tmp}/analyze-jfr-out.$$" || status=$?
end=$(date +%s.%N)
rss_kb=$(tail -1 "${TMPDIR:-/tmp}/analyze-jfr-rss.$$")
rm -f "${TMPDIR:-/tmp}/analyze-jfr-rss.$$"
head -40 "${TMPDIR:-/tmp}/analyze-jfr-out.$$" && rm -f "${TMPDIR:-/tmp}/analyze-jfr-out.$$"
(( status <= 1 )) || { echo "analyze-jfr.sh: analyze-jfr.java failed (exit $status)" >&2; exit "$status"; }
(( status == 0 )) || echo "analyze-jfr.sh: analyze-jfr.java exited 1: a warning (above); the figures below still hold"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- analyze-jfr.java common/JfrMetrics.java common/JfrThreadMetrics.java || echo ' with uncommitted analyzer changes')"
awk -v b="$bytes" -v s="$start" -v e="$end" -v r="$rss_kb" -v when="$(date -u '+%Y-%m-%d %H:%M UTC')" -v commit="$commit" 'BEGIN {
  t = e - s; mb = b / 1e6;
  printf "analyze-jfr: %.1f MB in %.1f s = %.1f MB/s with -Xmx256m (max RSS %.0f MB, including JVM start), %s, commit %s\n",
    mb, t, mb / t, r / 1024, when, commit }'
