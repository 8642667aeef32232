#!/usr/bin/env bash
# Is each echo server as lean as its model allows? (issue 7) For every variant and buffer policy, from one run, with
# the server pinned to cpu 0 and TcpLoad to cpu 1 (taskset):
#   a. memory: the server JVM's idle RSS, then its RSS above that with 19,000 open idle connections, per connection
#      (from /proc); for platform threads also the resident share of the thread stacks (from /proc/<pid>/smaps);
#   b. streaming: 100 users, closed loop, 64 KiB and 16 KiB messages: msg/s and MB/s;
#   c. ping-pong: 100 users, 16-byte messages, one in flight, no pause: msg/s, server CPU and TcpLoad CPU per 1,000
#      messages (TcpLoad is called the bottleneck when its own CPU nears its core);
#   d. how long TcpLoad took to open the 19,000 connections (target <= 2 s);
#   e. backpressure: a client that sends 256 MiB and never reads leaves the server's RSS bounded.
# Every result line ends with the 1-minute load average: the machine is shared, rerun a figure taken under high load.
#
# Usage: bench/lean.sh
#   VARIANTS="platform platform-256k virtual netty-nio netty-epoll netty-io_uring"   which servers (default: all)
#   POLICIES="adaptive fixed"   buffer policies          WORKLOADS="idle stream64 stream16 pingpong flood"
#   DURATION=8 WARMUP=2         seconds per throughput figure
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

VARIANTS="${VARIANTS:-platform platform-256k virtual netty-nio netty-epoll netty-io_uring}"
POLICIES="${POLICIES:-adaptive fixed}"
WORKLOADS="${WORKLOADS:-idle stream64 stream16 pingpong flood}"
DURATION="${DURATION:-8}"
WARMUP="${WARMUP:-2}"
IDLE_CONNECTIONS=19000
# The servers' JVM options are Experiment.java's SERVER_JVM_OPTIONS, read from there so the two can never disagree
# (Serial GC, -Xms32m, -Xmx1g: why is written beside them). Every variant gets exactly these.
JVM_OPTIONS="$(sed -n 's/.*SERVER_JVM_OPTIONS = List.of(\(.*\));/\1/p' Experiment.java | tr -d '"' | tr -d ',')"
[[ -n "$JVM_OPTIONS" ]] || { echo "lean.sh: SERVER_JVM_OPTIONS not found in Experiment.java" >&2; exit 1; }

WORK="$(mktemp -d)"
SERVER_PID=""
HZ="$(getconf CLK_TCK)"
PAGE_KIB=$(($(getconf PAGESIZE) / 1024))

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    # a server that has not exited 5 s after SIGTERM is reported and killed, so one stuck stop cannot hang the run
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then echo "lean.sh: server $SERVER_PID ignored SIGTERM for 5 s: killed" >&2; kill -9 "$SERVER_PID"; fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$WORK"' EXIT

server_command() { # variant -> script and flags
  case "$1" in
    platform) echo "EchoPlatformThreads.java" ;;
    platform-256k) echo "EchoPlatformThreads.java --stack-size 256KiB" ;;
    virtual) echo "EchoVirtualThreads.java" ;;
    netty-*) echo "EchoNetty.java --transport ${1#netty-} --threads 1" ;;
    *) echo "lean.sh: unknown variant '$1' in VARIANTS" >&2; exit 2 ;;
  esac
}

start_server() { # variant policy
  local options=()
  for option in $JVM_OPTIONS; do options+=("-R$option"); done
  # shellcheck disable=SC2046 # the server command is a list of words
  taskset -c 0 ./jbang "${options[@]}" $(server_command "$1") --port 0 --buffer-policy "$2" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  await_ready "$WORK/server.log" "$SERVER_PID"
  sleep 1 # let the JVM finish starting up before its idle RSS is read
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
machine_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
open_sockets() { { find "/proc/$SERVER_PID/fd" -lname 'socket:*' 2>/dev/null || true; } | wc -l; }
load_average() { echo "load $(cut -d' ' -f1 /proc/loadavg)"; }
figure() { jq -r "$2" "$WORK/$1.json"; }

# Resident thread stacks: the anonymous mappings sharing one size that occur once per connection thread (the JVM
# maps each thread's stack as one such mapping plus guard pages). Prints "count size-KiB resident-KiB" of the most
# frequent size among mappings with resident pages (the guard pages, one per thread too, have none).
stack_mappings() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { anon = ($6 == ""); next }
       anon && /^Size:/ { size = $2 } anon && /^Rss:/ && $2 > 0 { count[size]++; rss[size] += $2 }
       END { for (s in count) if (count[s] > best) { best = count[s]; bs = s } print best, bs, rss[bs] }' \
      "/proc/$SERVER_PID/smaps"
}

