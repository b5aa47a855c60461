/* TEST ONLY: illumos event ports (the PORT_SOURCE_FD and PORT_SOURCE_USER
 * subset) emulated on Linux epoll, so that src/port.c runs unchanged here.
 *
 * It is strict on purpose: it refuses what illumos refuses, with the errno
 * illumos uses, and it reproduces the behaviours a backend must cope with
 * (silent re-association, one-shot associations, ETIME with events, nget as
 * an in/out minimum). Behaviour was taken from the illumos man pages
 * port_create(3C), port_associate(3C), port_get(3C), port_send(3C) and from
 * the kernel (uts/common/fs/portfs/port.c, port_fd.c) and libc
 * (lib/libc/port/gen/event_port.c) they describe.
 *
 * Model: a port is an epoll instance (its fd is the port fd, pollable like
 * an illumos port); an association is an EPOLLONESHOT registration whose
 * data carries fd and an association serial; fired events move to a
 * per-port queue (the kernel's "done queue") on their way to port_getn();
 * port_send() appends to the same queue. A process-wide eventfd that is
 * always readable (the "token") is armed in a port's epoll set exactly while
 * the port has user events queued, so the port fd polls readable then, as
 * on illumos, without costing an fd per port.
 *
 * Known differences from illumos are listed at each function. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <port.h>

#include "port_shim.h"

#define SHIM_TOKEN UINT64_MAX
/* illumos' default process.max-port-events. */
#define SHIM_MAX_EVENTS 65536

enum { FD_NONE = 0, FD_ARMED, FD_FIRED };

typedef struct {
  int state;  /* FD_ARMED: associated (its event may be queued) */
  int events; /* poll(2) events asked for */
  void* user;
  uint32_t serial; /* bumped by every (re-)association */
  dev_t dev;       /* the open file the association is for */
  ino_t ino;
} shim_fd_t;

typedef struct {
  int epfd;
  pthread_mutex_t lock; /* guards the fields below */
  shim_fd_t* fds;       /* indexed by fd */
  int nfds;
  int any_fd;      /* an fd was ever associated (the kernel's pc_hash) */
  port_event_t* q; /* fired, not yet retrieved; FIFO */
  size_t qlen, qcap;
  size_t nuser; /* PORT_SOURCE_USER entries in q */
  port_shim_quirk_t quirk;
  void (*after)(void*);
  void* after_arg;
} shim_port_t;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static shim_port_t** reg; /* indexed by port fd */
static int nreg;
static pthread_once_t token_once = PTHREAD_ONCE_INIT;
static int token_fd = -1;
static int token_err;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int fail(int err) {
  errno = err;
  return -1;
}

static void token_init(void) {
  token_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
  if (token_fd < 0)
    token_err = errno;
}

/* The token lives as long as this image: a Worker that loads the addon
 * alone unloads it again when it exits, and the next one starts afresh. */
__attribute__((destructor)) static void token_fini(void) {
  if (token_fd >= 0)
    close(token_fd);
  token_fd = -1;
}

static void free_port(shim_port_t* sp) {
  pthread_mutex_destroy(&sp->lock);
  free(sp->fds);
  free(sp->q);
  free(sp);
}

/* Finds the port behind `port` the way the portfs syscall does: EBADF if it
 * is no open fd, EBADFD if it is open but no port. Every port has the token
 * registered, which tells a live port from an epoll instance (or any fd)
 * that reused the number of a closed one. */
static int shim_port(int port, shim_port_t** out) {
  struct epoll_event ev;
  shim_port_t* sp = NULL;
  if (port < 0 || fcntl(port, F_GETFD) < 0)
    return EBADF;
  pthread_mutex_lock(&reg_lock);
  if (port < nreg)
    sp = reg[port];
  pthread_mutex_unlock(&reg_lock);
  if (sp == NULL || token_fd < 0)
    return EBADFD;
  memset(&ev, 0, sizeof(ev));
  ev.data.u64 = SHIM_TOKEN;
  if (epoll_ctl(port, EPOLL_CTL_ADD, token_fd, &ev) == 0) {
    epoll_ctl(port, EPOLL_CTL_DEL, token_fd, &ev);
    return EBADFD;
  }
  if (errno != EEXIST)
    return EBADFD;
  *out = sp;
  return 0;
}

