/* The thread driver's hand-off in Node: a uv_async_t. The helper stays
 * parked after each batch until the loop thread's own take finds nothing
 * (loop.c), so an idle wake-up costs one async send and no futex wake. */
#include "reactor.h"

static void on_async(uv_async_t* handle) {
  aio_thread_take_batch((aio_reactor_t*)handle->data);
}

static int start(aio_reactor_t* r) {
  int err = uv_async_init(r->loop, &r->async, on_async);
  if (err < 0)
    return err;
  r->async.data = r;
  r->handles_open++;
  if (!r->is_ref)
    uv_unref((uv_handle_t*)&r->async);
  return 0;
}

static int wake(aio_reactor_t* r) {
  return uv_async_send(&r->async);
}

static void stop(aio_reactor_t* r) {
  (void)r;
}

static void close_handle(aio_reactor_t* r) {
  if (r->async.data == r)
    uv_close((uv_handle_t*)&r->async, aio_reactor_on_close);
}

static int ref(aio_reactor_t* r, int on) {
  if (r->async.data == r)
    aio_uv_ref(&r->async, on);
  return 0;
}

static int rewait(const aio_reactor_t* r) {
  (void)r;
  return AIO_REWAIT_PARKED;
}

const aio_handoff_t aio_handoff_uv = {
    start, wake, stop, close_handle, ref, rewait,
};
