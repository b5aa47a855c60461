/* TEST ONLY: poll() as macOS answers it for character devices: POLLNVAL at
 * once, whatever they are ready for (macOS poll(2) BUGS: "The poll() system
 * call currently does not support devices"; termbox2#31, serial-rs#53,
 * fzf#4653). The other fds are polled by `real` as asked, without blocking
 * when a device answered. Used by the C harnesses' -Wl,--wrap=poll
 * (poll-fallback/test/native/macos_poll.c) and by the LD_PRELOAD object of
 * the Node suites (reactor/test/interpose/macos_poll.c). */
#ifndef ASYNC_IO_TEST_MACOS_POLL_H_
#define ASYNC_IO_TEST_MACOS_POLL_H_

#include <poll.h>
#include <sys/stat.h>

static inline int macos_poll_devices(int (*real)(struct pollfd*, nfds_t, int),
                                     struct pollfd* fds, nfds_t nfds,
                                     int timeout) {
  struct stat st;
  nfds_t i;
  int devices = 0, n;
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

#endif /* ASYNC_IO_TEST_MACOS_POLL_H_ */
