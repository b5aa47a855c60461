/* TEST ONLY, loaded with LD_PRELOAD into `doctor --selftest` by
 * doctor.test.ts: a kernel whose shutdown(SHUT_WR) closes both directions,
 * to show that the socket half-close check reports FAILED when half-close
 * is broken. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

typedef int (*shutdown_fn)(int, int);

int shutdown(int fd, int how) {
  static shutdown_fn real;
  if (real == NULL) {
    real = (shutdown_fn)dlsym(RTLD_NEXT, "shutdown");
    if (real == NULL) {
      errno = ENOSYS;
      return -1;
    }
  }
  return real(fd, how == SHUT_WR ? SHUT_RDWR : how);
}