static int arm_token(shim_port_t* sp, int on) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = on ? EPOLLIN : 0;
  ev.data.u64 = SHIM_TOKEN;
  return epoll_ctl(sp->epfd, EPOLL_CTL_MOD, token_fd, &ev) < 0 ? errno : 0;
}

static int push(shim_port_t* sp, const port_event_t* pe) {
  if (sp->qlen == sp->qcap) {
    size_t n = sp->qcap ? sp->qcap * 2 : 64;
    port_event_t* q = (port_event_t*)realloc(sp->q, n * sizeof(*q));
    if (q == NULL)
      return ENOMEM;
    sp->q = q;
    sp->qcap = n;
  }
  sp->q[sp->qlen++] = *pe;
  return 0;
}

/* Drops the queued events of fd; returns how many there were. */
static int unqueue_fd(shim_port_t* sp, int fd) {
  size_t i, j;
  int n = 0;
  for (i = j = 0; i < sp->qlen; i++) {
    if (sp->q[i].portev_source == PORT_SOURCE_FD &&
        sp->q[i].portev_object == (uintptr_t)fd) {
      n++;
      continue;
    }
    sp->q[j++] = sp->q[i];
  }
  sp->qlen = j;
  return n;
}

static int grow_fds(shim_port_t* sp, int fd) {
  shim_fd_t* fds;
  size_t n;
  if (fd < sp->nfds)
    return 0;
  n = sp->nfds ? (size_t)sp->nfds : 64;
  while (n <= (size_t)fd)
    n *= 2;
  fds = (shim_fd_t*)realloc(sp->fds, n * sizeof(*fds));
  if (fds == NULL)
    return ENOMEM;
  memset(fds + sp->nfds, 0, (n - (size_t)sp->nfds) * sizeof(*fds));
  sp->fds = fds;
  sp->nfds = (int)n;
  return 0;
}

static uint32_t to_epoll(int events) {
  uint32_t e = 0;
  if (events & (POLLIN | POLLRDNORM))
    e |= EPOLLIN;
  if (events & POLLRDBAND)
    e |= EPOLLRDBAND;
  if (events & POLLPRI)
    e |= EPOLLPRI;
  if (events & (POLLOUT | POLLWRNORM))
    e |= EPOLLOUT;
  if (events & POLLWRBAND)
    e |= EPOLLWRBAND;
  return e;
}

/* port_associate_fd(): revents & (events | POLLHUP | POLLERR). */
static int from_epoll(uint32_t e, int asked) {
  int r = 0;
  if (e & EPOLLIN)
    r |= POLLIN | POLLRDNORM;
  if (e & EPOLLRDBAND)
    r |= POLLRDBAND;
  if (e & EPOLLPRI)
    r |= POLLPRI;
  if (e & EPOLLOUT)
    r |= POLLOUT | POLLWRNORM;
  if (e & EPOLLWRBAND)
    r |= POLLWRBAND;
  if (e & EPOLLERR)
    r |= POLLERR;
  if (e & EPOLLHUP)
    r |= POLLHUP;
  return r & (asked | POLLHUP | POLLERR);
}

/* Moves up to `room` fired associations from epoll to the done queue. An
 * EPOLLONESHOT registration is disarmed by epoll_wait(); the association
 * stays "active" (dissociate succeeds, re-association discards the event)
 * until port_getn() hands the event out. */
