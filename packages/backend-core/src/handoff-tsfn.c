/* The thread driver's hand-off without libuv (Bun, Deno): a thread-safe
 * function. No loop hook takes on the loop thread there, so the helper
 * waits again by itself: at once where registrations are edge-triggered (JS
 * re-arms nothing), after JS where handles re-arm per event. */
#include <errno.h>

#include "reactor.h"

static void on_call(napi_env env, napi_value fn, void* context, void* data) {
  (void)fn;
  (void)data;
  if (env != NULL)
    aio_thread_take_batch((aio_reactor_t*)context);
}

/* Loop thread, in a handle scope. Unref'd like the uv handles until a wait
 * retains the reactor. */
static int start(aio_reactor_t* r) {
  napi_value fn, name;
  if (napi_get_reference_value(r->env, r->callback, &fn) != napi_ok ||
      napi_create_string_utf8(r->env, "async-io:reactor", NAPI_AUTO_LENGTH,
                              &name) != napi_ok ||
      napi_create_threadsafe_function(r->env, fn, NULL, name, 0, 1, NULL, NULL,
                                      r, on_call, &r->tsfn) != napi_ok)
    return -ENOMEM;
  if (!r->is_ref && napi_unref_threadsafe_function(r->env, r->tsfn) != napi_ok)
    return -ENOMEM;
  return 0;
}

/* Fails once the runtime is tearing the function down. */
static int wake(aio_reactor_t* r) {
  return napi_call_threadsafe_function(r->tsfn, NULL, napi_tsfn_nonblocking) ==
                 napi_ok
             ? 0
             : -1;
}

static void stop(aio_reactor_t* r) {
  if (r->tsfn != NULL) {
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    r->tsfn = NULL;
  }
}

static void close_handle(aio_reactor_t* r) {
  (void)r;
}

static int ref(aio_reactor_t* r, int on) {
  if (r->tsfn == NULL)
    return 0;
  return (on ? napi_ref_threadsafe_function(r->env, r->tsfn)
             : napi_unref_threadsafe_function(r->env, r->tsfn)) == napi_ok
             ? 0
             : -ENOMEM;
}

static int rewait(const aio_reactor_t* r) {
  (void)r;
  return aio_backend_caps() & AIO_CAP_EDGE ? AIO_REWAIT_NOW
                                           : AIO_REWAIT_AFTER_JS;
}

const aio_handoff_t aio_handoff_tsfn = {
    start, wake, stop, close_handle, ref, rewait,
};
