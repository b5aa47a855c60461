/* TEST ONLY: BSD kqueue (EVFILT_READ/WRITE/EXCEPT on fds, EVFILT_USER)
 * emulated on Linux epoll, so that src/kqueue.c runs unchanged here.
 *
 * It is strict on purpose: it refuses what the BSD kernels refuse, with their
 * errno, and reproduces the behaviours a backend must cope with. Behaviour
 * follows kqueue(2) of FreeBSD and macOS and FreeBSD's sys/kern/kern_event.c
 * (kqueue_register(), kqueue_scan(), kern_kevent()), which the others share.
 *
 * Model: a kqueue is an epoll instance (its fd is the kqueue fd). Each knote
 * keeps the kernel's status bits (active, queued, disabled) and ready knotes
 * sit on a FIFO queue, as in kern_event.c. Every fd with knotes has one
 * edge-triggered epoll registration for all its filters; an epoll event
 * stands for the kernel's knote() call and activates the knotes it concerns.
 * Whether a knote is ready (f_event) is asked of poll(2), at EV_ADD/ENABLE
 * and at scan time, so level-triggered knotes are re-checked and re-queued
 * exactly as kqueue_scan() does. A process-wide always-readable eventfd (the
 * "token") is armed in a kqueue's epoll set while its queue is non-empty, so
 * the kqueue fd polls readable then and a blocked kevent() wakes up.
 *
 * Known differences from the kernels are listed at each function. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <sys/event.h>

#define SHIM_TOKEN UINT64_MAX
#define SHIM_FILTERS 3 /* READ, WRITE, EXCEPT */

typedef struct knote_s knote_t;
struct knote_s {
  uintptr_t ident;
  short filter;
  unsigned short flags; /* EV_ONESHOT|EV_CLEAR|EV_DISPATCH, from creation */
  unsigned sfflags;
  int64_t sdata;
  void* udata;
  int active, queued, disabled;
  int triggered;   /* EVFILT_USER */
  unsigned fflags; /* EVFILT_USER: the user's fflags */
  knote_t* qprev;  /* ready queue */
  knote_t* qnext;
  knote_t* unext; /* EVFILT_USER list */
};

typedef struct {
  knote_t* kn[SHIM_FILTERS];
  dev_t dev; /* the open file the knotes are for */
  ino_t ino;
  uint32_t serial; /* bumped by every epoll registration of this number */
  int in_epoll;
} shim_fd_t;

typedef struct {
  int epfd;
  pthread_mutex_t lock; /* guards the fields below */
  shim_fd_t* fds;       /* indexed by fd */
  int nfds;
  knote_t* users;
  knote_t q; /* ready queue sentinel */
  int qlen;
  int token_armed;
} shim_kq_t;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static shim_kq_t** reg; /* indexed by kqueue fd */
static int nreg;
static pthread_once_t token_once = PTHREAD_ONCE_INIT;
static int token_fd = -1;
static int token_err;

static int fail(int err) {
  errno = err;
  return -1;
}

/* Named quirks: answers some kernels give that the default emulation does
 * not, switched on by name in the environment variable KQ_SHIM_QUIRKS
 * (comma-separated), read at every kevent() call so that a test can turn
 * one on for the calls it makes:
 *   timeout-einval  kevent() refuses a timeout with tv_sec > 10^8 with
 *                   EINVAL, as macOS does (apple/swift-nio#1642,
 *                   netty/netty#13503). On in the macOS profile anyway.
 *   etimedout-once  the next kevent() that would wait for events (a NULL or
 *                   non-zero timeout) fails with ETIMEDOUT, once, as seen on
 *                   macOS (golang/go#59679). Fires again only after a
 *                   kevent() call saw the variable not naming it.
 *   device-einval   EV_ADD of EVFILT_READ or EVFILT_WRITE on a character
 *                   device fails with EINVAL, as macOS kqueue answers for
 *                   /dev/tty and other devices without a kqfilter
 *                   (oven-sh/bun#24162, tokio-rs/mio#1377,
 *                   crossterm-rs/crossterm#996; libuv probes for it in
 *                   uv__stream_try_select()). Real macOS takes pty masters;
 *                   here every character device is refused, ptys included,
 *                   so that the tests can use ptys.
 *   fifo-no-eof     EVFILT_READ on a named FIFO never reports the last
 *                   writer's close: no EV_EOF, and not ready at EOF, as on
 *                   macOS (golang/go#24164, oven-sh/bun#37823). Pipes from
 *                   pipe() are not affected.
 * Not a quirk but every BSD's behaviour, so always on: EVFILT_WRITE reports
 * EV_EOF once the socket cannot send more, including after our own
 * shutdown(SHUT_WR) (see fd_event()). */