/* Queues what epoll reported (tmp[0..n)); the count of fd events taken. */
static int absorb(shim_port_t* sp, const struct epoll_event* tmp, int n,
                  int* err) {
  int i, got = 0;
  *err = 0;
  for (i = 0; i < n; i++) {
    uint64_t d = tmp[i].data.u64;
    int fd = (int)(uint32_t)d;
    shim_fd_t* e;
    struct stat st;
    port_event_t pe;
    if (d == SHIM_TOKEN)
      continue; /* user events are queued already */
    e = fd < sp->nfds ? &sp->fds[fd] : NULL;
    if (e == NULL || e->state != FD_ARMED || e->serial != (uint32_t)(d >> 32))
      continue; /* dissociated or re-associated since */
    /* illumos ends an association when its fd is closed; epoll only
     * when the open file goes, which a dup() keeps alive. */
    if (fstat(fd, &st) < 0 || st.st_dev != e->dev || st.st_ino != e->ino) {
      e->state = FD_NONE;
      continue;
    }
    memset(&pe, 0, sizeof(pe));
    pe.portev_events = from_epoll(tmp[i].events, e->events);
    pe.portev_source = PORT_SOURCE_FD;
    pe.portev_object = (uintptr_t)fd;
    pe.portev_user = e->user;
    if (push(sp, &pe) != 0) {
      *err = ENOMEM;
      return got;
    }
    got++;
  }
  return got;
}

static int pull(shim_port_t* sp, size_t room) {
  struct epoll_event tmp[64];
  while (room > 0) {
    int want = room > 64 ? 64 : (int)room;
    int n, got, err;
    n = epoll_wait(sp->epfd, tmp, want, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    got = absorb(sp, tmp, n, &err);
    if (err != 0)
      return err;
    room -= (size_t)got;
    /* The token is level-triggered and takes a slot in every round: a round
     * that brought nothing else would bring only it again, forever. */
    if (n < want || got == 0)
      break;
  }
  return 0;
}

/* port_create(3C): a new port, as a new fd. Like illumos, the fd is NOT
 * close-on-exec; the caller has to set FD_CLOEXEC itself.
 * Differs: EAGAIN for project.max-port-ids is not emulated; the shim's state
 * for a port is freed when a later port_create() reuses its fd number, not
 * at close() (the shim cannot see close). */
int port_create(void) {
  struct epoll_event ev;
  shim_port_t* sp;
  int epfd, err;
  pthread_once(&token_once, token_init);
  if (token_fd < 0)
    return fail(token_err);
  epfd = epoll_create1(0);
  if (epfd < 0)
    return -1;
  sp = (shim_port_t*)calloc(1, sizeof(*sp));
  if (sp == NULL) {
    close(epfd);
    return fail(ENOMEM);
  }
  err = pthread_mutex_init(&sp->lock, NULL);
  if (err != 0) {
    free(sp);
    close(epfd);
    return fail(err);
  }
  sp->epfd = epfd;
  memset(&ev, 0, sizeof(ev));
  ev.data.u64 = SHIM_TOKEN;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, token_fd, &ev) < 0) {
    err = errno;
    free_port(sp);
    close(epfd);
    return fail(err);
  }
  pthread_mutex_lock(&reg_lock);
  if (epfd >= nreg) {
    int n = nreg ? nreg : 64;
    shim_port_t** r;
    while (n <= epfd)
      n *= 2;
    r = (shim_port_t**)realloc(reg, (size_t)n * sizeof(*r));
    if (r == NULL) {
      pthread_mutex_unlock(&reg_lock);
      free_port(sp);
      close(epfd);
      return fail(ENOMEM);
    }
    memset(r + nreg, 0, (size_t)(n - nreg) * sizeof(*r));
    reg = r;
    nreg = n;
  }
  /* The number is free again, so the port that had it was closed. */
  if (reg[epfd] != NULL)
    free_port(reg[epfd]);
  reg[epfd] = sp;
  pthread_mutex_unlock(&reg_lock);
  return epfd;
}

/* port_associate(3C), PORT_SOURCE_FD: associates `events` (poll(2) bits) of
 * fd `object` with the port. If the fd is already associated, the events
 * and user of the association are replaced, silently, and an event already
 * fired but not retrieved is discarded (the kernel's
 * port_remove_done_event()); the fd is then polled again. At most one event
 * is generated per association, which ends when that event is retrieved.
 * Errors: EBADF the port is no open fd; EBADFD the port fd is no port, or
 * `object` is no open fd (illumos says EBADFD, not EBADF, for the object);
 * EINVAL source is not PORT_SOURCE_FD.
 * Differs: PORT_SOURCE_FILE is not emulated (EINVAL); epoll refuses
 * regular files and directories (EPERM) where illumos accepts them (always
 * ready); unknown event bits are ignored; EAGAIN for max-port-events and
 * EACCES across fork() are not emulated. */
