/* The kqueue backend (macOS, FreeBSD, OpenBSD, NetBSD, DragonFly). Kept
 * parallel to port.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#ifdef __OpenBSD__
#include <sys/param.h> /* OpenBSD (the release date) */
#endif
#include <sys/event.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "async_io/backend.h"

/* kqueue1(): NetBSD 6, OpenBSD 7.4, FreeBSD 14 (whose <sys/event.h> says so
 * with KQUEUE_CLOEXEC, for kqueuex()). macOS has none. */
#if defined(__NetBSD__) || defined(KQUEUE_CLOEXEC) || \
    (defined(__OpenBSD__) && defined(OpenBSD) && OpenBSD >= 202310)
#define AIO__HAVE_KQUEUE1 1
#endif

/* Urgent data has a filter where the headers say so: macOS and OpenBSD 7.8
 * have EVFILT_EXCEPT with NOTE_OOB, FreeBSD 14 and NetBSD 10.1 do not. */
#if defined(EVFILT_EXCEPT) && defined(NOTE_OOB)
#define AIO__HAVE_PRIORITY 1
#endif

/* EV_DISPATCH keeps a fired one-shot knote, disabled, instead of dropping
 * it: modify() re-enables it, and what the table says the kernel holds stays
 * exact. Without it a fired EV_ONESHOT knote is gone (see deliver()). */
#ifdef EV_DISPATCH
#define AIO__ONCE EV_DISPATCH
#else
#define AIO__ONCE EV_ONESHOT
#endif

/* EVFILT_USER idents live apart from fds; these cannot be fds either. */
#define AIO__USER_IDENT ((uintptr_t)AIO_NOTIFY_KEY)
#define AIO__SELECT_IDENT                            \
  ((uintptr_t)AIO_NOTIFY_KEY - 1) /* select.c's wake \
                                   */

/* The longest single kevent() wait, in seconds (see aio_poller_wait()). */
#define AIO__MAX_WAIT_S 1000000

#define AIO__NFILTERS 3
#define AIO__MAXCHANGES (2 * AIO__NFILTERS)

/* The kernel forgets a knote when its fd is closed, accepts a second EV_ADD
 * as a modification and a bare EV_DELETE of an fd it never saw with ENOENT.
 * This table remembers what the user registered, so that add/modify/delete
 * answer EEXIST/ENOENT as the other backends do and so that wait can tell a
 * live event from a stale one. */
typedef struct {
  aio_reg_t reg; /* reg.gen: the udata of its knotes */
  uint32_t key;
  unsigned interest;
  aio_mode_t mode;
  unsigned knotes; /* AIO_READABLE|AIO_WRITABLE|AIO_PRIORITY held by the
                      kernel (as far as we know: close() drops them) */
  int armed;       /* one-shot modes: not fired since the last arm */
  int broken;      /* EVFILT_WRITE was refused with EPIPE: wait reports it */
  int pipe;        /* a pipe or FIFO (see to_flags()) */
  int selected;    /* the kernel refused it: select.c watches it */
  uint64_t pass;   /* the wait that last stored an event for this fd ... */
  int slot;        /* ... and where, so that READ and WRITE merge */
} aio__reg_t;

struct aio_poller_s {
  int kq;
#ifndef EVFILT_USER
  int wake[2]; /* non-blocking pipe behind notify() */
#endif
  pthread_mutex_t lock; /* guards the fields below */
  aio_regs_t regs;      /* of aio__reg_t, by fd */
  uint64_t pass;
  int* broken; /* fds whose entry has broken set, possibly stale */
  int nbroken;
  int cbroken;
  /* Fds whose filters the kernel refuses with EINVAL or ENODEV: macOS for
   * /dev/tty and other devices without a kqfilter (oven-sh/bun#24162,
   * tokio-rs/mio#1377, crossterm#996), FreeBSD's no_kqfilter() (ENODEV).
   * libuv's answer, uv__stream_try_select(): watch them with select(). */
  aio_select_t* sel;
};

static const int aio__filter[AIO__NFILTERS] = {
    EVFILT_READ,
    EVFILT_WRITE,
#ifdef AIO__HAVE_PRIORITY
    EVFILT_EXCEPT,
#else
    0,
#endif
};

