/* The thread driver: a helper thread blocks in wait and hands each batch to
 * the loop thread through a hand-off (handoff-uv.c, handoff-tsfn.c). For
 * backends without an fd (poll) and pollers that do not report each other.
 *
 * One batch is in flight at a time: the helper waits only while `armed` and
 * with nothing pending. With libuv the loop thread takes itself while busy
 * (loop.c) and arms the helper only when its own take found nothing; the
 * helper then stays parked after each batch it hands over, so it never races
 * the loop thread's take. Without libuv there is no loop hook: the helper
 * waits again as its hand-off says (AIO_REWAIT_*). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reactor.h"

static void* helper_main(void* arg) {
  aio_reactor_t* r = (aio_reactor_t*)arg;
  int n;
  /* A stop is always followed by a notify, and a pending notify makes the
   * next wait return, so checking `stop` before each wait cannot miss it. */
  pthread_mutex_lock(&r->lock);
  for (;;) {
    while (!r->stop && (!r->armed || r->pending != 0))
      pthread_cond_wait(&r->cond, &r->lock);
    if (r->stop)
      break;
    pthread_mutex_unlock(&r->lock);
    n = aio_reactor_take(r, r->tbatch, -1, 0);
    pthread_mutex_lock(&r->lock);
    if (n == 0 || r->stop)
      continue;
    r->pending = n;
    if (r->rewait == AIO_REWAIT_PARKED)
      r->armed = 0;
    /* A failing wait is reported once and ends the thread (never spins). */
    if (r->handoff->wake(r) < 0 || n < 0)
      break;
  }
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

static void release_helper(aio_reactor_t* r) {
  pthread_mutex_lock(&r->lock);
  r->pending = 0;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

/* Loop thread: both hand-offs end here. Takes the helper's batch, lets the
 * helper wait again as its hand-off says, and emits the batch. Re-waiting
 * only after JS, where handles re-arm per event, puts their interest in
 * place before that wait starts (on poll, a change while poll() blocks
 * costs a kick and a second wake-up). */
void aio_thread_take_batch(aio_reactor_t* r) {
  int n;
  pthread_mutex_lock(&r->lock);
  n = r->pending;
  if (n > 0)
    memcpy(r->batch, r->tbatch, (size_t)n * sizeof(aio_event_t));
  if (r->rewait != AIO_REWAIT_AFTER_JS) {
    r->pending = 0;
    /* Parked: on_prepare arms it, no wake here. */
    if (r->rewait == AIO_REWAIT_NOW)
      pthread_cond_signal(&r->cond);
  }
  pthread_mutex_unlock(&r->lock);
  if (r->closing || n == 0)
    ;
  else if (n < 0)
    aio_reactor_fail(r, n);
  else
    aio_reactor_emit(r, AIO_BATCH_CAPTURED, n);
  if (r->rewait == AIO_REWAIT_AFTER_JS)
    release_helper(r);
}

static int start(aio_reactor_t* r) {
  int err;
  r->handoff = r->loop != NULL ? &aio_handoff_uv : &aio_handoff_tsfn;
  r->rewait = r->handoff->rewait(r);
  r->tbatch = (aio_event_t*)calloc((size_t)r->capacity, sizeof(aio_event_t));
  if (r->tbatch == NULL)
    return -ENOMEM;
  if ((err = r->handoff->start(r)) < 0)
    return err;
  if (r->loop != NULL) {
    /* A nested driver switching over has the hooks already. */
    if ((err = aio_loop_init(r)) < 0)
      return err;
    aio_loop_watch(r);
  }
  r->armed = 1; /* the first wait is the helper's */
  err = pthread_create(&r->thread, NULL, helper_main, r);
  if (err != 0)
    return -err;
  r->thread_started = 1;
  return 0;
}

static void halt(aio_reactor_t* r) {
  if (r->loop != NULL)
    aio_loop_halt(r);
}

static void stop(aio_reactor_t* r) {
  if (r->thread_started) {
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    aio_front_notify(r->front);
    pthread_join(r->thread, NULL);
    r->thread_started = 0;
  }
  if (r->handoff != NULL)
    r->handoff->stop(r);
}

static void close_handles(aio_reactor_t* r) {
  if (r->handoff != NULL)
    r->handoff->close(r);
}

static int ref(aio_reactor_t* r, int on) {
  return r->handoff != NULL ? r->handoff->ref(r, on) : 0;
}

/* Only while the helper is parked with no batch in flight. */
static int may_take(aio_reactor_t* r) {
  int mine;
  pthread_mutex_lock(&r->lock);
  mine = !r->armed && r->pending == 0;
  pthread_mutex_unlock(&r->lock);
  return mine;
}

static void busy(aio_reactor_t* r) {
  (void)r;
}

/* The loop thread's take found nothing: the helper's wait takes over. */
static void idle(aio_reactor_t* r) {
  pthread_mutex_lock(&r->lock);
  r->armed = 1;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

const aio_driver_t aio_driver_thread = {
    AIO_DRIVER_THREAD, start, halt, stop, close_handles, ref,
    may_take,          busy,  idle,
};