int port_associate(int port, int source, uintptr_t object, int events,
                   void* user) {
  struct epoll_event ev;
  struct stat st;
  shim_port_t* sp;
  shim_fd_t* e;
  int fd, err, r;
  err = shim_port(port, &sp);
  if (err != 0)
    return fail(err);
  if (source != PORT_SOURCE_FD)
    return fail(EINVAL);
  if (object > (uintptr_t)INT_MAX)
    return fail(EBADFD);
  fd = (int)object;
  if (fstat(fd, &st) < 0)
    return fail(EBADFD);
  pthread_mutex_lock(&sp->lock);
  err = grow_fds(sp, fd);
  if (err != 0)
    goto out;
  e = &sp->fds[fd];
  /* Same number, other file: the old association went with close(). */
  if (e->state != FD_NONE && (e->dev != st.st_dev || e->ino != st.st_ino))
    e->state = FD_NONE;
  unqueue_fd(sp, fd);
  e->serial++;
  memset(&ev, 0, sizeof(ev));
  ev.events = to_epoll(events) | EPOLLONESHOT;
  ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)e->serial << 32);
  /* MOD, else ADD: epoll keys on (fd, open file), so a registration left
   * by a closed file never matches the file the number now names. */
  r = epoll_ctl(sp->epfd, EPOLL_CTL_MOD, fd, &ev);
  if (r < 0 && errno == ENOENT)
    r = epoll_ctl(sp->epfd, EPOLL_CTL_ADD, fd, &ev);
  if (r < 0) {
    err = errno;
    e->state = FD_NONE;
    goto out;
  }
  e->state = FD_ARMED;
  e->events = events;
  e->user = user;
  e->dev = st.st_dev;
  e->ino = st.st_ino;
  sp->any_fd = 1;
out:
  pthread_mutex_unlock(&sp->lock);
  return err != 0 ? fail(err) : 0;
}

/* port_dissociate(3C), PORT_SOURCE_FD: removes the association of fd
 * `object`, and with it an event fired but not yet retrieved.
 * Errors: EBADF/EBADFD/EINVAL as port_associate(); ENOENT the fd is not
 * associated: never was, was dissociated, or its event was retrieved (the
 * one-shot association ended then), or the number now names another file.
 * As in the kernel, a port that never had an fd associated says ENOENT
 * before it looks at the fd.
 * Differs: EACCES (dissociating from a process that is not the owner of
 * the association) is not emulated. */
int port_dissociate(int port, int source, uintptr_t object) {
  struct stat st;
  shim_port_t* sp;
  shim_fd_t* e;
  int fd, err, active;
  err = shim_port(port, &sp);
  if (err != 0)
    return fail(err);
  if (source != PORT_SOURCE_FD)
    return fail(EINVAL);
  if (object > (uintptr_t)INT_MAX)
    return fail(EBADFD);
  fd = (int)object;
  pthread_mutex_lock(&sp->lock);
  if (!sp->any_fd) {
    err = ENOENT;
    goto out;
  }
  if (fstat(fd, &st) < 0) {
    err = EBADFD;
    goto out;
  }
  e = fd < sp->nfds ? &sp->fds[fd] : NULL;
  if (e == NULL || e->state == FD_NONE) {
    err = ENOENT;
    goto out;
  }
  if (e->dev != st.st_dev || e->ino != st.st_ino) {
    e->state = FD_NONE;
    err = ENOENT;
    goto out;
  }
  active = e->state == FD_ARMED;
  /* A fired (retrieved) association still has its disarmed registration:
   * remove it too, as the kernel frees its polldat. */
  if (epoll_ctl(sp->epfd, EPOLL_CTL_DEL, fd, NULL) < 0) {
    if (errno != ENOENT) {
      err = errno;
      goto out;
    }
    active = 0;
  }
  unqueue_fd(sp, fd);
  e->state = FD_NONE;
  if (!active)
    err = ENOENT;
out:
  pthread_mutex_unlock(&sp->lock);
  return err != 0 ? fail(err) : 0;
}

