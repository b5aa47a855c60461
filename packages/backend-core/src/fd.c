/* fd helpers: what the JS fd functions do, and what a mechanism file needs
 * from backend-core (a close-on-exec pipe, the fd-indexed table). */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* pipe2 */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <libproc.h>
#elif defined(__FreeBSD__)
#include <sys/user.h>
#endif

#include "internal.h"

/* pipe2() with O_CLOEXEC: Linux, the BSDs, illumos. Not macOS. */
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__) || defined(__DragonFly__) || defined(__sun)
#define AIO_HAVE_PIPE2 1
#endif

static int cloexec_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
    return -errno;
  fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return -errno;
  return 0;
}

/* Without a flag-taking call, a fork+exec in another thread before the
 * fcntl() can still inherit the pair (libuv lives with the same window). */
static int fix_pair(int fds[2]) {
  int err = cloexec_nonblock(fds[0]);
  if (err == 0)
    err = cloexec_nonblock(fds[1]);
  if (err != 0) {
    close(fds[0]);
    close(fds[1]);
  }
  return err;
}

int aio_fd_pipe(int fds[2]) {
#ifdef AIO_HAVE_PIPE2
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0)
    return 0;
  if (errno != ENOSYS)
    return -errno;
#endif
  if (pipe(fds) < 0)
    return -errno;
  return fix_pair(fds);
}

int aio_fd_set_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
    return -errno;
  return 0;
}

int aio_fd_socketpair(int fds[2]) {
  return aio_fd_socketpair_of(0, fds);
}

int aio_fd_socketpair_of(int kind, int fds[2]) {
  static const int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  int type;
  if (kind < 0 || kind > 2)
    return -EINVAL;
  type = types[kind];
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0)
    return 0;
  return -errno;
#else
  if (socketpair(AF_UNIX, type, 0, fds) < 0)
    return -errno;
  return fix_pair(fds);
#endif
}

int aio_fd_shutdown(int fd, int how) {
  static const int hows[3] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
  if (how < 0 || how > 2)
    return -EINVAL;
  return shutdown(fd, hows[how]) < 0 ? -errno : 0;
}