static const unsigned aio__bit[AIO__NFILTERS] = {AIO_READABLE, AIO_WRITABLE,
                                                 AIO_PRIORITY};

const char* aio_backend_name(void) {
  return "kqueue";
}

unsigned aio_backend_caps(void) {
#ifdef AIO__HAVE_PRIORITY
  return AIO_CAP_LEVEL | AIO_CAP_EDGE | AIO_CAP_PRIORITY;
#else
  return AIO_CAP_LEVEL | AIO_CAP_EDGE;
#endif
}

const char* aio_backend_syscall(aio_op_t op) {
  switch (op) {
    case AIO_OP_CREATE:
#ifdef AIO__HAVE_KQUEUE1
      return "kqueue1";
#else
      return "kqueue";
#endif
#ifndef EVFILT_USER
    case AIO_OP_NOTIFY:
      return "write";
#endif
    default:
      return "kevent";
  }
}

static int oneshot(aio_mode_t mode) {
  return mode == AIO_MODE_ONESHOT || mode == AIO_MODE_EDGE_ONESHOT;
}

static unsigned short mode_flags(aio_mode_t mode) {
  switch (mode) {
    case AIO_MODE_ONESHOT:
      return AIO__ONCE;
    case AIO_MODE_EDGE:
      return EV_CLEAR;
    case AIO_MODE_EDGE_ONESHOT:
      return EV_CLEAR | AIO__ONCE;
    default:
      return 0;
  }
}

static void set_knote(struct kevent* kev, int fd, int i, unsigned short flags,
                      uintptr_t gen) {
  unsigned fflags = 0;
#ifdef AIO__HAVE_PRIORITY
  if (aio__filter[i] == EVFILT_EXCEPT)
    fflags = NOTE_OOB;
#endif
  EV_SET(kev, (uintptr_t)fd, aio__filter[i], flags, fflags, 0, (void*)gen);
}

/* Applies n changes and stores, for each, 0 or its errno in err[]. Returns
 * 0, or a negative errno when kevent() itself failed. */
static int submit(aio_poller_t* p, struct kevent* ch, int n, int* err) {
  int i;
#ifdef EV_RECEIPT
  /* EV_RECEIPT turns every change into an EV_ERROR event (data 0 or the
   * errno) and makes kevent() return without collecting real events, so none
   * is consumed here. The zero timeout is belt and braces. */
  struct kevent out[AIO__MAXCHANGES];
  struct timespec zero = {0, 0};
  int r, j;
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++) {
    ch[i].flags |= EV_RECEIPT;
    err[i] = -1;
  }
  do
    r = kevent(p->kq, ch, n, out, n, &zero);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return -errno;
  /* Receipts come in changelist order; match by ident and filter anyway. */
  for (j = 0; j < r; j++) {
    if (!(out[j].flags & EV_ERROR))
      continue;
    for (i = 0; i < n; i++) {
      if (err[i] == -1 && ch[i].ident == out[j].ident &&
          ch[i].filter == out[j].filter) {
        err[i] = (int)out[j].data;
        break;
      }
    }
  }
  for (i = 0; i < n; i++)
    if (err[i] == -1)
      err[i] = EIO;
#else
  /* Without EV_RECEIPT and with no room for events, kevent() fails with the
   * errno of the first change it refuses and skips the rest: one at a time. */
  for (i = 0; i < n; i++) {
    int r;
    do
      r = kevent(p->kq, &ch[i], 1, NULL, 0, NULL);
    while (r < 0 && errno == EINTR);
    err[i] = r < 0 ? errno : 0;
  }
#endif
  return 0;
}

/* Makes the kernel hold a knote for each filter in `interest`, in `mode`,
 * tagged `gen`, and none for the others. `have` is what it may hold now, in
 * mode `old`. EV_ADD on an existing knote updates its udata but not its
 * EV_CLEAR/EV_ONESHOT/EV_DISPATCH (FreeBSD's kqueue_register() copies the
 * flags only when it creates a knote), so a mode change deletes first. */
