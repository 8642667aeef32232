/*
 * openloop: the floor for an open-loop echo client. One thread, epoll, N connections sending MESSAGE on one evenly
 * spaced timetable of RATE msg/s in all (message k due at k/RATE, on connection k mod N), latency counted from each
 * message's intended send time. Waits are epoll_pwait2 with a nanosecond timeout, the kernel's timer slack is 1 ns
 * (prctl), and the last SPIN_NS before a send is due are spun. Measures SECONDS after a 1 s warm-up and prints
 * "openloop: <N> conns, <RATE> msg/s: p50 <µs> µs p99 <µs> µs (<sent> sent, <received> received)".
 * Usage: openloop HOST PORT CONNS RATE SECONDS MESSAGE    Build: cc -O2 -Wall -o openloop openloop.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SPIN_NS 20000      /* spin this long before a send is due, instead of trusting a wake-up to be on time */
#define RING 64            /* messages in flight per connection at most */
#define MAX_US 1000000     /* latencies above 1 s go in the last bucket */

struct conn { int fd, got; long long due[RING]; unsigned head, tail; };

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(const char *what) { perror(what); exit(1); }

static long long histogram[MAX_US + 1], received;

static long percentile(double p) {
    long long seen = 0, want = (long long)(p / 100 * received + 0.5);
    for (long us = 0; us <= MAX_US; us++) if ((seen += histogram[us]) >= want && seen > 0) return us;
    return MAX_US;
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: openloop HOST PORT CONNS RATE SECONDS MESSAGE\n"); return 2; }
    int n = atoi(argv[3]), size = strlen(argv[6]), one = 1, ep = epoll_create1(0);
    double rate = atof(argv[4]), seconds = atof(argv[5]);
    const char *message = argv[6];
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) { fprintf(stderr, "openloop: bad host\n"); return 2; }
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    struct conn *c = calloc(n, sizeof *c);
    char in[4096];
    for (int i = 0; i < n; i++) {
        c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c[i].fd < 0 || connect(c[i].fd, (struct sockaddr *)&server, sizeof server) < 0) die("connect");
        setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    long long period = (long long)(1e9 / rate), start = now_ns(), from = start + 1000000000LL;
    long long end = from + (long long)(seconds * 1e9), k = 0, sent = 0;
    struct epoll_event events[256];
    for (long long t = now_ns(); t < end; t = now_ns()) {
        long long due = start + k * period;
        if (t >= due) {                                /* send every message that is due, on its connection */
            struct conn *s = &c[k % n];
            if (send(s->fd, message, size, 0) != size) die("send");
            if (s->tail - s->head == RING) die("too many messages in flight");
            s->due[s->tail++ % RING] = due;
            if (due >= from) sent++;
            k++;
            continue;
        }
        long long wait = due - t - SPIN_NS;            /* sleep until SPIN_NS before the next send, then poll */
        struct timespec timeout = {wait > 0 ? wait / 1000000000LL : 0, wait > 0 ? wait % 1000000000LL : 0};
        int ready = epoll_pwait2(ep, events, 256, &timeout, NULL);
        long long arrived = ready > 0 ? now_ns() : 0;
        for (int e = 0; e < ready; e++) {
            struct conn *r = &c[events[e].data.u32];
            ssize_t got = recv(r->fd, in, sizeof in, 0);
            if (got <= 0) die("recv");
            for (r->got += got; r->got >= size && r->head != r->tail; r->got -= size) {
                long long d = r->due[r->head++ % RING];
                if (d < from) continue;
                long us = (arrived - d) / 1000;
                histogram[us > MAX_US ? MAX_US : us]++;
                received++;
            }
        }
    }
    printf("openloop: %d conns, %.0f msg/s: p50 %ld µs p99 %ld µs (%lld sent, %lld received)\n",
           n, rate, percentile(50), percentile(99), sent, received);
    return 0;
}
