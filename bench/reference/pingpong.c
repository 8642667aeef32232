/*
 * pingpong: the floor for a closed-loop echo client. One thread, epoll, N connections, one S-byte message in flight
 * on each: one send and one recv per echo (a short recv waits for the rest). Counts whole echoes during SECONDS after
 * a 1 s warm-up and prints "pingpong: <N> conns x <S> B: <msg/s> msg/s".
 * Usage: pingpong HOST PORT CONNS SIZE SECONDS       Build: cc -O2 -Wall -o pingpong pingpong.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: pingpong HOST PORT CONNS SIZE SECONDS\n"); return 2; }
    int conns = atoi(argv[3]), size = atoi(argv[4]);
    double seconds = atof(argv[5]);
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) { fprintf(stderr, "pingpong: bad host\n"); return 2; }
    char *payload = calloc(size, 1), *in = malloc(size);
    int *got = calloc(conns, sizeof(int)), one = 1, ep = epoll_create1(0);
    for (int i = 0; i < conns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&server, sizeof server) < 0) die("connect");
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((unsigned long long)i << 32) | (unsigned)fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        if (send(fd, payload, size, 0) != size) die("send");
    }
    double start = now_s(), from = start + 1, end = from + seconds;
    long long echoes = 0;
    struct epoll_event events[256];
    for (double t = start; t < end; t = now_s()) {
        int n = epoll_wait(ep, events, 256, 100);
        for (int e = 0; e < n; e++) {
            int i = events[e].data.u64 >> 32, fd = (int)(unsigned)events[e].data.u64;
            ssize_t r = recv(fd, in, size - got[i], 0);
            if (r <= 0) die("recv");
            if ((got[i] += r) < size) continue;
            got[i] = 0;
            if (t >= from) echoes++;
            if (send(fd, payload, size, 0) != size) die("send");
        }
    }
    printf("pingpong: %d conns x %d B: %.0f msg/s\n", conns, size, echoes / seconds);
    return 0;
}