/* port_send(3C): queues a PORT_SOURCE_USER event with portev_events =
 * `events`, portev_object = 0 and portev_user = `user`. Each call queues
 * one more event; nothing is coalesced.
 * Errors: EBADF/EBADFD as above; EAGAIN the port holds max-port-events
 * (65536) queued events.
 * Differs: illumos counts associations against that limit too. */
int port_send(int port, int events, void* user) {
  port_event_t pe;
  shim_port_t* sp;
  int err;
  err = shim_port(port, &sp);
  if (err != 0)
    return fail(err);
  memset(&pe, 0, sizeof(pe));
  pe.portev_events = events;
  pe.portev_source = PORT_SOURCE_USER;
  pe.portev_user = user;
  pthread_mutex_lock(&sp->lock);
  if (sp->qlen >= SHIM_MAX_EVENTS) {
    err = EAGAIN;
    goto out;
  }
  err = push(sp, &pe);
  if (err != 0)
    goto out;
  if (++sp->nuser == 1) {
    err = arm_token(sp, 1);
    if (err != 0) {
      sp->qlen--;
      sp->nuser--;
    }
  }
out:
  pthread_mutex_unlock(&sp->lock);
  return err != 0 ? fail(err) : 0;
}

/* port_getn(3C): retrieves up to `max` events into list[]. *nget is in/out:
 * on input the minimum number of events to wait for, on output the number
 * retrieved. timeout NULL blocks; a zeroed timespec polls; otherwise waits
 * that long for *nget events.
 * - Enough events (>= *nget): returns 0, *nget = count (<= max).
 * - Zeroed timeout: returns 0 with whatever is there, possibly *nget = 0
 *   and no ETIME (Sun bug 6456558 territory; the kernel does that).
 * - Timeout expires: returns -1/ETIME with *nget = the events retrieved
 *   anyway, which may be more than 0 (fewer than asked for).
 * - Other errors (EINTR, EINVAL, EBADF, EBADFD, EFAULT): -1, and *nget is
 *   left as it was, list[] untouched (the libc wrapper skips the update).
 * - *nget == 0: returns 0 at once. max == 0: *nget = events queued, none
 *   retrieved.
 * Errors: EINVAL nget is NULL (libc), *nget > max with max > 0, timeout
 * negative or tv_nsec out of range; EFAULT list is NULL; EBADF/EBADFD as
 * above.
 * Differs: timeout is validated even when it would not be needed (the
 * kernel looks at it only when it has to wait); a port closed while a
 * thread waits in port_getn() does not make it fail with EBADFD (Linux
 * keeps the epoll instance alive until ppoll() returns); no alert mode; the
 * queue is not strictly FIFO across events that fired during one pull.
 * port_shim_quirk() makes the quirks libuv works around happen on demand. */
