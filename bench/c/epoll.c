/* The baseline: what a careful C program does with epoll directly.
 * Level-triggered registrations made once; one epoll_wait per batch.
 *   epoll w1 P=64 ms=300 warm=60
 *   epoll w2 samples=2000
 *   epoll w3 N=10000 ms=300 warm=60
 *   epoll w5 ms=300 warm=60   (always ready: read 64 bytes, write them back) */
#include "common.h" /* first: it defines _GNU_SOURCE */

#include <sys/epoll.h>
#include <sys/eventfd.h>

static int ep;

static void add(int fd, uint32_t key) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = key};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
    die("epoll_ctl");
}

/* Rounds of: one byte into each of `nact` pipes, then epoll_wait until each
 * byte is read. Returns events; *ns is the measured time after warm-up. */
static long pingpong(int (*pipes)[2], long nact, long ms, long warm,
                     int64_t* ns) {
  struct epoll_event* ev = calloc((size_t)nact + 64, sizeof(*ev));
  char b = 'x';
  long events = 0;
  int64_t start = now_ns(), deadline = start + warm * 1000000, t0 = 0;
  int measuring = 0;
  struct clockcheck cc = {1, 1, start};
  for (;;) {
    for (long i = 0; i < nact; i++)
      if (write(pipes[i][1], &b, 1) != 1)
        die("write");
    for (long got = 0; got < nact;) {
      int n = epoll_wait(ep, ev, (int)nact + 64, -1);
      if (n < 0 && errno != EINTR)
        die("epoll_wait");
      for (int i = 0; i < n; i++) {
        if (read(pipes[ev[i].data.u32][0], &b, 1) != 1)
          die("read");
        got++;
      }
    }
    if (measuring)
      events += nact;
    int64_t t = clock_due(&cc);
    if (t != 0) {
      if (t >= deadline) {
        if (measuring) {
          *ns = t - t0;
          break;
        }
        measuring = 1;
        t0 = t;
        deadline = t + ms * 1000000;
      }
    }
  }
  free(ev);
  return events;
}

/* W5: a pipe that always holds 4 KiB. Each step reads 64 bytes and writes
 * them back; the fd is registered edge-triggered and epoll_wait is called only
 * after a read would block (never, here): what a C program with cached
 * readiness does, and what the facade's tight loop of awaits amounts to. */
static long always_ready(long ms, long warm, int64_t* ns) {
  int p[2];
  char buf[64], fill[4096];
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 0}, out[1];
  long events = 0;
  int measuring = 0;
  int64_t start = now_ns(), deadline = start + warm * 1000000, t0 = 0;
  struct clockcheck cc = {1, 1, start};
  make_pipe(p);
  if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) < 0)
    die("epoll_ctl");
  memset(fill, 'x', sizeof(fill));
  if (write(p[1], fill, sizeof(fill)) != (ssize_t)sizeof(fill))
    die("write");
  for (;;) {
    for (int i = 0; i < 16; i++) {
      ssize_t n;
      while ((n = read(p[0], buf, sizeof(buf))) < 0 && errno == EAGAIN)
        if (epoll_wait(ep, out, 1, -1) < 0 && errno != EINTR)
          die("epoll_wait");
      if (n != (ssize_t)sizeof(buf))
        die("read");
      if (write(p[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
        die("write");
    }
    if (measuring)
      events += 16;
    int64_t t = clock_due(&cc);
    if (t != 0 && t >= deadline) {
      if (measuring) {
        *ns = t - t0;
        break;
      }
      measuring = 1;
      t0 = t;
      deadline = t + ms * 1000000;
    }
  }
  close(p[0]);
  close(p[1]);
  return events;
}

static int evfd;
static void wake_eventfd(void* arg) {
  uint64_t one = 1;
  (void)arg;
  if (write(evfd, &one, sizeof(one)) != sizeof(one))
    die("write eventfd");
}

int main(int argc, char** argv) {
  const char* w = argc > 1 ? argv[1] : "w1";
  long ms = arg_long(argc, argv, "ms", 300),
       warm = arg_long(argc, argv, "warm", 60);
  int64_t ns = 0;
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    die("epoll_create1");
  if (strcmp(w, "w1") == 0) {
    long P = arg_long(argc, argv, "P", 64);
    int(*pipes)[2] = calloc((size_t)P, sizeof(*pipes));
    for (long i = 0; i < P; i++)
      make_pipe(pipes[i]), add(pipes[i][0], (uint32_t)i);
    long events = pingpong(pipes, P, ms, warm, &ns);
    print_rate("c-epoll", "w1", "P", P, events, ns);
  } else if (strcmp(w, "w3") == 0) {
    long N = arg_long(argc, argv, "N", 1000);
    int active[1][2], idle[2];
    make_pipe(active[0]);
    add(active[0][0], 0);
    /* N idle registrations: both ends of N/2 socket pairs, readable. */
    for (long i = 0; i < N / 2; i++) {
      make_socketpair(idle);
      add(idle[0], 1), add(idle[1], 1);
    }
    long events = pingpong(active, 1, ms, warm, &ns);
    print_rate("c-epoll", "w3", "N", N, events, ns);
  } else if (strcmp(w, "w5") == 0) {
    long events = always_ready(ms, warm, &ns);
    print_rate("c-epoll", "w5", "chunk", 64, events, ns);
  } else if (strcmp(w, "w2") == 0) {
    long samples = arg_long(argc, argv, "samples", 2000);
    int64_t* lat = calloc((size_t)samples, sizeof(*lat));
    struct waker wk = {.wake = wake_eventfd};
    struct epoll_event ev[8];
    pthread_t th;
    evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (evfd < 0)
      die("eventfd");
    add(evfd, 0);
    if (pthread_create(&th, NULL, waker_main, &wk) != 0)
      die("pthread_create");
    for (long i = -samples / 10; i < samples; i++) { /* first 10%: warm-up */
      uint64_t v;
      atomic_store(&wk.armed, 1);
      int n;
      do
        n = epoll_wait(ep, ev, 8, -1);
      while (n < 0 && errno == EINTR);
      int64_t t1 = now_ns();
      if (n != 1 || read(evfd, &v, sizeof(v)) != sizeof(v))
        die("epoll_wait w2");
      if (i >= 0)
        lat[i] = t1 - atomic_load(&wk.t0);
    }
    atomic_store(&wk.stop, 1);
    pthread_join(th, NULL);
    print_latency("c-epoll", lat, samples);
  } else {
    fprintf(stderr,
            "usage: epoll w1|w2|w3|w5 [P=|N=|samples=] [ms=] [warm=]\n");
    return 2;
  }
  return 0;
}