# load NAME ARGS...: runs TcpLoad on cpu 1 with a JSON report; measures the server's CPU over the measured window
# only (TcpLoad prints "Starting test" as its clock starts; the measured part follows the warm-up).
load() {
  local name="$1" warmup="$2"; shift 2
  rm -f "$WORK/$name.json"
  taskset -c 1 ./jbang TcpLoad.java --host "127.0.0.1:$PORT" --quiet --json "$WORK/$name.json" --warmup "${warmup}s" \
      "$@" >"$WORK/$name.txt" 2>&1 &
  local load_pid=$!
  await_line "$WORK/$name.txt" '^Starting test' "$load_pid" || true
  sleep "$warmup"
  local before machine_before; before="$(cpu_ticks "$SERVER_PID")"; machine_before="$(machine_busy_ticks)"
  wait "$load_pid" || true
  local server_ticks=$(($(cpu_ticks "$SERVER_PID") - before)) machine_ticks=$(($(machine_busy_ticks) - machine_before))
  SERVER_CPU_SECONDS="$(awk -v t=$server_ticks -v hz="$HZ" 'BEGIN { print t / hz }')"
  [[ -s "$WORK/$name.json" ]] || { echo "TcpLoad failed:"; cat "$WORK/$name.txt" "$WORK/server.log"; return 1; }
  # what the rest of the machine (other engineers' runs) used meanwhile, in % of one core: a large figure spoils this one
  OTHERS="$(awk -v m=$machine_ticks -v s=$server_ticks -v hz="$HZ" -v d="$DURATION" -v c="$(figure "$name" .summary.generator.cpuSeconds)" \
      'BEGIN { o = 100 * ((m - s) / hz - c) / d; printf "others %.0f%%", o < 0 ? 0 : o }')"
  grep '^WARNING' "$WORK/$name.txt" || true
}

idle_memory() { # variant policy: RSS before and at 19,000 idle connections; time to open them
  local idle_rss; idle_rss="$(rss_kib)"
  # one 5-byte keepalive every 2 s: the connections stay mostly idle and each proves it echoes (a user whose next
  # keepalive falls after the end closes early, so the interval stays well below the duration)
  taskset -c 1 ./jbang TcpLoad.java --host "127.0.0.1:$PORT" --quiet --json "$WORK/idle.json" --idle --interval 2s \
      --users "$IDLE_CONNECTIONS" --duration 12s --timeout 5s >"$WORK/idle.txt" 2>&1 &
  local load_pid=$! open=0
  for _ in $(seq 200); do
    open="$(open_sockets)"
    (( open >= IDLE_CONNECTIONS )) && break
    sleep 0.1
  done
  sleep 3 # every connection has sent a keepalive and got its echo
  local loaded_rss stacks; loaded_rss="$(rss_kib)"; open="$(open_sockets)"
  [[ "$1" == platform* ]] && stacks="$(stack_mappings)"
  wait "$load_pid" || true
  printf '%-15s %-8s idle RSS %6.1f MiB; at %d connections +%7.1f MiB = %5.1f KiB/conn' "$1" "$2" \
      "$(bc -l <<<"$idle_rss / 1024")" "$open" "$(bc -l <<<"($loaded_rss - $idle_rss) / 1024")" \
      "$(bc -l <<<"($loaded_rss - $idle_rss) / $open")"
  if [[ -n "${stacks:-}" ]]; then
    read -r count size resident <<<"$stacks"
    printf '; thread stacks %d x %d KiB mapped, %.1f KiB/conn resident' "$count" "$size" "$(bc -l <<<"$resident / $count")"
  fi
  printf '; opened all in %s ms, failures %s  [%s]\n' "$(figure idle .summary.connections.timeToOpenAllMs)" \
      "$(figure idle .summary.failures)" "$(load_average)"
}

