/* The reactor: what every driver shares (reactor.h says which file holds
 * which driver). Its state, the batch callback, teardown on every runtime,
 * the start-up probe and the JS exports.
 *
 * Runtimes without libuv (Bun, Deno: AIO_REACTOR_NAPI_ONLY) get no uv call
 * at all: Bun aborts on uv_poll_init, and Deno's uv_poll emulation delivers
 * one callback per uv_poll_start (from a new thread each time). There the
 * thread driver hands batches over with a thread-safe function, teardown is
 * a synchronous env cleanup hook (Deno frees an async cleanup hook's handle
 * itself, so the removal that Node requires double-frees), and nested is
 * refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reactor.h"

static void drop_references(aio_reactor_t* r) {
  if (r->callback != NULL)
    napi_delete_reference(r->env, r->callback);
  if (r->batch_ref != NULL)
    napi_delete_reference(r->env, r->batch_ref);
  r->callback = r->batch_ref = NULL;
}

static void unref_state(aio_reactor_t* r) {
  if (--r->refs > 0)
    return;
  drop_references(r);
  if (r->async_context != NULL)
    napi_async_destroy(r->env, r->async_context);
  if (r->shared != NULL)
    aio_shared_release(r->shared);
  if (r->side_shared != NULL)
    aio_shared_release(r->side_shared);
  pthread_mutex_destroy(&r->lock);
  pthread_cond_destroy(&r->cond);
  free(r->tbatch);
  free(r->owned);
  free(r);
}

/* Without libuv there is no async context: the thread-safe function's call
 * already runs in the runtime's callback scope. */
void aio_reactor_emit(aio_reactor_t* r, int kind, int value) {
  napi_handle_scope scope;
  napi_value fn, recv, args[2], result;
  napi_env env = r->env;
  if (napi_open_handle_scope(env, &scope) != napi_ok)
    return;
  if (napi_get_reference_value(env, r->callback, &fn) == napi_ok &&
      napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, kind, &args[0]) == napi_ok &&
      napi_create_int32(env, value, &args[1]) == napi_ok) {
    if ((r->async_context != NULL
             ? napi_make_callback(env, r->async_context, recv, fn, 2, args,
                                  &result)
             : napi_call_function(env, recv, fn, 2, args, &result)) ==
        napi_pending_exception) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok)
        napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

int aio_reactor_take(aio_reactor_t* r, aio_event_t* batch, int64_t timeout_ns,
                     int delivers) {
  int n = delivers ? aio_front_wait(r->front, batch, r->capacity, timeout_ns)
                   : aio_front_wait_unchecked(r->front, batch, r->capacity,
                                              timeout_ns);
  int m;
  if (n < 0 || r->side == NULL || n == r->capacity)
    return n;
  m = aio_side_take(r->side, batch + n, r->capacity - n);
  return m < 0 ? m : n + m;
}

/* Reported once: every taker on this thread stops (the helper thread ends
 * on one by itself). */
void aio_reactor_fail(aio_reactor_t* r, int err) {
  r->driver->halt(r);
  aio_reactor_emit(r, AIO_BATCH_FAILED, err);
}

void aio_reactor_switched(aio_reactor_t* r, const aio_driver_t* to) {
  r->driver = to;
  aio_reactor_emit(r, AIO_BATCH_DRIVER, to->code);
}

void aio_reactor_on_close(uv_handle_t* handle) {
  aio_reactor_t* r = (aio_reactor_t*)handle->data;
  if (--r->handles_open > 0)
    return;
  if (r->cleanup != NULL)
    napi_remove_async_cleanup_hook(r->cleanup);
  r->cleanup = NULL;
  unref_state(r);
}

/* Teardown's first half, on every runtime: nothing is emitted any more, the
 * owned fds are closed and no thread of ours runs. */
