#!/usr/bin/env bash
# What recording with echo.jfc costs: the same server and workload with and without --jfr, server pinned to cpu 0 and
# TcpLoad to cpu 1. Workload: 100 users, closed loop, 64-byte messages, no pause (every echo exercises the socket
# events echo.jfc records), ROUNDS alternating pairs so drift on the machine hits both sides alike.
# Usage: bench/jfr-overhead.sh   (SERVER=EchoVirtualThreads.java, DURATION=10s, ROUNDS=2 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
SERVER="${SERVER:-EchoVirtualThreads.java}"
DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-2}"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# run LABEL SERVER_FLAGS...: prints the echo rate one pinned server reached under TcpLoad and its CPU µs per echo
run() {
  local label="$1"; shift
  taskset -c 0 ./jbang "$SERVER" --port 0 "$@" >"$WORK/server.log" 2>&1 &
  local server=$! # the launcher execs the JVM, so this is the server's own pid
  await_ready "$WORK/server.log" "$server"
  local ticks_before; ticks_before="$(cpu_ticks "$server")"
  taskset -c 1 ./jbang TcpLoad.java --host "127.0.0.1:$PORT" --users 100 --size 64 --interval 0 --warmup 3s \
      --duration "$DURATION" --quiet --json "$WORK/load.json" >/dev/null || true
  local ticks_after; ticks_after="$(cpu_ticks "$server")"
  kill -TERM "$server"; wait "$server" || true
  # server CPU per echo over the whole TcpLoad run (warm-up included: both sides of the pair are measured alike)
  python3 - "$WORK/load.json" "$label" "$((ticks_after - ticks_before))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
label, ticks, hz = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print(label, round(summary["throughput"]["msgPerSec"]), round(1e6 * ticks / hz / max(1, summary["received"]), 2))
PY
}

echo "server $SERVER, 100 users x 64 B closed loop, $DURATION measured after 3s warm-up; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  run without
  run with --jfr "$WORK/rec.jfr"
done | tee "$WORK/rates.txt"
python3 - "$WORK/rates.txt" <<'PY'
import statistics, sys
rates, cpu = {}, {}
for line in open(sys.argv[1]):
    label, rate, micros = line.split()
    rates.setdefault(label, []).append(int(rate))
    cpu.setdefault(label, []).append(float(micros))
without, with_jfr = statistics.median(rates["without"]), statistics.median(rates["with"])
cpu_without, cpu_with = statistics.median(cpu["without"]), statistics.median(cpu["with"])
print(f"median msg/s without JFR {without:,.0f}, with echo.jfc {with_jfr:,.0f}: {100 * (with_jfr / without - 1):+.1f}%")
print(f"median server CPU per echo (incl. warm-up) without {cpu_without:.2f} µs, with {cpu_with:.2f} µs: {100 * (cpu_with / cpu_without - 1):+.1f}%")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
