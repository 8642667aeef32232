# Shared by the bench/*.sh scripts (sourced, not run): waiting for a server's READY line and reading its CPU time.

await_line() { # file pattern pid: succeeds once a whole line of the file matches, fails when the process ends first
  # (a line counts once the file ends with its newline: a READY line caught half-written has no port yet)
  until grep -q "$2" "$1" 2>/dev/null && [[ -z "$(tail -c1 "$1")" ]]; do
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
}

await_ready() { # log pid: sets PORT from the server's READY line, or prints the log and exits 1 if it never comes
  PORT=""
  await_line "$1" '^READY' "$2" && PORT="$(sed -n 's/^READY [^ ]* [^ ]*:\([0-9]*\) .*/\1/p' "$1")"
  if [[ -z "$PORT" ]]; then
    echo "server never got ready:" >&2; cat "$1" >&2; exit 1 # the caller's EXIT trap stops it if still alive
  fi
}

cpu_ticks() { # user + system clock ticks of process $1 so far (fields 14 and 15 of /proc/<pid>/stat)
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}
