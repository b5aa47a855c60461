/* The poll(2) backend: any POSIX system. No kernel poller to hand out, so
 * aio_poller_fd() is -1, and every wait costs O(registered fds). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "async_io/backend.h"

/* poll() fails with EINVAL when nfds is above the process's fd limit
 * (RLIMIT_NOFILE on Linux, the BSDs and illumos) and on macOS also above
 * OPEN_MAX, 10,240, whatever the rlimit (its poll(2); XNU's poll_nocancel()).
 * Every wait would fail then, so add() refuses the registration that would
 * not fit instead (see nfds_limit()). A build may set the number itself. */
#if !defined(AIO_POLL_NFDS_MAX) && defined(__APPLE__) && defined(OPEN_MAX)
#define AIO_POLL_NFDS_MAX OPEN_MAX
#endif

/* What the user registered, by slot; p->pfds[slot] is what poll() sees. A
 * disarmed registration keeps its fd here and -1 there. */
typedef struct {
  int fd;
  uint32_t key;
  unsigned interest;
  aio_mode_t mode;
  int selected; /* poll() said POLLNVAL while the fd was open: select.c */
} aio__reg_t;

struct aio_poller_s {
  int wake[2];          /* the wake-up pipe; wake[0] is slot 0 */
  pthread_mutex_t lock; /* guards the fields below */
  pthread_cond_t idle;  /* signalled when a wait leaves poll() */
  pthread_cond_t done;  /* signalled when the last queued change is made */
  struct pollfd* pfds;  /* slot 0: wake[0]; 1 .. nfds-1: registrations */
  aio__reg_t* regs;     /* parallel to pfds; regs[0] unused */
  int nfds;
  int cap;
  int* slots; /* indexed by fd: its slot, 0 when not registered */
  int nslots;
  int cursor;  /* where the next scan of results starts */
  int waiting; /* a wait is blocked in poll() and owns pfds */
  int pending; /* changes queued until that poll() returns */
  int kicked;  /* a byte is on its way to interrupt that poll() */
  /* Fds poll() refuses though they are open: macOS answers POLLNVAL for
   * character devices (poll(2) BUGS: "The poll() system call currently does
   * not support devices"; termbox2#31, serial-rs#53, fzf#4653). They leave
   * the pollfd set and are watched by select() instead (see collect()). */
  aio_select_t* sel;
};

const char* aio_backend_name(void) {
  return "poll";
}

unsigned aio_backend_caps(void) {
  return AIO_CAP_LEVEL | AIO_CAP_PRIORITY;
}

const char* aio_backend_syscall(aio_op_t op) {
  switch (op) {
    case AIO_OP_CREATE:
      return "pipe";
    case AIO_OP_NOTIFY:
      return "write";
    default:
      return "poll";
  }
}

/* The wake-up pipe carries three kinds of byte: a kick, which a change
 * sends to get the table back from a blocked poll(), a notify, which ends the
 * wait, and a select, which the select() helper sends when a device may be
 * ready. At most one of each is in flight (kicks are sent once per poll(),
 * the front sends a notify once per consumed one, the helper parks after
 * each until a wait takes), so the pipe never fills. */
#define KICK 0
#define NOTIFY 1
#define SELECT 2

static int send_byte(aio_poller_t* p, char c);

static int select_wake(void* arg) {
  return send_byte((aio_poller_t*)arg, SELECT);
}

