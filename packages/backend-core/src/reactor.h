/* The reactor's Node-loop drivers, declared once (libuv's internal.h plays
 * this part for its mechanisms).
 *
 * One reactor per Node environment (main thread or Worker). Its poller's
 * events reach JavaScript in batches: native code writes (key, flags) pairs
 * into a Uint32Array that JS owns and calls one JS function per batch. What
 * every driver shares lives in reactor.c (state, the JS exports, teardown)
 * and loop.c (the busy mode); each driver is a small table of functions in
 * a file of its own:
 *
 *   driver-nested.c   - libuv watches the poller's own fd (uv_poll_t) and
 *                       we drain it without blocking on each wake: no extra
 *                       thread. epoll, event ports.
 *   driver-thread.c   - a helper thread blocks in wait and hands each batch
 *                       to the loop thread: backends without an fd (poll),
 *                       and pollers that do not report each other (the
 *                       start-up probe decides).
 *   driver-external.c - nothing is automatic; the embedder calls dispatch().
 *
 * The thread driver's hand-off to the loop thread is a table too:
 * handoff-uv.c (uv_async_t, Node) and handoff-tsfn.c (a thread-safe
 * function: Bun and Deno, which have no libuv).
 */
#ifndef ASYNC_IO_REACTOR_H_
#define ASYNC_IO_REACTOR_H_

#include <pthread.h>

#include <node_api.h>
#include <uv.h>

#include "constants.h"
#include "glue.h"
#include "side.h"

typedef struct aio_reactor_s aio_reactor_t;

/* A driver. Loop thread only. */
typedef struct {
  int code; /* AIO_DRIVER_* */
  /* Starts watching; on failure the caller tears down what was started. */
  int (*start)(aio_reactor_t* r);
  /* Stops every taker the driver owns (a failed wait); no teardown. */
  void (*halt)(aio_reactor_t* r);
  /* Teardown: after it no thread of the driver runs (joined). */
  void (*stop)(aio_reactor_t* r);
  /* Teardown: uv_close() its handles (libuv only). */
  void (*close)(aio_reactor_t* r);
  /* Whether its watchers keep the loop alive; 0 or -errno. */
  int (*ref)(aio_reactor_t* r, int on);
  /* The busy mode (loop.c): may the loop thread take now; it did and found
   * events; it did and found none, so the driver's watcher takes over. */
  int (*may_take)(aio_reactor_t* r);
  void (*busy)(aio_reactor_t* r);
  void (*idle)(aio_reactor_t* r);
} aio_driver_t;

extern const aio_driver_t aio_driver_nested;
extern const aio_driver_t aio_driver_thread;
extern const aio_driver_t aio_driver_external;

/* When the thread driver's helper may wait again after handing a batch over. */
enum {
  AIO_REWAIT_PARKED,  /* when the loop thread's own take finds nothing */
  AIO_REWAIT_NOW,     /* as soon as the batch is copied out */
  AIO_REWAIT_AFTER_JS /* once JS has handled it (and re-armed its interest) */
};

/* The thread driver's way to the loop thread. */
typedef struct {
  int (*start)(aio_reactor_t* r);
  /* Helper thread, the reactor's lock held: a batch is waiting. */
  int (*wake)(aio_reactor_t* r);
  /* Teardown, after the helper has been joined. */
  void (*stop)(aio_reactor_t* r);
  void (*close)(aio_reactor_t* r);
  int (*ref)(aio_reactor_t* r, int on);
  int (*rewait)(const aio_reactor_t* r); /* AIO_REWAIT_* */
} aio_handoff_t;

extern const aio_handoff_t aio_handoff_uv;
extern const aio_handoff_t aio_handoff_tsfn;

struct aio_reactor_s {
  napi_env env;
  uv_loop_t* loop; /* NULL in a runtime without libuv (Bun, Deno) */
  const aio_driver_t* driver;
  aio_shared_t* shared; /* the reactor's poller (same refcounting as Poller) */
  aio_front_t* front;   /* aio_shared_front(shared) */
  int refs;             /* JS handle + live state; freed at 0 (loop thread) */
  int closing;
  int is_ref; /* the watchers keep the loop alive */
  napi_ref callback;
  napi_ref batch_ref;
  napi_async_context async_context;
  aio_event_t* batch; /* the Uint32Array's memory */
  int capacity;
  napi_async_cleanup_hook_handle cleanup;
  int handles_open; /* uv handles not yet closed */

  /* the busy mode (loop.c) */
  uv_prepare_t prepare;
  uv_idle_t idle;

  /* nested */
  uv_poll_t poll;
  unsigned spurious; /* consecutive empty wakes */

  /* thread */
  const aio_handoff_t* handoff;
  uv_async_t async;
  napi_threadsafe_function tsfn;
  pthread_t thread;
  int thread_started;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stop;
  int rewait;  /* AIO_REWAIT_* */
  int pending; /* events the helper has ready for the loop thread (-errno) */
  int armed;   /* the helper may wait (see driver-thread.c) */
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
};

/* reactor.c */
/* Calls the JS callback with (kind, value); exceptions go to
 * 'uncaughtException'. */
void aio_reactor_emit(aio_reactor_t* r, int kind, int value);
/* The reactor poller's ready events, then the side path's, into batch. */
/* `delivers`: the calling thread delivers the batch itself (nested, busy,
 * dispatch); 0 for the helper thread, whose batches JS verifies on delivery
 * (aio_front_wait_unchecked). */
int aio_reactor_take(aio_reactor_t* r, aio_event_t* batch, int64_t timeout_ns,
                     int delivers);
/* Loop thread: a wait failed. Every taker on this thread stops and JS is
 * told once. */
void aio_reactor_fail(aio_reactor_t* r, int err);
/* Loop thread: hands the reactor to `to` (started by the caller) and tells
 * JS. */
void aio_reactor_switched(aio_reactor_t* r, const aio_driver_t* to);

/* loop.c: the busy mode, with libuv only. */
int aio_loop_init(aio_reactor_t* r);
/* Asks the driver before every block whether the loop thread may take. */
void aio_loop_watch(aio_reactor_t* r);
/* After a take that found events: take again before libuv next blocks. */
void aio_loop_busy(aio_reactor_t* r);
void aio_loop_halt(aio_reactor_t* r);
void aio_loop_close(aio_reactor_t* r, uv_close_cb cb);
void aio_loop_ref(aio_reactor_t* r, int on);
/* uv_ref() or uv_unref() of a handle, as `on` says. */
void aio_uv_ref(void* handle, int on);

/* driver-thread.c: the loop thread's side of either hand-off. */
void aio_thread_take_batch(aio_reactor_t* r);

/* reactor.c: the uv close callback every driver's handles use. */
void aio_reactor_on_close(uv_handle_t* handle);

#endif /* ASYNC_IO_REACTOR_H_ */
