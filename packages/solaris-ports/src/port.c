/* The event-ports backend (illumos, Solaris). Kept parallel to kqueue.c. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <port.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "async_io/backend.h"

/* An association is one-shot: the kernel drops it when its event is
 * retrieved, and accepts a second port_associate() of an fd silently. This
 * table remembers what the user registered, so that add/modify/delete answer
 * EEXIST/ENOENT as the other backends do and so that wait can tell a live
 * event from a stale one. */
typedef struct {
  aio_reg_t reg; /* reg.gen: the portev_user of its events */
  uint32_t key;
  unsigned interest;
  aio_mode_t mode;
  int associated; /* the kernel holds an armed association */
} aio__reg_t;

struct aio_poller_s {
  int port;
  pthread_mutex_t lock; /* guards the fields below */
  aio_regs_t regs;      /* of aio__reg_t, by fd */
};

const char* aio_backend_name(void) {
  return "event-ports";
}

unsigned aio_backend_caps(void) {
  return AIO_CAP_LEVEL | AIO_CAP_PRIORITY;
}

const char* aio_backend_syscall(aio_op_t op) {
  switch (op) {
    case AIO_OP_CREATE:
      return "port_create";
    case AIO_OP_DELETE:
      return "port_dissociate";
    case AIO_OP_WAIT:
      return "port_getn";
    case AIO_OP_NOTIFY:
      return "port_send";
    default:
      return "port_associate";
  }
}

