/* TEST ONLY: the subset of illumos <port.h> (and <sys/port.h>) that
 * src/port.c uses, emulated on Linux by ../port_shim.c so that the backend
 * compiles unchanged and runs here. Types and constants follow illumos;
 * POLL* come from Linux <poll.h>, whose values for the bits used here are
 * the ones illumos has too. Never ship this. */
#ifndef AIO_TEST_SHIM_PORT_H_
#define AIO_TEST_SHIM_PORT_H_

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef AIO_TEST_SHIM_UINT_T
#define AIO_TEST_SHIM_UINT_T
typedef unsigned int uint_t; /* illumos <sys/types.h> */
typedef unsigned short ushort_t;
typedef struct timespec timespec_t;
#endif

/* illumos <sys/port.h> */
#define PORT_SOURCE_AIO 1
#define PORT_SOURCE_TIMER 2
#define PORT_SOURCE_USER 3
#define PORT_SOURCE_FD 4
#define PORT_SOURCE_ALERT 5
#define PORT_SOURCE_MQ 6
#define PORT_SOURCE_FILE 7

typedef struct port_event {
  int portev_events;       /* detected events */
  ushort_t portev_source;  /* event source */
  ushort_t portev_pad;     /* reserved */
  uintptr_t portev_object; /* specific to event source */
  void* portev_user;       /* user defined cookie */
} port_event_t;

int port_create(void);
int port_associate(int port, int source, uintptr_t object, int events,
                   void* user);
int port_dissociate(int port, int source, uintptr_t object);
int port_getn(int port, port_event_t list[], uint_t max, uint_t* nget,
              const timespec_t* timeout);
int port_send(int port, int events, void* user);

#ifdef __cplusplus
}
#endif

#endif /* AIO_TEST_SHIM_PORT_H_ */
