/* What the glue files share: argument unpacking (napi.c), Node-shaped
 * errors (errors.c), the process-wide registry of shared pollers (shared.c)
 * and env-bound externals (env.c). N-API only; the poller itself is reached
 * through the front (internal.h). */
#ifndef ASYNC_IO_GLUE_H_
#define ASYNC_IO_GLUE_H_

#include <node_api.h>
#include <stdint.h>

#include "internal.h"

/* Calls an N-API function; on failure throws (if nothing is pending yet) and
 * returns NULL from the calling function. Never keeps going after a throw. */
#define AIO_NAPI(env, call)           \
  do {                                \
    if ((call) != napi_ok) {          \
      aio_throw_last_napi_error(env); \
      return NULL;                    \
    }                                 \
  } while (0)

void aio_throw_last_napi_error(napi_env env);
/* Throws a SystemError-shaped Error: message "CODE: description, syscall",
 * with .code, .errno (negative, as in Node) and .syscall. Returns NULL. */
napi_value aio_throw_errno(napi_env env, int err, const char* syscall);
/* TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE. */
napi_value aio_throw_type(napi_env env, const char* what);
napi_value aio_throw_range(napi_env env, const char* what);

#define AIO_MAX_ARGS 6

typedef struct {
  napi_env env;
  size_t argc;
  napi_value argv[AIO_MAX_ARGS];
  void* data;
} aio_args_t;

/* 1 on success; 0 (an exception is pending) on failure. */
int aio_args(napi_env env, napi_callback_info info, aio_args_t* a);
/* Reads argument i as an integer in [lo, hi]; throws and returns 0 if not. */
int aio_int_arg(aio_args_t* a, size_t i, const char* name, int64_t lo,
                int64_t hi, int64_t* out);
napi_value aio_int(napi_env env, int64_t v);
napi_value aio_undefined(napi_env env);

/* A front shared by every JS handle (in any thread) that holds a reference;
 * destroyed with the last one. */
typedef struct aio_shared_s aio_shared_t;

/* A registry entry owning `f`, with one reference; NULL if out of memory
 * (then `f` is destroyed). */
aio_shared_t* aio_shared_new(aio_front_t* f);
aio_front_t* aio_shared_front(const aio_shared_t* s);
void aio_shared_retain(aio_shared_t* s);
void aio_shared_release(aio_shared_t* s);
/* A JS Poller handle holding one reference on `s`, which it takes over (and
 * releases if the handle cannot be made). */
napi_value aio_shared_wrap(napi_env env, aio_shared_t* s);
/* The shared poller with this id, with one more reference; NULL if every
 * owner has closed it. */
aio_shared_t* aio_shared_find(uint64_t id);
uint64_t aio_shared_id(const aio_shared_t* s);

/* What a JS Poller handle wraps. */
typedef struct {
  aio_shared_t* shared; /* NULL once closed */
} aio_handle_t;

/* Sets the env's instance data that aio_create_external() needs: 0, or -1
 * (nothing is set). */
int aio_env_init(napi_env env);

/* napi_create_external whose finalizer runs at the latest when the env is
 * torn down: Bun and Deno skip external finalizers when a Worker ends, which
 * would leak the kernel objects behind them. From there it is called with
 * env NULL and must make no N-API call. */
napi_status aio_create_external(napi_env env, void* data, napi_finalize fin,
                                napi_value* result);

/* The JS pipe() and socketpair(), which reactor.c wraps. */
napi_value aio_js_pipe(napi_env env, napi_callback_info info);
napi_value aio_js_socketpair(napi_env env, napi_callback_info info);

/* reactor.c's exports, listed by napi.c's module init. */
napi_value aio_js_reactor_create(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_poller(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_dispatch(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_ref(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_driver(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_fd(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_own(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_pipe(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_socketpair(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_side_poller(napi_env env, napi_callback_info info);
napi_value aio_js_reactor_probe(napi_env env, napi_callback_info info);

#endif /* ASYNC_IO_GLUE_H_ */
