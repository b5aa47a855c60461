/* The priority side path (side.c): a helper thread waiting on a second
 * poller, for handles that wait for priority on a reactor whose fd another
 * loop polls. 0 (or a count) or a negative errno, as everywhere in the core. */
#ifndef ASYNC_IO_SIDE_H_
#define ASYNC_IO_SIDE_H_

#include "internal.h"

typedef struct aio_side_s aio_side_t;

/* Starts the thread waiting on `poller`; `wake` is notified whenever events
 * are queued. The caller keeps `poller` alive until aio_side_stop(). */
int aio_side_start(aio_side_t** out, aio_front_t* poller, aio_front_t* wake);
/* Stops and joins the thread, frees. */
void aio_side_stop(aio_side_t* s);
/* Moves at most `room` queued events to dst; the count, or the side
 * thread's wait error (-errno) once when nothing is queued. */
int aio_side_take(aio_side_t* s, aio_event_t* dst, int room);

#endif /* ASYNC_IO_SIDE_H_ */
