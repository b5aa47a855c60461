/* The N-API glue of every backend addon, and its only module init: argument
 * unpacking, the Poller functions over the front and the fd functions.
 * Nothing clever: what a call means is decided by the front and the
 * mechanism. Errors are made in errors.c, shared pollers live in shared.c,
 * and env.c finalizes externals at env teardown. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "constants.h"
#include "glue.h"

/* ---- argument unpacking -------------------------------------------------- */

int aio_args(napi_env env, napi_callback_info info, aio_args_t* a) {
  a->env = env;
  a->argc = AIO_MAX_ARGS;
  return napi_get_cb_info(env, info, &a->argc, a->argv, NULL, &a->data) ==
         napi_ok;
}

int aio_int_arg(aio_args_t* a, size_t i, const char* name, int64_t lo,
                int64_t hi, int64_t* out) {
  double d;
  if (i >= a->argc ||
      napi_get_value_double(a->env, a->argv[i], &d) != napi_ok) {
    aio_throw_type(a->env, name);
    return 0;
  }
  if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d) {
    aio_throw_range(a->env, name);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

napi_value aio_int(napi_env env, int64_t v) {
  napi_value r = NULL;
  if (napi_create_int64(env, v, &r) != napi_ok)
    aio_throw_last_napi_error(env);
  return r;
}

napi_value aio_undefined(napi_env env) {
  napi_value r = NULL;
  napi_get_undefined(env, &r);
  return r;
}

/* Unwraps argument 0 as an open poller; throws ERR_POLLER_CLOSED if closed. */
static aio_front_t* poller_arg(aio_args_t* a, aio_handle_t** out) {
  aio_handle_t* h = NULL;
  if (a->argc < 1 ||
      napi_get_value_external(a->env, a->argv[0], (void**)&h) != napi_ok ||
      h == NULL) {
    aio_throw_type(a->env, "poller");
    return NULL;
  }
  if (h->shared == NULL) {
    napi_throw_error(a->env, "ERR_POLLER_CLOSED", "The poller is closed");
    return NULL;
  }
  if (out != NULL)
    *out = h;
  return aio_shared_front(h->shared);
}

/* ---- Poller functions ---------------------------------------------------- */

static napi_value js_create(napi_env env, napi_callback_info info) {
  aio_front_t* f = NULL;
  aio_shared_t* s;
  int err;
  (void)info;
  err = aio_front_create(&f);
  if (err < 0)
    return aio_throw_errno(env, err, aio_backend_syscall(AIO_OP_CREATE));
  s = aio_shared_new(f);
  if (s == NULL)
    return aio_throw_errno(env, -ENOMEM, "malloc");
  return aio_shared_wrap(env, s);
}

static napi_value js_from_shared(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t id;
  aio_shared_t* s;
  if (!aio_args(env, info, &a))
    return NULL;
  if (!aio_int_arg(&a, 0, "handle.id", 1, (int64_t)1 << 53, &id))
    return NULL;
  s = aio_shared_find((uint64_t)id);
  if (s == NULL) {
    napi_throw_error(env, "ERR_POLLER_CLOSED",
                     "The shared poller has been closed by every owner");
    return NULL;
  }
  return aio_shared_wrap(env, s);
}

static napi_value js_share_id(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_handle_t* h;
  if (!aio_args(env, info, &a) || poller_arg(&a, &h) == NULL)
    return NULL;
  return aio_int(env, (int64_t)aio_shared_id(h->shared));
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_handle_t* h = NULL;
  if (!aio_args(env, info, &a))
    return NULL;
  if (a.argc < 1 ||
      napi_get_value_external(env, a.argv[0], (void**)&h) != napi_ok ||
      h == NULL)
    return aio_throw_type(env, "poller");
  if (h->shared != NULL) {
    aio_shared_release(h->shared);
    h->shared = NULL;
  }
  return aio_undefined(env);
}

static napi_value js_fd(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_front_t* f;
  if (!aio_args(env, info, &a) || (f = poller_arg(&a, NULL)) == NULL)
    return NULL;
  return aio_int(env, aio_front_fd(f));
}

/* add/modify(handle, fd, key, interestBits, mode) */
static napi_value js_register(napi_env env, napi_callback_info info,
                              int modify) {
  aio_args_t a;
  aio_front_t* f;
  int64_t fd, key, interest, mode;
  int err;
  if (!aio_args(env, info, &a) || (f = poller_arg(&a, NULL)) == NULL)
    return NULL;
  if (!aio_int_arg(&a, 1, "fd", 0, INT_MAX, &fd) ||
      !aio_int_arg(&a, 2, "key", 0, (int64_t)AIO_NOTIFY_KEY - 1, &key) ||
      !aio_int_arg(&a, 3, "interest", 0,
                   AIO_READABLE | AIO_WRITABLE | AIO_PRIORITY, &interest) ||
      !aio_int_arg(&a, 4, "mode", AIO_MODE_ONESHOT,
                   AIO_REG_OWNED | AIO_MODE_EDGE_ONESHOT, &mode))
    return NULL;
  /* A mode, with the library's AIO_REG_OWNED bit or without. */
  if ((mode & ~AIO_REG_OWNED) > AIO_MODE_EDGE_ONESHOT)
    return aio_throw_range(env, "mode");
  if (modify) {
    err = aio_front_modify(f, (int)fd, (uint32_t)key, (unsigned)interest,
                           (int)mode);
  } else {
    err =
        aio_front_add(f, (int)fd, (uint32_t)key, (unsigned)interest, (int)mode);
  }
  if (err < 0)
    return aio_throw_errno(
        env, err, aio_backend_syscall(modify ? AIO_OP_MODIFY : AIO_OP_ADD));
  return aio_undefined(env);
}

static napi_value js_add(napi_env env, napi_callback_info info) {
  return js_register(env, info, 0);
}

static napi_value js_modify(napi_env env, napi_callback_info info) {
  return js_register(env, info, 1);
}

static napi_value js_delete(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_front_t* f;
  int64_t fd;
  int err;
  if (!aio_args(env, info, &a) || (f = poller_arg(&a, NULL)) == NULL)
    return NULL;
  if (!aio_int_arg(&a, 1, "fd", 0, INT_MAX, &fd))
    return NULL;
  err = aio_front_delete(f, (int)fd);
  if (err < 0)
    return aio_throw_errno(env, err, aio_backend_syscall(AIO_OP_DELETE));
  return aio_undefined(env);
}

/* Arguments first.. of recheck and verify: an Int32Array of fds, the
 * Uint32Array batch, and n, no more than either holds. 0 after throwing. */
static int batch_args(napi_env env, aio_args_t* a, size_t first, int32_t** fds,
                      aio_event_t** events, int* n) {
  napi_typedarray_type type;
  size_t nfds, nev;
  void *pf, *pe;
  int64_t count;
  if (a->argc < first + 3 ||
      napi_get_typedarray_info(env, a->argv[first], &type, &nfds, &pf, NULL,
                               NULL) != napi_ok ||
      type != napi_int32_array) {
    aio_throw_type(env, "fds");
    return 0;
  }
  if (napi_get_typedarray_info(env, a->argv[first + 1], &type, &nev, &pe, NULL,
                               NULL) != napi_ok ||
      type != napi_uint32_array) {
    aio_throw_type(env, "batch");
    return 0;
  }
  if (!aio_int_arg(a, first + 2, "n", 0,
                   (int64_t)(nfds < nev / 2 ? nfds : nev / 2), &count))
    return 0;
  *fds = (int32_t*)pf;
  *events = (aio_event_t*)pe;
  *n = (int)count;
  return 1;
}

/* verify(handle, Int32Array fds, Uint32Array batch, n) -> how many entries
 * of a batch taken ahead of its delivery became gone (aio_front_verify). */
static napi_value js_verify(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_front_t* f;
  int32_t* fds;
  aio_event_t* events;
  int n;
  if (!aio_args(env, info, &a) || (f = poller_arg(&a, NULL)) == NULL ||
      !batch_args(env, &a, 1, &fds, &events, &n))
    return NULL;
  return aio_int(env, aio_front_verify(f, fds, events, n));
}

/* sweep(handle) -> how many registrations were found gone (see
 * aio_front_sweep); they are reported at the next wait. */
static napi_value js_sweep(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_front_t* f;
  if (!aio_args(env, info, &a) || (f = poller_arg(&a, NULL)) == NULL)
    return NULL;
  return aio_int(env, aio_front_sweep(f));
}

/* Converts a JS timeout in ms (negative: none) to ns, -1 meaning none. */
static int64_t timeout_ns(double ms) {
  if (!(ms >= 0))
    return -1;
  if (ms > 9.0e12)
    return -1; /* ~285 years: treat as no limit */
  return (int64_t)(ms * 1e6 + 0.5);
}

/* wait(handle, Uint32Array batch, timeoutMs) -> count. The batch is pairs of
 * (key, flags), the very layout of aio_event_t, so the backend writes into
 * JS memory directly: one call and no allocation per batch. */
static napi_value js_wait(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_front_t* f;
  napi_typedarray_type type;
  size_t length;
  void* data;
  double ms;
  int n;
  if (!aio_args(env, info, &a) || (f = poller_arg(&a, NULL)) == NULL)
    return NULL;
  if (a.argc < 3 ||
      napi_get_typedarray_info(env, a.argv[1], &type, &length, &data, NULL,
                               NULL) != napi_ok ||
      type != napi_uint32_array || length < 2)
    return aio_throw_type(env, "events");
  if (napi_get_value_double(env, a.argv[2], &ms) != napi_ok)
    return aio_throw_type(env, "timeout");
  if (ms != ms)
    return aio_throw_range(env, "timeout");
  n = aio_front_wait(f, (aio_event_t*)data,
                     (int)(length / 2 > INT_MAX ? INT_MAX : length / 2),
                     timeout_ns(ms));
  if (n < 0)
    return aio_throw_errno(env, n, aio_backend_syscall(AIO_OP_WAIT));
  return aio_int(env, n);
}

static napi_value js_notify(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_front_t* f;
  int err;
  if (!aio_args(env, info, &a) || (f = poller_arg(&a, NULL)) == NULL)
    return NULL;
  err = aio_front_notify(f);
  if (err < 0)
    return aio_throw_errno(env, err, aio_backend_syscall(AIO_OP_NOTIFY));
  return aio_undefined(env);
}

/* ---- fd functions -------------------------------------------------------
 * Non-throwing on would-block (null), so hot loops need no try/catch.
 */

static napi_value fd_pair(napi_env env, const int fds[2]) {
  napi_value arr, v;
  int i;
  AIO_NAPI(env, napi_create_array_with_length(env, 2, &arr));
  for (i = 0; i < 2; i++) {
    AIO_NAPI(env, napi_create_int32(env, fds[i], &v));
    AIO_NAPI(env, napi_set_element(env, arr, (uint32_t)i, v));
  }
  return arr;
}

napi_value aio_js_pipe(napi_env env, napi_callback_info info) {
  int fds[2], err;
  (void)info;
  err = aio_fd_pipe(fds);
  if (err < 0)
    return aio_throw_errno(env, err, "pipe");
  return fd_pair(env, fds);
}

napi_value aio_js_socketpair(napi_env env, napi_callback_info info) {
  int fds[2], err;
  (void)info;
  err = aio_fd_socketpair(fds);
  if (err < 0)
    return aio_throw_errno(env, err, "socketpair");
  return fd_pair(env, fds);
}

/* socketpairOf(type) -> [fd, fd]: AF_UNIX, 0 = SOCK_STREAM, 1 = SOCK_DGRAM,
 * 2 = SOCK_SEQPACKET; non-blocking and close-on-exec like the other pairs. */
static napi_value js_socketpair_of(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t t;
  int fds[2], err;
  if (!aio_args(env, info, &a) || !aio_int_arg(&a, 0, "type", 0, 2, &t))
    return NULL;
  err = aio_fd_socketpair_of((int)t, fds);
  if (err < 0)
    return aio_throw_errno(env, err, "socketpair");
  return fd_pair(env, fds);
}

/* openpty() -> [master, slave]: see pty.c. */
static napi_value js_openpty(napi_env env, napi_callback_info info) {
  int fds[2], err;
  const char* syscall = "posix_openpt";
  (void)info;
  err = aio_fd_openpty(fds, &syscall);
  if (err < 0)
    return aio_throw_errno(env, err, syscall);
  return fd_pair(env, fds);
}

/* fdKind(fd) -> what the streams need to know of a file: see internal.h. */
static napi_value js_fd_kind(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd;
  int err;
  aio_fd_stat_t st;
  const char* syscall = "fstat";
  napi_value v;
  if (!aio_args(env, info, &a) || !aio_int_arg(&a, 0, "fd", 0, INT_MAX, &fd))
    return NULL;
  if ((err = aio_fd_stat((int)fd, &st, &syscall)) < 0)
    return aio_throw_errno(env, err, syscall);
  AIO_NAPI(env, napi_create_string_utf8(env, st.kind, NAPI_AUTO_LENGTH, &v));
  return v;
}

/* shutdown(fd, how): 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR (half-close). */
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd, how;
  int err;
  if (!aio_args(env, info, &a) || !aio_int_arg(&a, 0, "fd", 0, INT_MAX, &fd) ||
      !aio_int_arg(&a, 1, "how", 0, 2, &how))
    return NULL;
  if ((err = aio_fd_shutdown((int)fd, (int)how)) < 0)
    return aio_throw_errno(env, err, "shutdown");
  return aio_undefined(env);
}

