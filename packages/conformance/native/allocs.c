/* No wait allocates: the heap allocations that aio_front_wait makes, counted.
 * A wait's kernel events go into one scratch buffer per poller, grown to the
 * largest capacity asked for (front.c, aio_backend_event_size()); before
 * that, epoll, kqueue and event ports took a stack chunk and malloc'd above
 * it on every wait. Linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc (contract.mk), so that every allocation made by the front,
 * the mechanism file and a kernel emulation (kqueue_shim.c, port_shim.c) is
 * counted, and none of libc's own. Deterministic: counts, not timings.
 * Prints one "allocs <backend>: ..." line with the counts (bench/alloc-count.sh
 * reads it) and one ok/FAIL line per check. Built by contract.mk. */
#define _GNU_SOURCE
#include <sys/resource.h>

#include "harness.h"

void* __real_malloc(size_t size);
void* __real_calloc(size_t n, size_t size);
void* __real_realloc(void* p, size_t size);

static long allocs;

void* __wrap_malloc(size_t size) {
  allocs++;
  return __real_malloc(size);
}

void* __wrap_calloc(size_t n, size_t size) {
  allocs++;
  return __real_calloc(n, size);
}

void* __wrap_realloc(void* p, size_t size) {
  allocs++;
  return __real_realloc(p, size);
}

enum { READY = 300, CAPACITY = 1024, WAITS = 200 };

static int pipes[READY][2];

static int level_or_oneshot(void) {
  return (aio_backend_caps() & AIO_CAP_LEVEL) ? AIO_MODE_LEVEL
                                              : AIO_MODE_ONESHOT;
}

/* One wait of `capacity`; re-arms oneshot registrations after it (outside
 * the count: that is a modify, not a wait). Returns the allocations the wait
 * made; *got its events. */
static long counted_wait(aio_front_t* p, aio_event_t* ev, int capacity,
                         int mode, int* got) {
  long before = allocs, made;
  int n = aio_front_wait(p, ev, capacity, 0), i;
  made = allocs - before;
  *got = n;
  if (mode == AIO_MODE_ONESHOT)
    for (i = 0; i < n; i++)
      if (aio_front_modify(p, pipes[ev[i].key][0], ev[i].key, AIO_READABLE,
                           mode) != 0)
        die("aio_front_modify");
  return made;
}

int main(void) {
  static aio_event_t ev[2 * CAPACITY];
  aio_front_t* p;
  int mode = level_or_oneshot(), i, got = 0, short_batch = 0;
  long first, rest = 0, empty = 0, grow, after_grow = 0;
  struct rlimit rl;
  harness_start();
  /* 300 pipes: 600 fds; raise the soft limit if it is lower. */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024 &&
      rl.rlim_max >= 1024) {
    rl.rlim_cur = 1024;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  p = mk();
  for (i = 0; i < READY; i++) {
    make_pipe(pipes[i]);
    send1(pipes[i][1]);
    if (aio_front_add(p, pipes[i][0], (uint32_t)i, AIO_READABLE, mode) != 0)
      die("aio_front_add");
  }
  /* The first wait of this capacity may grow the scratch, once. */
  first = counted_wait(p, ev, CAPACITY, mode, &got);
  for (i = 0; i < WAITS; i++) {
    rest += counted_wait(p, ev, CAPACITY, mode, &got);
    if (got != READY)
      short_batch = 1;
  }
  /* Nothing ready: the same capacity, still nothing to allocate. */
  for (i = 0; i < READY; i++)
    drain(pipes[i][0]);
  if (mode == AIO_MODE_ONESHOT)
    for (i = 0; i < READY; i++)
      aio_front_modify(p, pipes[i][0], (uint32_t)i, AIO_READABLE, mode);
  for (i = 0; i < WAITS; i++)
    empty += counted_wait(p, ev, CAPACITY, mode, &got);
  /* A larger capacity grows the scratch once more, then no more. */
  for (i = 0; i < READY; i++)
    send1(pipes[i][1]);
  grow = counted_wait(p, ev, 2 * CAPACITY, mode, &got);
  for (i = 0; i < WAITS; i++)
    after_grow += counted_wait(p, ev, 2 * CAPACITY, mode, &got);
  printf(
      "allocs %s: first wait %ld, next %d waits of %d events %ld "
      "(%.3f per wait), %d empty waits %ld, first wait of %d %ld, next %d "
      "%ld\n",
      aio_backend_name(), first, WAITS, READY, rest, (double)rest / WAITS,
      WAITS, empty, 2 * CAPACITY, grow, WAITS, after_grow);
  check(!short_batch, "allocs: each wait of capacity %d got all %d events",
        CAPACITY, READY);
  /* The first wait of a capacity may allocate: the scratch, once, and an
   * emulated kernel's own queue (port_shim.c) as it first fills. */
  check(rest == 0,
        "allocs: %d more waits of %d events allocate nothing, "
        "made %ld",
        WAITS, READY, rest);
  check(empty == 0,
        "allocs: %d waits with nothing ready allocate nothing, "
        "made %ld",
        WAITS, empty);
  check(after_grow == 0,
        "allocs: after a larger capacity (first wait: %ld), "
        "%d more waits allocate nothing, made %ld",
        grow, WAITS, after_grow);
  aio_front_destroy(p);
  for (i = 0; i < READY; i++)
    close2(pipes[i]);
  return harness_end();
}