int port_getn(int port, port_event_t list[], uint_t max, uint_t* nget,
              const timespec_t* timeout) {
  shim_port_t* sp;
  port_shim_quirk_t quirk;
  void (*after)(void*) = NULL;
  void* after_arg = NULL;
  int64_t deadline = 0;
  uint_t min, n;
  size_t i, had_user;
  int err, blocking;
  if (nget == NULL)
    return fail(EINVAL);
  err = shim_port(port, &sp);
  if (err != 0)
    return fail(err);
  if (*nget > max && max > 0)
    return fail(EINVAL);
  if (max == 0) {
    pthread_mutex_lock(&sp->lock);
    err = pull(sp, SIZE_MAX);
    if (err == 0)
      *nget = (uint_t)sp->qlen;
    pthread_mutex_unlock(&sp->lock);
    return err != 0 ? fail(err) : 0;
  }
  if (list == NULL)
    return fail(EFAULT);
  if (*nget == 0)
    return 0;
  if (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
                          timeout->tv_nsec >= 1000000000L))
    return fail(EINVAL);
  min = *nget;
  blocking = timeout == NULL || timeout->tv_sec != 0 || timeout->tv_nsec != 0;
  if (timeout != NULL)
    deadline =
        now_ns() + (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec;

  pthread_mutex_lock(&sp->lock);
  quirk = sp->quirk;
  sp->quirk = PORT_SHIM_QUIRK_NONE;
  if (quirk == PORT_SHIM_QUIRK_SPURIOUS ||
      quirk == PORT_SHIM_QUIRK_NGET_STALE || quirk == PORT_SHIM_QUIRK_EINTR) {
    pthread_mutex_unlock(&sp->lock);
    if (quirk == PORT_SHIM_QUIRK_EINTR)
      return fail(EINTR);
    if (quirk == PORT_SHIM_QUIRK_SPURIOUS)
      *nget = 0;
    return 0;
  }
  for (;;) {
    struct epoll_event tmp[64];
    int r, want, ms = -1;
    err = pull(sp, sp->qlen < max ? max - sp->qlen : 0);
    if (err != 0)
      goto out;
    if (sp->qlen >= min || !blocking)
      break;
    if (timeout != NULL) {
      int64_t left = deadline - now_ns();
      if (left <= 0) {
        err = ETIME;
        break;
      }
      ms = (int)((left + 999999) / 1000000);
    }
    /* Block in epoll_wait itself, never in poll() on the epoll fd: that
     * would poll every ready item first, and a file that reports a change
     * only once (/proc/self/mountinfo) would show it to that poll alone. */
    want = max - sp->qlen > 64 ? 64 : (int)(max - sp->qlen);
    pthread_mutex_unlock(&sp->lock);
    r = epoll_wait(sp->epfd, tmp, want, ms);
    err = r < 0 ? errno : 0;
    pthread_mutex_lock(&sp->lock);
    /* Interrupted: no events; what is queued stays queued. */
    if (err != 0)
      goto out;
    absorb(sp, tmp, r, &err);
    if (err != 0)
      goto out;
  }

  n = sp->qlen < max ? (uint_t)sp->qlen : max;
  had_user = sp->nuser;
  for (i = 0; i < n; i++) {
    list[i] = sp->q[i];
    if (list[i].portev_source == PORT_SOURCE_USER) {
      sp->nuser--;
    } else {
      /* "When an event for a PORT_SOURCE_FD object is retrieved, the
       * object no longer has an association with the port." */
      sp->fds[list[i].portev_object].state = FD_FIRED;
    }
  }
  sp->qlen -= n;
  if (sp->qlen > 0)
    memmove(sp->q, sp->q + n, sp->qlen * sizeof(*sp->q));
  if (had_user > 0 && sp->nuser == 0 && arm_token(sp, 0) != 0)
    abort();
  if (n > 0) {
    after = sp->after;
    after_arg = sp->after_arg;
    sp->after = NULL;
    if (quirk == PORT_SHIM_QUIRK_EINTR_EVENTS)
      err = EINTR;
    if (quirk == PORT_SHIM_QUIRK_ETIME_EVENTS)
      err = ETIME;
  } else if (quirk != PORT_SHIM_QUIRK_NONE) {
    sp->quirk = quirk; /* nothing to show it on yet */
  }
  pthread_mutex_unlock(&sp->lock);
  if (after != NULL)
    after(after_arg);
  *nget = n;
  return err != 0 ? fail(err) : 0;

out:
  pthread_mutex_unlock(&sp->lock);
  return fail(err);
}

int port_shim_quirk(int port, port_shim_quirk_t quirk) {
  shim_port_t* sp;
  int err = shim_port(port, &sp);
  if (err != 0)
    return fail(err);
  pthread_mutex_lock(&sp->lock);
  sp->quirk = quirk;
  pthread_mutex_unlock(&sp->lock);
  return 0;
}

int port_shim_after_retrieve(int port, void (*fn)(void*), void* arg) {
  shim_port_t* sp;
  int err = shim_port(port, &sp);
  if (err != 0)
    return fail(err);
  pthread_mutex_lock(&sp->lock);
  sp->after = fn;
  sp->after_arg = arg;
  pthread_mutex_unlock(&sp->lock);
  return 0;
}
