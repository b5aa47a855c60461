/* TEST ONLY, loaded with LD_PRELOAD into a Node child (devices.test.ts):
 * poll() answering POLLNVAL at once for every character device, as macOS
 * does (poll(2) BUGS: "The poll() system call currently does not support
 * devices"; termbox2#31, serial-rs#53, fzf#4653). The C harnesses link the
 * same answer with -Wl,--wrap=poll (poll-fallback/test/native/macos_poll.c).
 * Other fds are polled as asked, without blocking when a device answered. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <errno.h>
#include <poll.h>
#include <sys/stat.h>

typedef int (*poll_fn)(struct pollfd*, nfds_t, int);

int poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  static poll_fn real;
  struct stat st;
  nfds_t i;
  int devices = 0, n;
  if (real == NULL) {
    real = (poll_fn)dlsym(RTLD_NEXT, "poll");
    if (real == NULL) {
      errno = ENOSYS;
      return -1;
    }
  }
  for (i = 0; i < nfds; i++) {
    if (fds[i].fd >= 0 && fstat(fds[i].fd, &st) == 0 && S_ISCHR(st.st_mode)) {
      fds[i].fd = -2 - fds[i].fd; /* skipped by poll(), restored below */
      devices++;
    }
  }
  n = real(fds, nfds, devices > 0 ? 0 : timeout);
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
