/* TEST ONLY, loaded with LD_PRELOAD into the Node suites (run.sh,
 * devices.test.ts): poll() answering POLLNVAL at once for every character
 * device, as macOS does; see conformance/native/macos_poll.h, which the C
 * harnesses link with -Wl,--wrap=poll instead. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "../../../conformance/native/macos_poll.h"

typedef int (*poll_fn)(struct pollfd*, nfds_t, int);

int poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  static poll_fn real;
  if (real == NULL) {
    real = (poll_fn)dlsym(RTLD_NEXT, "poll");
    if (real == NULL) {
      errno = ENOSYS;
      return -1;
    }
  }
  return macos_poll_devices(real, fds, nfds, timeout);
}