static int quirk(const char* name) {
  const char* q = getenv("KQ_SHIM_QUIRKS");
  size_t len = strlen(name);
#ifdef KQ_SHIM_PROFILE_MACOS
  if (strcmp(name, "timeout-einval") == 0)
    return 1;
#endif
  while (q != NULL && *q != '\0') {
    const char* end = strchr(q, ',');
    size_t n = end != NULL ? (size_t)(end - q) : strlen(q);
    if (n == len && strncmp(q, name, len) == 0)
      return 1;
    q = end != NULL ? end + 1 : NULL;
  }
  return 0;
}

/* etimedout-once: 1 for the first call that `would_wait` while the quirk
 * is on; a call that sees it off re-arms it. */
static int etimedout_now(int would_wait) {
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static int fired;
  int on = quirk("etimedout-once"), now = 0;
  pthread_mutex_lock(&lock);
  if (!on) {
    fired = 0;
  } else if (would_wait && !fired) {
    fired = 1;
    now = 1;
  }
  pthread_mutex_unlock(&lock);
  return now;
}

static void token_init(void) {
  uint64_t one = 1;
  token_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (token_fd < 0) {
    token_err = errno;
    return;
  }
  if (write(token_fd, &one, sizeof(one)) != sizeof(one)) {
    token_err = errno;
    close(token_fd);
    token_fd = -1;
  }
}

static int fidx(short filter) {
  switch (filter) {
    case EVFILT_READ:
      return 0;
    case EVFILT_WRITE:
      return 1;
    case KQ_SHIM_EVFILT_EXCEPT:
      return 2;
    default:
      return -1;
  }
}

static void q_remove(shim_kq_t* kq, knote_t* kn) {
  if (!kn->queued)
    return;
  kn->qprev->qnext = kn->qnext;
  kn->qnext->qprev = kn->qprev;
  kn->queued = 0;
  kq->qlen--;
}

static void q_append(shim_kq_t* kq, knote_t* kn) {
  if (kn->queued)
    return;
  kn->qprev = kq->q.qprev;
  kn->qnext = &kq->q;
  kq->q.qprev->qnext = kn;
  kq->q.qprev = kn;
  kn->queued = 1;
  kq->qlen++;
}

/* KNOTE_ACTIVATE: active, and queued unless disabled. */
static void activate(shim_kq_t* kq, knote_t* kn) {
  kn->active = 1;
  if (!kn->disabled)
    q_append(kq, kn);
}

/* The token lives as long as this image: a Worker that loads the addon
 * alone unloads it again when it exits, and the next one starts afresh. */
__attribute__((destructor)) static void token_fini(void) {
  if (token_fd >= 0)
    close(token_fd);
  token_fd = -1;
}

/* Keeps the token armed exactly while the queue is non-empty. */
static void sync_token(shim_kq_t* kq) {
  struct epoll_event ev;
  int want = kq->qlen > 0;
  if (want == kq->token_armed)
    return;
  memset(&ev, 0, sizeof(ev));
  ev.events = want ? EPOLLIN : 0;
  ev.data.u64 = SHIM_TOKEN;
  if (epoll_ctl(kq->epfd, EPOLL_CTL_MOD, token_fd, &ev) == 0)
    kq->token_armed = want;
}

static void free_kq(shim_kq_t* kq) {
  knote_t* kn;
  int fd, i;
  for (fd = 0; fd < kq->nfds; fd++)
    for (i = 0; i < SHIM_FILTERS; i++)
      free(kq->fds[fd].kn[i]);
  while ((kn = kq->users) != NULL) {
    kq->users = kn->unext;
    free(kn);
  }
  pthread_mutex_destroy(&kq->lock);
  free(kq->fds);
  free(kq);
}

