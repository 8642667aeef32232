#!/usr/bin/env bash
# Which collector is fair to both models on the idle workload? (issue 13.6, "memory that is the connection's, not
# garbage": a virtual thread's stack lives on the heap, a Netty connection's state mostly does too, so the collector
# decides how much of the RSS an idle connection "costs" is really garbage not yet collected.)
# For each variant under each collector (the experiment's SERVER_JVM_OPTIONS with only the collector swapped), server
# pinned to cpu 0 and TcpLoad to cpu 1 (taskset), ROUNDS interleaved rounds (the cells' order reversed every other
# round, so drift on the machine hits every cell alike), one run of the idle workload each:
#   TcpLoad --idle --users USERS --interval 1s --warmup WARMUPs --duration DURATIONs
# and per run:
#   a. RSS above the server's idle RSS, per connection (/proc/<pid>/status VmRSS before the load and at the plateau:
#      every connection open and past its first keepalive, still inside TcpLoad's warm-up);
#   b. live heap per connection: heap used after a full GC (jcmd GC.run, then GC.heap_info) at the plateau, less the
#      same at idle. The full GC is taken inside the warm-up so its pause stays out of the measured latencies; a run
#      where it ended after the warm-up is marked "late" (its p99 may include that pause);
#   c. the keepalive p99 over the measured window (TcpLoad's JSON, summary.latencyUs.p99).
# Every result line ends with the 1-minute load average: the machine is shared, rerun a figure taken under high load.
#
# Usage: bench/gc-choice.sh
#   VARIANTS="virtual netty-epoll"   GCS="serial g1 parallel"   ROUNDS=2   USERS=10000   WARMUP=5 DURATION=10 (seconds)
#   JCMD=/usr/lib/jvm/temurin-25-jdk-amd64/bin/jcmd
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

VARIANTS="${VARIANTS:-virtual netty-epoll}"
GCS="${GCS:-serial g1 parallel}"
ROUNDS="${ROUNDS:-2}"
USERS="${USERS:-10000}"
WARMUP="${WARMUP:-5}"
DURATION="${DURATION:-10}"
JCMD="${JCMD:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/jcmd}"
# Experiment.java's SERVER_JVM_OPTIONS (read from there, as bench/lean.sh does) without its collector, which each cell sets
HEAP_OPTIONS="$(sed -n 's/.*SERVER_JVM_OPTIONS = List.of(\(.*\));/\1/p' Experiment.java | tr -d '",' | sed 's/-XX:+Use[A-Za-z]*GC//; s/^ *//; s/ *$//')"
[[ -n "$HEAP_OPTIONS" ]] || { echo "gc-choice.sh: SERVER_JVM_OPTIONS not found in Experiment.java" >&2; exit 1; }
[[ -x "$JCMD" ]] || { echo "gc-choice.sh: no jcmd at $JCMD (set JCMD)" >&2; exit 1; }

WORK="$(mktemp -d)"
SERVER_PID=""
LOAD_PID=""
printf 'GC.run\nGC.heap_info\n' >"$WORK/full-gc.jcmd"

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then echo "gc-choice.sh: server $SERVER_PID ignored SIGTERM for 5 s: killed" >&2; kill -9 "$SERVER_PID"; fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap '[[ -n "$LOAD_PID" ]] && kill "$LOAD_PID" 2>/dev/null; stop_server; rm -rf "$WORK"' EXIT

server_command() { # variant -> script and flags, as Experiment.java runs it
  case "$1" in
    virtual) echo "EchoVirtualThreads.java" ;;
    platform) echo "EchoPlatformThreads.java" ;;
    netty-*) echo "EchoNetty.java --transport ${1#netty-}" ;;
    *) echo "gc-choice.sh: unknown variant '$1' in VARIANTS" >&2; exit 2 ;;
  esac
}

gc_option() {
  case "$1" in
    serial) echo "-XX:+UseSerialGC" ;; g1) echo "-XX:+UseG1GC" ;; parallel) echo "-XX:+UseParallelGC" ;;
    *) echo "gc-choice.sh: unknown collector '$1' in GCS" >&2; exit 2 ;;
  esac
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
open_sockets() { { find "/proc/$SERVER_PID/fd" -lname 'socket:*' 2>/dev/null || true; } | wc -l; }
now() { date +%s.%N; }

# Heap used after a full GC, in KiB: the "used NNNK" of GC.heap_info's unindented lines (Serial's DefNew and Tenured,
# Parallel's PSYoungGen and ParOldGen, G1's one garbage-first heap line). jcmd runs on the load's cpu, not the server's.
live_heap_kib() {
  taskset -c 1 "$JCMD" "$SERVER_PID" -f "$WORK/full-gc.jcmd" >"$WORK/heap.txt" 2>&1 \
      || { echo "gc-choice.sh: jcmd failed:" >&2; cat "$WORK/heap.txt" >&2; exit 1; }
  awk '/^[^ ]/ && match($0, /used [0-9]+K/) { sum += substr($0, RSTART + 5, RLENGTH - 6) } END { print sum + 0 }' "$WORK/heap.txt"
}