static int arm(aio_poller_t* p, int fd, unsigned have, aio_mode_t old,
               unsigned interest, aio_mode_t mode, uintptr_t gen, unsigned* now,
               int* broken, unsigned* refused) {
  struct kevent ch[AIO__MAXCHANGES];
  int err[AIO__MAXCHANGES];
  int idx[AIO__MAXCHANGES];
  int n = 0, i, r, first = 0;
  for (i = 0; i < AIO__NFILTERS; i++) {
    if (!(have & aio__bit[i]))
      continue;
    if (!(interest & aio__bit[i]) || mode_flags(old) != mode_flags(mode)) {
      set_knote(&ch[n], fd, i, EV_DELETE, 0);
      idx[n++] = i;
    }
  }
  for (i = 0; i < AIO__NFILTERS; i++) {
    if (!(interest & aio__bit[i]))
      continue;
    set_knote(&ch[n], fd, i, EV_ADD | EV_ENABLE | mode_flags(mode), gen);
    idx[n++] = i | 0x100;
  }
  r = submit(p, ch, n, err);
  *now = have;
  *broken = 0;
  *refused = 0;
  if (r != 0)
    return r;
  for (i = 0; i < n; i++) {
    unsigned bit = aio__bit[idx[i] & 0xff];
    if (!(idx[i] & 0x100)) {
      /* ENOENT/EBADF: close() or a fired EV_ONESHOT dropped it already. */
      *now &= ~bit;
      if (err[i] != 0 && err[i] != ENOENT && err[i] != EBADF && first == 0)
        first = err[i];
    } else if (err[i] == 0) {
      *now |= bit;
    } else if (err[i] == EPIPE && bit == AIO_WRITABLE) {
      /* A pipe whose reader is gone refuses EVFILT_WRITE (macOS, FreeBSD;
       * mio#582). Writing would fail at once, so wait reports it. */
      *now &= ~bit;
      *broken = 1;
    } else {
      *now &= ~bit;
      if (err[i] == EINVAL || err[i] == ENODEV)
        *refused |= bit;
      if (first == 0)
        first = err[i];
    }
  }
  return -first;
}

/* Best-effort removal of knotes after a failure; errors change nothing. */
static void disarm(aio_poller_t* p, int fd, unsigned knotes) {
  struct kevent ch[AIO__NFILTERS];
  int err[AIO__NFILTERS];
  int n = 0, i;
  for (i = 0; i < AIO__NFILTERS; i++)
    if (knotes & aio__bit[i])
      set_knote(&ch[n++], fd, i, EV_DELETE, 0);
  (void)submit(p, ch, n, err);
}

