/* TEST ONLY: poll() answering as macOS does, linked in with
 * -Wl,--wrap=poll by the `darwin` profile (see the Makefile), for every
 * poll() of src/poll.c and of backend-core's fd.c:
 * - above its fd limit: macOS poll(2): "[EINVAL] The nfds argument is
 *   greater than OPEN_MAX" (10,240; XNU's poll_nocancel() in
 *   bsd/kern/sys_generic.c also refuses more than RLIMIT_NOFILE above
 *   FD_SETSIZE). Here the limit is AIO_POLL_NFDS_MAX, the same number
 *   src/poll.c is built with in that profile, as it is built with OPEN_MAX
 *   on macOS.
 * - for character devices: POLLNVAL at once (see macos_poll.h). */
#include <errno.h>
#include <poll.h>

#include "macos_poll.h" /* conformance/native: the device answer */

#ifdef AIO_POLL_NFDS_MAX
int __real_poll(struct pollfd* fds, nfds_t nfds, int timeout);
int __wrap_poll(struct pollfd* fds, nfds_t nfds, int timeout);

int __wrap_poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  if (nfds > AIO_POLL_NFDS_MAX) {
    errno = EINVAL;
    return -1;
  }
  return macos_poll_devices(__real_poll, fds, nfds, timeout);
}
#else
typedef int aio_test_macos_poll_unused; /* the default profile wraps nothing */
#endif
