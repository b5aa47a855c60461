/* The priority side path of a reactor whose own fd another loop watches.
 *
 * When libuv (nested driver) or an embedder (external driver) polls the
 * reactor's epoll fd, the kernel polls every ready item of our epoll to
 * answer, and some files report a change only to the first poll that sees it:
 * /proc/self/mountinfo and /proc/swaps clear their "changed" mark in poll
 * (fs/proc_namespace.c mounts_poll). That first poll is the outer loop's, so
 * our own wait finds nothing and the priority event is lost. A handle that
 * waits for priority therefore moves its whole registration to a second
 * poller that only this helper thread waits on (any poll of such a file
 * consumes the change, so it may be in no poller that someone else polls);
 * what the thread takes is queued here and the reactor's poller is notified,
 * so the events come back through the ordinary dispatch on the loop thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "side.h"

#define SIDE_CAPACITY 256

struct aio_side_s {
  aio_front_t* poller; /* the side poller (owned by the caller) */
  aio_front_t* wake;   /* the reactor's poller, notified when events queue */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t room; /* signalled when the loop thread takes events */
  int stop;
  int error; /* a failed wait, reported once through the queue owner */
  int len;
  aio_event_t queue[SIDE_CAPACITY];
  aio_event_t scratch[SIDE_CAPACITY];
};

static void* side_main(void* arg) {
  aio_side_t* s = (aio_side_t*)arg;
  int n, room;
  pthread_mutex_lock(&s->lock);
  while (!s->stop) {
    while (s->len == SIDE_CAPACITY && !s->stop)
      pthread_cond_wait(&s->room, &s->lock);
    if (s->stop)
      break;
    room = SIDE_CAPACITY - s->len;
    pthread_mutex_unlock(&s->lock);
    /* A stop is followed by a notify, so this wait cannot miss it. */
    n = aio_front_wait_unchecked(s->poller, s->scratch, room, -1);
    pthread_mutex_lock(&s->lock);
    if (s->stop)
      break;
    if (n < 0) {
      /* Never spin on a broken poller: stop, and wake the reactor so that
       * its next take reports the error at once (priority waiters would
       * otherwise hang until something unrelated woke it). */
      s->error = n;
      pthread_mutex_unlock(&s->lock);
      aio_front_notify(s->wake);
      return NULL;
    }
    memcpy(&s->queue[s->len], s->scratch, (size_t)n * sizeof(aio_event_t));
    s->len += n;
    if (n > 0) {
      pthread_mutex_unlock(&s->lock);
      aio_front_notify(s->wake);
      pthread_mutex_lock(&s->lock);
    }
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

int aio_side_start(aio_side_t** out, aio_front_t* poller, aio_front_t* wake) {
  aio_side_t* s = (aio_side_t*)calloc(1, sizeof(*s));
  int err;
  if (s == NULL)
    return -ENOMEM;
  s->poller = poller;
  s->wake = wake;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->room, NULL);
  err = pthread_create(&s->thread, NULL, side_main, s);
  if (err != 0) {
    pthread_cond_destroy(&s->room);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return -err;
  }
  *out = s;
  return 0;
}

void aio_side_stop(aio_side_t* s) {
  pthread_mutex_lock(&s->lock);
  s->stop = 1;
  pthread_cond_signal(&s->room);
  pthread_mutex_unlock(&s->lock);
  aio_front_notify(s->poller);
  pthread_join(s->thread, NULL);
  pthread_cond_destroy(&s->room);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

int aio_side_take(aio_side_t* s, aio_event_t* dst, int room) {
  int m, left;
  pthread_mutex_lock(&s->lock);
  if (s->error < 0 && s->len == 0) {
    m = s->error;
    s->error = 0;
    pthread_mutex_unlock(&s->lock);
    return m;
  }
  m = s->len < room ? s->len : room;
  if (m > 0) {
    memcpy(dst, s->queue, (size_t)m * sizeof(aio_event_t));
    memmove(s->queue, &s->queue[m], (size_t)(s->len - m) * sizeof(aio_event_t));
    s->len -= m;
    pthread_cond_signal(&s->room);
  }
  left = s->len;
  pthread_mutex_unlock(&s->lock);
  /* What did not fit comes back with the next wake. */
  if (left > 0)
    aio_front_notify(s->wake);
  return m;
}
