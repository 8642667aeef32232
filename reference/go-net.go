// go-net: an echo server on Go's standard net package, one goroutine per connection: the seed experiment's "std"
// server, the one that won there, measured here in the same harness as the Java servers. Same flags, READY and
// STATS lines as they have (docs/CONTRACTS.md), where they apply. Standard library only; builds with Go 1.19.
//
//	go build -o go-net reference/go-net.go
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// How long to pause accepting after a failed accept (EMFILE...), as the Java servers: retrying at once would spin.
const acceptPause = 50 * time.Millisecond

var accepted, rejected, open, peak, echoed atomic.Int64

const usage = `Usage: go-net [--port N] [--bind ADDR] [--buffer-size BYTES] [--help]
TCP echo server: Go's net package, one goroutine per connection.
  --port N             TCP port; 0 picks a free one (default: 8091)
  --bind ADDR          address to listen on (default: 127.0.0.1)
  --buffer-size BYTES  bytes read per call, e.g. 16KiB (default: 16KiB, as the Java servers)
GOMAXPROCS is Go's default, the CPUs this process may run on (taskset sets it), unless $GOMAXPROCS says otherwise.`

// fail prints one line on stderr and exits: 2 for bad input, 1 when the server cannot run.
func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-net: "+format+"\n", args...)
	os.Exit(code)
}

// parseSize reads a whole number with an optional k/KiB/m/MiB suffix, as the Java servers' Cli.Size; -1 if it is not.
func parseSize(text string) int64 {
	lower, shift := strings.ToLower(text), 0
	for _, unit := range []struct {
		suffix string
		shift  int
	}{{"kib", 10}, {"kb", 10}, {"k", 10}, {"mib", 20}, {"mb", 20}, {"m", 20}} {
		if strings.HasSuffix(lower, unit.suffix) {
			lower, shift = strings.TrimSuffix(lower, unit.suffix), unit.shift
			break
		}
	}
	value, err := strconv.ParseInt(lower, 10, 32)
	if err != nil || value < 0 || value > (1<<31-1)>>shift {
		return -1
	}
	return value << shift
}

func main() {
	bind, port, bufferSize := "127.0.0.1", int64(8091), int64(16*1024)
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		flag := args[i]
		if flag == "--help" || flag == "-h" {
			fmt.Println(usage)
			return
		}
		if flag != "--port" && flag != "--bind" && flag != "--buffer-size" {
			fail(2, "%s: unknown option (see --help)", flag)
		}
		if i+1 == len(args) {
			fail(2, "%s: missing value (see --help)", flag)
		}
		i++
		value := args[i]
		switch flag {
		case "--bind":
			if _, err := net.ResolveIPAddr("ip", value); err != nil {
				fail(2, "%s: '%s' is not an address or a known host name (see --help)", flag, value)
			}
			bind = value
		case "--port":
			if port = parseSize(value); port < 0 || port > 65535 || strings.ContainsAny(value, "kKmM") {
				fail(2, "%s: '%s' is not a port (0-65535) (see --help)", flag, value)
			}
		case "--buffer-size":
			if bufferSize = parseSize(value); bufferSize < 1 {
				fail(2, "%s: '%s' is not a size of at least 1 byte (examples: 64, 16KiB, 1MiB) (see --help)", flag, value)
			}
		}
	}

	// Go sizes the accept queue from /proc/sys/net/core/somaxconn (4096 here, the Java servers' --backlog default)
	listener, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.FormatInt(port, 10)))
	if errors.Is(err, syscall.EADDRINUSE) {
		fail(1, "port %d is already in use", port)
	} else if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) { // the system's reason, without Go's "listen tcp <addr>:" prefix
			err = opErr.Err
		}
		fail(1, "cannot listen on %s:%d: %v", bind, port, err)
	}

	// SIGPIPE needs nothing: Go ignores it on sockets, a write to a reset connection is an EPIPE error
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		fmt.Printf("STATS accepted=%d rejected=%d peak=%d bytes=%d\n", accepted.Load(), rejected.Load(), peak.Load(), echoed.Load())
		os.Exit(0) // ends every connection with the process
	}()

	fmt.Printf("READY go-net %s:%d model=go-net buffer-size=%d gomaxprocs=%d pid=%d\n",
		bind, listener.Addr().(*net.TCPAddr).Port, bufferSize, runtime.GOMAXPROCS(0), os.Getpid())

	var lastLog time.Time
	for {
		conn, err := listener.Accept()
		if err != nil {
			rejected.Add(1)
			if time.Since(lastLog) >= time.Second {
				lastLog = time.Now()
				fmt.Fprintf(os.Stderr, "accept failed, pausing %v between attempts: %v\n", acceptPause, err)
			}
			time.Sleep(acceptPause)
			continue
		}
		accepted.Add(1)
		raisePeak(open.Add(1))
		go echo(conn.(*net.TCPConn), int(bufferSize)) // TCP_NODELAY is Go's default, as the Java servers set it
	}
}

// raisePeak makes peak at least now, even when other goroutines raise it at the same time.
func raisePeak(now int64) {
	for max := peak.Load(); now > max && !peak.CompareAndSwap(max, now); max = peak.Load() {
	}
}

// echo writes every byte back in order until the client closes its side (then closes ours once all is written),
// resets, or the server stops. An error ends only this connection.
func echo(conn *net.TCPConn, bufferSize int) {
	defer open.Add(-1)
	defer conn.Close()
	buffer := make([]byte, bufferSize)
	for {
		n, err := conn.Read(buffer)
		if n > 0 {
			if _, werr := conn.Write(buffer[:n]); werr != nil { // Write returns once all n bytes are sent
				return
			}
			echoed.Add(int64(n))
		}
		if err == io.EOF {
			conn.CloseWrite() // half-close: everything read is written back, so send our FIN
			return
		}
		if err != nil {
			return
		}
	}
}
