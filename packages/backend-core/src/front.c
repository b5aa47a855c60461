/* The front: what every caller of a poller goes through, once for every
 * backend (polling's lib.rs plays this part). It checks arguments and
 * capabilities before the mechanism sees them, coalesces notify and retries
 * -EINTR against one deadline, so that a mechanism file (backend.h) only
 * makes its syscalls. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

struct aio_front_s {
  aio_poller_t* poller;
  unsigned caps;
  atomic_int notified; /* 1 from a notify until a wait consumes its wake-up */
  /* 1 while a wait is in: the next one gets no events (polling's try-lock).
   * A mechanism never sees two waits, and the scratch is the waiter's. */
  atomic_int waiting;
  void* scratch; /* the mechanism's kernel events, grown to the largest wait */
  int scratch_cap;
};

int aio_front_create(aio_front_t** out) {
  int err;
  aio_front_t* f = (aio_front_t*)calloc(1, sizeof(*f));
  if (f == NULL)
    return -ENOMEM;
  err = aio_poller_create(&f->poller);
  if (err < 0) {
    free(f);
    return err;
  }
  f->caps = aio_backend_caps();
  atomic_init(&f->notified, 0);
  atomic_init(&f->waiting, 0);
  *out = f;
  return 0;
}

void aio_front_destroy(aio_front_t* f) {
  aio_poller_destroy(f->poller);
  free(f->scratch);
  free(f);
}

int aio_front_fd(const aio_front_t* f) {
  return aio_poller_fd(f->poller);
}

/* 0 if the backend can register `interest` in `mode`, else why not. */
static int check_registration(const aio_front_t* f, int fd, uint32_t key,
                              unsigned interest, int mode) {
  unsigned need = 0;
  if (fd < 0)
    return -EBADF;
  if (key == AIO_NOTIFY_KEY)
    return -EINVAL;
  if (interest & ~(AIO_READABLE | AIO_WRITABLE | AIO_PRIORITY))
    return -EINVAL;
  switch (mode) {
    case AIO_MODE_ONESHOT:
      break;
    case AIO_MODE_LEVEL:
      need |= AIO_CAP_LEVEL;
      break;
    case AIO_MODE_EDGE:
    case AIO_MODE_EDGE_ONESHOT:
      need |= AIO_CAP_EDGE;
      break;
    default:
      return -EINVAL;
  }
  if (interest & AIO_PRIORITY)
    need |= AIO_CAP_PRIORITY;
  return (f->caps & need) == need ? 0 : -ENOTSUP;
}

int aio_front_add(aio_front_t* f, int fd, uint32_t key, unsigned interest,
                  int mode) {
  int err = check_registration(f, fd, key, interest, mode);
  if (err != 0)
    return err;
  return aio_poller_add(f->poller, fd, key, interest, (aio_mode_t)mode);
}

int aio_front_modify(aio_front_t* f, int fd, uint32_t key, unsigned interest,
                     int mode) {
  int err = check_registration(f, fd, key, interest, mode);
  if (err != 0)
    return err;
  return aio_poller_modify(f->poller, fd, key, interest, (aio_mode_t)mode);
}

int aio_front_delete(aio_front_t* f, int fd) {
  if (fd < 0)
    return -EBADF;
  return aio_poller_delete(f->poller, fd);
}

static int64_t now_ns(void) {
  struct timespec ts;
  /* CLOCK_MONOTONIC cannot fail where it exists; a deadline without a clock
   * would be wrong in silence. */
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    abort();
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Room in the scratch for `capacity` kernel events; only the waiter calls
 * this. */
static int reserve_scratch(aio_front_t* f, int capacity) {
  size_t size = aio_backend_event_size();
  void* grown;
  if (capacity <= f->scratch_cap || size == 0)
    return 0;
  grown = realloc(f->scratch, (size_t)capacity * size);
  if (grown == NULL)
    return -ENOMEM;
  f->scratch = grown;
  f->scratch_cap = capacity;
  return 0;
}

/* polling's front does the same: a signal, or a mechanism woken with nothing
 * for the caller, costs a retry with what is left of the same deadline. */
static int wait_locked(aio_front_t* f, aio_event_t* events, int capacity,
                       int64_t timeout_ns) {
  int64_t deadline = 0;
  int err = reserve_scratch(f, capacity);
  if (err != 0)
    return err;
  if (timeout_ns > 0) {
    int64_t now = now_ns();
    deadline = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
  }
  for (;;) {
    int woken = 0;
    int n = aio_poller_wait(f->poller, events, capacity, f->scratch, timeout_ns,
                            &woken);
    if (woken) {
      /* The mechanism drained the wake-up first: a notify racing in between
       * is covered by this very return. */
      atomic_store(&f->notified, 0);
      return n == -EINTR ? 0 : n;
    }
    if (n != -EINTR)
      return n;
    if (timeout_ns > 0) {
      timeout_ns = deadline - now_ns();
      if (timeout_ns <= 0)
        return 0;
    }
  }
}

/* One waiter at a time, as polling does: a second thread that asks while a
 * wait is in returns at once with no events (its caller waits again or does
 * something else). Waiting for the first would block it for a timeout that
 * is not its own. */
int aio_front_wait(aio_front_t* f, aio_event_t* events, int capacity,
                   int64_t timeout_ns) {
  int n;
  if (events == NULL || capacity <= 0)
    return -EINVAL;
  if (timeout_ns < -1)
    timeout_ns = -1;
  if (atomic_exchange_explicit(&f->waiting, 1, memory_order_acquire) != 0)
    return 0;
  n = wait_locked(f, events, capacity, timeout_ns);
  atomic_store_explicit(&f->waiting, 0, memory_order_release);
  return n;
}

/* Many notifies before a wait write one wake-up: the mechanism is asked
 * again only once a wait has consumed it. */
int aio_front_notify(aio_front_t* f) {
  int err;
  if (atomic_exchange(&f->notified, 1) != 0)
    return 0;
  err = aio_poller_notify(f->poller);
  if (err != 0)
    atomic_store(&f->notified, 0);
  return err;
}
