/* The front: what every caller of a poller goes through, once for every
 * backend (polling's lib.rs plays this part). It checks arguments and
 * capabilities before the mechanism sees them, coalesces notify and retries
 * -EINTR against one deadline, so that a mechanism file (backend.h) only
 * makes its syscalls. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* A registration as the front keeps it: the caller's key, the fd and the
 * file it named when registered. The mechanism is given the slot's own key
 * (slot | generation << 24), never the caller's: callers may share keys, and
 * an event of a slot freed since cannot reach its next holder. */
typedef struct {
  uint32_t key; /* the caller's */
  int fd;
  unsigned interest;
  int mode;
  unsigned char owned; /* AIO_REG_OWNED: no identity check, level kept */
  aio_fd_id_t id;
  unsigned char gen;
  unsigned char used;
  unsigned char retired; /* the kernel may still hold it: never reused */
} front_reg_t;

#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

struct aio_front_s {
  aio_poller_t* poller;
  unsigned caps;
  atomic_int notified; /* 1 from a notify until a wait consumes its wake-up */
  /* 1 while a wait is in: the next one gets no events (polling's try-lock).
   * A mechanism never sees two waits, and the scratch is the waiter's. */
  atomic_int waiting;
  void* scratch; /* the mechanism's kernel events, grown to the largest wait */
  int scratch_cap;
  /* The registrations, and everything below. Never held across a
   * mechanism's wait (its add/modify/delete may wait for the waiter). */
  pthread_mutex_t lock;
  front_reg_t* regs;
  uint32_t nregs, cap_regs;
  uint32_t* free; /* slots to reuse */
  uint32_t nfree;
  int* by_fd; /* fd -> slot + 1, 0: none */
  int by_fd_len;
  uint32_t* gone; /* caller keys to report AIO_GONE for at the next wait */
  uint32_t ngone;
};

