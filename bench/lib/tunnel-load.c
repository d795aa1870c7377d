// Load generator for the forward bench's "inside tunnels" scenario: wrk cannot open CONNECT tunnels, and
// a Node client (with the origin on the same core) tops out below what one proxy core can relay, so the
// figures measured the harness. This is wrk's shape for tunnels: one thread, epoll, `connections`
// sockets, each opened once with `CONNECT 127.0.0.1:<origin>` and then used for back-to-back keep-alive
// GETs until `seconds` have passed. It stops by itself.
//
//   cc -O2 -o tunnel-load tunnel-load.c
//   ./tunnel-load <proxy-port> <origin-port> <connections> <seconds>
//
// Prints one JSON line: {"requests":N,"errors":N,"rps":N,"p50":ms,"p99":ms}. An answer that is not
// `HTTP/1.1 200` counts as an error; a tunnel refused or closed early counts one error and is not reopened.
// Loopback only: it connects to 127.0.0.1 and nowhere else.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536
#define HIST_US 1000000 /* latencies up to 1 s at 1 µs resolution; longer ones land in the last slot */

enum { OPENING, TUNNEL, DONE };

struct conn {
  int fd;
  int state;
  size_t len;
  uint64_t sent_at;
  char buf[BUF];
};

static uint32_t hist[HIST_US + 1];
static uint64_t requests, errors;

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1; /* a request is far smaller than a socket buffer: EAGAIN here is a failure too */
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static char *find_head_end(char *p, size_t n) {
  return memmem(p, n, "\r\n\r\n", 4);
}

/* Content-Length of a response head (0 when absent). */
static size_t content_length(const char *head, size_t n) {
  static const char name[] = "\r\ncontent-length:";
  for (size_t i = 0; i + sizeof name - 1 <= n; i++) {
    if (strncasecmp(head + i, name, sizeof name - 1) == 0) {
      const char *v = head + i + sizeof name - 1;
      while (*v == ' ' || *v == '\t') v++;
      return (size_t)strtoull(v, NULL, 10);
    }
  }
  return 0;
}

static void finish(struct conn *c, int epfd) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->state = DONE;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s <proxy-port> <origin-port> <connections> <seconds>\n", argv[0]);
    return 2;
  }
  int proxy_port = atoi(argv[1]), origin_port = atoi(argv[2]), n = atoi(argv[3]);
  double seconds = atof(argv[4]);
  if (n < 1 || n > 10000 || seconds <= 0 || seconds > 600) {
    fprintf(stderr, "connections must be 1-10000 and seconds 0-600\n");
    return 2;
  }
  char connect_req[128], get_req[128];
  int connect_len = snprintf(connect_req, sizeof connect_req,
                             "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", origin_port,
                             origin_port);
  int get_len =
      snprintf(get_req, sizeof get_req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", origin_port);

  struct conn *conns = calloc((size_t)n, sizeof *conns);
  int epfd = epoll_create1(0);
  if (conns == NULL || epfd < 0) return 1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)proxy_port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int open = 0;
  for (int i = 0; i < n; i++) {
    struct conn *c = &conns[i];
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* A blocking connect and CONNECT write: the set-up is not measured. */
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        write_all(c->fd, connect_req, (size_t)connect_len) != 0) {
      errors++;
      if (c->fd >= 0) close(c->fd);
      c->state = DONE;
      continue;
    }
    c->state = OPENING;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    open++;
  }

  uint64_t start = now_us(), stop_at = start + (uint64_t)(seconds * 1e6);
  struct epoll_event events[256];
  while (open > 0) {
    uint64_t t = now_us();
    if (t >= stop_at) break;
    int ready = epoll_wait(epfd, events, 256, (int)((stop_at - t) / 1000) + 1);
    if (ready < 0 && errno != EINTR) break;
    for (int e = 0; e < ready; e++) {
      struct conn *c = events[e].data.ptr;
      if (c->state == DONE) continue;
      ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        errors++;
        finish(c, epfd);
        open--;
        continue;
      }
      c->len += (size_t)r;
      for (;;) {
        char *end = find_head_end(c->buf, c->len);
        if (end == NULL) break;
        size_t head = (size_t)(end - c->buf) + 4;
        int ok = c->len >= 12 && memcmp(c->buf, "HTTP/1.", 7) == 0 && memcmp(c->buf + 8, " 200", 4) == 0;
        size_t total = head;
        if (c->state == TUNNEL) {
          total += content_length(c->buf, head);
          if (c->len < total) break;
          uint64_t lat = now_us() - c->sent_at;
          hist[lat < HIST_US ? lat : HIST_US]++;
          if (ok) requests++;
          else errors++;
        } else if (!ok) {
          errors++; /* the proxy refused the tunnel */
          finish(c, epfd);
          open--;
          break;
        }
        c->state = TUNNEL;
        memmove(c->buf, c->buf + total, c->len - total);
        c->len -= total;
        c->sent_at = now_us();
        if (c->sent_at >= stop_at || write_all(c->fd, get_req, (size_t)get_len) != 0) {
          finish(c, epfd);
          open--;
          break;
        }
      }
      if (c->state != DONE && c->len == BUF) {
        errors++; /* a head larger than the buffer: not this bench's origin */
        finish(c, epfd);
        open--;
      }
    }
  }
  double elapsed = (double)(now_us() - start) / 1e6;
  for (int i = 0; i < n; i++)
    if (conns[i].state != DONE) close(conns[i].fd);

  uint64_t seen = 0, p50 = 0, p99 = 0, total = 0;
  int have50 = 0;
  for (int i = 0; i <= HIST_US; i++) total += hist[i];
  for (int i = 0; i <= HIST_US; i++) {
    seen += hist[i];
    if (!have50 && seen * 2 >= total) {
      p50 = (uint64_t)i;
      have50 = 1;
    }
    if (seen * 100 >= total * 99) {
      p99 = (uint64_t)i;
      break;
    }
  }
  printf("{\"requests\":%llu,\"errors\":%llu,\"rps\":%.1f,\"p50\":%.3f,\"p99\":%.3f}\n",
         (unsigned long long)requests, (unsigned long long)errors, (double)requests / elapsed,
         (double)p50 / 1000.0, (double)p99 / 1000.0);
  return 0;
}