/* read/write(fd, Uint8Array|Buffer|any TypedArray|DataView) -> n | null */
static napi_value js_io(napi_env env, napi_callback_info info, int writing) {
  aio_args_t a;
  int64_t fd;
  void* data = NULL;
  size_t len = 0, elem = 1;
  napi_typedarray_type type;
  bool is_ta = false, is_dv = false;
  ssize_t n;
  napi_value nil;
  if (!aio_args(env, info, &a))
    return NULL;
  if (!aio_int_arg(&a, 0, "fd", 0, INT_MAX, &fd))
    return NULL;
  if (a.argc < 2)
    return aio_throw_type(env, "buffer");
  napi_is_typedarray(env, a.argv[1], &is_ta);
  if (is_ta) {
    AIO_NAPI(env, napi_get_typedarray_info(env, a.argv[1], &type, &len, &data,
                                           NULL, NULL));
    switch (type) {
      case napi_int16_array:
      case napi_uint16_array:
        elem = 2;
        break;
      case napi_int32_array:
      case napi_uint32_array:
      case napi_float32_array:
        elem = 4;
        break;
      case napi_float64_array:
      case napi_bigint64_array:
      case napi_biguint64_array:
        elem = 8;
        break;
      default:
        elem = 1;
    }
    len *= elem;
  } else {
    napi_is_dataview(env, a.argv[1], &is_dv);
    if (!is_dv)
      return aio_throw_type(env, "buffer");
    AIO_NAPI(env,
             napi_get_dataview_info(env, a.argv[1], &len, &data, NULL, NULL));
  }
  n = writing ? aio_fd_write((int)fd, data, len)
              : aio_fd_read((int)fd, data, len);
  if (n < 0) {
    if (n == -EAGAIN || n == -EWOULDBLOCK) {
      AIO_NAPI(env, napi_get_null(env, &nil));
      return nil;
    }
    return aio_throw_errno(env, (int)n, writing ? "write" : "read");
  }
  return aio_int(env, (int64_t)n);
}

