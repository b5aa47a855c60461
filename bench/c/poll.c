/* The C poll() program: the same workloads with one pollfd array, scanned
 * in full after every poll() as any poll() program must.
 *   poll w1 P=64 ms=300 warm=60 | poll w2 samples=2000 | poll w3 N=10000 */
#include "common.h" /* first: it defines _GNU_SOURCE */

#include <poll.h>
#include <sys/eventfd.h>

/* pfd[0..nact) are the read ends of the active pipes (wfd their write ends);
 * pfd[nact..nfds) are idle. */
static long pingpong(struct pollfd* pfd, long nfds, const int* wfd, long nact,
                     long ms, long warm, int64_t* ns) {
  char b = 'x';
  long events = 0;
  int64_t start = now_ns(), deadline = start + warm * 1000000, t0 = 0;
  int measuring = 0;
  struct clockcheck cc = {1, 1, start};
  for (;;) {
    for (long i = 0; i < nact; i++)
      if (write(wfd[i], &b, 1) != 1)
        die("write");
    for (long got = 0; got < nact;) {
      int n = poll(pfd, (nfds_t)nfds, -1);
      if (n < 0 && errno != EINTR)
        die("poll");
      for (long i = 0; i < nfds && n > 0; i++) {
        if (!pfd[i].revents)
          continue;
        n--;
        if (pfd[i].revents & POLLIN) {
          if (read(pfd[i].fd, &b, 1) != 1)
            die("read");
          got++;
        }
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
  if (strcmp(w, "w1") == 0 || strcmp(w, "w3") == 0) {
    int w1 = strcmp(w, "w1") == 0;
    long nact = w1 ? arg_long(argc, argv, "P", 64) : 1;
    long nidle = w1 ? 0 : arg_long(argc, argv, "N", 1000) / 2 * 2;
    struct pollfd* pfd = calloc((size_t)(nact + nidle), sizeof(*pfd));
    int* wfd = calloc((size_t)nact, sizeof(int));
    int p[2];
    for (long i = 0; i < nact; i++) {
      make_pipe(p);
      pfd[i] = (struct pollfd){.fd = p[0], .events = POLLIN};
      wfd[i] = p[1];
    }
    for (long i = nact; i < nact + nidle; i += 2) {
      make_socketpair(p);
      pfd[i] = (struct pollfd){.fd = p[0], .events = POLLIN};
      pfd[i + 1] = (struct pollfd){.fd = p[1], .events = POLLIN};
    }
    long events = pingpong(pfd, nact + nidle, wfd, nact, ms, warm, &ns);
    if (w1)
      print_rate("c-poll", "w1", "P", nact, events, ns);
    else
      print_rate("c-poll", "w3", "N", nidle, events, ns);
  } else if (strcmp(w, "w2") == 0) {
    long samples = arg_long(argc, argv, "samples", 2000);
    int64_t* lat = calloc((size_t)samples, sizeof(*lat));
    struct waker wk = {.wake = wake_eventfd};
    pthread_t th;
    evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (evfd < 0)
      die("eventfd");
    struct pollfd pfd = {.fd = evfd, .events = POLLIN};
    if (pthread_create(&th, NULL, waker_main, &wk) != 0)
      die("pthread_create");
    for (long i = -samples / 10; i < samples; i++) {
      uint64_t v;
      atomic_store(&wk.armed, 1);
      int n;
      do
        n = poll(&pfd, 1, -1);
      while (n < 0 && errno == EINTR);
      int64_t t1 = now_ns();
      if (n != 1 || read(evfd, &v, sizeof(v)) != sizeof(v))
        die("poll w2");
      if (i >= 0)
        lat[i] = t1 - atomic_load(&wk.t0);
    }
    atomic_store(&wk.stop, 1);
    pthread_join(th, NULL);
    print_latency("c-poll", lat, samples);
  } else {
    fprintf(stderr, "usage: poll w1|w2|w3 [P=|N=|samples=] [ms=] [warm=]\n");
    return 2;
  }
  return 0;
}
