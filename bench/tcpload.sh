#!/usr/bin/env bash
# Benchmarks the load generator itself, against the targets of issue 3, with the server pinned to cpu 0 and TcpLoad
# to cpu 1 (taskset):
#   1. 1,000 users x 10 msg/s "hello", as the seed's closed loop (--interval 100ms) and as an open loop (--rate 10000):
#      send lag p99 < 1 ms, TcpLoad < 25% of a core;
#   2. 19,000 idle connections, one keepalive each per second, held IDLE_SECONDS (60): zero failures, all open <= 2 s;
#   3. closed loop, 100 users, 16-byte messages, no pause: TcpLoad's max echo rate and CPU per 1,000 messages, and
#      which side ran out of CPU (the server's and TcpLoad's CPU are both shown).
# Usage: bench/tcpload.sh            (SERVER=EchoNetty.java SERVER_ARGS="--transport epoll --threads 1" by default;
#        TCPLOAD=path/to/TcpLoad.java to measure another version, e.g. an older commit's copy with its common/ folder)
# The machine's load average is printed with each figure: other processes on either core move all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

SERVER="${SERVER:-EchoNetty.java}"
SERVER_ARGS="${SERVER_ARGS:---transport epoll --threads 1}"
IDLE_SECONDS="${IDLE_SECONDS:-60}"
TCPLOAD="$(realpath "${TCPLOAD:-TcpLoad.java}")"
WORK="$(mktemp -d)"
SERVER_PID=""

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$WORK"' EXIT

start_server() {
  # shellcheck disable=SC2086 # SERVER_ARGS is a list of flags
  taskset -c 0 ./jbang "$SERVER" --port 0 $SERVER_ARGS >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  await_ready "$WORK/server.log" "$SERVER_PID"
}

# load NAME ARGS...: runs TcpLoad pinned to cpu 1, keeps its JSON, and measures the server's CPU meanwhile.
load() {
  local name="$1"; shift
  local before after started ended
  before="$(cpu_ticks "$SERVER_PID")"; started="$(date +%s.%N)"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  taskset -c 1 ./jbang "$TCPLOAD" --host "127.0.0.1:$PORT" --quiet --json "$WORK/$name.json" "$@" >"$WORK/$name.txt" || true
  after="$(cpu_ticks "$SERVER_PID")"; ended="$(date +%s.%N)"
  echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
  SERVER_CPU="$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$started" -v e="$ended" \
      'BEGIN { printf "%.0f", 100 * t / hz / (e - s) }')"
  grep '^WARNING' "$WORK/$name.txt" || true
}

figure() { jq -r "$2" "$WORK/$1.json"; }

verdict() { if [[ "$(jq -r "$2" "$WORK/$1.json")" == true ]]; then echo PASS; else echo FAIL; fi; }

start_server
echo "server: $(grep '^READY' "$WORK/server.log") (cpu 0); $TCPLOAD on cpu 1"
echo

# seed_figures NAME: the issue-3 targets for one run of the seed workload
seed_figures() {
  echo "send lag p50 $(figure "$1" .summary.generator.lagUs.p50) µs, p99 $(figure "$1" .summary.generator.lagUs.p99) µs," \
    "max $(figure "$1" .summary.generator.lagUs.max) µs   [target p99 < 1000 µs: $(verdict "$1" '.summary.generator.lagUs.p99 < 1000')]"
  echo "TcpLoad CPU $(figure "$1" '.summary.generator.cpuPercentOfCore | . * 10 | round / 10')% of a core" \
    "[target < 25%: $(verdict "$1" '.summary.generator.cpuPercentOfCore < 25')]; server CPU ${SERVER_CPU}%"
  echo "sent $(figure "$1" .summary.sent), failures $(figure "$1" .summary.failures)," \
    "RTT p50 $(figure "$1" .summary.latencyUs.p50) µs p99 $(figure "$1" .summary.latencyUs.p99) µs"
  echo
}

# The seed's own form first (each user sends, waits for the echo, pauses 100 ms), then the same rate on a fixed
# timetable: the closed loop's sends follow the echoes, which come back in batches, so it wakes less often.
echo "== 1a. 1,000 users x 10 msg/s \"hello\", the seed's closed loop (--interval 100ms, 20 s after a 5 s warm-up)"
load seed --users 1000 --interval 100ms --duration 20s --warmup 5s --message hello
seed_figures seed
echo "== 1b. the same rate as an open loop (--rate 10000, 20 s after a 5 s warm-up; RTT corrected)"
load rate --users 1000 --rate 10000 --duration 20s --warmup 5s --message hello
seed_figures rate

echo "== 2. 19,000 idle connections, keepalive every 1 s, held ${IDLE_SECONDS} s"
load idle --users 19000 --idle --interval 1s --duration "${IDLE_SECONDS}s" --timeout 5s
echo "all open after $(figure idle .summary.connections.timeToOpenAllMs) ms" \
  "[target <= 2000 ms: $(verdict idle '.summary.connections.timeToOpenAllMs >= 0 and .summary.connections.timeToOpenAllMs <= 2000')]," \
  "peak $(figure idle .summary.connections.peakOpen) open"
echo "sent $(figure idle .summary.sent), received $(figure idle .summary.received), failures $(figure idle .summary.failures)" \
  "$(jq -c .summary.failuresByKind "$WORK/idle.json") [target 0: $(verdict idle '.summary.failures == 0')]"
echo "send lag p99 $(figure idle .summary.generator.lagUs.p99) µs, TcpLoad CPU" \
  "$(figure idle '.summary.generator.cpuPercentOfCore | . * 10 | round / 10')% of a core; server CPU ${SERVER_CPU}%"
echo

echo "== 3. closed loop, 100 users, 16-byte messages, no pause (10 s after a 3 s warm-up)"
load closed --users 100 --size 16 --duration 10s --warmup 3s
echo "echo rate $(figure closed '.summary.throughput.msgPerSec | round') msg/s, failures $(figure closed .summary.failures)," \
  "RTT p50 $(figure closed .summary.latencyUs.p50) µs p99 $(figure closed .summary.latencyUs.p99) µs"
echo "TcpLoad CPU $(figure closed '.summary.generator.cpuPercentOfCore | . * 10 | round / 10')% of a core," \
  "$(figure closed '.summary.generator.cpuNanosPerMessage * 1000 / 1e6 | . * 100 | round / 100') ms CPU per 1,000 messages;" \
  "server CPU ${SERVER_CPU}% of a core"
echo "(the side near 100% is the bottleneck)"
