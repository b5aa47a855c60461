/* The reactor's Node-loop drivers.
 *
 * One reactor per Node environment (main thread or Worker). Its poller's
 * events reach JavaScript in batches: native code writes (key, flags) pairs
 * into a Uint32Array that JS owns and then calls one JS function with the
 * count. Three ways to drive it:
 *
 *   nested   - libuv watches the poller's own fd (uv_poll_t) and we drain it
 *              without blocking on each wake: no extra thread. epoll, ports.
 *   thread   - a helper thread blocks in wait and hands each batch to the
 *              loop thread through a uv_async_t: backends without an fd
 *              (poll), and pollers that do not report each other (the
 *              start-up probe decides).
 *   external - nothing is automatic; the embedder calls dispatch().
 *
 * With libuv, nested and thread take on the loop thread while busy: once a
 * take has found events, the next ones are taken just before libuv would
 * block (uv_prepare_t, zero timeout), and libuv is kept from blocking
 * (uv_idle_t) while those takes find events. Only when one finds nothing
 * does the watcher take over again: the helper's wait (thread), libuv's
 * watch of the poller fd (nested, which stops that watch only once two takes
 * in a row found events). A busy reactor thus costs no thread hand-off per
 * event (thread), and no wake of libuv's own poller through ours per write
 * (nested); an idle one wakes as before.
 *
 * Runtimes without libuv (Bun, Deno: AIO_REACTOR_NAPI_ONLY) get no uv call
 * at all: Bun aborts on uv_poll_init, and Deno's uv_poll emulation delivers
 * one callback per uv_poll_start (from a new thread each time). There the
 * thread driver hands batches over with a napi_threadsafe_function, teardown
 * is a synchronous env cleanup hook (Deno frees an async cleanup hook's
 * handle itself, so the removal that Node requires double-frees), and nested
 * is refused.
 *
 * A nested driver that keeps waking with nothing to take (an fd libuv cannot
 * really watch on this OS) switches itself to the thread driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "glue.h"
#include "side.h"

enum {
  AIO_DRIVER_NESTED = 0,
  AIO_DRIVER_THREAD = 1,
  AIO_DRIVER_EXTERNAL = 2,
  AIO_DRIVER_AUTO = 3 /* nested if the probe says it works, else thread */
};

/* reactorCreate flags */
#define AIO_REACTOR_NAPI_ONLY 1

/* Consecutive empty wakes after which the nested driver gives up on itself. */
#define AIO_SPURIOUS_LIMIT 64

typedef struct aio_reactor_s {
  napi_env env;
  uv_loop_t* loop;
  aio_shared_t* shared; /* the reactor's poller (same refcounting as Poller) */
  aio_front_t* front;   /* aio_shared_front(shared) */
  int driver;
  int refs; /* JS handle + live state; freed at 0 (loop thread only) */
  int closing;
  int handles_open;   /* uv handles not yet closed */
  int is_ref;         /* uv handles keep the loop alive */
  napi_ref callback;  /* function(count) */
  napi_ref batch_ref; /* Uint32Array */
  napi_async_context async_context;
  aio_event_t* batch; /* the Uint32Array's memory */
  int capacity;
  unsigned spurious; /* consecutive empty nested wakes */
  napi_async_cleanup_hook_handle cleanup;
  uv_poll_t poll;
  uv_async_t async;
  uv_prepare_t prepare; /* the loop thread's take while busy (see above) */
  uv_idle_t idle;       /* keeps libuv from blocking while events keep coming */
  int napi_only;        /* AIO_REACTOR_NAPI_ONLY: no libuv in this runtime */
  napi_threadsafe_function tsfn; /* the thread driver's hand-off there */
  /* thread driver */
  pthread_t thread;
  int thread_started;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stop;
  int pending; /* events the helper has ready for the loop thread (-errno) */
  /* The helper may wait. With libuv the loop thread sets it, in prepare,
   * when its own take found nothing, and the helper clears it with each
   * batch; without libuv (no prepare hook) it stays set. */
  int armed;
  aio_event_t* tbatch;
  /* fds owned by Async handles (ownsFd): closed at teardown so that a
   * terminated Worker leaks none of them */
  int* owned;
  int nowned, owned_cap;
  /* What reactorFd() hands out: a close-on-exec dup of the poller's fd, so
   * that a user who closes (or otherwise abuses) it cannot pull the fd from
   * under libuv's watch (libuv aborts when epoll_ctl fails on a watched fd)
   * or under our own poller. -1 when the backend has no fd. */
  int public_fd;
  /* Priority interest while another loop polls our fd (nested, external):
   * see side.c. NULL until the first priority registration. */
  aio_side_t* side;
  aio_shared_t* side_shared; /* its poller, as a JS Poller shares it */
  int probe; /* AIO_DRIVER_AUTO's evidence: 1 nests, 0 does not, -errno */
} aio_reactor_t;

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

