/*
 * Baseline sender for bench/files.sh: on 127.0.0.1, an ephemeral port, it sends FILE whole to every client that
 * connects, then closes; no protocol. One thread per connection, except in epoll mode.
 *
 *   sendfile_server FILE sendfile   # the kernel copies page cache to socket (zero-copy upper bound)
 *   sendfile_server FILE copy       # read()/send() through a 64 KiB buffer, as nc or a simple server would
 *   sendfile_server FILE epoll      # sendfile(2) on non-blocking sockets from two epoll loops (edge-triggered),
 *                                   # each socket sent to until the kernel is full and again when it has room:
 *                                   # how ActorTcp sends, without the server around it
 *
 * Prints "port N" on standard output once listening.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file;
static int copy_mode;

static void *serve(void *arg) {
    int client = (int)(long)arg;
    int fd = open(file, O_RDONLY);
    if (fd >= 0) {
        struct stat st;
        fstat(fd, &st);
        off_t offset = 0;
        if (copy_mode) {
            char *buf = malloc(64 * 1024);
            ssize_t r;
            while ((r = read(fd, buf, 64 * 1024)) > 0) {
                char *p = buf;
                while (r > 0) {
                    ssize_t w = send(client, p, (size_t)r, MSG_NOSIGNAL);
                    if (w <= 0) { r = -1; break; }
                    p += w;
                    r -= w;
                }
                if (r < 0) break;
            }
            free(buf);
        } else {
            while (offset < st.st_size) {
                ssize_t w = sendfile(client, fd, &offset, (size_t)(st.st_size - offset));
                if (w <= 0) break;
            }
        }
        close(fd);
    }
    shutdown(client, SHUT_WR);
    char drain[256];
    while (recv(client, drain, sizeof drain, 0) > 0) { }
    close(client);
    return NULL;
}

/* epoll mode: one download's state, owned by the loop its socket is registered with. */
struct download { int client, fd; off_t offset, size; };

static void *loop(void *arg) {
    int epoll = (int)(long)arg;
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epoll, events, 256, -1);
        for (int i = 0; i < n; i++) {
            struct download *d = events[i].data.ptr;
            ssize_t w = 1;
            while (d->offset < d->size && (w = sendfile(d->client, d->fd, &d->offset, (size_t)(d->size - d->offset))) > 0) { }
            if (d->offset < d->size && w < 0 && errno == EAGAIN) continue; /* the next EPOLLOUT edge resumes it */
            epoll_ctl(epoll, EPOLL_CTL_DEL, d->client, NULL);
            shutdown(d->client, SHUT_WR);
            close(d->client);
            close(d->fd);
            free(d);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[2], "sendfile") != 0 && strcmp(argv[2], "copy") != 0 && strcmp(argv[2], "epoll") != 0)) {
        fprintf(stderr, "usage: %s FILE sendfile|copy|epoll\n", argv[0]);
        return 2;
    }
    file = argv[1];
    copy_mode = strcmp(argv[2], "copy") == 0;
    int epoll_mode = strcmp(argv[2], "epoll") == 0;
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 1024) != 0) {
        perror("listen");
        return 1;
    }
    socklen_t len = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &len);
    printf("port %d\n", ntohs(addr.sin_port));
    fflush(stdout);
    int epolls[2];
    for (int i = 0; epoll_mode && i < 2; i++) {
        pthread_t thread;
        epolls[i] = epoll_create1(0);
        pthread_create(&thread, NULL, loop, (void *)(long)epolls[i]);
        pthread_detach(thread);
    }
    for (unsigned next = 0;; next++) {
        int client = accept4(listener, NULL, NULL, epoll_mode ? SOCK_NONBLOCK : 0);
        if (client < 0) continue;
        if (epoll_mode) {
            /* Closes without reading what the client sent (it sends nothing) once the file is out. */
            struct download *d = calloc(1, sizeof *d);
            struct stat st;
            d->client = client;
            d->fd = open(file, O_RDONLY);
            if (d->fd < 0 || fstat(d->fd, &st) != 0) { close(client); if (d->fd >= 0) close(d->fd); free(d); continue; }
            d->size = st.st_size;
            struct epoll_event ev = { .events = EPOLLOUT | EPOLLET, .data.ptr = d };
            epoll_ctl(epolls[next % 2], EPOLL_CTL_ADD, client, &ev);
            continue;
        }
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_create(&thread, &attr, serve, (void *)(long)client);
        pthread_attr_destroy(&attr);
    }
}