ssize_t aio_fd_read(int fd, void* buf, size_t len) {
  ssize_t n;
  do {
    n = read(fd, buf, len);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

ssize_t aio_fd_write(int fd, const void* buf, size_t len) {
  ssize_t n;
  do {
    n = write(fd, buf, len);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

int aio_fd_close(int fd) {
  if (close(fd) < 0 && errno != EINTR)
    return -errno;
  return 0;
}

int aio_fd_set_nonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0)
    return -errno;
  if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return -errno;
  return 0;
}

short aio_poll_events(unsigned interest) {
  short events = 0;
  if (interest & AIO_READABLE)
    events |= POLLIN;
  if (interest & AIO_WRITABLE)
    events |= POLLOUT;
  if (interest & AIO_PRIORITY)
    events |= POLLPRI;
  return events;
}

/* POLLRDNORM: illumos may report it for a normal-data read without POLLIN. */
uint32_t aio_poll_flags(int revents, unsigned interest) {
  uint32_t f = 0;
  if ((interest & AIO_READABLE) &&
      (revents & (POLLIN | POLLRDNORM | POLLHUP | POLLERR)))
    f |= AIO_READABLE;
  if ((interest & AIO_WRITABLE) && (revents & (POLLOUT | POLLHUP | POLLERR)))
    f |= AIO_WRITABLE;
  if ((interest & AIO_PRIORITY) && (revents & POLLPRI))
    f |= AIO_PRIORITY;
  if (revents & POLLHUP)
    f |= AIO_HANGUP;
  if (revents & (POLLERR | POLLNVAL))
    f |= AIO_ERROR;
  return f;
}

#define AIO_ALL_INTEREST (AIO_READABLE | AIO_WRITABLE | AIO_PRIORITY)

int aio_fd_readiness(int fd) {
  struct pollfd pfd;
  int n;
  pfd.fd = fd;
  pfd.events = aio_poll_events(AIO_ALL_INTEREST);
  pfd.revents = 0;
  do {
    n = poll(&pfd, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  /* POLLNVAL is "not open" only where the fd is not open: macOS poll()
   * answers it for every character device (poll(2) BUGS: "does not support
   * devices"; termbox2#31, serial-rs#53), so ask select() there. */
  if (pfd.revents & POLLNVAL)
    return aio_select_now(fd, AIO_ALL_INTEREST);
  return (int)aio_poll_flags(pfd.revents, AIO_ALL_INTEREST);
}

/* Readiness captured on another thread goes stale once the loop thread's
 * own reads drain the fd. One poll() per chunk confirms it: readable and
 * writable bits survive only where the fd is still ready; priority, hangup
 * and error stay as reported (a file whose poll reports a change once, such
 * as /proc/self/mountinfo, would show nothing when asked again). */
#define AIO_RECHECK_CHUNK 128

int aio_fd_recheck(const int32_t* fds, aio_event_t* events, int n) {
  struct pollfd pfd[AIO_RECHECK_CHUNK];
  int base, i, m, k;
  for (base = 0; base < n; base += m) {
    m = n - base < AIO_RECHECK_CHUNK ? n - base : AIO_RECHECK_CHUNK;
    for (i = 0; i < m; i++) {
      pfd[i].fd = fds[base + i];
      pfd[i].events = aio_poll_events(AIO_READABLE | AIO_WRITABLE);
      pfd[i].revents = 0;
    }
    do {
      k = poll(pfd, (nfds_t)m, 0);
    } while (k < 0 && errno == EINTR);
    if (k < 0)
      return -errno;
    for (i = 0; i < m; i++) {
      unsigned now, *flags = &events[base + i].flags;
      if (pfd[i].fd < 0)
        continue;
      if (pfd[i].revents & POLLNVAL) {
        /* Closed: left as reported. Open (a macOS device): select(). */
        int r = aio_select_now(pfd[i].fd, AIO_READABLE | AIO_WRITABLE);
        if (r < 0)
          continue;
        now = (unsigned)r;
      } else {
        now = aio_poll_flags(pfd[i].revents, AIO_READABLE | AIO_WRITABLE);
      }
      *flags &= now | ~(unsigned)(AIO_READABLE | AIO_WRITABLE);
    }
  }
  return 0;
}

/* A socket's st_ino is 0 on macOS and FreeBSD (their soo_stat() fills in
 * only the mode), so two sockets would look like one file: ask the kernel
 * for the socket's own handle instead (proc_pidfdinfo(), fcntl(F_KINFO),
 * FreeBSD 13.1). Elsewhere sockets have inodes (Linux sockfs, illumos). */
static uint64_t socket_handle(int fd) {
#if defined(__APPLE__)
  struct socket_fdinfo si;
  if (proc_pidfdinfo(getpid(), fd, PROC_PIDFDSOCKETINFO, &si, sizeof(si)) ==
      (int)sizeof(si))
    return si.psi.soi_so;
#elif defined(__FreeBSD__) && defined(F_KINFO)
  struct kinfo_file kf;
  memset(&kf, 0, sizeof(kf));
  kf.kf_structsize = sizeof(kf);
  if (fcntl(fd, F_KINFO, &kf) == 0 && kf.kf_type == KF_TYPE_SOCKET)
    return kf.kf_un.kf_sock.kf_sock_pcb;
#else
  (void)fd;
#endif
  return 0;
}

int aio_fd_identity(int fd, aio_fd_id_t* out) {
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  out->dev = st.st_dev;
  out->ino = st.st_ino;
  out->type = st.st_mode & S_IFMT;
  out->sock = S_ISSOCK(st.st_mode) && st.st_ino == 0 ? socket_handle(fd) : 0;
  return 0;
}

int aio_fd_same_file(const aio_fd_id_t* a, const aio_fd_id_t* b) {
  return a->dev == b->dev && a->ino == b->ino && a->type == b->type &&
         a->sock == b->sock;
}

/* st_ino as JS sees it (a double), or for a socket whose inode is 0 its
 * kernel handle (socket_handle()) folded into the 52 bits a double holds
 * exactly: the handle's high bits are the same for every socket. */
static double ino_key(int fd, const struct stat* st) {
  uint64_t h;
  if (!S_ISSOCK(st->st_mode) || st->st_ino != 0)
    return (double)st->st_ino;
  h = socket_handle(fd);
  return (double)((h ^ (h >> 52)) & ((UINT64_C(1) << 52) - 1));
}

int aio_fd_same(int fd, double dev, double ino) {
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  return (double)st.st_dev == dev && ino_key(fd, &st) == ino;
}

int aio_fd_stat(int fd, aio_fd_stat_t* out, const char** syscall) {
  struct stat st;
  int type = 0;
  socklen_t len = sizeof(type);
  if (fstat(fd, &st) < 0) {
    *syscall = "fstat";
    return -errno;
  }
  out->dev = (double)st.st_dev;
  out->ino = ino_key(fd, &st);
  if (S_ISREG(st.st_mode)) {
    out->kind = "file";
  } else if (S_ISDIR(st.st_mode)) {
    out->kind = "directory";
  } else if (S_ISBLK(st.st_mode)) {
    out->kind = "block";
  } else if (S_ISFIFO(st.st_mode)) {
    out->kind = "fifo";
  } else if (S_ISCHR(st.st_mode)) {
    /* isatty() fails (ENOTTY, or EINVAL on some systems) for other
     * character devices: any failure just means "not a terminal". */
    out->kind = isatty(fd) ? "tty" : "char";
  } else if (!S_ISSOCK(st.st_mode)) {
    out->kind = "other";
  } else if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
    *syscall = "getsockopt";
    return -errno;
  } else {
    out->kind = type == SOCK_STREAM      ? "socket-stream"
                : type == SOCK_DGRAM     ? "socket-dgram"
                : type == SOCK_SEQPACKET ? "socket-seqpacket"
                : type == SOCK_RAW       ? "socket-raw"
                                         : "socket-other";
  }
  out->stream =
      S_ISFIFO(st.st_mode) || (S_ISSOCK(st.st_mode) && type == SOCK_STREAM);
  out->regular = S_ISREG(st.st_mode);
  return 0;
}

int aio_fdtable_grow(void** table, int* len, size_t elem, int fd) {
  size_t n;
  char* grown;
  if (fd < *len)
    return 0;
  n = *len > 0 ? (size_t)*len : 64;
  while (n <= (size_t)fd)
    n *= 2;
  if (n > INT_MAX)
    n = (size_t)INT_MAX;
  if ((size_t)fd >= n)
    return -ENOMEM;
  grown = (char*)realloc(*table, n * elem);
  if (grown == NULL)
    return -ENOMEM;
  memset(grown + (size_t)*len * elem, 0, (n - (size_t)*len) * elem);
  *table = grown;
  *len = (int)n;
  return 0;
}

void aio_regs_init(aio_regs_t* t, size_t elem) {
  t->entries = NULL;
  t->len = 0;
  t->elem = elem;
  t->next_gen = 1;
}

void aio_regs_free(aio_regs_t* t) {
  free(t->entries);
  t->entries = NULL;
  t->len = 0;
}

void* aio_regs_find(const aio_regs_t* t, int fd) {
  const aio_reg_t* r;
  if (fd < 0 || fd >= t->len)
    return NULL;
  r = (const aio_reg_t*)(t->entries + (size_t)fd * t->elem);
  return r->gen != 0 ? (void*)r : NULL;
}

void* aio_regs_reserve(aio_regs_t* t, int fd) {
  if (aio_fdtable_grow((void**)&t->entries, &t->len, t->elem, fd) != 0)
    return NULL;
  return t->entries + (size_t)fd * t->elem;
}

uintptr_t aio_regs_new_gen(aio_regs_t* t) {
  uintptr_t gen = t->next_gen++;
  if (t->next_gen == 0)
    t->next_gen = 1;
  return gen;
}