/* Calls the JS callback with `count` (-1: "switched to the thread driver",
 * < -1: a wait error, as -errno) and `captured`: 1 if the batch was taken on
 * the helper thread, ahead of whatever JS ran since (JS rechecks it), 0 if
 * taken on this thread just now. Exceptions go to 'uncaughtException'.
 * Without libuv there is no async context: the thread-safe function's call
 * already runs in the runtime's callback scope. */
static void emit(aio_reactor_t* r, int count, int captured) {
  napi_handle_scope scope;
  napi_value fn, recv, args[2], result;
  napi_env env = r->env;
  if (napi_open_handle_scope(env, &scope) != napi_ok)
    return;
  if (napi_get_reference_value(env, r->callback, &fn) == napi_ok &&
      napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, count, &args[0]) == napi_ok &&
      napi_create_int32(env, captured, &args[1]) == napi_ok) {
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

/* The reactor poller's ready events, then the side path's, into batch. */
static int take(aio_reactor_t* r, aio_event_t* batch, int64_t timeout_ns) {
  int n = aio_front_wait(r->front, batch, r->capacity, timeout_ns);
  int m;
  if (n < 0 || r->side == NULL || n == r->capacity)
    return n;
  m = aio_side_take(r->side, batch + n, r->capacity - n);
  return m < 0 ? m : n + m;
}

static int start_thread(aio_reactor_t* r);
static void on_prepare(uv_prepare_t* handle);

/* Loop thread: a wait failed (or libuv refused our fd). Reported once: every
 * taker on this thread stops (the helper thread ends on one by itself). */
static void fail(aio_reactor_t* r, int err) {
  if (r->poll.data == r)
    uv_poll_stop(&r->poll);
  if (r->prepare.data == r)
    uv_prepare_stop(&r->prepare);
  if (r->idle.data == r)
    uv_idle_stop(&r->idle);
  emit(r, err, 0);
}

/* An active idle handle makes libuv poll with a zero timeout; nothing to do. */
static void on_idle(uv_idle_t* handle) {
  (void)handle;
}

/* The prepare and idle handles of the busy mode, once per reactor. Prepare
 * never keeps the loop alive; idle follows the reactor's ref, because while
 * nested is busy nothing else of ours is active. */
static int init_loop_hooks(aio_reactor_t* r) {
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

static void on_poll(uv_poll_t* handle, int status, int events) {
  aio_reactor_t* r = (aio_reactor_t*)handle->data;
  int n;
  (void)events;
  if (r->closing)
    return;
  /* status < 0: the fd is broken (closed behind our back?) */
  n = status < 0 ? status : take(r, r->batch, 0);
  if (n < 0) {
    fail(r, n);
    return;
  }
  if (n > 0) {
    emit(r, n, 0);
    if (r->closing)
      return;
    /* Perhaps busy: take on this thread before the next block too. */
    r->spurious = 0;
    uv_idle_start(&r->idle, on_idle);
    uv_prepare_start(&r->prepare, on_prepare);
    return;
  }
  /* Woken with nothing to take: once is a race, many in a row means libuv
   * cannot watch this kind of fd here. Never busy-loop: switch drivers. */
  if (++r->spurious < AIO_SPURIOUS_LIMIT)
    return;
  uv_poll_stop(&r->poll);
  if (start_thread(r) == 0) {
    r->driver = AIO_DRIVER_THREAD;
    emit(r, -1, 0);
  }
}

/* Loop thread: takes the helper thread's batch and emits it. Both hand-offs
 * (uv_async_t, thread-safe function) end here. With libuv the helper stays
 * parked afterwards: on_prepare decides whether it waits again. Without
 * libuv it waits again at once where registrations are edge-triggered (JS
 * re-arms nothing), and only after JS has handled the batch where handles
 * re-arm per event, so that the re-armed interest is in place before that
 * wait starts (on poll, a change while poll() blocks costs a kick and a
 * second wake-up). */
static void release_helper(aio_reactor_t* r) {
  pthread_mutex_lock(&r->lock);
  r->pending = 0;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

static void take_batch(aio_reactor_t* r) {
  int n, later = r->napi_only && !(aio_backend_caps() & AIO_CAP_EDGE);
  pthread_mutex_lock(&r->lock);
  n = r->pending;
  if (n > 0)
    memcpy(r->batch, r->tbatch, (size_t)n * sizeof(aio_event_t));
  if (!later) {
    /* With libuv the helper is parked until on_prepare arms it: no wake. */
    r->pending = 0;
    if (r->napi_only)
      pthread_cond_signal(&r->cond);
  }
  pthread_mutex_unlock(&r->lock);
  if (r->closing || n == 0)
    ;
  else if (n < 0)
    fail(r, n);
  else
    emit(r, n, 1);
  if (later)
    release_helper(r);
}

static void on_async(uv_async_t* handle) {
  take_batch((aio_reactor_t*)handle->data);
}

static void on_tsfn(napi_env env, napi_value fn, void* context, void* data) {
  (void)fn;
  (void)data;
  if (env != NULL)
    take_batch((aio_reactor_t*)context);
}

/* Loop thread, just before libuv computes its timeout and polls: the busy
 * mode's take (see the top). Thread driver: only while the helper is parked
 * with no batch in flight. Something taken: emit it and keep libuv from
 * blocking (idle), so that the next iteration takes again. Nothing: the
 * watcher takes over (libuv's watch, the helper's wait) and libuv blocks. */
static void on_prepare(uv_prepare_t* handle) {
  aio_reactor_t* r = (aio_reactor_t*)handle->data;
  int n, err, mine = 1;
  if (r->closing)
    return;
  if (r->driver == AIO_DRIVER_THREAD) {
    pthread_mutex_lock(&r->lock);
    mine = !r->armed && r->pending == 0;
    pthread_mutex_unlock(&r->lock);
  }
  if (!mine)
    return;
  n = take(r, r->batch, 0);
  if (n < 0) {
    fail(r, n);
    return;
  }
  if (n > 0) {
    /* Nested, a second take in a row with events: busy. Stop libuv's watch,
     * whose wake-up every write would otherwise pay (libuv drops the fd from
     * its epoll at its next report). A lone event (request, then idle) keeps
     * the watch and costs no libuv change. */
    if (r->driver == AIO_DRIVER_NESTED && uv_is_active((uv_handle_t*)&r->poll))
      uv_poll_stop(&r->poll);
    uv_idle_start(&r->idle, on_idle);
    emit(r, n, 0);
    return;
  }
  uv_idle_stop(&r->idle);
  if (r->driver == AIO_DRIVER_NESTED) {
    uv_prepare_stop(&r->prepare);
    if (!uv_is_active((uv_handle_t*)&r->poll) &&
        (err = uv_poll_start(&r->poll, UV_READABLE, on_poll)) < 0)
      fail(r, err);
    return;
  }
  pthread_mutex_lock(&r->lock);
  r->armed = 1;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

/* Helper thread, lock held: tells the loop thread a batch is waiting. Fails
 * once the runtime is tearing the thread-safe function down. */
static int wake_loop(aio_reactor_t* r) {
  if (r->tsfn != NULL)
    return napi_call_threadsafe_function(r->tsfn, NULL,
                                         napi_tsfn_nonblocking) == napi_ok
               ? 0
               : -1;
  return uv_async_send(&r->async);
}

static void* helper_main(void* arg) {
  aio_reactor_t* r = (aio_reactor_t*)arg;
  int n;
  /* A stop is always followed by a notify, and a pending notify makes the
   * next wait return, so checking `stop` before each wait cannot miss it. */
  pthread_mutex_lock(&r->lock);
  for (;;) {
    /* One batch in flight at a time: the loop thread copies it out first. */
    while (!r->stop && (!r->armed || r->pending != 0))
      pthread_cond_wait(&r->cond, &r->lock);
    if (r->stop)
      break;
    pthread_mutex_unlock(&r->lock);
    n = take(r, r->tbatch, -1);
    pthread_mutex_lock(&r->lock);
    if (n == 0 || r->stop)
      continue;
    r->pending = n;
    if (!r->napi_only)
      r->armed = 0;
    /* A failing wait is reported once and ends the thread (never spins). */
    if (wake_loop(r) < 0 || n < 0)
      break;
  }
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

/* The thread driver's hand-off without libuv. Loop thread, in a handle
 * scope. Unref'd like the uv handles until a wait retains the reactor. */
static int create_tsfn(aio_reactor_t* r) {
  napi_value fn, name;
  if (napi_get_reference_value(r->env, r->callback, &fn) != napi_ok ||
      napi_create_string_utf8(r->env, "async-io:reactor", NAPI_AUTO_LENGTH,
                              &name) != napi_ok ||
      napi_create_threadsafe_function(r->env, fn, NULL, name, 0, 1, NULL, NULL,
                                      r, on_tsfn, &r->tsfn) != napi_ok)
    return -ENOMEM;
  if (!r->is_ref && napi_unref_threadsafe_function(r->env, r->tsfn) != napi_ok)
    return -ENOMEM;
  return 0;
}

static int start_thread(aio_reactor_t* r) {
  int err;
  r->tbatch = (aio_event_t*)calloc((size_t)r->capacity, sizeof(aio_event_t));
  if (r->tbatch == NULL)
    return -ENOMEM;
  if (r->napi_only) {
    err = create_tsfn(r);
    if (err < 0)
      return err;
  } else {
    err = uv_async_init(r->loop, &r->async, on_async);
    if (err < 0)
      return err;
    r->async.data = r;
    r->handles_open++;
    if (!r->is_ref)
      uv_unref((uv_handle_t*)&r->async);
    /* A nested driver switching over has them already (busy or not). */
    if ((err = init_loop_hooks(r)) < 0 ||
        (err = uv_prepare_start(&r->prepare, on_prepare)) < 0)
      return err;
  }
  r->armed = 1; /* the first wait is the helper's */
  err = pthread_create(&r->thread, NULL, helper_main, r);
  if (err != 0)
    return -err;
  r->thread_started = 1;
  return 0;
}

static void on_close(uv_handle_t* handle) {
  aio_reactor_t* r = (aio_reactor_t*)handle->data;
  if (--r->handles_open > 0)
    return;
  if (r->cleanup != NULL)
    napi_remove_async_cleanup_hook(r->cleanup);
  r->cleanup = NULL;
  unref_state(r);
}

/* Teardown's first half, on every runtime: nothing is emitted any more, the
 * owned fds are closed and the helper thread has exited. */
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
  /* The helper first: its take reads the side path. */
  if (r->thread_started) {
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    aio_front_notify(r->front);
    pthread_join(r->thread, NULL);
    r->thread_started = 0;
  }
  if (r->side != NULL) {
    aio_side_stop(r->side);
    r->side = NULL;
  }
}

/* Env teardown (process exit or Worker termination, waits pending or not):
 * stop the helper thread, close the uv handles, then free. */
static void teardown(napi_async_cleanup_hook_handle handle, void* arg) {
  aio_reactor_t* r = (aio_reactor_t*)arg;
  r->cleanup = handle;
  stop(r);
  if (r->poll.data == r)
    uv_close((uv_handle_t*)&r->poll, on_close);
  if (r->async.data == r)
    uv_close((uv_handle_t*)&r->async, on_close);
  if (r->prepare.data == r)
    uv_close((uv_handle_t*)&r->prepare, on_close);
  if (r->idle.data == r)
    uv_close((uv_handle_t*)&r->idle, on_close);
  if (r->handles_open > 0)
    return; /* on_close finishes */
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
  if (r->tsfn != NULL) {
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    r->tsfn = NULL;
  }
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

/* reactorCreate(driver, callback, Uint32Array batch, flags?) -> handle */
napi_value aio_js_reactor_create(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t driver, flags = 0;
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_valuetype t;
  napi_value ext, name;
  aio_reactor_t* r;
  int err;
  if (!aio_args(env, info, &a))
    return NULL;
  if (!aio_int_arg(&a, 0, "driver", AIO_DRIVER_NESTED, AIO_DRIVER_AUTO,
                   &driver))
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
  r = (aio_reactor_t*)calloc(1, sizeof(*r));
  if (r == NULL)
    return aio_throw_errno(env, -ENOMEM, "malloc");
  r->env = env;
  r->public_fd = -1;
  r->driver = (int)driver;
  r->napi_only = (flags & AIO_REACTOR_NAPI_ONLY) != 0;
  r->refs = 1; /* the JS handle; the live state takes one more below */
  r->batch = (aio_event_t*)data;
  r->capacity = (int)(length / 2 > INT_MAX ? INT_MAX : length / 2);
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->cond, NULL);
  if ((!r->napi_only && napi_get_uv_event_loop(env, &r->loop) != napi_ok) ||
      napi_create_reference(env, a.argv[1], 1, &r->callback) != napi_ok ||
      napi_create_reference(env, a.argv[2], 1, &r->batch_ref) != napi_ok ||
      (!r->napi_only &&
       (napi_create_string_utf8(env, "async-io:reactor", NAPI_AUTO_LENGTH,
                                &name) != napi_ok ||
        napi_async_init(env, NULL, name, &r->async_context) != napi_ok))) {
    aio_throw_last_napi_error(env);
    unref_state(r);
    return NULL;
  }
  err = aio_front_create(&r->front);
  if (err < 0) {
    unref_state(r);
    return aio_throw_errno(env, err, aio_backend_syscall(AIO_OP_CREATE));
  }
  r->shared = aio_shared_new(r->front);
  if (r->shared == NULL) {
    unref_state(r);
    return aio_throw_errno(env, -ENOMEM, "malloc");
  }
  if (aio_front_fd(r->front) >= 0) {
    r->public_fd = fcntl(aio_front_fd(r->front), F_DUPFD_CLOEXEC, 0);
    if (r->public_fd < 0) {
      err = -errno;
      unref_state(r);
      return aio_throw_errno(env, err, "fcntl");
    }
  }

  err = 0;
  r->probe = -ENOTSUP; /* not asked */
  if (driver == AIO_DRIVER_AUTO) {
    r->probe = probe_nesting(r->front);
    driver = r->probe == 1 ? AIO_DRIVER_NESTED : AIO_DRIVER_THREAD;
    r->driver = (int)driver;
  }
  if (driver == AIO_DRIVER_NESTED) {
    if (aio_front_fd(r->front) < 0 || r->napi_only) {
      err = -ENOTSUP;
    } else if ((err = uv_poll_init(r->loop, &r->poll,
                                   aio_front_fd(r->front))) == 0) {
      r->poll.data = r;
      r->handles_open++;
      uv_unref((uv_handle_t*)&r->poll);
      if ((err = init_loop_hooks(r)) == 0)
        err = uv_poll_start(&r->poll, UV_READABLE, on_poll);
    }
  } else if (driver == AIO_DRIVER_THREAD) {
    err = start_thread(r);
  }
  r->refs++; /* the live state, released by teardown */
  if (err == 0 &&
      (r->napi_only ? napi_add_env_cleanup_hook(env, env_teardown, r)
                    : napi_add_async_cleanup_hook(env, teardown, r,
                                                  &r->cleanup)) != napi_ok)
    err = -ENOMEM;
  if (err < 0) {
    /* Undo what was started; the handle never reaches JS. */
    if (r->napi_only)
      env_teardown(r);
    else
      teardown(r->cleanup, r);
    unref_state(r);
    return aio_throw_errno(
        env, err,
        driver == AIO_DRIVER_NESTED ? "uv_poll_start" : "pthread_create");
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
  n = take(r, r->batch, 0);
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
  if (r->poll.data == r) {
    if (on)
      uv_ref((uv_handle_t*)&r->poll);
    else
      uv_unref((uv_handle_t*)&r->poll);
  }
  if (r->async.data == r) {
    if (on)
      uv_ref((uv_handle_t*)&r->async);
    else
      uv_unref((uv_handle_t*)&r->async);
  }
  if (r->idle.data == r) {
    if (on)
      uv_ref((uv_handle_t*)&r->idle);
    else
      uv_unref((uv_handle_t*)&r->idle);
  }
  if (r->tsfn != NULL &&
      (on ? napi_ref_threadsafe_function(env, r->tsfn)
          : napi_unref_threadsafe_function(env, r->tsfn)) != napi_ok) {
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
  return aio_int(env, r->driver);
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
  if (r->side == NULL && r->driver == AIO_DRIVER_THREAD) {
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
