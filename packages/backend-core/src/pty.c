/* A pseudo-terminal pair for `doctor --selftest` (Node has no openpty):
 * posix_openpt, grantpt, unlockpt, ptsname, then open the slave. Both ends
 * close-on-exec and non-blocking, neither becomes a controlling terminal.
 * No termios changes: the slave keeps the line discipline's defaults. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* posix_openpt, grantpt, unlockpt, ptsname */
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/* posix_openpt() takes O_CLOEXEC on Linux (it is open("/dev/ptmx")) and
 * FreeBSD (posix_openpt(2)); elsewhere FD_CLOEXEC follows at once. */
#if defined(O_CLOEXEC) && (defined(__linux__) || defined(__FreeBSD__))
#define AIO_PT_CLOEXEC O_CLOEXEC
#else
#define AIO_PT_CLOEXEC 0
#endif

/* ptsname() returns a static buffer (ptsname_r is not everywhere). */
static pthread_mutex_t name_lock = PTHREAD_MUTEX_INITIALIZER;

static int open_slave(int master, const char** syscall) {
  const char* name;
  int fd, err;
  *syscall = "pthread_mutex_lock";
  if ((err = pthread_mutex_lock(&name_lock)) != 0)
    return -err;
  *syscall = "ptsname";
  errno = 0;
  name = ptsname(master);
  if (name == NULL) {
    fd = errno != 0 ? -errno : -ENOTTY;
  } else {
    *syscall = "open";
    fd = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | AIO_PT_CLOEXEC);
    if (fd < 0)
      fd = -errno;
  }
  pthread_mutex_unlock(&name_lock);
  return fd;
}

int aio_fd_openpty(int fds[2], const char** syscall) {
  int master, slave, err;
  *syscall = "posix_openpt";
  master = posix_openpt(O_RDWR | O_NOCTTY | AIO_PT_CLOEXEC);
  if (master < 0)
    return -errno;
  *syscall = "grantpt";
  if (grantpt(master) < 0) {
    err = -errno;
    close(master);
    return err;
  }
  *syscall = "unlockpt";
  if (unlockpt(master) < 0) {
    err = -errno;
    close(master);
    return err;
  }
  *syscall = "fcntl";
  if ((err = aio_fd_set_cloexec(master)) < 0 ||
      (err = aio_fd_set_nonblocking(master)) < 0) {
    close(master);
    return err;
  }
  if ((slave = open_slave(master, syscall)) < 0) {
    close(master);
    return slave;
  }
  *syscall = "fcntl";
  if ((err = aio_fd_set_cloexec(slave)) < 0) {
    close(slave);
    close(master);
    return err;
  }
  fds[0] = master;
  fds[1] = slave;
  return 0;
}
