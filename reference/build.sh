#!/usr/bin/env bash
# Builds the reference echo servers into OUTDIR. One stdout line per server, which the experiment parses:
#   built <name> <path>
#   skipped <name>: <tool> not found (install: apt-get install -y <pkg>)
# Exit 0 unless a build whose toolchain is present failed (exit 1, with the compiler's output on stderr).
set -uo pipefail

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
    echo "Usage: bash reference/build.sh OUTDIR"
    echo "Builds OUTDIR/c-epoll (cc -O2 -Wall) and OUTDIR/go-net (go build); a missing toolchain skips its server."
    exit 0
fi
if [[ $# -ne 1 ]]; then
    echo "build.sh: expected one argument, OUTDIR (see --help)" >&2
    exit 2
fi
src="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$1" || exit 1
out="$(cd "$1" && pwd)"
failed=0

# runs "$@" quietly; on failure shows its output on stderr and marks the build failed
build() {
    local name="$1" log
    shift
    if log="$("$@" 2>&1)"; then
        echo "built $name $out/$name"
    else
        echo "build of $name failed: $*" >&2
        echo "$log" >&2
        failed=1
    fi
}

if command -v cc >/dev/null; then
    build c-epoll cc -O2 -Wall -o "$out/c-epoll" "$src/c-epoll.c"
else
    echo "skipped c-epoll: cc not found (install: apt-get install -y gcc)"
fi

# Debian installs go under /usr/lib/go-1.x/bin, linked from /usr/bin/go; either may be missing from a bare PATH
go="$(command -v go || ls /usr/lib/go/bin/go /usr/lib/go-*/bin/go 2>/dev/null | tail -n 1)"
if [[ -n "$go" ]]; then
    # a single file with no go.mod, built in GOPATH mode; Go's build cache where it usually is (safe to share, and
    # without it every build compiles Go's runtime again: ~30 s of CPU), under OUTDIR where HOME is read-only;
    # CGO_ENABLED=0: Go's own resolver, so that building needs no C compiler
    cache="${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/go-build}"
    mkdir -p "$cache" 2>/dev/null && [[ -w "$cache" ]] || cache="$out/.gocache"
    build go-net env GO111MODULE=off CGO_ENABLED=0 GOCACHE="$cache" GOPATH="$out/.gopath" \
        "$go" build -trimpath -o "$out/go-net" "$src/go-net.go"
else
    echo "skipped go-net: go not found (install: apt-get install -y golang-go)"
fi
exit $failed
