/* The mechanism of a backend built where its kernel facility does not exist:
 * every call fails with ENOSYS, so that the addon still builds and loads and
 * says why it cannot work. The name comes from the backend's no-*.c. */
#include <errno.h>

#include "async_io/backend.h"

const char* aio_backend_name(void) {
  return aio_stub_name;
}

unsigned aio_backend_caps(void) {
  return 0;
}

size_t aio_backend_event_size(void) {
  return 0;
}

const char* aio_backend_syscall(aio_op_t op) {
  (void)op;
  return aio_stub_name;
}

int aio_poller_create(aio_poller_t** out) {
  (void)out;
  return -ENOSYS;
}

void aio_poller_destroy(aio_poller_t* p) {
  (void)p;
}

int aio_poller_fd(const aio_poller_t* p) {
  (void)p;
  return -1;
}

int aio_poller_add(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                   aio_mode_t mode) {
  (void)p, (void)fd, (void)key, (void)interest, (void)mode;
  return -ENOSYS;
}

int aio_poller_modify(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                      aio_mode_t mode) {
  (void)p, (void)fd, (void)key, (void)interest, (void)mode;
  return -ENOSYS;
}

int aio_poller_delete(aio_poller_t* p, int fd) {
  (void)p, (void)fd;
  return -ENOSYS;
}

int aio_poller_wait(aio_poller_t* p, aio_event_t* events, int capacity,
                    void* scratch, int64_t timeout_ns, int* woken) {
  (void)p, (void)events, (void)capacity, (void)scratch, (void)timeout_ns,
      (void)woken;
  return -ENOSYS;
}

int aio_poller_notify(aio_poller_t* p) {
  (void)p;
  return -ENOSYS;
}
