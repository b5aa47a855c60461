/* The external driver: nothing is automatic. The embedder watches
 * reactorFd() in its own loop and calls dispatch() when it turns readable
 * (reactor.c's aio_js_reactor_dispatch takes on the calling thread). */
#include "reactor.h"

static int start(aio_reactor_t* r) {
  (void)r;
  return 0;
}

static void nothing(aio_reactor_t* r) {
  (void)r;
}

static int ref(aio_reactor_t* r, int on) {
  (void)r, (void)on;
  return 0;
}

static int may_take(aio_reactor_t* r) {
  (void)r;
  return 0;
}

const aio_driver_t aio_driver_external = {
    AIO_DRIVER_EXTERNAL,
    start,
    nothing,
    nothing,
    nothing,
    ref,
    may_take,
    nothing,
    nothing,
};