/* Finds the kqueue behind `kq` the way kern_kevent() does: EBADF if it is no
 * open fd or no kqueue. Every kqueue has the token registered, which tells a
 * live one from an epoll instance (or any fd) that reused a closed number. */
static int shim_kq(int fd, shim_kq_t** out) {
  struct epoll_event ev;
  shim_kq_t* kq = NULL;
  if (fd < 0 || fcntl(fd, F_GETFD) < 0)
    return EBADF;
  pthread_mutex_lock(&reg_lock);
  if (fd < nreg)
    kq = reg[fd];
  pthread_mutex_unlock(&reg_lock);
  if (kq == NULL || token_fd < 0)
    return EBADF;
  memset(&ev, 0, sizeof(ev));
  ev.data.u64 = SHIM_TOKEN;
  if (epoll_ctl(fd, EPOLL_CTL_ADD, token_fd, &ev) == 0) {
    epoll_ctl(fd, EPOLL_CTL_DEL, token_fd, &ev);
    return EBADF;
  }
  if (errno != EEXIST)
    return EBADF;
  *out = kq;
  return 0;
}

static int is_kqueue(int fd) {
  shim_kq_t* kq;
  return shim_kq(fd, &kq) == 0;
}

static int create(int cloexec) {
  struct epoll_event ev;
  shim_kq_t* kq;
  int epfd, err;
  pthread_once(&token_once, token_init);
  if (token_fd < 0)
    return fail(token_err);
  epfd = epoll_create1(cloexec ? EPOLL_CLOEXEC : 0);
  if (epfd < 0)
    return -1;
  kq = (shim_kq_t*)calloc(1, sizeof(*kq));
  if (kq == NULL) {
    close(epfd);
    return fail(ENOMEM);
  }
  err = pthread_mutex_init(&kq->lock, NULL);
  if (err != 0) {
    free(kq);
    close(epfd);
    return fail(err);
  }
  kq->epfd = epfd;
  kq->q.qnext = kq->q.qprev = &kq->q;
  memset(&ev, 0, sizeof(ev));
  ev.data.u64 = SHIM_TOKEN;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, token_fd, &ev) < 0) {
    err = errno;
    free_kq(kq);
    close(epfd);
    return fail(err);
  }
  pthread_mutex_lock(&reg_lock);
  if (epfd >= nreg) {
    int n = nreg ? nreg : 64;
    shim_kq_t** r;
    while (n <= epfd)
      n *= 2;
    r = (shim_kq_t**)realloc(reg, (size_t)n * sizeof(*r));
    if (r == NULL) {
      pthread_mutex_unlock(&reg_lock);
      free_kq(kq);
      close(epfd);
      return fail(ENOMEM);
    }
    memset(r + nreg, 0, (size_t)(n - nreg) * sizeof(*r));
    reg = r;
    nreg = n;
  }
  /* The number is free again, so the kqueue that had it was closed. */
  if (reg[epfd] != NULL)
    free_kq(reg[epfd]);
  reg[epfd] = kq;
  pthread_mutex_unlock(&reg_lock);
  return epfd;
}

/* kqueue(2): a new kqueue, NOT close-on-exec (as on the BSDs).
 * Differs: macOS does not let a fork child inherit a kqueue at all; here it
 * is an ordinary fd. The shim's state for a kqueue is freed when a later
 * kqueue() reuses its fd number, not at close() (the shim cannot see it). */
int kqueue(void) {
  return create(0);
}

/* kqueue1(2) (NetBSD, OpenBSD 7.4, FreeBSD 14): O_CLOEXEC is the only flag
 * honoured; anything else is EINVAL. Differs: NetBSD also takes O_NONBLOCK
 * and O_NOSIGPIPE. */
int kqueue1(int flags) {
  if (flags & ~O_CLOEXEC)
    return fail(EINVAL);
  return create(flags & O_CLOEXEC);
}