static napi_value js_read(napi_env env, napi_callback_info info) {
  return js_io(env, info, 0);
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  return js_io(env, info, 1);
}

/* closeFd / setNonblocking(fd): undefined, or throws against `syscall`. */
static napi_value js_fd_op(napi_env env, napi_callback_info info,
                           int (*op)(int), const char* syscall) {
  aio_args_t a;
  int64_t fd;
  int err;
  if (!aio_args(env, info, &a))
    return NULL;
  if (!aio_int_arg(&a, 0, "fd", 0, INT_MAX, &fd))
    return NULL;
  err = op((int)fd);
  if (err < 0)
    return aio_throw_errno(env, err, syscall);
  return aio_undefined(env);
}

static napi_value js_close_fd(napi_env env, napi_callback_info info) {
  return js_fd_op(env, info, aio_fd_close, "close");
}

static napi_value js_set_nonblocking(napi_env env, napi_callback_info info) {
  return js_fd_op(env, info, aio_fd_set_nonblocking, "fcntl");
}

/* fdReadiness(fd) -> AIO_* bits the fd is ready for right now (poll, 0 ms).
 * Lets an edge-tracked handle confirm a cached readiness cheaply. */
static napi_value js_fd_readiness(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd;
  int bits;
  if (!aio_args(env, info, &a))
    return NULL;
  if (!aio_int_arg(&a, 0, "fd", 0, INT_MAX, &fd))
    return NULL;
  bits = aio_fd_readiness((int)fd);
  if (bits < 0)
    return aio_throw_errno(env, bits, "poll");
  return aio_int(env, bits);
}