streaming() { # variant policy size
  load "stream$3" "$WARMUP" --users 100 --size "$3" --duration "${DURATION}s" --timeout 10s
  local megabytes; megabytes="$(figure "stream$3" ".summary.throughput.mbPerSec * $DURATION")"
  # server CPU per MB echoed: the server's own cost, less disturbed by other processes than the rate is
  printf '%-15s %-8s %5s B x 100 users: %9.0f msg/s %7.1f MB/s, server CPU %3.0f%% = %5.2f ms/MB, TcpLoad CPU %3.0f%%, failures %s  [%s]\n' \
      "$1" "$2" "$3" "$(figure "stream$3" .summary.throughput.msgPerSec)" "$(figure "stream$3" .summary.throughput.mbPerSec)" \
      "$(bc -l <<<"100 * $SERVER_CPU_SECONDS / $DURATION")" "$(bc -l <<<"1000 * $SERVER_CPU_SECONDS / ($megabytes + 0.001)")" \
      "$(figure "stream$3" .summary.generator.cpuPercentOfCore)" \
      "$(figure "stream$3" .summary.failures)" "$OTHERS, $(load_average)"
}

ping_pong() { # variant policy
  load pingpong "$WARMUP" --users 100 --size 16 --duration "${DURATION}s"
  local rate client_cpu server_ms client_ms
  rate="$(figure pingpong .summary.throughput.msgPerSec)"
  client_cpu="$(figure pingpong .summary.generator.cpuPercentOfCore)"
  server_ms="$(bc -l <<<"1000 * 1000 * $SERVER_CPU_SECONDS / ($rate * $DURATION)")"
  client_ms="$(figure pingpong '.summary.generator.cpuNanosPerMessage / 1000')"
  printf '%-15s %-8s 16 B ping-pong x 100: %9.0f msg/s, server %5.3f ms CPU/1k msg (%3.0f%% core), TcpLoad %5.3f ms/1k msg (%3.0f%% core)%s, p50 %s µs  [%s]\n' \
      "$1" "$2" "$rate" "$server_ms" "$(bc -l <<<"100 * $SERVER_CPU_SECONDS / $DURATION")" "$client_ms" "$client_cpu" \
      "$(awk -v c="$client_cpu" 'BEGIN { if (c >= 85) print " TcpLoad-BOUND" }')" \
      "$(figure pingpong .summary.latencyUs.p50)" "$OTHERS, $(load_average)"
}

echo "lean.sh: servers on cpu 0, TcpLoad on cpu 1; server JVM options: $JVM_OPTIONS; ${WARMUP}s warm-up + ${DURATION}s per throughput figure"
echo "machine: $(nproc) cores, $(uptime)"
# Waits (up to 10 s) until the server holds no connection and its thread count is steady: after the idle workload a
# platform server is still ending 19,000 threads, and an RSS baseline taken meanwhile would be meaningless.
settle() {
  local threads previous=-1
  for _ in $(seq 100); do
    threads="$(awk '/^Threads:/ { print $2 }' "/proc/$SERVER_PID/status")"
    (( $(open_sockets) <= 1 && threads == previous )) && return
    previous="$threads"
    sleep 0.1
  done
}

flood() { # variant policy: a client sends 256 MiB and never reads; the server must stop reading, not buffer it all
  settle
  local before; before="$(rss_kib)"
  local sent; sent="$(taskset -c 1 python3 - "$PORT" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)  # a send blocked this long means the server has stopped reading: backpressure reached the client
chunk, sent = b"x" * 65536, 0
try:
    while sent < 256 << 20:
        sent += s.send(chunk)
except socket.timeout:
    pass
print(sent)
EOF
)"
  printf '%-15s %-8s never-reading client: accepted %6.1f MiB of 256 MiB, then stalled; server RSS +%5.1f MiB  [%s]\n' \
      "$1" "$2" "$(bc -l <<<"$sent / 1048576")" "$(bc -l <<<"($(rss_kib) - $before) / 1024")" "$(load_average)"
}

for variant in $VARIANTS; do
  for policy in $POLICIES; do
    start_server "$variant" "$policy"
    for workload in $WORKLOADS; do
      case "$workload" in
        idle) idle_memory "$variant" "$policy" ;;
        stream64) [[ "$variant" == platform-256k ]] || streaming "$variant" "$policy" 65536 ;;
        stream16) [[ "$variant" == platform-256k ]] || streaming "$variant" "$policy" 16384 ;;
        pingpong) [[ "$variant" == platform-256k ]] || ping_pong "$variant" "$policy" ;;
        flood) flood "$variant" "$policy" ;;
        *) echo "lean.sh: unknown workload '$workload' in WORKLOADS" >&2; exit 2 ;;
      esac
    done
    stop_server
  done
done
