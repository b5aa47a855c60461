/* Shared by the C contenders: clock, argument parsing, fd limits, the one
 * JSON line every bench program prints. */
#ifndef BENCH_COMMON_H_
#define BENCH_COMMON_H_

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void die(const char* what) {
  /* Still one JSON line, so the runner can report what broke. */
  printf("{\"ok\":false,\"error\":\"%s: %s\"}\n", what, strerror(errno));
  exit(1);
}

static inline long arg_long(int argc, char** argv, const char* name,
                            long dflt) {
  size_t len = strlen(name);
  for (int i = 2; i < argc; i++)
    if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=')
      return strtol(argv[i] + len + 1, NULL, 10);
  return dflt;
}

static inline long rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static inline void make_pipe(int fds[2]) {
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
    die("pipe2");
}

/* W3's idle fds: both ends of AF_UNIX socket pairs, watched for reading. */
static inline void make_socketpair(int fds[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) <
      0)
    die("socketpair");
}

/* The clock is read every `every` rounds; `every` doubles (up to 256) while
 * the rounds between two reads take under 50 us, so the clock costs nothing
 * measurable and a slow round (poll over 19k fds) never overshoots much. */
struct clockcheck {
  long every, left;
  int64_t last;
};

static inline int64_t clock_due(struct clockcheck* c) {
  int64_t t;
  if (--c->left > 0)
    return 0;
  t = now_ns();
  if (t - c->last < 50000 && c->every < 256)
    c->every *= 2;
  c->last = t;
  c->left = c->every;
  return t;
}

static inline void print_rate(const char* contender, const char* workload,
                              const char* param, long pval, long events,
                              int64_t ns) {
  printf(
      "{\"ok\":true,\"contender\":\"%s\",\"workload\":\"%s\",\"params\":{\"%"
      "s\":%ld},"
      "\"events\":%ld,\"ns\":%lld,\"ns_per_event\":%.3f,\"events_per_s\":%.1f,"
      "\"maxrss_kb\":%ld}\n",
      contender, workload, param, pval, events, (long long)ns,
      (double)ns / (double)events, (double)events * 1e9 / (double)ns, rss_kb());
}

static int cmp_i64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return x < y ? -1 : x > y;
}

static inline void print_latency(const char* contender, int64_t* lat, long n) {
  qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
  printf(
      "{\"ok\":true,\"contender\":\"%s\",\"workload\":\"w2\",\"params\":{"
      "\"samples\":%ld},"
      "\"samples\":%ld,\"p50_ns\":%lld,\"p99_ns\":%lld,\"min_ns\":%lld,"
      "\"maxrss_kb\":%ld}\n",
      contender, n, n, (long long)lat[n / 2], (long long)lat[(n * 99) / 100],
      (long long)lat[0], rss_kb());
}

/* W2's waker: waits until the waiter says it is about to block, lets it get
 * there (200 us), stamps the time and calls `wake`. */
struct waker {
  atomic_int armed; /* 1: waiter is going to block */
  atomic_int stop;
  _Atomic int64_t t0; /* stamp taken just before the wake */
  void (*wake)(void* arg);
  void* arg;
};

static inline void* waker_main(void* p) {
  struct waker* w = (struct waker*)p;
  struct timespec gap = {0, 200000};
  for (;;) {
    while (!atomic_load(&w->armed)) {
      if (atomic_load(&w->stop))
        return NULL;
      nanosleep(&(struct timespec){0, 20000}, NULL);
    }
    atomic_store(&w->armed, 0);
    nanosleep(&gap, NULL);
    atomic_store(&w->t0, now_ns());
    w->wake(w->arg);
  }
}

#endif