/* recheck(Int32Array fds, Uint32Array batch, n): drops the readable and
 * writable bits of batch entries whose fd is no longer ready (see fd.c). */
static napi_value js_recheck(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int32_t* fds;
  aio_event_t* events;
  int n, err;
  if (!aio_args(env, info, &a) || !batch_args(env, &a, 0, &fds, &events, &n))
    return NULL;
  err = aio_fd_recheck(fds, events, n);
  if (err < 0)
    return aio_throw_errno(env, err, "poll");
  return aio_undefined(env);
}

/* sameFile(fd, dev, ino) -> whether fd still names the file fdStat() gave
 * dev and ino of: false for another file or a closed fd. One fstat(), no
 * allocation: checked before every read and write of a handle. */
static napi_value js_same_file(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd;
  double dev, ino;
  napi_value v;
  if (!aio_args(env, info, &a))
    return NULL;
  if (!aio_int_arg(&a, 0, "fd", 0, INT_MAX, &fd))
    return NULL;
  if (a.argc < 3 || napi_get_value_double(env, a.argv[1], &dev) != napi_ok ||
      napi_get_value_double(env, a.argv[2], &ino) != napi_ok)
    return aio_throw_type(env, "dev");
  AIO_NAPI(env, napi_get_boolean(env, aio_fd_same((int)fd, dev, ino) == 1, &v));
  return v;
}

