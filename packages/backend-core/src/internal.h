/* What backend-core's own sources share, declared once: the front every
 * caller goes through (front.c) and the fd helpers behind the JS exports
 * (fd.c). Plain C, no N-API: the C contract suite links front.c and fd.c
 * with a mechanism file and calls exactly what the addon calls. */
#ifndef ASYNC_IO_INTERNAL_H_
#define ASYNC_IO_INTERNAL_H_

#include <stdint.h>
#include <sys/types.h>

#include "async_io/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- front.c ------------------------------------------------------------
 * A poller as every caller sees it. Each call checks its arguments and the
 * backend's capabilities before the mechanism sees them; notify is coalesced
 * here; wait retries -EINTR against one deadline. Same conventions as
 * backend.h: 0 (or a count) or a negative errno. */
typedef struct aio_front_s aio_front_t;

int aio_front_create(aio_front_t** out);
void aio_front_destroy(aio_front_t* f);
/* The kernel poller's fd, or -1 (poll). */
int aio_front_fd(const aio_front_t* f);
/* -EBADF for fd < 0; -EINVAL for the reserved key, unknown interest bits or
 * an unknown mode; -ENOTSUP for a mode or interest the backend lacks.
 *
 * The front keeps the fd identity rule for every backend: it remembers which
 * file (aio_fd_identity) each registration was made for. A registration whose
 * fd was closed, or closed and its number reused, behind its back is gone:
 * its key gets one event AIO_GONE | AIO_ERROR and nothing after it, whether
 * the front finds out at delivery (the kernel reported the old file, or the
 * number by which poll() watches names a new one), at modify (which then
 * fails with -EBADF), when another registration takes the number (add), or
 * in aio_front_sweep(). add() answers -EEXIST only while the registered file
 * is still the one the fd names.
 *
 * AIO_REG_OWNED, or'ed into add/modify's mode by the library for an fd it
 * owns (it closes it itself, after delete): nobody closes such an fd behind
 * its back, so its events skip the identity check and an epoll level
 * registration stays the kernel's own (no re-arm per event). */
#define AIO_REG_OWNED 0x100
int aio_front_add(aio_front_t* f, int fd, uint32_t key, unsigned interest,
                  int mode);
int aio_front_modify(aio_front_t* f, int fd, uint32_t key, unsigned interest,
                     int mode);
int aio_front_delete(aio_front_t* f, int fd);
/* timeout_ns: -1 no limit, 0 do not block. -EINVAL for capacity <= 0.
 * Never returns -EINTR: a signal neither shortens nor lengthens a wait. One
 * wait at a time: while another thread's wait is in, returns 0 at once. */
int aio_front_wait(aio_front_t* f, aio_event_t* events, int capacity,
                   int64_t timeout_ns);
/* The same wait for a waiter that does not deliver what it takes (the thread
 * driver's helper, the side path): nothing of the fds is looked at on its
 * thread (no fstat, no epoll level re-arm), the thread that delivers calls
 * aio_front_verify() on the batch, after whatever it ran meanwhile. */
int aio_front_wait_unchecked(aio_front_t* f, aio_event_t* events, int capacity,
                             int64_t timeout_ns);
/* Wakes a blocked (or the next) wait; many notifies before it wake it once. */
int aio_front_notify(aio_front_t* f);
/* Looks at every registration's fd and reports each one found closed or
 * reused (AIO_GONE) at the next wait, waking it: a wait pending on an fd that
 * was closed behind its back settles even if its kernel forgot the fd in
 * silence. One fstat() per registration. Returns how many it found. */
int aio_front_sweep(aio_front_t* f);
/* For events taken ahead of their delivery (aio_front_wait_unchecked(), a
 * kernel's queue): events[i] (a caller's key) for fds[i] (-1: skip) becomes
 * its registration's last, AIO_GONE | AIO_ERROR, where the fd no longer
 * names the file registered by now; an epoll level registration is re-armed
 * here (the re-arm is its check). How many became gone. */
int aio_front_verify(aio_front_t* f, const int32_t* fds, aio_event_t* events,
                     int n);

/* ---- fd.c -----------------------------------------------------------------
 * The helpers behind the JS fd functions. Each returns 0 (or a count) or a
 * negative errno; every fd they create is close-on-exec and non-blocking. */
int aio_fd_socketpair(int fds[2]);
/* An AF_UNIX pair of kind 0 SOCK_STREAM, 1 SOCK_DGRAM, 2 SOCK_SEQPACKET. */
int aio_fd_socketpair_of(int kind, int fds[2]);
/* shutdown(2) with how 0 SHUT_RD, 1 SHUT_WR, 2 SHUT_RDWR: 0 or -errno. */
int aio_fd_shutdown(int fd, int how);
/* pty.c: a pseudo-terminal pair, fds[0] the master, fds[1] the slave; both
 * close-on-exec and non-blocking, neither the controlling terminal. On
 * failure *syscall names the call that failed. */
int aio_fd_openpty(int fds[2], const char** syscall);
/* One read or write, EINTR retried: the byte count or -errno. */
ssize_t aio_fd_read(int fd, void* buf, size_t len);
ssize_t aio_fd_write(int fd, const void* buf, size_t len);
/* Not retried on EINTR: the fd is gone either way (POSIX leaves it
 * unspecified; Linux and the BSDs always release it), so EINTR is success. */
int aio_fd_close(int fd);
int aio_fd_set_nonblocking(int fd);
/* The AIO_* bits fd is ready for right now (poll, 0 ms; select() where
 * poll() says POLLNVAL for an open fd); -EBADF if fd is not open. */
int aio_fd_readiness(int fd);

/* Clears the readable/writable bits of events[i] where fds[i] is no longer
 * ready (fds[i] < 0 or closed: left alone; select() where poll() says
 * POLLNVAL for an open fd). 0 or -errno. */
int aio_fd_recheck(const int32_t* fds, aio_event_t* events, int n);

/* Which open file an fd names, to tell a closed-and-reused fd number from
 * the file registered under it: device and inode, the file type, and for a
 * socket where the inode says nothing (0 on macOS and FreeBSD) the kernel's
 * handle of the socket. */
typedef struct {
  dev_t dev;
  ino_t ino;
  mode_t type;
  uint64_t sock;
} aio_fd_id_t;

/* 0 or -errno (-EBADF: not open). */
int aio_fd_identity(int fd, aio_fd_id_t* out);
int aio_fd_same_file(const aio_fd_id_t* a, const aio_fd_id_t* b);

typedef struct {
  double dev;
  double ino;
  int stream;  /* a FIFO or a SOCK_STREAM socket */
  int regular; /* a regular file (procfs and sysfs files are) */
  /* "file", "directory", "block", "char", "tty", "fifo", "socket-stream",
   * "socket-dgram", "socket-seqpacket", "socket-raw", "socket-other" or
   * "other" */
  const char* kind;
} aio_fd_stat_t;

/* 1 if fd names the file whose aio_fd_stat() dev and ino these are, 0 if
 * another, or -errno (-EBADF: closed). One fstat(). */
int aio_fd_same(int fd, double dev, double ino);

/* The open file's identity and kind. On failure *syscall names the call
 * that failed ("fstat" or "getsockopt"). */
int aio_fd_stat(int fd, aio_fd_stat_t* out, const char** syscall);

#ifdef __cplusplus
}
#endif

#endif /* ASYNC_IO_INTERNAL_H_ */
