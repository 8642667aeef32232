#!/usr/bin/env bash
# How close TcpLoad comes to a plain C client (bench/reference/*.c) against the C echo server (reference/c-epoll.c),
# the server pinned to cpu 0 and each client to cpu 1, in ROUNDS (default 3) interleaved rounds of:
#   ping-pong, 100 connections x 16 B, one message in flight each:   C pingpong, then TcpLoad --users 100 --size 16 --interval 0
#   open loop, 1,000 connections, 10,000 msg/s "hello" in all:      C openloop, then TcpLoad --users 1000 --message hello --rate 10000
# Prints each round, then the medians, the ping-pong rate ratio TcpLoad/C and the open loop's p50 gap (TcpLoad - C,
# µs) and p99 ratio TcpLoad/C. Targets (issue 13): ratio >= 0.9, p50 gap <= 10 µs, p99 ratio <= 1.25.
# Usage: bench/generator-ceiling.sh   (ROUNDS=3 SECONDS_EACH=5; TCPLOAD_ARGS adds flags to every TcpLoad run;
#        TCPLOAD_JIT=c1 runs TcpLoad C1-only, as its script does, instead of with C2 as the experiment runs these steps;
#        TcpLoad's --transport auto drives the ping-pong over io_uring and the open loop over epoll:
#        TCPLOAD_ARGS='--transport epoll' measures both over epoll)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

ROUNDS="${ROUNDS:-3}"
SECONDS_EACH="${SECONDS_EACH:-5}"
TCPLOAD_ARGS="${TCPLOAD_ARGS:-}"
if ! command -v cc >/dev/null; then echo "generator-ceiling: skipped, no C compiler (cc) here (apt-get install -y gcc)"; exit 0; fi
WORK="$(mktemp -d)"
SERVER_PID=""
trap '[[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

cc -O2 -Wall -o "$WORK/pingpong" bench/reference/pingpong.c
cc -O2 -Wall -o "$WORK/openloop" bench/reference/openloop.c
[[ "$(bash reference/build.sh "$WORK")" == *"built c-epoll"* ]] || { echo "generator-ceiling: c-epoll did not build"; exit 1; }
taskset -c 0 "$WORK/c-epoll" --port 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
await_ready "$WORK/server.log" "$SERVER_PID"
./jbang build TcpLoad.java >/dev/null
# TcpLoad as the experiment starts it: its resolved java command line, and the full C2 JIT after the script's own
# C1-only option for every step but idle (common/LoadStep.java, jit); TCPLOAD_JIT=c1 keeps the script's C1
info="$(./jbang info tools TcpLoad.java 2>/dev/null | grep -v '^\[jbang\]')"
mapfile -t TCPLOAD < <(jq -r '.availableJdkPath + "/bin/java", (.runtimeOptions // [])[]' <<<"$info")
[[ "${TCPLOAD_JIT:-c2}" == c2 ]] && TCPLOAD+=(-XX:TieredStopAtLevel=4)
TCPLOAD+=(-classpath "$(jq -r '[.applicationJar] + .resolvedDependencies | join(":")' <<<"$info")" "$(jq -r .mainClass <<<"$info")")
echo "TcpLoad JIT: ${TCPLOAD_JIT:-c2}"
echo "server: $(grep '^READY' "$WORK/server.log") on cpu 0; clients on cpu 1; $(date -u '+%F %H:%M UTC'), commit $(git rev-parse --short HEAD)"

tcpload() { # NAME ARGS...: TcpLoad on cpu 1, 2 s warm-up minimum until steady (cap 10 s), its JSON kept
  local name="$1"; shift
  # shellcheck disable=SC2086 # TCPLOAD_ARGS is a list of flags
  taskset -c 1 "${TCPLOAD[@]}" --host "127.0.0.1:$PORT" --duration "${SECONDS_EACH}s" --warmup 2s --steady \
      --warmup-max 10s --quiet --json "$WORK/$name.json" $TCPLOAD_ARGS "$@" >"$WORK/$name.txt" || true
  grep '^MEASURING\|^WARNING' "$WORK/$name.txt" | sed 's/^/    /'
}

: >"$WORK/rows"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round (load average $(cut -d' ' -f1 /proc/loadavg))"
  c_pp="$(taskset -c 1 "$WORK/pingpong" 127.0.0.1 "$PORT" 100 16 "$SECONDS_EACH" | awk '{ print $(NF-1) }')"
  tcpload pp --users 100 --size 16 --interval 0
  j_pp="$(jq '.summary.throughput.msgPerSec | round' "$WORK/pp.json")"
  echo "  ping-pong msg/s: C $c_pp, TcpLoad $j_pp (TcpLoad CPU $(jq '.summary.generator.cpuPercentOfCore | round' "$WORK/pp.json")%)"
  read -r c_p50 c_p99 < <(taskset -c 1 "$WORK/openloop" 127.0.0.1 "$PORT" 1000 10000 "$SECONDS_EACH" hello \
      | sed 's/.*p50 \([0-9]*\) µs p99 \([0-9]*\) µs.*/\1 \2/')
  tcpload ol --users 1000 --message hello --rate 10000
  j_p50="$(jq '.summary.latencyUs.p50' "$WORK/ol.json")"; j_p99="$(jq '.summary.latencyUs.p99' "$WORK/ol.json")"
  echo "  open loop p50/p99 µs: C $c_p50/$c_p99, TcpLoad $j_p50/$j_p99 (TcpLoad CPU $(jq '.summary.generator.cpuPercentOfCore | round' "$WORK/ol.json")%," \
       "send lag p99 $(jq '.summary.generator.lagUs.p99' "$WORK/ol.json") µs)"
  echo "$c_pp $j_pp $c_p50 $j_p50 $c_p99 $j_p99" >>"$WORK/rows"
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }' "$WORK/rows" | median; }
read -r c_pp j_pp c_p50 j_p50 c_p99 j_p99 <<<"$(col 1) $(col 2) $(col 3) $(col 4) $(col 5) $(col 6)"
echo "medians: ping-pong C $c_pp, TcpLoad $j_pp msg/s; open loop C p50 $c_p50 p99 $c_p99 µs, TcpLoad p50 $j_p50 p99 $j_p99 µs"
awk -v cpp="$c_pp" -v jpp="$j_pp" -v c50="$c_p50" -v j50="$j_p50" -v c99="$c_p99" -v j99="$j_p99" 'BEGIN {
  r = jpp / cpp; g = j50 - c50; q = j99 / c99
  printf "ping-pong ratio TcpLoad/C %.2f [target >= 0.9: %s]\n", r, (r >= 0.9 ? "PASS" : "FAIL")
  printf "open-loop p50 gap TcpLoad - C %.1f µs [target <= 10: %s]\n", g, (g <= 10 ? "PASS" : "FAIL")
  printf "open-loop p99 ratio TcpLoad/C %.2f [target <= 1.25: %s]\n", q, (q <= 1.25 ? "PASS" : "FAIL") }'
