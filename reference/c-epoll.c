/*
 * c-epoll: a single-threaded, non-blocking epoll echo server, the floor a Java server is compared with.
 * Same flags, READY and STATS lines as the Java servers (docs/CONTRACTS.md), where they apply.
 * Build: cc -O2 -Wall -o c-epoll reference/c-epoll.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BACKLOG 4096          /* the Java servers' --backlog default (common/ServerOptions.java) */
#define ACCEPT_PAUSE_MS 50    /* as ServerRuntime.ACCEPT_PAUSE_MILLIS */

/* A connection. Echoes are written straight from one shared read buffer; only the bytes a full socket would not
 * take are copied into `pending`, so an idle connection costs no buffer at all. */
struct conn {
    int fd;
    char *pending;
    size_t off, len;   /* pending[off..len) is still to be written */
};

static struct conn listener_tag, signal_tag; /* epoll data for the two fds that are not connections */
static unsigned long long accepted, rejected, bytes_echoed;
static long open_now, peak;

static void usage(FILE *out) {
    fprintf(out, "Usage: c-epoll [--port N] [--bind ADDR] [--buffer-size BYTES] [--help]\n"
                 "TCP echo server: one thread, non-blocking sockets, epoll.\n"
                 "  --port N             TCP port; 0 picks a free one (default: 8090)\n"
                 "  --bind ADDR          address to listen on (default: 127.0.0.1)\n"
                 "  --buffer-size BYTES  bytes read per call, e.g. 16KiB (default: 16KiB, as the Java servers)\n");
}

static void bad_input(const char *flag, const char *value, const char *expected) {
    if (value) fprintf(stderr, "c-epoll: %s: '%s' is not %s (see --help)\n", flag, value, expected);
    else fprintf(stderr, "c-epoll: %s: %s (see --help)\n", flag, expected);
    exit(2);
}

/* A whole number with an optional k/KiB/m/MiB suffix, as Cli.Size reads it; -1 when it is not one. */
static long parse_size(const char *text) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (end == text || errno || value < 0) return -1;
    int shift = 0;
    if (*end == 'k' || *end == 'K') shift = 10, end++;
    else if (*end == 'm' || *end == 'M') shift = 20, end++;
    if (shift && (strcasecmp(end, "ib") == 0 || strcasecmp(end, "b") == 0)) end += strlen(end);
    if (*end || value > (0x7fffffffL >> shift)) return -1;
    return value << shift;
}

static void close_conn(int ep, struct conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd); /* a reset or an error ends only this connection */
    free(c->pending);
    free(c);
    open_now--;
}

static void watch(int ep, int op, int fd, unsigned events, void *data) {
    struct epoll_event ev = {.events = events, .data.ptr = data};
    epoll_ctl(ep, op, fd, &ev);
}

/* Writes what is pending; returns 0 when all is written, 1 when the socket is full, -1 on error. */
static int flush_pending(struct conn *c) {
    while (c->off < c->len) {
        ssize_t n = send(c->fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN || errno == EINTR ? 1 : -1;
        c->off += n;
        bytes_echoed += n;
    }
    free(c->pending);
    c->pending = NULL;
    c->off = c->len = 0;
    return 0;
}

/* One read per readiness event, so that a busy connection cannot starve the others (level-triggered epoll
 * calls again while bytes remain). */
static void on_readable(int ep, struct conn *c, char *buf, size_t size) {
    ssize_t n = recv(c->fd, buf, size, 0);
    /* end of stream (the client half-closed): nothing is pending, since we stop reading while something is, so the
     * echo is complete and closing sends our FIN */
    if (n == 0) { close_conn(ep, c); return; }
    if (n < 0) { if (errno != EAGAIN && errno != EINTR) close_conn(ep, c); return; }
    ssize_t sent = send(c->fd, buf, n, MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN && errno != EINTR) { close_conn(ep, c); return; }
    if (sent < 0) sent = 0;
    bytes_echoed += sent;
    if (sent == n) return;
    /* the client is not reading fast enough: keep the rest and stop reading until it is written */
    c->pending = malloc(n - sent);
    if (!c->pending) { close_conn(ep, c); return; }
    memcpy(c->pending, buf + sent, n - sent);
    c->off = 0;
    c->len = n - sent;
    watch(ep, EPOLL_CTL_MOD, c->fd, EPOLLOUT, c);
}

static void on_writable(int ep, struct conn *c) {
    int r = flush_pending(c);
    if (r < 0) close_conn(ep, c);
    else if (r == 0) watch(ep, EPOLL_CTL_MOD, c->fd, EPOLLIN, c);
}

/* Accepts until the queue is empty. Returns 1 when out of descriptors: the caller then stops watching the listener
 * for ACCEPT_PAUSE_MS, since the pending connection stays queued and level-triggered epoll would report it again at
 * once, spinning a core on EMFILE (as the Java servers do, pause rather than close connections to make room). */
static int accept_all(int ep, int lfd) {
    static time_t last_log;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN) return 0;
            if (errno == EINTR || errno == ECONNABORTED) continue; /* that client gave up: take the next */
            rejected++;
            if (time(NULL) != last_log) {
                last_log = time(NULL);
                fprintf(stderr, "accept failed, pausing %d ms between attempts: %s\n", ACCEPT_PAUSE_MS, strerror(errno));
            }
            return 1;
        }
        struct conn *c = calloc(1, sizeof *c);
        if (!c) { close(fd); rejected++; continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as the Java servers: no Nagle delay */
        c->fd = fd;
        watch(ep, EPOLL_CTL_ADD, fd, EPOLLIN, c);
        accepted++;
        if (++open_now > peak) peak = open_now;
    }
}