int aio_poller_create(aio_poller_t** out) {
  int err;
  aio_poller_t* p = (aio_poller_t*)calloc(1, sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
  p->port = port_create();
  if (p->port < 0) {
    err = -errno;
    free(p);
    return err;
  }
  /* port_create() takes no flags: a fork+exec in another thread before the
   * fcntl() can still inherit the port (libuv lives with the same window). */
  err = aio_fd_set_cloexec(p->port);
  if (err != 0) {
    close(p->port);
    free(p);
    return err;
  }
  err = pthread_mutex_init(&p->lock, NULL);
  if (err != 0) {
    close(p->port);
    free(p);
    return -err;
  }
  aio_regs_init(&p->regs, sizeof(aio__reg_t));
  *out = p;
  return 0;
}

void aio_poller_destroy(aio_poller_t* p) {
  close(p->port);
  pthread_mutex_destroy(&p->lock);
  aio_regs_free(&p->regs);
  free(p);
}

int aio_poller_fd(const aio_poller_t* p) {
  return p->port;
}

static int associate(aio_poller_t* p, int fd, unsigned interest,
                     uintptr_t gen) {
  if (port_associate(p->port, PORT_SOURCE_FD, (uintptr_t)fd,
                     aio_poll_events(interest), (void*)gen) == 0)
    return 0;
  /* illumos says EBADFD for a bad object fd (EBADF is for the port). */
  return errno == EBADFD ? -EBADF : -errno;
}

int aio_poller_add(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                   aio_mode_t mode) {
  aio__reg_t* r;
  uintptr_t gen;
  struct stat st;
  int err;
  if (fstat(fd, &st) < 0)
    return -errno;
  pthread_mutex_lock(&p->lock);
  r = aio_regs_find(&p->regs, fd);
  if (r != NULL) {
    if (r->reg.dev == st.st_dev && r->reg.ino == st.st_ino) {
      err = -EEXIST;
      goto out;
    }
    /* Closed without delete and the number reused: closing dropped the
     * kernel's association, so forget ours as epoll and kqueue do. */
    r->reg.gen = 0;
    r->associated = 0;
  }
  gen = aio_regs_new_gen(&p->regs);
  /* Associate before growing the table, so that a bogus fd number fails
   * with EBADF instead of allocating a table that large. */
  err = associate(p, fd, interest, gen);
  if (err != 0)
    goto out;
  r = aio_regs_reserve(&p->regs, fd);
  if (r == NULL) {
    err = -ENOMEM;
    /* ENOENT: a concurrent port_getn() already took its event, which wait
     * drops because the table does not know gen. */
    if (port_dissociate(p->port, PORT_SOURCE_FD, (uintptr_t)fd) < 0 &&
        errno != ENOENT)
      abort();
    goto out;
  }
  r->reg.gen = gen;
  r->reg.dev = st.st_dev;
  r->reg.ino = st.st_ino;
  r->key = key;
  r->interest = interest;
  r->mode = mode;
  r->associated = 1;
out:
  pthread_mutex_unlock(&p->lock);
  return err;
}

int aio_poller_modify(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                      aio_mode_t mode) {
  aio__reg_t* r;
  uintptr_t gen;
  int err;
  pthread_mutex_lock(&p->lock);
  r = aio_regs_find(&p->regs, fd);
  if (r == NULL) {
    err = -ENOENT;
    goto out;
  }
  /* A new gen: an event the kernel handed out under the old association
   * (still on its way through a concurrent wait) is stale now. Associating
   * again replaces events and user and re-arms a fired association. */
  gen = aio_regs_new_gen(&p->regs);
  err = associate(p, fd, interest, gen);
  if (err != 0)
    goto out;
  r->reg.gen = gen;
  r->key = key;
  r->interest = interest;
  r->mode = mode;
  r->associated = 1;
out:
  pthread_mutex_unlock(&p->lock);
  return err;
}

int aio_poller_delete(aio_poller_t* p, int fd) {
  aio__reg_t* r;
  int err = 0;
  pthread_mutex_lock(&p->lock);
  r = aio_regs_find(&p->regs, fd);
  if (r == NULL) {
    err = -ENOENT;
    goto out;
  }
  /* ENOENT: the association fired (its event was retrieved) or the fd was
   * closed and its number reused. EBADFD: the fd was closed, which
   * dissociated it. Either way the user's registration ends here. Any event
   * still queued for it goes with port_dissociate(); one a concurrent
   * port_getn() already took is dropped by wait, which finds no gen. */
  if (port_dissociate(p->port, PORT_SOURCE_FD, (uintptr_t)fd) < 0 &&
      errno != ENOENT && errno != EBADFD)
    err = -errno;
  memset(r, 0, sizeof(*r));
out:
  pthread_mutex_unlock(&p->lock);
  return err;
}

/* Turns what port_getn() returned into aio events. Runs under the lock, so a
 * delete or modify is either fully before it or fully after it. */
static int deliver(aio_poller_t* p, const port_event_t* ev, unsigned n,
                   aio_event_t* out, int* woken) {
  unsigned i;
  int total = 0;
  for (i = 0; i < n; i++) {
    const port_event_t* pe = &ev[i];
    aio__reg_t* r;
    int fd;
    if (pe->portev_source == PORT_SOURCE_USER) {
      if (pe->portev_user == (void*)p)
        *woken = 1;
      continue;
    }
    if (pe->portev_source != PORT_SOURCE_FD)
      continue;
    fd = (int)pe->portev_object;
    r = aio_regs_find(&p->regs, fd);
    /* Taken by the kernel before a concurrent delete or modify got the
     * lock: that registration is gone, and its event with it. */
    if (r == NULL || r->reg.gen != (uintptr_t)pe->portev_user)
      continue;
    r->associated = 0;
    out[total].key = r->key;
    out[total].flags = aio_poll_flags(pe->portev_events, r->interest);
    /* Level-triggered is emulated: associate again before returning, so
     * the next wait reports the fd again for as long as it stays ready. If
     * that fails, say so with an error event rather than fall silent;
     * modify() re-arms or reports why not. */
    if (r->mode == AIO_MODE_LEVEL) {
      if (associate(p, fd, r->interest, r->reg.gen) == 0)
        r->associated = 1;
      else
        out[total].flags |= AIO_ERROR;
    }
    total++;
  }
  return total;
}

size_t aio_backend_event_size(void) {
  return sizeof(port_event_t);
}

int aio_poller_wait(aio_poller_t* p, aio_event_t* out, int capacity,
                    void* scratch, int64_t timeout_ns, int* woken) {
  port_event_t* ev = (port_event_t*)scratch;
  struct timespec ts;
  uint_t nget = 1; /* in: return once one event is there; out: the count */
  uint_t n;
  int total, err = 0;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
  }
  /* Never ask for more than fits: a retrieved event is consumed (its
   * association is gone), so one we could not store would be lost. One call
   * per wait: a second one could see a level fd re-armed by the first. */
  /* The kernel does not always update nget (an interrupted or spurious
   * return leaves the 1 we passed in), and it can return events along with
   * ETIME or EINTR. portev_source is never 0 in a real event, so it tells
   * whether anything was written (libuv's sunos.c does the same). */
  ev[0].portev_source = 0;
  if (port_getn(p->port, ev, (uint_t)capacity, &nget,
                timeout_ns < 0 ? NULL : &ts) < 0) {
    err = errno;
    if (err != ETIME && err != EINTR)
      return -err;
  }
  n = ev[0].portev_source == 0 ? 0 : nget;
  if (n > (uint_t)capacity)
    n = (uint_t)capacity;
  pthread_mutex_lock(&p->lock);
  total = deliver(p, ev, n, out, woken);
  pthread_mutex_unlock(&p->lock);
  if (total > 0 || *woken)
    return total;
  if (err == ETIME || timeout_ns == 0)
    return 0;
  /* Woken with nothing for us: a signal, a spurious return, or only events
   * of fds deleted meanwhile. Not a timeout, so the front retries against
   * what is left of the same deadline. */
  return -EINTR;
}

/* port_send() rather than port_alert(): a user event is queued once and gone
 * when retrieved, which is what a coalesced wake needs; alert mode is a
 * state that every port_getn() reports until someone clears it, and clearing
 * it races with the next notify. */
int aio_poller_notify(aio_poller_t* p) {
  return port_send(p->port, 0, p) < 0 ? -errno : 0;
}