run() { # variant gc round: one server, one idle run; prints one result line
  local variant="$1" gc="$2" round="$3" options=()
  for option in $HEAP_OPTIONS $(gc_option "$gc"); do options+=("-R=$option"); done # as tests/TestSupport.java passes them
  : >"$WORK/server.log" # emptied here, not by the child's redirection: await_ready could read the last run's READY line first
  # shellcheck disable=SC2046 # the server command is a list of words
  taskset -c 0 ./jbang "${options[@]}" $(server_command "$variant") --port 0 >"$WORK/server.log" 2>&1 &
  SERVER_PID=$! # the launcher execs the JVM, so this is the server's own pid
  await_ready "$WORK/server.log" "$SERVER_PID"
  sleep 1 # let the JVM finish starting up
  local idle_live idle_rss idle_sockets
  idle_live="$(live_heap_kib)" # first, so the idle RSS already includes the attach listener jcmd starts
  sleep 0.5
  idle_rss="$(rss_kib)"; idle_sockets="$(open_sockets)"
  rm -f "$WORK/idle.json"; : >"$WORK/load.txt"
  taskset -c 1 ./jbang TcpLoad.java --host "127.0.0.1:$PORT" --idle --users "$USERS" --interval 1s \
      --duration "${DURATION}s" --warmup "${WARMUP}s" --quiet --json "$WORK/idle.json" >"$WORK/load.txt" 2>&1 &
  LOAD_PID=$!
  await_line "$WORK/load.txt" '^Starting test' "$LOAD_PID" || true
  local started open=0; started="$(now)" # TcpLoad's clock (and warm-up) starts as it prints this line
  for _ in $(seq 200); do
    open=$(($(open_sockets) - idle_sockets))
    (( open >= USERS )) && break
    sleep 0.1
  done
  sleep 1.5 # every connection has sent its first keepalive and had its echo
  local rss live ended late
  rss="$(rss_kib)"; open=$(($(open_sockets) - idle_sockets))
  live="$(live_heap_kib)"
  ended="$(now)"
  late="$(awk -v s="$started" -v e="$ended" -v w="$WARMUP" 'BEGIN { print (e - s > w) ? "late" : "in-warmup" }')"
  wait "$LOAD_PID" || true
  LOAD_PID=""
  stop_server
  [[ -s "$WORK/idle.json" ]] || { echo "TcpLoad failed:" >&2; cat "$WORK/load.txt" "$WORK/server.log" >&2; exit 1; }
  local p99 failures
  p99="$(jq -r '.summary.latencyUs.p99' "$WORK/idle.json")"; failures="$(jq -r '.summary.failures' "$WORK/idle.json")"
  # fields: variant gc round connections rss/conn(KiB) live/conn(KiB) p99(µs) failures gc-timing idle-rss(KiB) load
  (( open > 0 )) || open=1 # no connection open at the plateau: the figures below are per 1, and the row is marked incomplete
  awk -v f="$variant $gc $round $open" -v rss=$((rss - idle_rss)) -v live=$((live - idle_live)) -v n="$open" -v p99="$p99" \
      -v tail="$failures $late $idle_rss $(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { printf "%s %.2f %.2f %.0f %s\n", f, rss / n, live / n, p99, tail }'
}

echo "gc-choice: $(date -u '+%Y-%m-%d %H:%M UTC'), commit ${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}, heap options '$HEAP_OPTIONS'," \
    "$USERS idle users, keepalive 1s, warm-up ${WARMUP}s, measured ${DURATION}s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "variant gc round connections rss-KiB/conn live-KiB/conn p99-us failures full-gc idle-rss-KiB load1"
cells=()
for variant in $VARIANTS; do for gc in $GCS; do cells+=("$variant $gc"); done; done
for round in $(seq "$ROUNDS"); do
  order=("${cells[@]}")
  if (( round % 2 == 0 )); then order=(); for (( i = ${#cells[@]} - 1; i >= 0; i-- )); do order+=("${cells[i]}"); done; fi
  for cell in "${order[@]}"; do
    # shellcheck disable=SC2086 # a cell is "variant gc"
    run $cell "$round" >>"$WORK/runs.txt" # not in a pipeline: its subshell would hide SERVER_PID from the EXIT trap
    tail -n 1 "$WORK/runs.txt"
  done
done

python3 - "$WORK/runs.txt" "$USERS" <<'PY'
import statistics, sys
cells = {}
for line in open(sys.argv[1]):
    v, gc, _, conns, rss, live, p99, failures, timing, _, _ = line.split()
    if int(conns) < int(sys.argv[2]):
        print(f"left out: {line.strip()} (only {conns} connections open at the plateau)")
        continue
    cells.setdefault((v, gc), []).append((float(rss), float(live), float(p99) / 1000, int(failures), timing == "late"))
def fig(values, fmt):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"
print("\nper cell: median (min–max) over its rounds")
print(f"{'variant':<12} {'gc':<9} {'runs':>4}  {'RSS KiB/conn':<20} {'live heap KiB/conn':<20} {'keepalive p99 ms':<22} failures  late")
for (v, gc), runs in cells.items():
    rss, live, p99, failures, late = zip(*runs)
    print(f"{v:<12} {gc:<9} {len(runs):>4}  {fig(rss, '{:.1f}'):<20} {fig(live, '{:.1f}'):<20} {fig(p99, '{:.2f}'):<22}"
          f" {sum(failures):>8}  {sum(late)}")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