/* fdStat(fd) -> [dev, ino, stream, regular]: the open file's identity (to tell
 * a reused fd number from the file it used to name) and whether it is a FIFO or
 * a SOCK_STREAM socket, where a short read means "drained" and a short write
 * "full" (which lets an edge-tracked handle skip reads that would EAGAIN). */
static napi_value js_fd_stat(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd;
  aio_fd_stat_t st;
  const char* syscall = "fstat";
  napi_value arr, v;
  int err;
  if (!aio_args(env, info, &a))
    return NULL;
  if (!aio_int_arg(&a, 0, "fd", 0, INT_MAX, &fd))
    return NULL;
  err = aio_fd_stat((int)fd, &st, &syscall);
  if (err < 0)
    return aio_throw_errno(env, err, syscall);
  AIO_NAPI(env, napi_create_array_with_length(env, 4, &arr));
  AIO_NAPI(env, napi_create_double(env, st.dev, &v));
  AIO_NAPI(env, napi_set_element(env, arr, 0, v));
  AIO_NAPI(env, napi_create_double(env, st.ino, &v));
  AIO_NAPI(env, napi_set_element(env, arr, 1, v));
  AIO_NAPI(env, napi_get_boolean(env, st.stream, &v));
  AIO_NAPI(env, napi_set_element(env, arr, 2, v));
  AIO_NAPI(env, napi_get_boolean(env, st.regular != 0, &v));
  AIO_NAPI(env, napi_set_element(env, arr, 3, v));
  return arr;
}