static int listen_on(const char *bind_addr, long port) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    char service[8];
    snprintf(service, sizeof service, "%ld", port);
    if (getaddrinfo(bind_addr, service, &hints, &ai) != 0) bad_input("--bind", bind_addr, "an address or a known host name");
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* as Java's ServerSocket on Linux */
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, BACKLOG) < 0) {
        if (errno == EADDRINUSE) fprintf(stderr, "c-epoll: port %ld is already in use\n", port);
        else fprintf(stderr, "c-epoll: cannot listen on %s:%ld: %s\n", bind_addr, port, strerror(errno));
        exit(1);
    }
    freeaddrinfo(ai);
    return fd;
}

int main(int argc, char **argv) {
    const char *bind_addr = "127.0.0.1";
    long port = 8090, buffer_size = 16 * 1024;
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) { usage(stdout); return 0; }
        int known = !strcmp(flag, "--port") || !strcmp(flag, "--bind") || !strcmp(flag, "--buffer-size");
        if (!known) bad_input(flag, NULL, "unknown option");
        if (!value) bad_input(flag, NULL, "missing value");
        i++;
        if (!strcmp(flag, "--bind")) bind_addr = value;
        else if (!strcmp(flag, "--port") && ((port = parse_size(value)) < 0 || port > 65535 || strpbrk(value, "kKmM")))
            bad_input(flag, value, "a port (0-65535)");
        else if (!strcmp(flag, "--buffer-size") && (buffer_size = parse_size(value)) < 1)
            bad_input(flag, value, "a size of at least 1 byte (examples: 64, 16KiB, 1MiB)");
    }

    signal(SIGPIPE, SIG_IGN); /* a write to a reset connection must be an EPIPE error, not the end of the server */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL); /* delivered through a signalfd, in the event loop: no handler races */
    int sfd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);

    int lfd = listen_on(bind_addr, port);
    struct sockaddr_storage local;
    socklen_t local_len = sizeof local;
    getsockname(lfd, (struct sockaddr *)&local, &local_len);
    int real_port = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port
                                                      : ((struct sockaddr_in *)&local)->sin_port);
    char *buf = malloc(buffer_size);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!buf || ep < 0 || sfd < 0) { perror("c-epoll"); return 1; }
    watch(ep, EPOLL_CTL_ADD, lfd, EPOLLIN, &listener_tag);
    watch(ep, EPOLL_CTL_ADD, sfd, EPOLLIN, &signal_tag);
    printf("READY c-epoll %s:%d model=c-epoll buffer-size=%ld pid=%d\n", bind_addr, real_port, buffer_size, getpid());
    fflush(stdout);

    int paused = 0;
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, paused ? ACCEPT_PAUSE_MS : -1);
        if (n < 0 && errno != EINTR) { perror("c-epoll: epoll_wait"); return 1; }
        if (n == 0 && paused) { paused = 0; watch(ep, EPOLL_CTL_MOD, lfd, EPOLLIN, &listener_tag); }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == &signal_tag) {
                printf("STATS accepted=%llu rejected=%llu peak=%ld bytes=%llu\n", accepted, rejected, peak, bytes_echoed);
                fflush(stdout);
                return 0; /* exiting closes every connection */
            }
            if (c == &listener_tag) {
                if (accept_all(ep, lfd)) { paused = 1; watch(ep, EPOLL_CTL_MOD, lfd, 0, &listener_tag); }
            } else if (c->pending) {
                on_writable(ep, c); /* EPOLLOUT, or EPOLLERR/EPOLLHUP, which the write then reports */
            } else {
                on_readable(ep, c, buf, buffer_size);
            }
        }
    }
}