int aio_poller_create(aio_poller_t** out) {
  int err;
  aio_poller_t* p = (aio_poller_t*)calloc(1, sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
  p->cap = 64;
  p->pfds = (struct pollfd*)calloc((size_t)p->cap, sizeof(*p->pfds));
  p->regs = (aio__reg_t*)calloc((size_t)p->cap, sizeof(*p->regs));
  if (p->pfds == NULL || p->regs == NULL) {
    err = -ENOMEM;
    goto fail_alloc;
  }
  err = aio_fd_pipe(p->wake);
  if (err != 0)
    goto fail_alloc;
  err = aio_select_create(&p->sel, select_wake, p);
  if (err != 0)
    goto fail_pipe;
  err = -pthread_mutex_init(&p->lock, NULL);
  if (err != 0)
    goto fail_select;
  err = -pthread_cond_init(&p->idle, NULL);
  if (err != 0)
    goto fail_mutex;
  err = -pthread_cond_init(&p->done, NULL);
  if (err != 0)
    goto fail_idle;
  p->pfds[0].fd = p->wake[0];
  p->pfds[0].events = POLLIN;
  p->nfds = 1;
  p->cursor = 1;
  *out = p;
  return 0;

fail_idle:
  pthread_cond_destroy(&p->idle);
fail_mutex:
  pthread_mutex_destroy(&p->lock);
fail_select:
  aio_select_destroy(p->sel);
fail_pipe:
  close(p->wake[0]);
  close(p->wake[1]);
fail_alloc:
  free(p->pfds);
  free(p->regs);
  free(p);
  return err;
}

void aio_poller_destroy(aio_poller_t* p) {
  aio_select_destroy(p->sel); /* joins the helper, which writes to wake */
  close(p->wake[0]);
  close(p->wake[1]);
  pthread_cond_destroy(&p->done);
  pthread_cond_destroy(&p->idle);
  pthread_mutex_destroy(&p->lock);
  free(p->slots);
  free(p->regs);
  free(p->pfds);
  free(p);
}

int aio_poller_fd(const aio_poller_t* p) {
  (void)p;
  return -1;
}

static int send_byte(aio_poller_t* p, char c) {
  ssize_t r;
  do
    r = write(p->wake[1], &c, 1);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

/* Empties the pipe; 1 if a notify was in it, and *selected = 1 if a
 * select byte was. */
static int drain(aio_poller_t* p, int* selected) {
  char buf[64];
  ssize_t n, i;
  int notified = 0;
  do {
    n = read(p->wake[0], buf, sizeof(buf));
    for (i = 0; i < n; i++) {
      notified |= buf[i] == NOTIFY;
      *selected |= buf[i] == SELECT;
    }
  } while (n > 0 || (n < 0 && errno == EINTR));
  return notified;
}

/* Called under the lock before touching the table. A wait blocked in poll()
 * owns pfds (the kernel writes revents into it, and a realloc would pull it
 * from under the kernel): interrupt it and wait until it hands the table
 * back. Returns 1 if queued that way (end_change() must follow), 0 if the
 * table was free, or a negative errno. */
static int begin_change(aio_poller_t* p) {
  int err;
  if (!p->waiting)
    return 0;
  if (!p->kicked) {
    err = send_byte(p, KICK);
    if (err != 0)
      return err;
    p->kicked = 1;
  }
  p->pending++;
  do
    pthread_cond_wait(&p->idle, &p->lock);
  while (p->waiting);
  return 1;
}

static void end_change(aio_poller_t* p, int queued) {
  if (queued == 1 && --p->pending == 0)
    pthread_cond_signal(&p->done);
}

/* poll() reports POLLHUP/POLLERR/POLLNVAL whatever `events` says, so a
 * disarmed registration must leave the set (a negative fd is skipped) or a
 * hung-up oneshot fd would wake every wait. */
static void disarm(struct pollfd* pf) {
  pf->fd = -1;
  pf->events = 0;
}

static int arm(aio_poller_t* p, int slot) {
  struct pollfd* pf = &p->pfds[slot];
  const aio__reg_t* r = &p->regs[slot];
  if (r->selected) {
    disarm(pf);
    return aio_select_watch(p->sel, r->fd, r->interest, 0);
  }
  pf->events = aio_poll_events(r->interest);
  pf->fd = pf->events != 0 ? r->fd : -1;
  /* Only a poll() made after this change may report the fd. */
  pf->revents = 0;
  return 0;
}

/* The most fds one poll() takes here: the soft RLIMIT_NOFILE, asked at
 * each add() because it can change, and at most AIO_POLL_NFDS_MAX. */
static int nfds_limit(void) {
  struct rlimit rl;
  int64_t max = INT_MAX;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      (uint64_t)rl.rlim_cur < (uint64_t)max)
    max = (int64_t)rl.rlim_cur;
#ifdef AIO_POLL_NFDS_MAX
  if (max > AIO_POLL_NFDS_MAX)
    max = AIO_POLL_NFDS_MAX;
#endif
  return (int)max;
}

static int lookup(const aio_poller_t* p, int fd) {
  if (fd >= p->nslots)
    return 0;
  return p->slots[fd];
}

static int reserve(aio_poller_t* p, int fd) {
  int err =
      aio_fdtable_grow((void**)&p->slots, &p->nslots, sizeof(*p->slots), fd);
  if (err != 0)
    return err;
  if (p->nfds == p->cap) {
    size_t n = (size_t)p->cap * 2;
    struct pollfd* pfds;
    aio__reg_t* regs;
    if (n > INT_MAX)
      return -ENOMEM;
    pfds = (struct pollfd*)realloc(p->pfds, n * sizeof(*pfds));
    if (pfds == NULL)
      return -ENOMEM;
    p->pfds = pfds;
    regs = (aio__reg_t*)realloc(p->regs, n * sizeof(*regs));
    if (regs == NULL)
      return -ENOMEM;
    p->regs = regs;
    p->cap = (int)n;
  }
  return 0;
}

int aio_poller_add(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                   aio_mode_t mode) {
  int err, queued, slot;
  if (fd == p->wake[0] || fd == p->wake[1])
    return -EINVAL;
  /* poll() would only say POLLNVAL later. Failing now, as epoll_ctl() does,
   * also bounds the index by the fd table. */
  if (fcntl(fd, F_GETFD) < 0)
    return -errno;
  pthread_mutex_lock(&p->lock);
  queued = begin_change(p);
  if (queued < 0) {
    err = queued;
    goto out;
  }
  if (lookup(p, fd) != 0) {
    err = -EEXIST;
    goto out;
  }
  /* One slot more than the kernel's poll() takes: EMFILE (too many fds for
   * one poll()), a clear answer now rather than EINVAL from every wait. */
  if (p->nfds >= nfds_limit()) {
    err = -EMFILE;
    goto out;
  }
  err = reserve(p, fd);
  if (err != 0)
    goto out;
  slot = p->nfds++;
  p->regs[slot].fd = fd;
  p->regs[slot].key = key;
  p->regs[slot].interest = interest;
  p->regs[slot].mode = mode;
  p->regs[slot].selected = 0;
  arm(p, slot);
  p->slots[fd] = slot;
out:
  end_change(p, queued);
  pthread_mutex_unlock(&p->lock);
  return err;
}

int aio_poller_modify(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                      aio_mode_t mode) {
  int err = 0, queued, slot;
  pthread_mutex_lock(&p->lock);
  queued = begin_change(p);
  if (queued < 0) {
    err = queued;
    goto out;
  }
  slot = lookup(p, fd);
  if (slot == 0) {
    err = -ENOENT;
    goto out;
  }
  p->regs[slot].key = key;
  p->regs[slot].interest = interest;
  p->regs[slot].mode = mode;
  err = arm(p, slot);
out:
  end_change(p, queued);
  pthread_mutex_unlock(&p->lock);
  return err;
}

int aio_poller_delete(aio_poller_t* p, int fd) {
  int err = 0, queued, slot, last;
  pthread_mutex_lock(&p->lock);
  queued = begin_change(p);
  if (queued < 0) {
    err = queued;
    goto out;
  }
  slot = lookup(p, fd);
  if (slot == 0) {
    err = -ENOENT;
    goto out;
  }
  if (p->regs[slot].selected)
    (void)aio_select_watch(p->sel, fd, 0, 0); /* only shrinks: cannot fail */
  /* Swap with the last slot; its revents travel with it, so a result of the
   * poll() this change interrupted is still found. */
  last = --p->nfds;
  if (slot != last) {
    p->pfds[slot] = p->pfds[last];
    p->regs[slot] = p->regs[last];
    p->slots[p->regs[slot].fd] = slot;
  }
  p->slots[fd] = 0;
out:
  end_change(p, queued);
  pthread_mutex_unlock(&p->lock);
  return err;
}

/* POLLNVAL for an fd that is open (fcntl() says so) is the kernel refusing
 * the fd, not the fd being closed: from now on select.c watches it, still
 * armed (nothing was reported). 1 if so. */
static int to_select(aio_poller_t* p, int slot) {
  aio__reg_t* r = &p->regs[slot];
  if (fcntl(r->fd, F_GETFD) < 0)
    return 0;
  r->selected = 1;
  if (arm(p, slot) != 0) {
    r->selected = 0;
    return 0; /* out of memory: reported as before, then quiet */
  }
  return 1;
}

/* What select.c found ready, appended to out[total..capacity). */
static int collect_selected(aio_poller_t* p, aio_event_t* out, int capacity,
                            int total) {
  aio_event_t* got = out + total;
  int n, i, kept = 0;
  n = aio_select_take(p->sel, got, capacity - total);
  if (n < 0)
    return n;
  for (i = 0; i < n; i++) {
    int fd = (int)got[i].key, slot = lookup(p, fd);
    aio__reg_t* r = &p->regs[slot];
    uint32_t f = got[i].flags;
    if (slot == 0 || !r->selected)
      continue;
    f &= r->interest | AIO_HANGUP | AIO_ERROR;
    if (f == 0)
      continue;
    /* One-shot: quiet until modify. A closed fd (AIO_ERROR alone): select.c
     * has forgotten it already, as a POLLNVAL slot stays quiet. */
    if (r->mode == AIO_MODE_ONESHOT)
      (void)aio_select_watch(p->sel, fd, 0, 0);
    got[kept].key = r->key;
    got[kept++].flags = f;
  }
  return total + kept;
}

/* Takes up to `capacity` results of the last poll(), `ready` being an upper
 * bound on how many slots hold one. The scan resumes where the previous one
 * stopped, so that with a small capacity the slots past it are not starved
 * by ready level-triggered ones before it. What does not fit is left armed
 * for the next poll() to find again. */
static int collect(aio_poller_t* p, aio_event_t* out, int capacity, int ready) {
  int slot = p->cursor < p->nfds ? p->cursor : 1;
  int left = p->nfds - 1;
  int total = 0;
  for (; left > 0 && ready > 0; left--) {
    struct pollfd* pf = &p->pfds[slot];
    if ((pf->revents & POLLNVAL) && to_select(p, slot)) {
      ready--;
    } else if (pf->revents != 0) {
      if (total == capacity)
        break;
      ready--;
      out[total].key = p->regs[slot].key;
      out[total].flags = aio_poll_flags(pf->revents, p->regs[slot].interest);
      total++;
      /* After POLLNVAL (closed without delete) even a level registration
       * stays quiet until modify or delete, instead of spinning. */
      if (p->regs[slot].mode == AIO_MODE_ONESHOT || (pf->revents & POLLNVAL))
        disarm(pf);
      pf->revents = 0;
    }
    if (++slot == p->nfds)
      slot = 1;
  }
  p->cursor = slot;
  return total;
}

/* poll() takes whole milliseconds: round up so it never returns early. */
static int to_ms(int64_t ns) {
  int64_t ms = ns / 1000000 + (ns % 1000000 != 0);
  return ms > INT_MAX ? INT_MAX : (int)ms;
}

size_t aio_backend_event_size(void) {
  return 0; /* poll() writes into the registration table itself */
}

int aio_poller_wait(aio_poller_t* p, aio_event_t* out, int capacity,
                    void* scratch, int64_t timeout_ns, int* woken) {
  struct pollfd* pfds;
  nfds_t nfds;
  int n, err, ready, broken, selected = 0, total = 0;
  (void)scratch;
  pthread_mutex_lock(&p->lock);
  pfds = p->pfds;
  nfds = (nfds_t)p->nfds;
  /* Unlocked while blocked, so that changes need not wait for the timeout:
   * they queue on `waiting` and interrupt poll() instead. */
  p->waiting = 1;
  pthread_mutex_unlock(&p->lock);
  n = poll(pfds, nfds, timeout_ns < 0 ? -1 : to_ms(timeout_ns));
  err = n < 0 ? errno : 0;
  pthread_mutex_lock(&p->lock);
  p->waiting = 0;

  ready = n > 0 && pfds[0].revents != 0;
  broken = ready && (pfds[0].revents & (POLLERR | POLLNVAL));
  if (ready || p->kicked)
    *woken = drain(p, &selected);
  p->kicked = 0;
  /* Apply the queued changes before taking results (pfds may move): an fd
   * deleted while poll() was blocked has left the table by then, so it is
   * not reported after delete returned. */
  if (p->pending > 0) {
    pthread_cond_broadcast(&p->idle);
    do
      pthread_cond_wait(&p->done, &p->lock);
    while (p->pending > 0);
  }
  if (n < 0)
    total = -err;
  else if (broken)
    total = -EBADF; /* someone closed our pipe: say so, do not spin */
  else if (n > ready)
    total = collect(p, out, capacity, n - ready);
  if (selected && total >= 0)
    total = collect_selected(p, out, capacity, total);
  pthread_mutex_unlock(&p->lock);
  if (total != 0 || *woken || timeout_ns == 0)
    return total;
  /* Timed out, a kick only, or results that the changes made stale: not
   * necessarily the deadline, so the front polls again with what is left. */
  return -EINTR;
}

int aio_poller_notify(aio_poller_t* p) {
  return send_byte(p, NOTIFY);
}
