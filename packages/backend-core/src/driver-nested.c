/* The nested driver: libuv watches the reactor poller's own fd (uv_poll_t)
 * and each wake drains it without blocking. No thread. While busy (loop.c)
 * the loop thread takes before each block instead, and libuv's watch is
 * stopped at the second take in a row that found events: while the
 * reactor's epoll sits inside libuv's, every write into a watched pipe also
 * runs libuv's callback through ours. A lone event (request, then idle)
 * keeps the watch and costs no libuv change.
 *
 * A nested driver that keeps waking with nothing to take (an fd libuv cannot
 * really watch on this OS) switches itself to the thread driver. */
#include <errno.h>

#include "reactor.h"

/* Consecutive empty wakes after which the nested driver gives up on itself. */
#define AIO_SPURIOUS_LIMIT 64

static void on_poll(uv_poll_t* handle, int status, int events) {
  aio_reactor_t* r = (aio_reactor_t*)handle->data;
  int n;
  (void)events;
  if (r->closing)
    return;
  /* status < 0: the fd is broken (closed behind our back?) */
  n = status < 0 ? status : aio_reactor_take(r, r->batch, 0, 1);
  if (n < 0) {
    aio_reactor_fail(r, n);
    return;
  }
  if (n > 0) {
    r->spurious = 0;
    aio_reactor_emit(r, AIO_BATCH_FRESH, n);
    if (!r->closing)
      aio_loop_busy(r); /* perhaps busy: take before the next block too */
    return;
  }
  /* Woken with nothing to take: once is a race, many in a row means libuv
   * cannot watch this kind of fd here. Never busy-loop: switch drivers. */
  if (++r->spurious < AIO_SPURIOUS_LIMIT)
    return;
  uv_poll_stop(&r->poll);
  if (aio_driver_thread.start(r) == 0)
    aio_reactor_switched(r, &aio_driver_thread);
}

static int start(aio_reactor_t* r) {
  int err, fd = aio_front_fd(r->front);
  if (fd < 0 || r->loop == NULL)
    return -ENOTSUP;
  if ((err = uv_poll_init(r->loop, &r->poll, fd)) < 0)
    return err;
  r->poll.data = r;
  r->handles_open++;
  if (!r->is_ref)
    uv_unref((uv_handle_t*)&r->poll);
  if ((err = aio_loop_init(r)) < 0)
    return err;
  return uv_poll_start(&r->poll, UV_READABLE, on_poll);
}

static void halt(aio_reactor_t* r) {
  if (r->poll.data == r)
    uv_poll_stop(&r->poll);
  aio_loop_halt(r);
}

static void stop(aio_reactor_t* r) {
  (void)r;
}

static void close_handles(aio_reactor_t* r) {
  if (r->poll.data == r)
    uv_close((uv_handle_t*)&r->poll, aio_reactor_on_close);
}

static int ref(aio_reactor_t* r, int on) {
  if (r->poll.data == r)
    aio_uv_ref(&r->poll, on);
  return 0;
}

static int may_take(aio_reactor_t* r) {
  (void)r;
  return 1;
}

/* A second take in a row with events: stop libuv's watch, whose wake-up
 * every write would otherwise pay (libuv drops the fd from its epoll at its
 * next report). */
static void busy(aio_reactor_t* r) {
  if (uv_is_active((uv_handle_t*)&r->poll))
    uv_poll_stop(&r->poll);
}

static void idle(aio_reactor_t* r) {
  int err;
  uv_prepare_stop(&r->prepare);
  if (!uv_is_active((uv_handle_t*)&r->poll) &&
      (err = uv_poll_start(&r->poll, UV_READABLE, on_poll)) < 0)
    aio_reactor_fail(r, err);
}

const aio_driver_t aio_driver_nested = {
    AIO_DRIVER_NESTED, start, halt, stop, close_handles, ref,
    may_take,          busy,  idle,
};