/* kqueuex(2) (FreeBSD 14): KQUEUE_CLOEXEC or 0; anything else is EINVAL. */
int kqueuex(unsigned int flags) {
  if (flags & ~(unsigned)KQ_SHIM_KQUEUE_CLOEXEC_VALUE)
    return fail(EINVAL);
  return create(flags != 0);
}

static int grow(shim_kq_t* kq, int fd) {
  shim_fd_t* f;
  int n;
  if (fd < kq->nfds)
    return 0;
  n = kq->nfds ? kq->nfds : 64;
  while (n <= fd)
    n *= 2;
  f = (shim_fd_t*)realloc(kq->fds, (size_t)n * sizeof(*f));
  if (f == NULL)
    return ENOMEM;
  memset(f + kq->nfds, 0, (size_t)(n - kq->nfds) * sizeof(*f));
  kq->fds = f;
  kq->nfds = n;
  return 0;
}

static int has_knotes(const shim_fd_t* f) {
  return f->kn[0] != NULL || f->kn[1] != NULL || f->kn[2] != NULL;
}

static void drop_knote(shim_kq_t* kq, knote_t* kn) {
  if (kn->filter == KQ_SHIM_EVFILT_USER) {
    knote_t** pp = &kq->users;
    while (*pp != kn)
      pp = &(*pp)->unext;
    *pp = kn->unext;
  } else {
    shim_fd_t* f = &kq->fds[kn->ident];
    f->kn[fidx(kn->filter)] = NULL;
    if (!has_knotes(f) && f->in_epoll) {
      struct epoll_event ev;
      memset(&ev, 0, sizeof(ev));
      /* ENOENT/EBADF: the file went with close() and epoll forgot it. */
      epoll_ctl(kq->epfd, EPOLL_CTL_DEL, (int)kn->ident, &ev);
      f->in_epoll = 0;
    }
  }
  q_remove(kq, kn);
  free(kn);
}

/* The kernel drops an fd's knotes inside close(). The shim cannot see
 * close(), so it notices when it next looks at the number: if it is closed
 * or names another file, the knotes go now. Differs: a knote of a file that
 * was closed and the very same file dup'ed back under the same number
 * survives here. */
static void check_fd(shim_kq_t* kq, int fd) {
  struct stat st;
  shim_fd_t* f;
  int i;
  if (fd >= kq->nfds)
    return;
  f = &kq->fds[fd];
  if (!has_knotes(f))
    return;
  if (fstat(fd, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino)
    return;
  f->in_epoll = 0; /* epoll forgot it too (unless the file lives on
                      elsewhere: then its stale serial is ignored) */
  for (i = 0; i < SHIM_FILTERS; i++)
    if (f->kn[i] != NULL)
      drop_knote(kq, f->kn[i]);
}

/* filt_sowrite() (FreeBSD sys/kern/uipc_socket.c, XNU bsd/kern/
 * uipc_socket.c) sets EV_EOF on EVFILT_WRITE as soon as the socket cannot
 * send more: after the peer reset it, but also after our own
 * shutdown(SHUT_WR) while the peer is alive (oven-sh/bun#34678,
 * tokio-rs/mio#1087, libuv/libuv#3277). Linux poll() says nothing of our own
 * shutdown, so ask a zero-length send on a connected stream socket: EPIPE
 * once the sending side is shut down, and no data either way. Not asked
 * when the socket has a pending error (the send would consume it). */
static int cant_send_more(int fd) {
  int type = 0, listening = 0;
  socklen_t len = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
      type != SOCK_STREAM)
    return 0;
  len = sizeof(listening);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
      listening)
    return 0;
  return send(fd, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EPIPE;
}

/* A FIFO with a name (mkfifo), as opposed to one from pipe(): Linux names
 * the latter "pipe:[ino]" in /proc/self/fd. */
static int named_fifo(int fd) {
  char path[64], target[16];
  struct stat st;
  ssize_t n;
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
    return 0;
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  n = readlink(path, target, sizeof(target));
  return n > 0 && !(n >= 5 && memcmp(target, "pipe:", 5) == 0);
}

