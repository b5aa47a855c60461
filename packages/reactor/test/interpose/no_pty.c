/* TEST ONLY, loaded with LD_PRELOAD into `doctor --selftest` by
 * doctor.test.ts: a machine without pseudo-terminals (a container with no
 * /dev/ptmx), where posix_openpt() fails with ENOENT, so that the pty check
 * must be reported as skipped, never as ok. */
#define _GNU_SOURCE
#include <errno.h>

int posix_openpt(int flags) {
  (void)flags;
  errno = ENOENT;
  return -1;
}
