/*
 * Download client for bench/files.sh: N concurrent connections, each fetching one file and discarding its bytes.
 *
 *   getclient actortcp PORT PATH CLIENTS   # Welcome dialog, GET PATH, read "OK n", then exactly n bytes
 *   getclient raw      PORT EXPECTED CLIENTS  # read to EOF (the baseline sender), expect EXPECTED bytes each
 *
 * Prints one line: "clients=N bytes=B seconds=S mbps=M" (MB = 10^6 bytes), measured from the moment every
 * thread is ready to connect until the last byte of the last download. Exits 1 if any download came up short.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF (256 * 1024)

static int raw_mode;
static int port;
static const char *path;
static long long expected;
static pthread_barrier_t start;

struct result { long long bytes; int ok; };

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads into buf until a LF; returns the line length (without LF) and leaves any bytes past it in buf[*have]. */
static int read_line(int fd, char *buf, int *have, char *line, int max) {
    for (;;) {
        char *lf = memchr(buf, '\n', *have);
        if (lf) {
            int n = (int)(lf - buf);
            if (n >= max) n = max - 1;
            memcpy(line, buf, n);
            line[n] = 0;
            int used = (int)(lf - buf) + 1;
            memmove(buf, buf + used, *have - used);
            *have -= used;
            return n;
        }
        if (*have >= BUF) return -1;
        ssize_t r = recv(fd, buf + *have, BUF - *have, 0);
        if (r <= 0) return -1;
        *have += (int)r;
    }
}

static int send_all(int fd, const char *s) {
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t w = send(fd, s, len, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

static void *download(void *arg) {
    struct result *res = arg;
    char *buf = malloc(BUF);
    char line[512];
    int have = 0;
    res->bytes = 0;
    res->ok = 0;
    pthread_barrier_wait(&start);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); goto out; }

    long long want = expected;
    if (!raw_mode) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* Welcome! / What's your name? */
        for (;;) {
            if (read_line(fd, buf, &have, line, sizeof line) < 0) goto out;
            if (strcmp(line, "What's your name?") == 0) break;
        }
        if (send_all(fd, "bench\n") != 0) goto out;
        if (read_line(fd, buf, &have, line, sizeof line) < 0 || strncmp(line, "Hello", 5) != 0) goto out;
        char request[600];
        snprintf(request, sizeof request, "GET %s\n", path);
        if (send_all(fd, request) != 0) goto out;
        if (read_line(fd, buf, &have, line, sizeof line) < 0 || strncmp(line, "OK ", 3) != 0) {
            fprintf(stderr, "GET answered: %s\n", line);
            goto out;
        }
        want = atoll(line + 3);
        res->bytes = have; /* file bytes that came with the OK line */
    }

    for (;;) {
        if (!raw_mode && res->bytes >= want) break;
        ssize_t r = recv(fd, buf, BUF, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        res->bytes += r;
    }
    res->ok = res->bytes == want;
    if (!res->ok) fprintf(stderr, "short download: %lld of %lld bytes\n", res->bytes, want);
out:
    if (fd >= 0) close(fd);
    free(buf);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "actortcp") != 0 && strcmp(argv[1], "raw") != 0)) {
        fprintf(stderr, "usage: %s actortcp PORT PATH CLIENTS | raw PORT EXPECTED_BYTES CLIENTS\n", argv[0]);
        return 2;
    }
    raw_mode = strcmp(argv[1], "raw") == 0;
    port = atoi(argv[2]);
    if (raw_mode) expected = atoll(argv[3]); else path = argv[3];
    int clients = atoi(argv[4]);

    pthread_t *threads = calloc(clients, sizeof *threads);
    struct result *results = calloc(clients, sizeof *results);
    pthread_barrier_init(&start, NULL, clients + 1);
    for (int i = 0; i < clients; i++) pthread_create(&threads[i], NULL, download, &results[i]);
    pthread_barrier_wait(&start);
    double t0 = now();
    for (int i = 0; i < clients; i++) pthread_join(threads[i], NULL);
    double seconds = now() - t0;

    long long total = 0;
    int failed = 0;
    for (int i = 0; i < clients; i++) {
        total += results[i].bytes;
        failed += !results[i].ok;
    }
    printf("clients=%d bytes=%lld seconds=%.3f mbps=%.1f failed=%d\n", clients, total, seconds,
           total / seconds / 1e6, failed);
    return failed ? 1 : 0;
}
