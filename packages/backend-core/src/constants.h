/* The numbers JavaScript and C agree on beyond backend.h's: the reactor's
 * drivers and create flags, the fd helpers' socket types and shutdown
 * directions. constants.c exports these with backend.h's readiness bits,
 * modes and capabilities as the addon's `constants` object, which the
 * TypeScript side reads instead of keeping copies (lib/native.ts types it;
 * test/seam.test.ts checks the real exports against that type). */
#ifndef ASYNC_IO_CONSTANTS_H_
#define ASYNC_IO_CONSTANTS_H_

#include <node_api.h>

/* reactorCreate's driver argument and reactorDriver's answer. */
enum {
  AIO_DRIVER_NESTED = 0,
  AIO_DRIVER_THREAD = 1,
  AIO_DRIVER_EXTERNAL = 2,
  AIO_DRIVER_AUTO = 3 /* nested if the probe says it works, else thread */
};

/* reactorCreate's flags: the runtime has no libuv (Bun, Deno). */
#define AIO_REACTOR_NAPI_ONLY 1

/* The reactor's batch callback(kind, value): what `value` is. */
enum {
  AIO_BATCH_FRESH = 0,    /* value events, taken on the loop thread just now */
  AIO_BATCH_CAPTURED = 1, /* value events, taken ahead of JS: JS rechecks */
  AIO_BATCH_FAILED = 2,   /* value is the wait's -errno; nothing more comes */
  AIO_BATCH_DRIVER = 3    /* value is the driver now serving (a switch) */
};

/* socketpairOf's type (aio_fd_socketpair_of's kind). */
enum { AIO_SOCK_STREAM = 0, AIO_SOCK_DGRAM = 1, AIO_SOCK_SEQPACKET = 2 };

/* shutdown's direction (aio_fd_shutdown's how). */
enum { AIO_SHUT_RD = 0, AIO_SHUT_WR = 1, AIO_SHUT_RDWR = 2 };

/* Defines the `constants` object on the module's exports. */
napi_status aio_define_constants(napi_env env, napi_value exports);

#endif /* ASYNC_IO_CONSTANTS_H_ */
