/* The busy mode of the drivers that libuv runs (nested, thread).
 *
 * Once a take has found events, the next ones are taken on the loop thread
 * just before libuv would block (uv_prepare_t, zero timeout), and libuv is
 * kept from blocking (uv_idle_t) while those takes find events: one take per
 * loop turn, so timers and other I/O keep their turn. Only when one finds
 * nothing does the driver's watcher take over again: libuv's watch of the
 * poller fd (nested), the helper's wait (thread). A busy reactor thus costs
 * no thread hand-off per event (thread), and no wake of libuv's own poller
 * through ours per write (nested); an idle one wakes as before.
 */
#include "reactor.h"

/* An active idle handle makes libuv poll with a zero timeout; nothing to do. */
static void on_idle(uv_idle_t* handle) {
  (void)handle;
}

static void on_prepare(uv_prepare_t* handle) {
  aio_reactor_t* r = (aio_reactor_t*)handle->data;
  int n;
  if (r->closing || !r->driver->may_take(r))
    return;
  n = aio_reactor_take(r, r->batch, 0, 1);
  if (n < 0) {
    aio_reactor_fail(r, n);
    return;
  }
  if (n > 0) {
    r->driver->busy(r);
    uv_idle_start(&r->idle, on_idle);
    aio_reactor_emit(r, AIO_BATCH_FRESH, n);
    return;
  }
  uv_idle_stop(&r->idle);
  r->driver->idle(r);
}

/* Once per reactor. Prepare never keeps the loop alive; idle follows the
 * reactor's ref, because while nested is busy nothing else of ours is
 * active. */
int aio_loop_init(aio_reactor_t* r) {
  int err;
  if (r->prepare.data == r)
    return 0;
  if ((err = uv_prepare_init(r->loop, &r->prepare)) < 0)
    return err;
  r->prepare.data = r;
  r->handles_open++;
  uv_unref((uv_handle_t*)&r->prepare);
  if ((err = uv_idle_init(r->loop, &r->idle)) < 0)
    return err;
  r->idle.data = r;
  r->handles_open++;
  if (!r->is_ref)
    uv_unref((uv_handle_t*)&r->idle);
  return 0;
}

void aio_loop_watch(aio_reactor_t* r) {
  uv_prepare_start(&r->prepare, on_prepare);
}

void aio_loop_busy(aio_reactor_t* r) {
  uv_idle_start(&r->idle, on_idle);
  uv_prepare_start(&r->prepare, on_prepare);
}

void aio_loop_halt(aio_reactor_t* r) {
  if (r->prepare.data == r)
    uv_prepare_stop(&r->prepare);
  if (r->idle.data == r)
    uv_idle_stop(&r->idle);
}

void aio_loop_close(aio_reactor_t* r, uv_close_cb cb) {
  if (r->prepare.data == r)
    uv_close((uv_handle_t*)&r->prepare, cb);
  if (r->idle.data == r)
    uv_close((uv_handle_t*)&r->idle, cb);
}

void aio_uv_ref(void* handle, int on) {
  if (on)
    uv_ref((uv_handle_t*)handle);
  else
    uv_unref((uv_handle_t*)handle);
}

void aio_loop_ref(aio_reactor_t* r, int on) {
  if (r->idle.data == r)
    aio_uv_ref(&r->idle, on);
}
