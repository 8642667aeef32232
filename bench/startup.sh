#!/usr/bin/env bash
# How long each server takes from `./jbang <server>` to its READY line, cold and warm.
# Cold: an empty JBang cache (JBANG_CACHE_DIR), so JBang resolves the dependencies (from the local Maven repository,
# ~/.m2, already filled: no download is timed) and compiles the script. Warm: the built jar is cached, which is every
# run after the first. The launcher's own one-time fetch of JBang is not included.
# Usage: bench/startup.sh   (RUNS=3 warm runs per server by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
RUNS="${RUNS:-3}"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# ready_ms SERVER: milliseconds from starting the server to its READY line; then stops it
ready_ms() {
  local started; started="$(date +%s%N)"
  ./jbang "$1" --port 0 >"$WORK/server.log" 2>&1 &
  local server=$!
  await_ready "$WORK/server.log" "$server"
  echo $(( ($(date +%s%N) - started) / 1000000 ))
  kill -TERM "$server"; wait "$server" || true
}

echo "startup to READY, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), $(nproc) cores"
for server in EchoPlatformThreads.java EchoVirtualThreads.java EchoNetty.java; do
  export JBANG_CACHE_DIR="$WORK/cold-cache"
  rm -rf "$JBANG_CACHE_DIR"
  cold="$(ready_ms "$server")"
  warm=()
  for _ in $(seq "$RUNS"); do warm+=("$(ready_ms "$server")"); done
  unset JBANG_CACHE_DIR
  printf '%-24s cold %6s ms   warm %s ms\n' "$server" "$cold" "$(IFS=/; echo "${warm[*]}")"
done
