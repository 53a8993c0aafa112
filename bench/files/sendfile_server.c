/*
 * Baseline sender for bench/files.sh: on 127.0.0.1, an ephemeral port, it sends FILE whole to every client that
 * connects, then closes; no protocol. One thread per connection.
 *
 *   sendfile_server FILE sendfile   # the kernel copies page cache to socket (zero-copy upper bound)
 *   sendfile_server FILE copy       # read()/send() through a 64 KiB buffer, as nc or a simple server would
 *
 * Prints "port N" on standard output once listening.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[2], "sendfile") != 0 && strcmp(argv[2], "copy") != 0)) {
        fprintf(stderr, "usage: %s FILE sendfile|copy\n", argv[0]);
        return 2;
    }
    file = argv[1];
    copy_mode = strcmp(argv[2], "copy") == 0;
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
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client < 0) continue;
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_create(&thread, &attr, serve, (void *)(long)client);
        pthread_attr_destroy(&attr);
    }
}