/* ---- module -------------------------------------------------------------- */

#define AIO_FN(name, fn) \
  {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}

NAPI_MODULE_INIT() {
  napi_value name, caps;
  if (aio_env_init(env) != 0) {
    aio_throw_errno(env, -ENOMEM, "malloc");
    return NULL;
  }
  napi_property_descriptor props[] = {
      AIO_FN("create", js_create),
      AIO_FN("fromShared", js_from_shared),
      AIO_FN("shareId", js_share_id),
      AIO_FN("close", js_close),
      AIO_FN("fd", js_fd),
      AIO_FN("add", js_add),
      AIO_FN("modify", js_modify),
      AIO_FN("delete", js_delete),
      AIO_FN("wait", js_wait),
      AIO_FN("notify", js_notify),
      AIO_FN("sweep", js_sweep),
      AIO_FN("verify", js_verify),
      AIO_FN("pipe", aio_js_pipe),
      AIO_FN("socketpair", aio_js_socketpair),
      AIO_FN("read", js_read),
      AIO_FN("write", js_write),
      AIO_FN("closeFd", js_close_fd),
      AIO_FN("setNonblocking", js_set_nonblocking),
      AIO_FN("fdReadiness", js_fd_readiness),
      AIO_FN("fdStat", js_fd_stat),
      AIO_FN("sameFile", js_same_file),
      AIO_FN("recheck", js_recheck),
      AIO_FN("fdKind", js_fd_kind),
      AIO_FN("shutdown", js_shutdown),
      AIO_FN("socketpairOf", js_socketpair_of),
      AIO_FN("openpty", js_openpty),
      AIO_FN("reactorCreate", aio_js_reactor_create),
      AIO_FN("reactorPoller", aio_js_reactor_poller),
      AIO_FN("reactorDispatch", aio_js_reactor_dispatch),
      AIO_FN("reactorRef", aio_js_reactor_ref),
      AIO_FN("reactorDriver", aio_js_reactor_driver),
      AIO_FN("reactorFd", aio_js_reactor_fd),
      AIO_FN("reactorOwn", aio_js_reactor_own),
      AIO_FN("reactorPipe", aio_js_reactor_pipe),
      AIO_FN("reactorSocketpair", aio_js_reactor_socketpair),
      AIO_FN("reactorSidePoller", aio_js_reactor_side_poller),
      AIO_FN("reactorProbe", aio_js_reactor_probe),
  };
  AIO_NAPI(env, napi_create_string_utf8(env, aio_backend_name(),
                                        NAPI_AUTO_LENGTH, &name));
  AIO_NAPI(env, napi_create_uint32(env, aio_backend_caps(), &caps));
  AIO_NAPI(env, napi_set_named_property(env, exports, "name", name));
  AIO_NAPI(env, napi_set_named_property(env, exports, "caps", caps));
  AIO_NAPI(env, aio_define_constants(env, exports));
  AIO_NAPI(env, napi_define_properties(
                    env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}