/* f_event for fd filters, asked of poll(2). Fills what the kernel would
 * report: EV_EOF, fflags (the socket error) and data (bytes readable).
 * Differs: Linux cannot read a socket's pending error without clearing it,
 * so an error condition reports fflags EIO instead of the real errno, and
 * EVFILT_WRITE's data (space left) is always 0. */
static int fd_event(const knote_t* kn, unsigned short* flags, unsigned* fflags,
                    int64_t* data) {
  struct pollfd pfd;
  struct stat st;
  int fd = (int)kn->ident, ready = 0, r;
  short rev;
  *flags = 0;
  *fflags = 0;
  *data = 0;
  pfd.fd = fd;
  pfd.events = POLLIN | POLLOUT | POLLPRI | POLLRDHUP;
  pfd.revents = 0;
  do
    r = poll(&pfd, 1, 0);
  while (r < 0 && errno == EINTR);
  if (r <= 0 || (pfd.revents & POLLNVAL))
    return 0;
  rev = pfd.revents;
  switch (kn->filter) {
    case EVFILT_READ: {
      int n = 0;
      ready = (rev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0;
      if (rev & (POLLRDHUP | POLLHUP))
        *flags |= EV_EOF;
      if ((*flags & EV_EOF) && quirk("fifo-no-eof") && named_fifo(fd)) {
        *flags &= (unsigned short)~EV_EOF;
        ready = (rev & POLLIN) != 0;
      }
      if (ioctl(fd, FIONREAD, &n) == 0)
        *data = n;
      break;
    }
    case EVFILT_WRITE:
      ready = (rev & (POLLOUT | POLLHUP | POLLERR)) != 0;
      if (rev & (POLLHUP | POLLERR))
        *flags |= EV_EOF;
      else if (ready && cant_send_more(fd))
        *flags |= EV_EOF;
      break;
    default: /* EVFILT_EXCEPT, NOTE_OOB */
      ready = (rev & POLLPRI) != 0;
      break;
  }
  if ((*flags & EV_EOF) && (rev & POLLERR) && fstat(fd, &st) == 0 &&
      S_ISSOCK(st.st_mode))
    *fflags = EIO;
  return ready;
}

/* filt_usertouch(EVENT_REGISTER): NOTE_FF* on the stored fflags, and
 * NOTE_TRIGGER. */
static void user_touch(knote_t* kn, const struct kevent* kev) {
  unsigned ff = kev->fflags & NOTE_FFLAGSMASK;
  switch (kev->fflags & NOTE_FFCTRLMASK) {
    case NOTE_FFAND:
      kn->fflags &= ff;
      break;
    case NOTE_FFOR:
      kn->fflags |= ff;
      break;
    case NOTE_FFCOPY:
      kn->fflags = ff;
      break;
    default:
      break;
  }
  if (kev->fflags & NOTE_TRIGGER)
    kn->triggered = 1;
  kn->sdata = kev->data;
}

static int f_event(const knote_t* kn) {
  unsigned short fl;
  unsigned ff;
  int64_t d;
  if (kn->filter == KQ_SHIM_EVFILT_USER)
    return kn->triggered;
  return fd_event(kn, &fl, &ff, &d);
}

static int epoll_register(shim_kq_t* kq, int fd, shim_fd_t* f) {
  struct epoll_event ev;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return EBADF;
  memset(&ev, 0, sizeof(ev));
  /* All bits, edge-triggered, once per fd: adding or removing a filter
   * must not re-arm (and so re-activate) the others. */
  ev.events = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET;
  f->serial++;
  ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)f->serial << 32);
  if (epoll_ctl(kq->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    /* Regular files and directories: epoll refuses them, kqueue takes
     * them and calls them always ready; f_event (poll) says the same. */
    if (errno != EPERM)
      return errno;
  } else {
    f->in_epoll = 1;
  }
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  return 0;
}