static void stop(aio_reactor_t* r) {
  r->closing = 1;
  while (r->nowned > 0)
    close(r->owned[--r->nowned]);
  if (r->public_fd >= 0) {
    /* Best effort against closing a number the user closed and the process
     * reused for another file: close it only if it still names the same
     * kind of kernel object as the poller's own fd. */
    struct stat a, b;
    if (fstat(r->public_fd, &a) == 0 &&
        fstat(aio_front_fd(r->front), &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino && a.st_mode == b.st_mode)
      close(r->public_fd);
    r->public_fd = -1;
  }
  /* The driver first: its helper's take reads the side path. */
  r->driver->stop(r);
  if (r->side != NULL) {
    aio_side_stop(r->side);
    r->side = NULL;
  }
}

/* Env teardown with libuv (process exit or Worker termination, waits
 * pending or not): stop the threads, close the uv handles, then free. */
static void teardown(napi_async_cleanup_hook_handle handle, void* arg) {
  aio_reactor_t* r = (aio_reactor_t*)arg;
  r->cleanup = handle;
  stop(r);
  /* A nested driver that switched to thread has both drivers' handles. */
  aio_driver_nested.close(r);
  aio_driver_thread.close(r);
  aio_loop_close(r, aio_reactor_on_close);
  if (r->handles_open > 0)
    return; /* aio_reactor_on_close finishes */
  if (handle != NULL)
    napi_remove_async_cleanup_hook(handle);
  r->cleanup = NULL;
  unref_state(r);
}

/* The same without libuv: a synchronous env cleanup hook, never removed
 * (Deno panics on removing a hook that has run: "Cannot remove cleanup hook
 * which was not registered"). No napi_async_destroy here: Deno aborts on it
 * in a cleanup hook ("Cannot create a handle without a HandleScope"). */
static void env_teardown(void* arg) {
  aio_reactor_t* r = (aio_reactor_t*)arg;
  stop(r);
  /* The last chance for N-API calls: the JS handle's finalizer may come
   * only from the instance data's (env NULL), or never run. */
  drop_references(r);
  unref_state(r);
}

static void finalize(napi_env env, void* data, void* hint) {
  aio_reactor_t* r = (aio_reactor_t*)data;
  (void)hint;
  if (env == NULL) {
    /* The env is gone: its references and async context went with it. */
    r->callback = r->batch_ref = NULL;
    r->async_context = NULL;
  }
  unref_state(r);
}

/* Whether a poller of our kind reports ours readable when it has something:
 * make ours ready (a notify), ask a throw-away poller with a zero timeout,
 * then take the notify back. 1 yes, 0 no, or -errno. Nesting a kqueue in a
 * kqueue does not deliver on every system; this asks instead of guessing. */
static int probe_nesting(aio_front_t* f) {
  aio_front_t* outer;
  aio_event_t ev[2];
  int fd = aio_front_fd(f), seen, err;
  if (fd < 0)
    return 0;
  if ((err = aio_front_create(&outer)) < 0)
    return err;
  err = aio_front_add(outer, fd, 0, AIO_READABLE, AIO_MODE_LEVEL);
  if (err == 0) {
    err = aio_front_notify(f);
    if (err == 0) {
      seen = aio_front_wait(outer, ev, 2, 0);
      err = seen < 0 ? seen : seen > 0;
    }
    aio_front_delete(outer, fd);
  }
  aio_front_destroy(outer);
  seen = aio_front_wait(f, ev, 2, 0);
  return err < 0 ? err : seen < 0 ? seen : err;
}

static const aio_driver_t* driver_for(int code) {
  switch (code) {
    case AIO_DRIVER_NESTED:
      return &aio_driver_nested;
    case AIO_DRIVER_THREAD:
      return &aio_driver_thread;
    default:
      return &aio_driver_external;
  }
}

/* The poller, its public fd and the driver's start: 0 or -errno, *syscall
 * naming what failed. */
static int start(aio_reactor_t* r, int code, const char** syscall) {
  int err = aio_front_create(&r->front);
  if (err < 0) {
    *syscall = aio_backend_syscall(AIO_OP_CREATE);
    return err;
  }
  r->shared = aio_shared_new(r->front);
  if (r->shared == NULL) {
    *syscall = "malloc";
    return -ENOMEM;
  }
  if (aio_front_fd(r->front) >= 0) {
    r->public_fd = fcntl(aio_front_fd(r->front), F_DUPFD_CLOEXEC, 0);
    if (r->public_fd < 0) {
      *syscall = "fcntl";
      return -errno;
    }
  }
  r->probe = -ENOTSUP; /* not asked */
  if (code == AIO_DRIVER_AUTO) {
    r->probe = probe_nesting(r->front);
    code = r->probe == 1 ? AIO_DRIVER_NESTED : AIO_DRIVER_THREAD;
  }
  r->driver = driver_for(code);
  *syscall = code == AIO_DRIVER_NESTED ? "uv_poll_start" : "pthread_create";
  return r->driver->start(r);
}

/* reactorCreate(driver, callback(kind, value), Uint32Array batch, flags?) */
napi_value aio_js_reactor_create(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t code, flags = 0;
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_valuetype t;
  napi_value ext, name;
  aio_reactor_t* r;
  const char* syscall = "malloc";
  int err, napi_only;
  if (!aio_args(env, info, &a))
    return NULL;
  if (!aio_int_arg(&a, 0, "driver", AIO_DRIVER_NESTED, AIO_DRIVER_AUTO, &code))
    return NULL;
  if (a.argc < 3 || napi_typeof(env, a.argv[1], &t) != napi_ok ||
      t != napi_function)
    return aio_throw_type(env, "callback");
  if (napi_get_typedarray_info(env, a.argv[2], &type, &length, &data, NULL,
                               NULL) != napi_ok ||
      type != napi_uint32_array || length < 2)
    return aio_throw_type(env, "batch");
  if (a.argc > 3 &&
      !aio_int_arg(&a, 3, "flags", 0, AIO_REACTOR_NAPI_ONLY, &flags))
    return NULL;
  napi_only = (flags & AIO_REACTOR_NAPI_ONLY) != 0;
  r = (aio_reactor_t*)calloc(1, sizeof(*r));
  if (r == NULL)
    return aio_throw_errno(env, -ENOMEM, "malloc");
  r->env = env;
  r->public_fd = -1;
  r->driver = &aio_driver_external; /* until start() picks */
  r->refs = 1; /* the JS handle; the live state takes one more below */
  r->batch = (aio_event_t*)data;
  r->capacity = (int)(length / 2 > INT_MAX ? INT_MAX : length / 2);
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->cond, NULL);
  if ((!napi_only && napi_get_uv_event_loop(env, &r->loop) != napi_ok) ||
      napi_create_reference(env, a.argv[1], 1, &r->callback) != napi_ok ||
      napi_create_reference(env, a.argv[2], 1, &r->batch_ref) != napi_ok ||
      (!napi_only &&
       (napi_create_string_utf8(env, "async-io:reactor", NAPI_AUTO_LENGTH,
                                &name) != napi_ok ||
        napi_async_init(env, NULL, name, &r->async_context) != napi_ok))) {
    aio_throw_last_napi_error(env);
    unref_state(r);
    return NULL;
  }
  r->refs++; /* the live state, released by teardown */
  err = start(r, (int)code, &syscall);
  if (err == 0 &&
      (r->loop == NULL ? napi_add_env_cleanup_hook(env, env_teardown, r)
                       : napi_add_async_cleanup_hook(env, teardown, r,
                                                     &r->cleanup)) != napi_ok)
    err = -ENOMEM;
  if (err < 0) {
    /* Undo what was started; the handle never reaches JS. */
    if (r->loop == NULL)
      env_teardown(r);
    else
      teardown(r->cleanup, r);
    unref_state(r);
    return aio_throw_errno(env, err, syscall);
  }
  if (aio_create_external(env, r, finalize, &ext) != napi_ok) {
    unref_state(r);
    aio_throw_last_napi_error(env);
    return NULL;
  }
  return ext;
}

