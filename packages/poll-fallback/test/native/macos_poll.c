/* TEST ONLY: poll() answering as macOS does, linked in with
 * -Wl,--wrap=poll by the `darwin` profile (see the Makefile), for every
 * poll() of src/poll.c and of backend-core's fd.c:
 * - above its fd limit: macOS poll(2): "[EINVAL] The nfds argument is
 *   greater than OPEN_MAX" (10,240; XNU's poll_nocancel() in
 *   bsd/kern/sys_generic.c also refuses more than RLIMIT_NOFILE above
 *   FD_SETSIZE). Here the limit is AIO_POLL_NFDS_MAX, the same number
 *   src/poll.c is built with in that profile, as it is built with OPEN_MAX
 *   on macOS.
 * - for character devices: POLLNVAL at once, whatever they are ready for
 *   (macOS poll(2) BUGS: "The poll() system call currently does not support
 *   devices"; termbox2#31, serial-rs#53, fzf#4653). The other fds are
 *   polled as asked, without blocking when a device answered. */
#include <errno.h>
#include <poll.h>
#include <sys/stat.h>

#ifdef AIO_POLL_NFDS_MAX
int __real_poll(struct pollfd* fds, nfds_t nfds, int timeout);
int __wrap_poll(struct pollfd* fds, nfds_t nfds, int timeout);

int __wrap_poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  struct stat st;
  nfds_t i;
  int devices = 0, n;
  if (nfds > AIO_POLL_NFDS_MAX) {
    errno = EINVAL;
    return -1;
  }
  for (i = 0; i < nfds; i++) {
    if (fds[i].fd >= 0 && fstat(fds[i].fd, &st) == 0 && S_ISCHR(st.st_mode)) {
      fds[i].fd = -2 - fds[i].fd; /* skipped by poll(), restored below */
      devices++;
    }
  }
  n = __real_poll(fds, nfds, devices > 0 ? 0 : timeout);
  for (i = 0; i < nfds && devices > 0; i++) {
    if (fds[i].fd < -1) {
      fds[i].fd = -2 - fds[i].fd;
      fds[i].revents = POLLNVAL;
      if (n >= 0)
        n++;
    }
  }
  return n;
}
#else
typedef int aio_test_macos_poll_unused; /* the default profile wraps nothing */
#endif