int aio_front_create(aio_front_t** out) {
  int err;
  aio_front_t* f = (aio_front_t*)calloc(1, sizeof(*f));
  if (f == NULL)
    return -ENOMEM;
  if ((err = pthread_mutex_init(&f->lock, NULL)) != 0) {
    free(f);
    return -err;
  }
  err = aio_poller_create(&f->poller);
  if (err < 0) {
    pthread_mutex_destroy(&f->lock);
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
  pthread_mutex_destroy(&f->lock);
  free(f->scratch);
  free(f->regs);
  free(f->free);
  free(f->by_fd);
  free(f->gone);
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
  switch (mode & ~AIO_REG_OWNED) {
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

/* The mode the mechanism is given for a caller's (owned bit included). */
static aio_mode_t mech_mode(const aio_front_t* f, int mode) {
  int base = mode & ~AIO_REG_OWNED;
  if ((mode & AIO_REG_OWNED) && base == AIO_MODE_LEVEL &&
      (f->caps & AIO_CAP_LEVEL_REARMED))
    return AIO_MODE_LEVEL_KEPT;
  return (aio_mode_t)base;
}

static uint32_t slot_key(const aio_front_t* f, uint32_t slot) {
  return slot | ((uint32_t)f->regs[slot].gen << SLOT_BITS);
}

/* The live slot registered for fd, or -1. Under the lock. */
static int slot_of(const aio_front_t* f, int fd) {
  return fd < f->by_fd_len ? f->by_fd[fd] - 1 : -1;
}

/* A free slot for fd, its by_fd entry made: the slot, or -ENOMEM (nothing
 * changed). The gone list grows with the slots, so that reporting a gone
 * registration never needs memory. Under the lock. */
static int take_slot(aio_front_t* f, int fd) {
  uint32_t slot;
  if (aio_fdtable_grow((void**)&f->by_fd, &f->by_fd_len, sizeof(int), fd) != 0)
    return -ENOMEM;
  if (f->nfree > 0) {
    slot = f->free[--f->nfree];
  } else {
    if (f->nregs == f->cap_regs) {
      uint32_t cap = f->cap_regs ? f->cap_regs * 2 : 64;
      front_reg_t* regs;
      uint32_t *fr, *gone;
      if (cap > SLOT_MASK + 1u)
        cap = SLOT_MASK + 1u;
      if (cap == f->cap_regs)
        return -ENOMEM; /* 2^24 registrations on one poller */
      regs = (front_reg_t*)realloc(f->regs, cap * sizeof(*regs));
      if (regs == NULL)
        return -ENOMEM;
      f->regs = regs;
      fr = (uint32_t*)realloc(f->free, cap * sizeof(*fr));
      if (fr == NULL)
        return -ENOMEM;
      f->free = fr;
      gone = (uint32_t*)realloc(f->gone, cap * sizeof(*gone));
      if (gone == NULL)
        return -ENOMEM;
      f->gone = gone;
      f->cap_regs = cap;
    }
    slot = f->nregs++;
    f->regs[slot].gen = 0;
    f->regs[slot].retired = 0;
  }
  f->regs[slot].used = 1;
  f->regs[slot].fd = fd;
  f->by_fd[fd] = (int)slot + 1;
  return (int)slot;
}

/* The slot no longer stands for a registration: events the kernel still
 * hands out under its key are dropped. The slot is reused only once
 * release_slot() says the mechanism let go of it. Under the lock. */
static void unlink_slot(aio_front_t* f, uint32_t slot) {
  front_reg_t* r = &f->regs[slot];
  if (slot_of(f, r->fd) == (int)slot)
    f->by_fd[r->fd] = 0;
  r->used = 0;
}

/* After the mechanism's delete: `deleted` 0 if the kernel may still hold the
 * registration (epoll keeps one whose fd was closed while its file stays
 * open elsewhere, epoll(7) Q6), and the slot is then never reused. Under the
 * lock. */
static void release_slot(aio_front_t* f, uint32_t slot, int deleted) {
  front_reg_t* r = &f->regs[slot];
  if (!deleted) {
    r->retired = 1;
    return;
  }
  r->gen++;
  f->free[f->nfree++] = slot;
}

/* The registration's fd no longer names its file: say so at the next wait,
 * and let the mechanism go of it. Takes and gives back the lock. */
static void drop_gone(aio_front_t* f, uint32_t slot, int report) {
  int fd = f->regs[slot].fd, err;
  if (report)
    f->gone[f->ngone++] = f->regs[slot].key;
  unlink_slot(f, slot);
  pthread_mutex_unlock(&f->lock);
  /* By number: poll and kqueue keep tables by fd; epoll finds the stale
   * file only if the number still names it (it does not: ENOENT or EBADF,
   * and the new file at the number is not ours or it would have its own
   * slot). */
  err = aio_poller_delete(f->poller, fd);
  pthread_mutex_lock(&f->lock);
  release_slot(f, slot, err == 0);
}

/* Does the fd of a live slot still name the file registered? */
static int still_there(const front_reg_t* r) {
  aio_fd_id_t now;
  return aio_fd_identity(r->fd, &now) == 0 && aio_fd_same_file(&now, &r->id);
}

/* Does a live slot still stand for the file it was registered for? Not
 * asked of an fd the library owns. An epoll level registration's re-arm,
 * which it needs after each event anyway, is the check: epoll finds it by
 * the (fd, file) pair, so it fails (ENOENT, EBADF) once the number names
 * another file or none. Under the lock. */
static int holds(aio_front_t* f, uint32_t slot) {
  front_reg_t* r = &f->regs[slot];
  if (r->owned)
    return 1;
  if (r->mode == AIO_MODE_LEVEL && (f->caps & AIO_CAP_LEVEL_REARMED))
    return aio_poller_modify(f->poller, r->fd, slot_key(f, slot), r->interest,
                             AIO_MODE_LEVEL) == 0;
  return still_there(r);
}

/* What add and modify record of a caller's registration. */
static void set_reg(front_reg_t* r, uint32_t key, unsigned interest, int mode) {
  r->key = key;
  r->interest = interest;
  r->mode = mode & ~AIO_REG_OWNED;
  r->owned = (mode & AIO_REG_OWNED) != 0;
}

int aio_front_add(aio_front_t* f, int fd, uint32_t key, unsigned interest,
                  int mode) {
  aio_fd_id_t id;
  int err = check_registration(f, fd, key, interest, mode), slot, reported = 0;
  if (err != 0)
    return err;
  if ((err = aio_fd_identity(fd, &id)) != 0)
    return err;
  pthread_mutex_lock(&f->lock);
  slot = slot_of(f, fd);
  if (slot >= 0) {
    if (aio_fd_same_file(&f->regs[slot].id, &id)) {
      pthread_mutex_unlock(&f->lock);
      return -EEXIST;
    }
    /* Closed and reused behind the holder's back: the holder is gone. */
    drop_gone(f, (uint32_t)slot, 1);
    reported = 1;
    if (slot_of(f, fd) >= 0) { /* another thread's add won the number */
      pthread_mutex_unlock(&f->lock);
      aio_front_notify(f);
      return -EEXIST;
    }
  }
  slot = take_slot(f, fd);
  if (slot < 0) {
    err = slot;
  } else {
    set_reg(&f->regs[slot], key, interest, mode);
    f->regs[slot].id = id;
    err = aio_poller_add(f->poller, fd, slot_key(f, (uint32_t)slot), interest,
                         mech_mode(f, mode));
    if (err != 0) {
      unlink_slot(f, (uint32_t)slot);
      release_slot(f, (uint32_t)slot, 1);
    }
  }
  pthread_mutex_unlock(&f->lock);
  if (reported)
    aio_front_notify(f);
  return err;
}

int aio_front_modify(aio_front_t* f, int fd, uint32_t key, unsigned interest,
                     int mode) {
  int err = check_registration(f, fd, key, interest, mode), slot;
  if (err != 0)
    return err;
  pthread_mutex_lock(&f->lock);
  slot = slot_of(f, fd);
  if (slot < 0) {
    /* Not ours: the kernel's answer (ENOENT, or EBADF for a closed fd). */
    err = aio_poller_modify(f->poller, fd, 0, interest, mech_mode(f, mode));
  } else if (!f->regs[slot].owned && !still_there(&f->regs[slot])) {
    /* Re-arming an fd closed (or reused) behind our back would watch
     * whatever the number names now: the registration is gone instead. */
    drop_gone(f, (uint32_t)slot, 0);
    err = -EBADF;
  } else {
    set_reg(&f->regs[slot], key, interest, mode);
    err = aio_poller_modify(f->poller, fd, slot_key(f, (uint32_t)slot),
                            interest, mech_mode(f, mode));
  }
  pthread_mutex_unlock(&f->lock);
  return err;
}

int aio_front_delete(aio_front_t* f, int fd) {
  int slot, err, same = 1;
  if (fd < 0)
    return -EBADF;
  pthread_mutex_lock(&f->lock);
  slot = slot_of(f, fd);
  if (slot < 0) {
    pthread_mutex_unlock(&f->lock);
    return aio_poller_delete(f->poller, fd);
  }
  same = still_there(&f->regs[slot]);
  unlink_slot(f, (uint32_t)slot);
  pthread_mutex_unlock(&f->lock);
  err = aio_poller_delete(f->poller, fd);
  pthread_mutex_lock(&f->lock);
  release_slot(f, (uint32_t)slot, err == 0);
  pthread_mutex_unlock(&f->lock);
  /* Closing never fails for an fd closed behind our back: whatever the
   * kernel answers, nothing of ours is left that could be deleted. */
  return same ? err : 0;
}

int aio_front_verify(aio_front_t* f, const int32_t* fds, aio_event_t* events,
                     int n) {
  int i, slot, found = 0;
  pthread_mutex_lock(&f->lock);
  for (i = 0; i < n; i++) {
    if (fds[i] < 0)
      continue;
    if ((slot = slot_of(f, fds[i])) < 0 || f->regs[slot].key != events[i].key) {
      /* Its registration left the front since (found gone, its number
       * taken): the event is the old file's at best. Gone. */
      events[i].flags = AIO_GONE | AIO_ERROR;
      found++;
      continue;
    }
    /* The re-arm the waiter left to the delivery (epoll level), or the
     * file check. */
    if (holds(f, (uint32_t)slot))
      continue;
    events[i].flags = AIO_GONE | AIO_ERROR;
    drop_gone(f, (uint32_t)slot, 0);
    found++;
  }
  pthread_mutex_unlock(&f->lock);
  return found;
}

int aio_front_sweep(aio_front_t* f) {
  uint32_t slot;
  int found = 0;
  pthread_mutex_lock(&f->lock);
  for (slot = 0; slot < f->nregs; slot++) {
    if (f->regs[slot].used && !still_there(&f->regs[slot])) {
      drop_gone(f, slot, 1);
      found++;
    }
  }
  pthread_mutex_unlock(&f->lock);
  if (found > 0)
    aio_front_notify(f);
  return found;
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

/* The gone registrations found outside a wait (add, sweep), up to
 * `capacity`: the count. Under the lock. */
static int take_gone(aio_front_t* f, aio_event_t* events, int capacity) {
  uint32_t i, n = f->ngone < (uint32_t)capacity ? f->ngone : (uint32_t)capacity;
  for (i = 0; i < n; i++) {
    events[i].key = f->gone[i];
    events[i].flags = AIO_GONE | AIO_ERROR;
  }
  memmove(f->gone, f->gone + n, (f->ngone - n) * sizeof(*f->gone));
  f->ngone -= n;
  return (int)n;
}

/* The mechanism's events, keyed by slot, as the caller's: an event of a slot
 * deleted since (or never reused) is dropped; one whose fd no longer names
 * the file registered is the registration's last (AIO_GONE). The count. */
static int translate(aio_front_t* f, aio_event_t* events, int n, int checked) {
  int i, out = 0;
  pthread_mutex_lock(&f->lock);
  for (i = 0; i < n; i++) {
    uint32_t slot = events[i].key & SLOT_MASK;
    if (slot >= f->nregs || !f->regs[slot].used ||
        events[i].key != slot_key(f, slot))
      continue;
    events[out].key = f->regs[slot].key; /* events[i].key is the slot's */
    /* Unchecked: aio_front_verify() does it on the thread that delivers. */
    if (!checked || holds(f, slot)) {
      events[out].flags = events[i].flags;
    } else {
      /* The kernel reported the old file (epoll: still open elsewhere), or
       * what the number names now (poll): neither is the caller's. */
      events[out].flags = AIO_GONE | AIO_ERROR;
      drop_gone(f, slot, 0);
    }
    out++;
  }
  pthread_mutex_unlock(&f->lock);
  return out;
}

/* polling's front does the same: a signal, or a mechanism woken with nothing
 * for the caller, costs a retry with what is left of the same deadline. */
static int wait_locked(aio_front_t* f, aio_event_t* events, int capacity,
                       int64_t timeout_ns, int checked) {
  int64_t deadline = 0;
  int err = reserve_scratch(f, capacity);
  if (err != 0)
    return err;
  if (timeout_ns > 0) {
    int64_t now = now_ns();
    deadline = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
  }
  for (;;) {
    int woken = 0, n;
    pthread_mutex_lock(&f->lock);
    n = f->ngone > 0 ? take_gone(f, events, capacity) : 0;
    pthread_mutex_unlock(&f->lock);
    if (n > 0)
      return n;
    n = aio_poller_wait(f->poller, events, capacity, f->scratch, timeout_ns,
                        &woken);
    if (n > 0) {
      n = translate(f, events, n, checked);
      if (n == 0 && !woken && timeout_ns != 0)
        n = -EINTR; /* only stale events: wait again */
    }
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
static int wait_once(aio_front_t* f, aio_event_t* events, int capacity,
                     int64_t timeout_ns, int checked) {
  int n;
  if (events == NULL || capacity <= 0)
    return -EINVAL;
  if (timeout_ns < -1)
    timeout_ns = -1;
  if (atomic_exchange_explicit(&f->waiting, 1, memory_order_acquire) != 0)
    return 0;
  n = wait_locked(f, events, capacity, timeout_ns, checked);
  atomic_store_explicit(&f->waiting, 0, memory_order_release);
  return n;
}

int aio_front_wait(aio_front_t* f, aio_event_t* events, int capacity,
                   int64_t timeout_ns) {
  return wait_once(f, events, capacity, timeout_ns, 1);
}

int aio_front_wait_unchecked(aio_front_t* f, aio_event_t* events, int capacity,
                             int64_t timeout_ns) {
  return wait_once(f, events, capacity, timeout_ns, 0);
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