static aio_reactor_t* reactor_arg(aio_args_t* a) {
  aio_reactor_t* r = NULL;
  if (a->argc < 1 ||
      napi_get_value_external(a->env, a->argv[0], (void**)&r) != napi_ok ||
      r == NULL) {
    aio_throw_type(a->env, "reactor");
    return NULL;
  }
  return r;
}

/* reactorPoller(handle) -> a Poller handle sharing the reactor's poller. */
napi_value aio_js_reactor_poller(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_reactor_t* r;
  if (!aio_args(env, info, &a) || (r = reactor_arg(&a)) == NULL)
    return NULL;
  aio_shared_retain(r->shared);
  return aio_shared_wrap(env, r->shared);
}

/* reactorDispatch(handle) -> count taken now (external driver). */
napi_value aio_js_reactor_dispatch(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_reactor_t* r;
  int n;
  if (!aio_args(env, info, &a) || (r = reactor_arg(&a)) == NULL)
    return NULL;
  n = aio_reactor_take(r, r->batch, 0, 1);
  if (n < 0)
    return aio_throw_errno(env, n, aio_backend_syscall(AIO_OP_WAIT));
  return aio_int(env, n);
}

/* reactorRef(handle, bool): whether the reactor keeps the loop alive. */
napi_value aio_js_reactor_ref(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_reactor_t* r;
  bool on = false;
  if (!aio_args(env, info, &a) || (r = reactor_arg(&a)) == NULL)
    return NULL;
  if (a.argc < 2 || napi_get_value_bool(env, a.argv[1], &on) != napi_ok)
    return aio_throw_type(env, "ref");
  if (r->closing || r->is_ref == (int)on)
    return aio_undefined(env);
  r->is_ref = on;
  /* A nested driver that switched to thread has both drivers' watchers. */
  aio_driver_nested.ref(r, on);
  aio_loop_ref(r, on);
  if (aio_driver_thread.ref(r, on) < 0) {
    aio_throw_last_napi_error(env);
    return NULL;
  }
  return aio_undefined(env);
}

/* Room for `more` entries in the owned-fd list: 0 or -ENOMEM. */
static int reserve_owned(aio_reactor_t* r, int more) {
  int cap = r->owned_cap ? r->owned_cap : 16;
  int* grown;
  if (r->nowned + more <= r->owned_cap)
    return 0;
  while (r->nowned + more > cap)
    cap *= 2;
  grown = (int*)realloc(r->owned, (size_t)cap * sizeof(int));
  if (grown == NULL)
    return -ENOMEM;
  r->owned = grown;
  r->owned_cap = cap;
  return 0;
}