static int wake(aio_poller_t* p) {
#ifdef EVFILT_USER
  struct kevent kev;
  int r;
  EV_SET(&kev, AIO__USER_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
  do
    r = kevent(p->kq, &kev, 1, NULL, 0, NULL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
#else
  ssize_t r;
  do
    r = write(p->wake[1], "", 1);
  while (r < 0 && errno == EINTR);
  /* EAGAIN: the pipe is full of wakes already. */
  return r < 0 && errno != EAGAIN ? -errno : 0;
#endif
}

/* select.c's wake-up: a user event of its own (or a byte of its own down
 * the pipe), so that a wait can tell it from notify(). */
static int select_wake(void* arg) {
  aio_poller_t* p = (aio_poller_t*)arg;
#ifdef EVFILT_USER
  struct kevent kev;
  int r;
  EV_SET(&kev, AIO__SELECT_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
  do
    r = kevent(p->kq, &kev, 1, NULL, 0, NULL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
#else
  ssize_t r;
  do
    r = write(p->wake[1], "s", 1);
  while (r < 0 && errno == EINTR);
  return r < 0 && errno != EAGAIN ? -errno : 0;
#endif
}

/* A FIFO with a name, as opposed to one from pipe(): macOS answers
 * fcntl(F_GETPATH) only for the former (libuv tells them apart so); Linux,
 * where the emulation runs, names the latter "pipe:[ino]" in /proc. */
static int named_fifo(int fd) {
#ifdef F_GETPATH
  char path[PATH_MAX];
  return fcntl(fd, F_GETPATH, path) == 0;
#else
  char link[64], target[16];
  ssize_t n;
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  n = readlink(link, target, sizeof(target));
  return n > 0 && !(n >= 5 && memcmp(target, "pipe:", 5) == 0);
#endif
}

/* Whether this kernel's kqueue reports the last writer's close of a named
 * FIFO: macOS never does (golang/go#24164, oven-sh/bun#37823; Go and libuv
 * keep named FIFOs out of kqueue on Darwin). Asked once of the kernel, with
 * a FIFO of our own in a private directory; where that cannot be made, the
 * answer is macOS's for macOS and "reports" elsewhere. */
static pthread_once_t aio__fifo_once = PTHREAD_ONCE_INIT;
static int aio__fifo_loses_eof;

static void probe_fifo(void) {
  char dir[] = "/tmp/async-io-fifo-XXXXXX", path[sizeof(dir) + 2];
  struct kevent ch, ev;
  struct timespec zero = {0, 0};
  int r = -1, w = -1, kq = -1, n;
#ifdef __APPLE__
  aio__fifo_loses_eof = 1;
#endif
  if (mkdtemp(dir) == NULL)
    return;
  snprintf(path, sizeof(path), "%s/f", dir);
  if (mkfifo(path, 0600) == 0) {
    r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (r >= 0)
      w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    unlink(path);
  }
  rmdir(dir);
  if (r >= 0 && w >= 0 && (kq = kqueue()) >= 0) {
    close(w);
    w = -1;
    EV_SET(&ch, (uintptr_t)r, EVFILT_READ, EV_ADD, 0, 0, NULL);
    do
      n = kevent(kq, &ch, 1, &ev, 1, &zero);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
      aio__fifo_loses_eof = !(n == 1 && (ev.flags & EV_EOF));
  }
  if (kq >= 0)
    close(kq);
  if (w >= 0)
    close(w);
  if (r >= 0)
    close(r);
}

static int fifo_loses_eof(void) {
  pthread_once(&aio__fifo_once, probe_fifo);
  return aio__fifo_loses_eof;
}

static int is_edge(aio_mode_t mode) {
  return mode == AIO_MODE_EDGE || mode == AIO_MODE_EDGE_ONESHOT;
}

static int mark_broken(aio_poller_t* p, int fd) {
  if (p->nbroken == p->cbroken) {
    int c = p->cbroken > 0 ? 2 * p->cbroken : 8;
    int* b = (int*)realloc(p->broken, (size_t)c * sizeof(*b));
    if (b == NULL)
      return -ENOMEM;
    p->broken = b;
    p->cbroken = c;
  }
  p->broken[p->nbroken++] = fd;
  return wake(p);
}

int aio_poller_create(aio_poller_t** out) {
  struct kevent kev;
  int err;
  aio_poller_t* p = (aio_poller_t*)calloc(1, sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
#ifdef AIO__HAVE_KQUEUE1
  p->kq = kqueue1(O_CLOEXEC);
  if (p->kq < 0) {
    err = -errno;
    free(p);
    return err;
  }
#else
  p->kq = kqueue();
  if (p->kq < 0) {
    err = -errno;
    free(p);
    return err;
  }
  /* No kqueue1(): a fork+exec in another thread before the fcntl() can
   * still inherit the kqueue (libuv lives with the same window). */
  err = aio_fd_set_cloexec(p->kq);
  if (err != 0) {
    close(p->kq);
    free(p);
    return err;
  }
#endif
  err = pthread_mutex_init(&p->lock, NULL);
  if (err != 0) {
    close(p->kq);
    free(p);
    return -err;
  }
#ifdef EVFILT_USER
  /* EV_CLEAR: a trigger is consumed by the wait that reports it; without it
   * the user event would stay triggered and every wait would return. */
  EV_SET(&kev, AIO__SELECT_IDENT, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
  if (kevent(p->kq, &kev, 1, NULL, 0, NULL) < 0) {
    err = -errno;
    pthread_mutex_destroy(&p->lock);
    close(p->kq);
    free(p);
    return err;
  }
  EV_SET(&kev, AIO__USER_IDENT, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
#else
  /* backend-core's pipe: pipe2() where it exists, not on macOS. */
  err = aio_fd_pipe(p->wake);
  if (err != 0) {
    pthread_mutex_destroy(&p->lock);
    close(p->kq);
    free(p);
    return err;
  }
  EV_SET(&kev, (uintptr_t)p->wake[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
#endif
  if (kevent(p->kq, &kev, 1, NULL, 0, NULL) < 0) {
    err = -errno;
#ifndef EVFILT_USER
    close(p->wake[0]);
    close(p->wake[1]);
#endif
    pthread_mutex_destroy(&p->lock);
    close(p->kq);
    free(p);
    return err;
  }
  err = aio_select_create(&p->sel, select_wake, p);
  if (err != 0) {
#ifndef EVFILT_USER
    close(p->wake[0]);
    close(p->wake[1]);
#endif
    pthread_mutex_destroy(&p->lock);
    close(p->kq);
    free(p);
    return err;
  }
  aio_regs_init(&p->regs, sizeof(aio__reg_t));
  *out = p;
  return 0;
}

void aio_poller_destroy(aio_poller_t* p) {
  aio_select_destroy(p->sel); /* joins the helper, which wakes through kq */
#ifndef EVFILT_USER
  close(p->wake[0]);
  close(p->wake[1]);
#endif
  close(p->kq);
  pthread_mutex_destroy(&p->lock);
  aio_regs_free(&p->regs);
  free(p->broken);
  free(p);
}

int aio_poller_fd(const aio_poller_t* p) {
  return p->kq;
}

/* Fills a registration that arm() has just made the kernel hold. */
static void set_reg(aio__reg_t* r, uintptr_t gen, uint32_t key,
                    unsigned interest, aio_mode_t mode, unsigned knotes,
                    int broken) {
  r->reg.gen = gen;
  r->key = key;
  r->interest = interest;
  r->mode = mode;
  r->knotes = knotes;
  r->armed = 1;
  r->broken = broken;
}

static int is_device(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode);
}

int aio_poller_add(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                   aio_mode_t mode) {
  aio__reg_t* r;
  uintptr_t gen;
  unsigned now;
  struct stat st;
  unsigned refused;
  int err, broken, selected = 0;
  /* Makes a bogus number fail (EBADF) before the table grows that far,
   * even with no filter to add, where the kernel would never look at fd. */
  if (fstat(fd, &st) < 0)
    return -errno;
  pthread_mutex_lock(&p->lock);
  r = aio_regs_find(&p->regs, fd);
  if (r != NULL) {
    /* close() without delete drops the fd's knotes and tells nobody
     * (polling #262): the number may name a new file now. Compared by file
     * identity rather than by probing the kernel: any EV_ADD/EV_ENABLE probe
     * makes the kernel re-check readiness and re-fire an EV_CLEAR knote. */
    if (r->reg.dev == st.st_dev && r->reg.ino == st.st_ino) {
      err = -EEXIST;
      goto out;
    }
    if (r->selected)
      (void)aio_select_watch(p->sel, fd, 0, 0);
    memset(r, 0, sizeof(*r));
  }
  gen = aio_regs_new_gen(&p->regs);
  if (S_ISFIFO(st.st_mode) && named_fifo(fd) && fifo_loses_eof()) {
    /* Its EOF would never come through kqueue: select() from the start. */
    err = 0;
    now = 0;
    broken = 0;
    refused = 0;
    selected = 1;
  } else {
    err = arm(p, fd, 0, mode, interest, mode, gen, &now, &broken, &refused);
  }
  if ((refused & (AIO_READABLE | AIO_WRITABLE)) && S_ISCHR(st.st_mode)) {
    /* The kernel's answer, not the OS name, sends the fd to select(): a
     * device whose read or write filter it refused with EINVAL or ENODEV (a
     * refused priority filter alone stays EINVAL: sockets only, as
     * documented; another kqueue's fd stays EINVAL, as the kernel says). */
    disarm(p, fd, now);
    now = 0;
    broken = 0;
    selected = 1;
    err = 0;
  }
  if (err == 0 && (r = aio_regs_reserve(&p->regs, fd)) == NULL)
    err = -ENOMEM;
  if (err == 0 && selected)
    err = aio_select_watch(p->sel, fd, interest, is_edge(mode));
  if (err != 0) {
    disarm(p, fd, now);
    if (r != NULL)
      memset(r, 0, sizeof(*r));
    goto out;
  }
  set_reg(r, gen, key, interest, mode, now, broken);
  r->selected = selected;
  r->reg.dev = st.st_dev;
  r->reg.ino = st.st_ino;
  r->pipe = S_ISFIFO(st.st_mode);
  if (broken)
    err = mark_broken(p, fd);
out:
  pthread_mutex_unlock(&p->lock);
  return err;
}

int aio_poller_modify(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                      aio_mode_t mode) {
  aio__reg_t* r;
  unsigned now, refused;
  uintptr_t gen;
  int err, broken;
  pthread_mutex_lock(&p->lock);
  r = aio_regs_find(&p->regs, fd);
  if (r == NULL) {
    err = -ENOENT;
    goto out;
  }
  /* A new gen: an event the kernel handed out under the old registration
   * (still on its way through a concurrent wait) is stale now. EV_ADD
   * creates what close() dropped, so a reused fd number comes back too. */
  gen = aio_regs_new_gen(&p->regs);
  if (r->selected) {
    err = aio_select_watch(p->sel, fd, interest, is_edge(mode));
    if (err == 0)
      set_reg(r, gen, key, interest, mode, 0, 0);
    goto out;
  }
  err = arm(p, fd, r->knotes, r->mode, interest, mode, gen, &now, &broken,
            &refused);
  if ((refused & (AIO_READABLE | AIO_WRITABLE)) && is_device(fd)) {
    /* Added with no filter the kernel could refuse: as in add. */
    disarm(p, fd, now);
    err = aio_select_watch(p->sel, fd, interest, is_edge(mode));
    r->knotes = 0;
    r->armed = 0;
    r->broken = 0;
    if (err == 0) {
      set_reg(r, gen, key, interest, mode, 0, 0);
      r->selected = 1;
    }
    goto out;
  }
  if (err != 0) {
    /* Stays registered (delete works) but silent until a modify succeeds. */
    disarm(p, fd, now);
    r->knotes = 0;
    r->armed = 0;
    r->broken = 0;
    goto out;
  }
  set_reg(r, gen, key, interest, mode, now, broken);
  if (broken)
    err = mark_broken(p, fd);
out:
  pthread_mutex_unlock(&p->lock);
  return err;
}

int aio_poller_delete(aio_poller_t* p, int fd) {
  struct kevent ch[AIO__NFILTERS];
  int errs[AIO__NFILTERS];
  aio__reg_t* r;
  int n = 0, i, err;
  pthread_mutex_lock(&p->lock);
  r = aio_regs_find(&p->regs, fd);
  if (r == NULL) {
    err = -ENOENT;
    goto out;
  }
  if (r->selected)
    (void)aio_select_watch(p->sel, fd, 0, 0); /* only shrinks: cannot fail */
  for (i = 0; i < AIO__NFILTERS; i++)
    if (r->knotes & aio__bit[i])
      set_knote(&ch[n++], fd, i, EV_DELETE, 0);
  /* ENOENT: close() (number reused) or a fired EV_ONESHOT dropped it.
   * EBADF: the fd is closed, which dropped it. Either way the registration
   * ends here; an event a concurrent wait already holds is dropped there,
   * since the table no longer knows its gen. */
  err = submit(p, ch, n, errs);
  for (i = 0; i < n && err == 0; i++)
    if (errs[i] != 0 && errs[i] != ENOENT && errs[i] != EBADF)
      err = -errs[i];
  memset(r, 0, sizeof(*r));
out:
  pthread_mutex_unlock(&p->lock);
  return err;
}

/* EV_EOF means what its filter says. On EVFILT_READ the peer is gone
 * (hangup), with the socket's error in fflags, if any. On a socket's
 * EVFILT_WRITE it only means that nothing more can be sent, which every BSD
 * also says after our own shutdown(SHUT_WR) while the peer lives on
 * (filt_sowrite(); oven-sh/bun#34678, tokio-rs/mio#1087; libuv/libuv#3277
 * reads EV_EOF on EVFILT_READ only): a hangup there only when the
 * connection failed (fflags holds its errno). A pipe has no half-close: its
 * EV_EOF on EVFILT_WRITE is the other end gone, a hangup. */
static uint32_t to_flags(const struct kevent* ev, const aio__reg_t* r) {
  uint32_t f = 0;
  if (ev->filter == EVFILT_READ) {
    f = AIO_READABLE;
    if (ev->flags & EV_EOF)
      f |= AIO_HANGUP | (ev->fflags != 0 ? AIO_ERROR : 0);
  } else if (ev->filter == EVFILT_WRITE) {
    f = AIO_WRITABLE;
    if ((ev->flags & EV_EOF) && (ev->fflags != 0 || r->pipe))
      f |= AIO_HANGUP | (ev->fflags != 0 ? AIO_ERROR : 0);
  }
#ifdef AIO__HAVE_PRIORITY
  else if (ev->filter == EVFILT_EXCEPT) {
    f = AIO_PRIORITY;
  }
#endif
  if (ev->flags & EV_ERROR)
    f |= AIO_ERROR;
  return f;
}

/* Stores (or merges) one event for registration r; returns the new total. */
static int store(aio_poller_t* p, aio__reg_t* r, uint32_t flags,
                 aio_event_t* out, int total) {
  if (r->pass == p->pass) {
    out[r->slot].flags |= flags;
    return total;
  }
  r->pass = p->pass;
  r->slot = total;
  out[total].key = r->key;
  out[total].flags = flags;
  return total + 1;
}

/* Turns what kevent() returned into aio events. Runs under the lock, so a
 * delete or modify is either fully before it or fully after it. */
static int deliver(aio_poller_t* p, const struct kevent* ev, int n,
                   aio_event_t* out, int* woken, int* selected) {
  int i, total = 0;
  for (i = 0; i < n; i++) {
    const struct kevent* e = &ev[i];
    aio__reg_t* r;
    uint32_t f;
    int fd;
#ifdef EVFILT_USER
    if (e->filter == EVFILT_USER) {
      if (e->ident == AIO__USER_IDENT)
        *woken = 1;
      else if (e->ident == AIO__SELECT_IDENT)
        *selected = 1;
      continue;
    }
#else
    if (e->filter == EVFILT_READ && e->ident == (uintptr_t)p->wake[0]) {
      char buf[64];
      ssize_t r, j;
      while ((r = read(p->wake[0], buf, sizeof(buf))) > 0 ||
             (r < 0 && errno == EINTR)) {
        for (j = 0; j < r; j++) {
          if (buf[j] == 's')
            *selected = 1;
          else
            *woken = 1;
        }
      }
      continue;
    }
#endif
    if (e->ident > (uintptr_t)INT_MAX)
      continue;
    fd = (int)e->ident;
    r = aio_regs_find(&p->regs, fd);
    /* Taken by the kernel before a concurrent delete or modify got the
     * lock: that registration is gone, and its event with it. */
    if (r == NULL || r->reg.gen != (uintptr_t)e->udata)
      continue;
    /* The other filter of a fired one-shot fd: EV_DISPATCH disabled only
     * the knote that fired, so the rest is disarmed here, lazily. */
    if (oneshot(r->mode) && !r->armed && r->pass != p->pass)
      continue;
    f = to_flags(e, r) & (r->interest | AIO_HANGUP | AIO_ERROR);
#ifndef EV_DISPATCH
    if (oneshot(r->mode)) {
      unsigned bit =
          to_flags(e, r) & (AIO_READABLE | AIO_WRITABLE | AIO_PRIORITY);
      r->knotes &= ~bit; /* EV_ONESHOT dropped it */
    }
#endif
    if (oneshot(r->mode))
      r->armed = 0;
    total = store(p, r, f, out, total);
  }
  return total;
}

/* What select.c found ready for the fds the kernel refused, merged into
 * out[0..total) like kernel events, in the registration's mode. */
static int deliver_selected(aio_poller_t* p, aio_event_t* out, int total,
                            int capacity) {
  aio_event_t* got = out + total;
  aio_event_t ev;
  int n, i;
  n = aio_select_take(p->sel, got, capacity - total);
  if (n < 0)
    return n;
  for (i = 0; i < n; i++) {
    int fd = (int)got[i].key;
    aio__reg_t* r = aio_regs_find(&p->regs, fd);
    ev = got[i]; /* got[] is where store() writes */
    if (r == NULL || !r->selected || (oneshot(r->mode) && !r->armed))
      continue;
    ev.flags &= r->interest | AIO_HANGUP | AIO_ERROR;
    if (ev.flags == 0)
      continue;
    if (oneshot(r->mode)) {
      r->armed = 0;
      (void)aio_select_watch(p->sel, fd, 0, 0);
    }
    total = store(p, r, ev.flags, out, total);
  }
  return total;
}

/* EVFILT_WRITE refused with EPIPE: the fd is writable (a write fails at once)
 * and its reader is gone. Reported like a knote in the same mode would. */
static int deliver_broken(aio_poller_t* p, aio_event_t* out, int total,
                          int capacity) {
  int i, kept = 0;
  for (i = 0; i < p->nbroken; i++) {
    int fd = p->broken[i];
    aio__reg_t* r = aio_regs_find(&p->regs, fd);
    if (r == NULL || !r->broken ||
        (oneshot(r->mode) && !r->armed && r->pass != p->pass)) {
      if (r != NULL)
        r->broken = 0;
      continue;
    }
    if (total == capacity && r->pass != p->pass) {
      p->broken[kept++] = fd;
      continue;
    }
    total = store(p, r, AIO_WRITABLE | AIO_HANGUP | AIO_ERROR, out, total);
    if (oneshot(r->mode))
      r->armed = 0;
    if (r->mode == AIO_MODE_LEVEL)
      p->broken[kept++] = fd;
    else
      r->broken = 0;
  }
  p->nbroken = kept;
  return total;
}

size_t aio_backend_event_size(void) {
  return sizeof(struct kevent);
}

int aio_poller_wait(aio_poller_t* p, aio_event_t* out, int capacity,
                    void* scratch, int64_t timeout_ns, int* woken) {
  struct kevent* ev = (struct kevent*)scratch;
  struct timespec ts;
  int n, total, forced = 0, clamped = 0, selected = 0;
  /* Never ask for more than fits: a retrieved one-shot event is consumed,
   * so one we could not store would be lost. Each kernel event makes at
   * most one aio event (READ and WRITE of one fd merge into one). One
   * kevent() call per wait: a second one would report level-triggered fds
   * twice. */
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    /* macOS refuses tv_sec > 10^8 with EINVAL (apple/swift-nio#1642,
     * netty/netty#13503). As Go's netpoll does, wait at most 10^6 s and
     * let the front wait again for what is left (-EINTR below). */
    if (ts.tv_sec >= AIO__MAX_WAIT_S) {
      ts.tv_sec = AIO__MAX_WAIT_S;
      ts.tv_nsec = 0;
      clamped = 1;
    }
  }
  pthread_mutex_lock(&p->lock);
  if (p->nbroken > 0 && timeout_ns != 0) {
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
    forced = 1;
  }
  pthread_mutex_unlock(&p->lock);
  n = kevent(p->kq, NULL, 0, ev, capacity,
             timeout_ns < 0 && !forced ? NULL : &ts);
  /* macOS has been seen failing a wait with ETIMEDOUT (golang/go#59679,
   * which Go retries): a timeout, never an error. It took no events, so
   * the front's retry against the same deadline loses nothing. */
  if (n < 0 && errno == ETIMEDOUT)
    return timeout_ns == 0 ? 0 : -EINTR;
  if (n < 0)
    return -errno;
  pthread_mutex_lock(&p->lock);
  p->pass++;
  total = deliver(p, ev, n, out, woken, &selected);
  if (p->nbroken > 0)
    total = deliver_broken(p, out, total, capacity);
  if (selected)
    total = deliver_selected(p, out, total, capacity);
  pthread_mutex_unlock(&p->lock);
  if (total > 0 || *woken || timeout_ns == 0 || (n == 0 && !forced && !clamped))
    return total;
  /* Woken with nothing for us: only events of fds deleted or disarmed
   * meanwhile, or stale broken fds; or the clamped wait ended. Not a
   * timeout, so the front retries against what is left of the same
   * deadline. */
  return -EINTR;
}

int aio_poller_notify(aio_poller_t* p) {
  return wake(p);
}
