/* TEST ONLY: hooks into the event-ports emulation, for tests that must make
 * the kernel quirks a backend copes with happen on demand. src/port.c never
 * includes this. */
#ifndef AIO_TEST_PORT_SHIM_H_
#define AIO_TEST_PORT_SHIM_H_

#include <port.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  PORT_SHIM_QUIRK_NONE = 0,
  /* returns 0 at once with *nget = 0 and nothing written: a spurious
   * wake-up */
  PORT_SHIM_QUIRK_SPURIOUS,
  /* returns 0 at once, *nget and list[] untouched (libuv: "a kernel bug
   * where nfds is not updated") */
  PORT_SHIM_QUIRK_NGET_STALE,
  /* returns -1/EINTR at once, *nget untouched: a signal */
  PORT_SHIM_QUIRK_EINTR,
  /* once events are retrieved, returns them with -1/EINTR (libuv:
   * "port_getn() may return events even on error") */
  PORT_SHIM_QUIRK_EINTR_EVENTS,
  /* once events are retrieved, returns them with -1/ETIME */
  PORT_SHIM_QUIRK_ETIME_EVENTS,
} port_shim_quirk_t;

/* Arms `quirk` for the next port_getn() on `port` (one time). */
int port_shim_quirk(int port, port_shim_quirk_t quirk);

/* Calls fn(arg) once, inside the next port_getn() on `port` that retrieves
 * events, after they left the port and before the call returns: the window
 * where another thread's delete/modify races with a wait that already holds
 * the events. */
int port_shim_after_retrieve(int port, void (*fn)(void*), void* arg);

#ifdef __cplusplus
}
#endif

#endif /* AIO_TEST_PORT_SHIM_H_ */