/* reactorOwn(handle, fd, bool): track (or forget) an fd to close at
 * teardown. The JS handle closes it itself on close(). */
napi_value aio_js_reactor_own(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_reactor_t* r;
  int64_t fd;
  bool own = false;
  int i;
  if (!aio_args(env, info, &a) || (r = reactor_arg(&a)) == NULL)
    return NULL;
  if (!aio_int_arg(&a, 1, "fd", 0, INT_MAX, &fd))
    return NULL;
  if (a.argc < 3 || napi_get_value_bool(env, a.argv[2], &own) != napi_ok)
    return aio_throw_type(env, "own");
  if (own) {
    if (reserve_owned(r, 1) < 0)
      return aio_throw_errno(env, -ENOMEM, "realloc");
    r->owned[r->nowned++] = (int)fd;
  } else {
    for (i = r->nowned - 1; i >= 0; i--) {
      if (r->owned[i] == (int)fd) {
        r->owned[i] = r->owned[--r->nowned];
        break;
      }
    }
  }
  return aio_undefined(env);
}

/* reactorPipe(handle) / reactorSocketpair(handle) -> [fd, fd], both already
 * owned (closed at teardown) before JS sees them, so a Worker terminated
 * between creating the pair and wrapping it in handles leaks nothing. */
static napi_value owned_pair(napi_env env, napi_callback_info info,
                             napi_callback make) {
  aio_args_t a;
  aio_reactor_t* r;
  napi_value pair, v;
  int32_t fds[2];
  int i;
  if (!aio_args(env, info, &a) || (r = reactor_arg(&a)) == NULL)
    return NULL;
  if (reserve_owned(r, 2) < 0)
    return aio_throw_errno(env, -ENOMEM, "realloc");
  pair = make(env, info);
  if (pair == NULL)
    return NULL;
  for (i = 0; i < 2; i++) {
    AIO_NAPI(env, napi_get_element(env, pair, (uint32_t)i, &v));
    AIO_NAPI(env, napi_get_value_int32(env, v, &fds[i]));
    r->owned[r->nowned++] = fds[i];
  }
  return pair;
}

napi_value aio_js_reactor_pipe(napi_env env, napi_callback_info info) {
  return owned_pair(env, info, aio_js_pipe);
}

napi_value aio_js_reactor_socketpair(napi_env env, napi_callback_info info) {
  return owned_pair(env, info, aio_js_socketpair);
}

/* reactorFd(handle) -> the public dup of the poller's fd, or -1. */
napi_value aio_js_reactor_fd(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_reactor_t* r;
  if (!aio_args(env, info, &a) || (r = reactor_arg(&a)) == NULL)
    return NULL;
  return aio_int(env, r->public_fd);
}

/* reactorDriver(handle) -> 0 nested, 1 thread, 2 external */
napi_value aio_js_reactor_driver(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_reactor_t* r;
  if (!aio_args(env, info, &a) || (r = reactor_arg(&a)) == NULL)
    return NULL;
  return aio_int(env, r->driver->code);
}

/* reactorSidePoller(handle) -> a Poller handle on the side path's poller
 * (started on first use; see side.c), or null with the thread driver from
 * the start: its helper waits on the reactor's poller itself, so no outer
 * poll comes before ours. */
napi_value aio_js_reactor_side_poller(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_reactor_t* r;
  aio_front_t* f;
  napi_value result;
  int err;
  if (!aio_args(env, info, &a) || (r = reactor_arg(&a)) == NULL)
    return NULL;
  if (r->closing)
    return aio_throw_errno(env, -EBADF, "reactor");
  if (r->side == NULL && r->driver == &aio_driver_thread) {
    AIO_NAPI(env, napi_get_null(env, &result));
    return result;
  }
  if (r->side == NULL) {
    if ((err = aio_front_create(&f)) < 0)
      return aio_throw_errno(env, err, aio_backend_syscall(AIO_OP_CREATE));
    if ((r->side_shared = aio_shared_new(f)) == NULL)
      return aio_throw_errno(env, -ENOMEM, "malloc");
    err = aio_side_start(&r->side, f, r->front);
    if (err < 0) {
      aio_shared_release(r->side_shared);
      r->side_shared = NULL;
      return aio_throw_errno(env, err, "pthread_create");
    }
  }
  aio_shared_retain(r->side_shared);
  return aio_shared_wrap(env, r->side_shared);
}

/* reactorProbe(handle) -> the nesting probe's answer at creation: 1 nests,
 * 0 does not, a negative errno if it failed or was not asked (-ENOTSUP). */
napi_value aio_js_reactor_probe(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_reactor_t* r;
  if (!aio_args(env, info, &a) || (r = reactor_arg(&a)) == NULL)
    return NULL;
  return aio_int(env, r->probe);
}