/* The attach-time checks of the kernels' fo_kqfilter methods. */
static int attach_check(int kqfd, int fd, short filter) {
  struct stat st;
  struct pollfd pfd;
  if (fstat(fd, &st) < 0)
    return EBADF;
  if (is_kqueue(fd)) {
    /* kqueue_kqfilter(): EVFILT_READ only, and never on itself. */
    if (filter != EVFILT_READ || fd == kqfd)
      return EINVAL;
    return 0;
  }
  if (filter == KQ_SHIM_EVFILT_EXCEPT && !S_ISSOCK(st.st_mode))
    return EINVAL; /* Differs: OpenBSD also takes ptys. */
  if (S_ISCHR(st.st_mode) && quirk("device-einval"))
    return EINVAL;
  if (filter == EVFILT_WRITE && S_ISFIFO(st.st_mode)) {
    /* pipe_kqfilter(): "other end of pipe has been closed" -> EPIPE. */
    pfd.fd = fd;
    pfd.events = POLLOUT;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))
      return EPIPE;
  }
  return 0;
}

/* kqueue_register(): one change. Returns 0 or an errno. */
static int reg_change(shim_kq_t* kq, int kqfd, const struct kevent* kev) {
  knote_t* kn = NULL;
  shim_fd_t* f = NULL;
  int i = -1, err;
  if (kev->filter == KQ_SHIM_EVFILT_USER) {
    for (kn = kq->users; kn != NULL; kn = kn->unext)
      if (kn->ident == kev->ident)
        break;
  } else {
    int fd;
    i = fidx(kev->filter);
    if (i < 0)
      return EINVAL; /* unknown, or a filter the shim does not emulate */
    if (kev->ident > (uintptr_t)INT_MAX || fcntl((int)kev->ident, F_GETFD) < 0)
      return EBADF; /* fget() */
    fd = (int)kev->ident;
    check_fd(kq, fd);
    if ((kev->flags & EV_ADD) && (err = grow(kq, fd)) != 0)
      return err;
    if (fd < kq->nfds) {
      f = &kq->fds[fd];
      kn = f->kn[i];
    }
  }
  if (kn == NULL) {
    if (!(kev->flags & EV_ADD))
      return ENOENT;
    if (f != NULL) {
      err = attach_check(kqfd, (int)kev->ident, kev->filter);
      if (err != 0)
        return err;
      if (!has_knotes(f) && (err = epoll_register(kq, (int)kev->ident, f)))
        return err;
    }
    kn = (knote_t*)calloc(1, sizeof(*kn));
    if (kn == NULL)
      return ENOMEM;
    kn->ident = kev->ident;
    kn->filter = kev->filter;
    kn->flags = kev->flags & (EV_ONESHOT | EV_CLEAR | KQ_SHIM_EV_DISPATCH);
    kn->sfflags = kev->fflags;
    kn->sdata = kev->data;
    kn->udata = kev->udata;
    if (f != NULL) {
      f->kn[i] = kn;
    } else {
      kn->unext = kq->users;
      kq->users = kn;
      /* filt_userattach(): EV_CLEAR is implied by nothing; touch applies. */
      user_touch(kn, kev);
    }
  } else {
    if (kev->flags & EV_DELETE) {
      drop_knote(kq, kn);
      return 0;
    }
    /* Only udata and the filter's input change on an existing knote; its
     * EV_ONESHOT/EV_CLEAR/EV_DISPATCH stay what EV_ADD created. */
    kn->udata = kev->udata;
    if (f == NULL) {
      user_touch(kn, kev);
    } else {
      kn->sfflags = kev->fflags;
      kn->sdata = kev->data;
    }
  }
  if (kev->flags & EV_DISABLE) {
    kn->disabled = 1;
    q_remove(kq, kn);
  } else if (kev->flags & EV_ENABLE) {
    kn->disabled = 0;
    if (kn->active)
      q_append(kq, kn);
  }
  /* Any register call asks the filter again (done_ev_add). */
  if (!kn->disabled && f_event(kn))
    activate(kq, kn);
  return 0;
}

/* Marks the knotes an epoll event concerns active: the kernel's knote(). */
static void epoll_activate(shim_kq_t* kq, const struct epoll_event* ev) {
  uint64_t d = ev->data.u64;
  int fd = (int)(uint32_t)d;
  shim_fd_t* f;
  if (d == SHIM_TOKEN || fd >= kq->nfds)
    return;
  f = &kq->fds[fd];
  if (!f->in_epoll || f->serial != (uint32_t)(d >> 32))
    return;
  if (f->kn[0] && (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
    activate(kq, f->kn[0]);
  if (f->kn[1] && (ev->events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
    activate(kq, f->kn[1]);
  if (f->kn[2] && (ev->events & EPOLLPRI))
    activate(kq, f->kn[2]);
}

static void harvest(shim_kq_t* kq) {
  struct epoll_event ev[64];
  int n, i;
  do {
    n = epoll_wait(kq->epfd, ev, 64, 0);
    for (i = 0; i < n; i++)
      epoll_activate(kq, &ev[i]);
  } while (n == 64);
}

/* kqueue_scan() over what is queued now (the marker): level knotes are
 * asked again and re-queued at the tail, EV_CLEAR ones reset, EV_DISPATCH
 * ones disabled, EV_ONESHOT ones dropped. */
static int scan(shim_kq_t* kq, struct kevent* out, int max) {
  int count = kq->qlen, n = 0;
  while (count-- > 0 && n < max) {
    knote_t* kn = kq->q.qnext;
    unsigned short fl = 0;
    unsigned ff = 0;
    int64_t data = 0;
    int ready;
    q_remove(kq, kn);
    if (kn->disabled)
      continue;
    if (kn->filter == KQ_SHIM_EVFILT_USER) {
      ready = kn->triggered;
      ff = kn->fflags & NOTE_FFLAGSMASK;
      data = kn->sdata;
    } else {
      int fd = (int)kn->ident, i = fidx(kn->filter);
      check_fd(kq, fd);
      if (fd >= kq->nfds || kq->fds[fd].kn[i] != kn)
        continue; /* dropped (and freed): its fd was closed */
      ready = fd_event(kn, &fl, &ff, &data);
    }
    /* EV_ONESHOT knotes are reported without asking the filter again. */
    if (!ready && !(kn->flags & EV_ONESHOT)) {
      kn->active = 0;
      continue;
    }
    out[n].ident = kn->ident;
    out[n].filter = kn->filter;
    out[n].flags = kn->flags | fl;
    out[n].fflags = ff;
    out[n].data = data;
    out[n].udata = kn->udata;
    memset(out[n].ext, 0, sizeof(out[n].ext));
    n++;
    if (kn->flags & EV_ONESHOT) {
      drop_knote(kq, kn);
    } else if (kn->flags & (EV_CLEAR | KQ_SHIM_EV_DISPATCH)) {
      if ((kn->flags & EV_CLEAR) && kn->filter == KQ_SHIM_EVFILT_USER) {
        kn->triggered = 0;
        kn->fflags = 0;
      }
      if (kn->flags & KQ_SHIM_EV_DISPATCH)
        kn->disabled = 1;
      kn->active = 0;
    } else {
      q_append(kq, kn);
    }
  }
  return n;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int block(int epfd, struct epoll_event* ev, int n, int64_t left_ns) {
#ifdef SYS_epoll_pwait2
  if (left_ns >= 0) {
    struct timespec ts;
    int r;
    ts.tv_sec = (time_t)(left_ns / 1000000000);
    ts.tv_nsec = (long)(left_ns % 1000000000);
    r = (int)syscall(SYS_epoll_pwait2, epfd, ev, n, &ts, NULL, 0);
    if (r >= 0 || (errno != ENOSYS && errno != EPERM))
      return r;
  }
#endif
  if (left_ns < 0)
    return epoll_wait(epfd, ev, n, -1);
  return epoll_wait(epfd, ev, n,
                    (int)((left_ns + 999999) / 1000000 > INT_MAX
                              ? INT_MAX
                              : (left_ns + 999999) / 1000000));
}

/* kevent(2). Changes are applied in order first. A change that fails, or
 * any change with EV_RECEIPT, is reported as an event with flags EV_ERROR
 * and data the errno (0 for a receipt of success) if the eventlist has
 * room; without room, kevent() fails with that errno and the remaining
 * changes are not applied. If anything was reported so, kevent() returns
 * that count at once without collecting events (kern_kevent()'s nerrors).
 * A change with filter 0 is skipped. Then, if nevents > 0, it waits: NULL
 * timeout = forever, {0, 0} = not at all; a negative or >= 1e9 ns timeout is
 * EINVAL (checked only then, as kqueue_scan() does). Errors: EBADF kq is no
 * open fd or no kqueue; EINVAL nchanges or nevents < 0, an unknown or
 * unemulated filter, EVFILT_EXCEPT on a non-socket, EVFILT_WRITE on a
 * kqueue, EVFILT_READ of a kqueue on itself; EBADF (as EV_ERROR) an ident
 * that is no open fd; ENOENT no such knote without EV_ADD; EPIPE
 * EVFILT_WRITE on a pipe whose reader is gone; EFAULT NULL lists with a
 * count; EINTR a signal while waiting; with the named quirks (see quirk()),
 * EINVAL a timeout above 10^8 s and ETIMEDOUT once.
 * Differs: EVFILT_READ/WRITE/EXCEPT and EVFILT_USER only; NOTE_LOWAT and
 * data-based thresholds are ignored; epoll's edge-triggered events carry
 * every ready bit, so an EPOLLOUT edge on a socket with unread data also
 * activates its EV_CLEAR read knote (a spurious edge real kqueue would not
 * give); the wait has epoll_pwait2's precision (1 ms on kernels < 5.11). */
int kevent(int kqfd, const struct kevent* changelist, int nchanges,
           struct kevent* eventlist, int nevents,
           const struct timespec* timeout) {
  shim_kq_t* kq;
  int64_t deadline = -1;
  int i, err, nerr = 0;
  err = shim_kq(kqfd, &kq);
  if (err != 0)
    return fail(err);
  if (nchanges < 0 || nevents < 0)
    return fail(EINVAL);
  if ((changelist == NULL && nchanges > 0) ||
      (eventlist == NULL && nevents > 0))
    return fail(EFAULT);
  pthread_mutex_lock(&kq->lock);
  for (i = 0; i < nchanges; i++) {
    struct kevent kev = changelist[i];
    if (kev.filter == 0)
      continue;
    kev.flags &= ~EV_SYSFLAGS;
    err = reg_change(kq, kqfd, &kev);
    if (err != 0 || (kev.flags & KQ_SHIM_EV_RECEIPT)) {
      if (nevents > 0) {
        kev.flags = EV_ERROR;
        kev.data = err;
        eventlist[nerr++] = kev;
        nevents--;
      } else {
        sync_token(kq);
        pthread_mutex_unlock(&kq->lock);
        if (err == 0)
          return 0;
        return fail(err);
      }
    }
  }
  sync_token(kq);
  if (nerr > 0 || nevents == 0) {
    pthread_mutex_unlock(&kq->lock);
    return nerr;
  }
  if (timeout != NULL) {
    if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
        timeout->tv_nsec >= 1000000000 ||
        (timeout->tv_sec > 100000000 && quirk("timeout-einval"))) {
      pthread_mutex_unlock(&kq->lock);
      return fail(EINVAL);
    }
    /* Saturates: a timeout past the clock's range is forever. */
    if (timeout->tv_sec < (INT64_MAX - now_ns()) / 1000000000 - 1)
      deadline =
          now_ns() + (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec;
  }
  if (etimedout_now(timeout == NULL || timeout->tv_sec != 0 ||
                    timeout->tv_nsec != 0)) {
    pthread_mutex_unlock(&kq->lock);
    return fail(ETIMEDOUT);
  }
  for (;;) {
    struct epoll_event ev[64];
    int64_t left = -1;
    int n;
    harvest(kq);
    n = scan(kq, eventlist, nevents);
    sync_token(kq);
    if (n > 0) {
      pthread_mutex_unlock(&kq->lock);
      return n;
    }
    if (deadline >= 0) {
      left = deadline - now_ns();
      if (left <= 0) {
        pthread_mutex_unlock(&kq->lock);
        return 0;
      }
    }
    pthread_mutex_unlock(&kq->lock);
    n = block(kq->epfd, ev, 64, left);
    if (n < 0)
      return -1; /* EINTR, as the kernel's PCATCH sleep */
    pthread_mutex_lock(&kq->lock);
    for (i = 0; i < n; i++)
      epoll_activate(kq, &ev[i]);
  }
}
