/* The N-API glue shared by every backend addon.
 *
 * Header-only, consumed from a backend's binding.gyp the way node-addon-api
 * is: a backend's src/binding.c is `#include <async_io/addon.h>` and nothing
 * else, and the build links it with exactly one mechanism file implementing
 * backend.h. Everything here is argument unpacking, error throwing and the
 * bookkeeping every backend needs (shared handles, EINTR retry, fd helpers).
 */
#ifndef ASYNC_IO_ADDON_H_
#define ASYNC_IO_ADDON_H_

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* pipe2 */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "backend.h"

/* ---- errors ------------------------------------------------------------ */

/* Calls an N-API function; on failure throws (if nothing is pending yet) and
 * returns NULL from the calling function. Never keeps going after a throw. */
#define AIO_NAPI(env, call)                                  \
  do {                                                       \
    if ((call) != napi_ok) {                                 \
      aio__throw_last_napi_error(env);                       \
      return NULL;                                           \
    }                                                        \
  } while (0)

static void aio__throw_last_napi_error(napi_env env) {
  bool pending = false;
  const napi_extended_error_info* info = NULL;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ERR_ASYNC_IO_NAPI",
                   info != NULL && info->error_message != NULL
                       ? info->error_message
                       : "N-API call failed");
}

static const char* aio__describe(int err, const char* syscall) {
  /* The registration errors read better in the poller's own words. */
  if (syscall != NULL && strcmp(syscall, "delete") != 0) {
    if (err == -EEXIST) return "file already registered";
    if (err == -ENOENT) return "file not registered";
  }
  if (err == -ENOTSUP) return "operation not supported by this backend";
  return uv_strerror(err);
}

/* Throws a SystemError-shaped Error: message "CODE: description, syscall",
 * with .code, .errno (negative, as in Node) and .syscall. */
static napi_value aio_throw_errno(napi_env env, int err, const char* syscall) {
  char msg[256];
  const char* code = uv_err_name(err);
  napi_value js_code, js_msg, error, js_errno, js_syscall;
  if (err == -ENOTSUP) code = "ENOTSUP"; /* uv calls it ENOTSUP too; be sure */
  snprintf(msg, sizeof(msg), "%s: %s, %s", code, aio__describe(err, syscall),
           syscall);
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &js_msg) != napi_ok ||
      napi_create_error(env, js_code, js_msg, &error) != napi_ok ||
      napi_create_int32(env, err, &js_errno) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &js_syscall) !=
          napi_ok ||
      napi_set_named_property(env, error, "errno", js_errno) != napi_ok ||
      napi_set_named_property(env, error, "syscall", js_syscall) != napi_ok) {
    aio__throw_last_napi_error(env);
    return NULL;
  }
  napi_throw(env, error);
  return NULL;
}

static napi_value aio_throw_type(napi_env env, const char* what) {
  char msg[160];
  snprintf(msg, sizeof(msg), "The \"%s\" argument is of the wrong type", what);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static napi_value aio_throw_range(napi_env env, const char* what) {
  char msg[160];
  snprintf(msg, sizeof(msg), "The value of \"%s\" is out of range", what);
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

/* ---- argument unpacking -------------------------------------------------- */

#define AIO_MAX_ARGS 6

typedef struct {
  napi_env env;
  size_t argc;
  napi_value argv[AIO_MAX_ARGS];
  void* data;
} aio_args_t;

static int aio__args(napi_env env, napi_callback_info info, aio_args_t* a) {
  a->env = env;
  a->argc = AIO_MAX_ARGS;
  return napi_get_cb_info(env, info, &a->argc, a->argv, NULL, &a->data) ==
         napi_ok;
}

/* Reads argument i as an integer in [lo, hi]; throws and returns 0 if not. */
static int aio__int_arg(aio_args_t* a, size_t i, const char* name, int64_t lo,
                        int64_t hi, int64_t* out) {
  double d;
  if (i >= a->argc || napi_get_value_double(a->env, a->argv[i], &d) != napi_ok) {
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

static napi_value aio__int(napi_env env, int64_t v) {
  napi_value r = NULL;
  if (napi_create_int64(env, v, &r) != napi_ok) aio__throw_last_napi_error(env);
  return r;
}

static napi_value aio__undefined(napi_env env) {
  napi_value r = NULL;
  napi_get_undefined(env, &r);
  return r;
}

/* ---- shared pollers -----------------------------------------------------
 * A JS Poller owns one reference to an aio_shared_t. share() hands out the
 * id; fromShared() in any thread takes another reference while at least one
 * is alive. The kernel object is destroyed with the last reference. The
 * registry is process-wide because every Worker loads the same addon image.
 */
typedef struct aio_shared_s {
  aio_poller_t* poller;
  uint64_t id;
  unsigned refs;
  struct aio_shared_s* next;
} aio_shared_t;

static pthread_mutex_t aio__registry_lock = PTHREAD_MUTEX_INITIALIZER;
static aio_shared_t* aio__registry = NULL;
static uint64_t aio__next_id = 1;

typedef struct {
  aio_shared_t* shared; /* NULL once closed */
} aio_handle_t;

static void aio__release(aio_shared_t* s) {
  aio_shared_t** pp;
  int last = 0;
  pthread_mutex_lock(&aio__registry_lock);
  if (--s->refs == 0) {
    for (pp = &aio__registry; *pp != NULL; pp = &(*pp)->next) {
      if (*pp == s) {
        *pp = s->next;
        break;
      }
    }
    last = 1;
  }
  pthread_mutex_unlock(&aio__registry_lock);
  if (last) {
    aio_poller_destroy(s->poller);
    free(s);
  }
}

static void aio__handle_finalize(napi_env env, void* data, void* hint) {
  aio_handle_t* h = (aio_handle_t*)data;
  (void)env;
  (void)hint;
  if (h->shared != NULL) aio__release(h->shared);
  free(h);
}

static napi_value aio__wrap(napi_env env, aio_shared_t* s) {
  napi_value ext;
  aio_handle_t* h = (aio_handle_t*)malloc(sizeof(*h));
  if (h == NULL) {
    aio__release(s);
    return aio_throw_errno(env, -ENOMEM, "malloc");
  }
  h->shared = s;
  if (napi_create_external(env, h, aio__handle_finalize, NULL, &ext) !=
      napi_ok) {
    aio__release(s);
    free(h);
    aio__throw_last_napi_error(env);
    return NULL;
  }
  return ext;
}

/* Unwraps argument 0 as an open poller; throws ERR_POLLER_CLOSED if closed. */
static aio_poller_t* aio__poller_arg(aio_args_t* a, aio_handle_t** out) {
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
  if (out != NULL) *out = h;
  return h->shared->poller;
}

/* ---- Poller functions ------------------------------------------------------ */

/* A new registry entry owning `p`, with one reference; NULL if out of memory
 * (then `p` is destroyed). */
static aio_shared_t* aio__share_new(aio_poller_t* p) {
  aio_shared_t* s = (aio_shared_t*)calloc(1, sizeof(*s));
  if (s == NULL) {
    aio_poller_destroy(p);
    return NULL;
  }
  s->poller = p;
  s->refs = 1;
  pthread_mutex_lock(&aio__registry_lock);
  s->id = aio__next_id++;
  s->next = aio__registry;
  aio__registry = s;
  pthread_mutex_unlock(&aio__registry_lock);
  return s;
}

static napi_value aio_js_create(napi_env env, napi_callback_info info) {
  aio_poller_t* p = NULL;
  aio_shared_t* s;
  int err;
  (void)info;
  err = aio_poller_create(&p);
  if (err < 0) return aio_throw_errno(env, err, aio_backend_syscall(AIO_OP_CREATE));
  s = aio__share_new(p);
  if (s == NULL) return aio_throw_errno(env, -ENOMEM, "malloc");
  return aio__wrap(env, s);
}

static napi_value aio_js_from_shared(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t id;
  aio_shared_t* s;
  if (!aio__args(env, info, &a)) return NULL;
  if (!aio__int_arg(&a, 0, "handle.id", 1, (int64_t)1 << 53, &id)) return NULL;
  pthread_mutex_lock(&aio__registry_lock);
  for (s = aio__registry; s != NULL && s->id != (uint64_t)id; s = s->next) {
  }
  if (s != NULL) s->refs++;
  pthread_mutex_unlock(&aio__registry_lock);
  if (s == NULL) {
    napi_throw_error(env, "ERR_POLLER_CLOSED",
                     "The shared poller has been closed by every owner");
    return NULL;
  }
  return aio__wrap(env, s);
}

static napi_value aio_js_share_id(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_handle_t* h;
  if (!aio__args(env, info, &a) || aio__poller_arg(&a, &h) == NULL) return NULL;
  return aio__int(env, (int64_t)h->shared->id);
}

static napi_value aio_js_close(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_handle_t* h = NULL;
  if (!aio__args(env, info, &a)) return NULL;
  if (a.argc < 1 ||
      napi_get_value_external(env, a.argv[0], (void**)&h) != napi_ok ||
      h == NULL)
    return aio_throw_type(env, "poller");
  if (h->shared != NULL) {
    aio__release(h->shared);
    h->shared = NULL;
  }
  return aio__undefined(env);
}

static napi_value aio_js_fd(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_poller_t* p;
  if (!aio__args(env, info, &a) || (p = aio__poller_arg(&a, NULL)) == NULL)
    return NULL;
  return aio__int(env, aio_poller_fd(p));
}

/* add/modify(handle, fd, key, interestBits, mode) */
static napi_value aio__register(napi_env env, napi_callback_info info,
                                int modify) {
  aio_args_t a;
  aio_poller_t* p;
  int64_t fd, key, interest, mode;
  int err;
  if (!aio__args(env, info, &a) || (p = aio__poller_arg(&a, NULL)) == NULL)
    return NULL;
  if (!aio__int_arg(&a, 1, "fd", 0, INT_MAX, &fd) ||
      !aio__int_arg(&a, 2, "key", 0, (int64_t)AIO_NOTIFY_KEY - 1, &key) ||
      !aio__int_arg(&a, 3, "interest", 0,
                    AIO_READABLE | AIO_WRITABLE | AIO_PRIORITY, &interest) ||
      !aio__int_arg(&a, 4, "mode", AIO_MODE_ONESHOT, AIO_MODE_EDGE_ONESHOT,
                    &mode))
    return NULL;
  if (modify) {
    err = aio_poller_modify(p, (int)fd, (uint32_t)key, (unsigned)interest,
                            (aio_mode_t)mode);
  } else {
    err = aio_poller_add(p, (int)fd, (uint32_t)key, (unsigned)interest,
                         (aio_mode_t)mode);
  }
  if (err < 0)
    return aio_throw_errno(
        env, err, aio_backend_syscall(modify ? AIO_OP_MODIFY : AIO_OP_ADD));
  return aio__undefined(env);
}

static napi_value aio_js_add(napi_env env, napi_callback_info info) {
  return aio__register(env, info, 0);
}

static napi_value aio_js_modify(napi_env env, napi_callback_info info) {
  return aio__register(env, info, 1);
}

static napi_value aio_js_delete(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_poller_t* p;
  int64_t fd;
  int err;
  if (!aio__args(env, info, &a) || (p = aio__poller_arg(&a, NULL)) == NULL)
    return NULL;
  if (!aio__int_arg(&a, 1, "fd", 0, INT_MAX, &fd)) return NULL;
  err = aio_poller_delete(p, (int)fd);
  if (err < 0)
    return aio_throw_errno(env, err, aio_backend_syscall(AIO_OP_DELETE));
  return aio__undefined(env);
}

static int64_t aio_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits with EINTR retried against one deadline (polling's front does the
 * same): a signal never shortens or lengthens a timeout. */
static int aio_wait_deadline(aio_poller_t* p, aio_event_t* ev, int cap,
                             int64_t timeout_ns) {
  int64_t deadline = timeout_ns > 0 ? aio_now_ns() + timeout_ns : 0;
  for (;;) {
    int n = aio_poller_wait(p, ev, cap, timeout_ns);
    if (n != -EINTR) return n;
    if (timeout_ns > 0) {
      timeout_ns = deadline - aio_now_ns();
      if (timeout_ns <= 0) return 0;
    }
  }
}

/* Converts a JS timeout in ms (negative: none) to ns, -1 meaning none. */
static int64_t aio_timeout_ns(double ms) {
  if (!(ms >= 0)) return -1;
  if (ms > 9.0e12) return -1; /* ~285 years: treat as no limit */
  return (int64_t)(ms * 1e6 + 0.5);
}

/* wait(handle, Uint32Array batch, timeoutMs) -> count. The batch is pairs of
 * (key, flags), the very layout of aio_event_t, so the backend writes into
 * JS memory directly: one call and no allocation per batch. */
static napi_value aio_js_wait(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_poller_t* p;
  napi_typedarray_type type;
  size_t length;
  void* data;
  double ms;
  int n;
  if (!aio__args(env, info, &a) || (p = aio__poller_arg(&a, NULL)) == NULL)
    return NULL;
  if (a.argc < 3 ||
      napi_get_typedarray_info(env, a.argv[1], &type, &length, &data, NULL,
                               NULL) != napi_ok ||
      type != napi_uint32_array || length < 2)
    return aio_throw_type(env, "events");
  if (napi_get_value_double(env, a.argv[2], &ms) != napi_ok)
    return aio_throw_type(env, "timeout");
  if (ms != ms) return aio_throw_range(env, "timeout");
  n = aio_wait_deadline(p, (aio_event_t*)data,
                        (int)(length / 2 > INT_MAX ? INT_MAX : length / 2),
                        aio_timeout_ns(ms));
  if (n < 0) return aio_throw_errno(env, n, aio_backend_syscall(AIO_OP_WAIT));
  return aio__int(env, n);
}

static napi_value aio_js_notify(napi_env env, napi_callback_info info) {
  aio_args_t a;
  aio_poller_t* p;
  int err;
  if (!aio__args(env, info, &a) || (p = aio__poller_arg(&a, NULL)) == NULL)
    return NULL;
  err = aio_poller_notify(p);
  if (err < 0)
    return aio_throw_errno(env, err, aio_backend_syscall(AIO_OP_NOTIFY));
  return aio__undefined(env);
}

/* ---- fd helpers -------------------------------------------------------------
 * Non-throwing on would-block (null), so hot loops need no try/catch. Every fd
 * they create is non-blocking and close-on-exec.
 */

#if !defined(__linux__) || !defined(SOCK_CLOEXEC)
#define AIO_NEED_FCNTL_FLAGS 1
#endif

static inline int aio__cloexec_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) return -errno;
  fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
  return 0;
}

static napi_value aio__fd_pair(napi_env env, const int fds[2]) {
  napi_value arr, v;
  int i;
  AIO_NAPI(env, napi_create_array_with_length(env, 2, &arr));
  for (i = 0; i < 2; i++) {
    AIO_NAPI(env, napi_create_int32(env, fds[i], &v));
    AIO_NAPI(env, napi_set_element(env, arr, (uint32_t)i, v));
  }
  return arr;
}

static napi_value aio_js_pipe(napi_env env, napi_callback_info info) {
  int fds[2], err;
  (void)info;
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__) || defined(__DragonFly__)
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
    return aio_throw_errno(env, -errno, "pipe");
#else
  if (pipe(fds) < 0) return aio_throw_errno(env, -errno, "pipe");
  if ((err = aio__cloexec_nonblock(fds[0])) < 0 ||
      (err = aio__cloexec_nonblock(fds[1])) < 0) {
    close(fds[0]);
    close(fds[1]);
    return aio_throw_errno(env, err, "fcntl");
  }
#endif
  (void)err;
  return aio__fd_pair(env, fds);
}

static napi_value aio_js_socketpair(napi_env env, napi_callback_info info) {
  int fds[2], err;
  (void)info;
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) <
      0)
    return aio_throw_errno(env, -errno, "socketpair");
#else
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
    return aio_throw_errno(env, -errno, "socketpair");
  if ((err = aio__cloexec_nonblock(fds[0])) < 0 ||
      (err = aio__cloexec_nonblock(fds[1])) < 0) {
    close(fds[0]);
    close(fds[1]);
    return aio_throw_errno(env, err, "fcntl");
  }
#endif
  (void)err;
  return aio__fd_pair(env, fds);
}

/* read/write(fd, Uint8Array|Buffer|any TypedArray|DataView) -> n | null */
static napi_value aio__io(napi_env env, napi_callback_info info, int writing) {
  aio_args_t a;
  int64_t fd;
  void* data = NULL;
  size_t len = 0, elem = 1;
  napi_typedarray_type type;
  bool is_ta = false, is_dv = false;
  ssize_t n;
  napi_value nil;
  if (!aio__args(env, info, &a)) return NULL;
  if (!aio__int_arg(&a, 0, "fd", 0, INT_MAX, &fd)) return NULL;
  if (a.argc < 2) return aio_throw_type(env, "buffer");
  napi_is_typedarray(env, a.argv[1], &is_ta);
  if (is_ta) {
    AIO_NAPI(env, napi_get_typedarray_info(env, a.argv[1], &type, &len, &data,
                                           NULL, NULL));
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array:
        elem = 4; break;
      case napi_float64_array: case napi_bigint64_array:
      case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    len *= elem;
  } else {
    napi_is_dataview(env, a.argv[1], &is_dv);
    if (!is_dv) return aio_throw_type(env, "buffer");
    AIO_NAPI(env, napi_get_dataview_info(env, a.argv[1], &len, &data, NULL,
                                         NULL));
  }
  do {
    n = writing ? write((int)fd, data, len) : read((int)fd, data, len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      AIO_NAPI(env, napi_get_null(env, &nil));
      return nil;
    }
    return aio_throw_errno(env, -errno, writing ? "write" : "read");
  }
  return aio__int(env, (int64_t)n);
}

static napi_value aio_js_read(napi_env env, napi_callback_info info) {
  return aio__io(env, info, 0);
}

static napi_value aio_js_write(napi_env env, napi_callback_info info) {
  return aio__io(env, info, 1);
}

static napi_value aio_js_close_fd(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd;
  if (!aio__args(env, info, &a)) return NULL;
  if (!aio__int_arg(&a, 0, "fd", 0, INT_MAX, &fd)) return NULL;
  /* Not retried on EINTR: the fd is gone either way (POSIX leaves it
   * unspecified; Linux and the BSDs always release it). */
  if (close((int)fd) < 0 && errno != EINTR)
    return aio_throw_errno(env, -errno, "close");
  return aio__undefined(env);
}

static napi_value aio_js_set_nonblocking(napi_env env,
                                         napi_callback_info info) {
  aio_args_t a;
  int64_t fd;
  int fl;
  if (!aio__args(env, info, &a)) return NULL;
  if (!aio__int_arg(&a, 0, "fd", 0, INT_MAX, &fd)) return NULL;
  fl = fcntl((int)fd, F_GETFL);
  if (fl < 0) return aio_throw_errno(env, -errno, "fcntl");
  if (!(fl & O_NONBLOCK) && fcntl((int)fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return aio_throw_errno(env, -errno, "fcntl");
  return aio__undefined(env);
}

/* fdReadiness(fd) -> AIO_* bits the fd is ready for right now (poll, 0 ms).
 * Lets an edge-tracked handle confirm a cached readiness cheaply. */
static napi_value aio_js_fd_readiness(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd;
  struct pollfd pfd;
  int n;
  unsigned bits = 0;
  if (!aio__args(env, info, &a)) return NULL;
  if (!aio__int_arg(&a, 0, "fd", 0, INT_MAX, &fd)) return NULL;
  pfd.fd = (int)fd;
  pfd.events = POLLIN | POLLOUT | POLLPRI;
  pfd.revents = 0;
  do {
    n = poll(&pfd, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return aio_throw_errno(env, -errno, "poll");
  if (pfd.revents & POLLNVAL) return aio_throw_errno(env, -EBADF, "poll");
  if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) bits |= AIO_READABLE;
  if (pfd.revents & (POLLOUT | POLLHUP | POLLERR)) bits |= AIO_WRITABLE;
  if (pfd.revents & POLLPRI) bits |= AIO_PRIORITY;
  if (pfd.revents & POLLHUP) bits |= AIO_HANGUP;
  if (pfd.revents & POLLERR) bits |= AIO_ERROR;
  return aio__int(env, bits);
}

/* fdStat(fd) -> [dev, ino, stream]: the open file's identity (to tell a
 * reused fd number from the file it used to name) and whether it is a FIFO or
 * a SOCK_STREAM socket, where a short read means "drained" and a short write
 * "full" (which lets an edge-tracked handle skip reads that would EAGAIN). */
static napi_value aio_js_fd_stat(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd;
  struct stat st;
  int type = 0;
  socklen_t len = sizeof(type);
  bool stream = false;
  napi_value arr, v;
  if (!aio__args(env, info, &a)) return NULL;
  if (!aio__int_arg(&a, 0, "fd", 0, INT_MAX, &fd)) return NULL;
  if (fstat((int)fd, &st) < 0) return aio_throw_errno(env, -errno, "fstat");
  if (S_ISFIFO(st.st_mode)) {
    stream = true;
  } else if (S_ISSOCK(st.st_mode)) {
    if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
      return aio_throw_errno(env, -errno, "getsockopt");
    stream = type == SOCK_STREAM;
  }
  AIO_NAPI(env, napi_create_array_with_length(env, 3, &arr));
  AIO_NAPI(env, napi_create_double(env, (double)st.st_dev, &v));
  AIO_NAPI(env, napi_set_element(env, arr, 0, v));
  AIO_NAPI(env, napi_create_double(env, (double)st.st_ino, &v));
  AIO_NAPI(env, napi_set_element(env, arr, 1, v));
  AIO_NAPI(env, napi_get_boolean(env, stream, &v));
  AIO_NAPI(env, napi_set_element(env, arr, 2, v));
  return arr;
}

/* ---- BEGIN streams: fd kinds, half-close, typed socket pairs -------------
 * What the streams need to know about an fd and do to it: which kind of file
 * it is (bytes or messages, a terminal, a file readiness does not apply to),
 * shutdown(2) for half-close, and socket pairs of every local type. */

/* fdKind(fd) -> "file" | "directory" | "block" | "char" | "tty" | "fifo" |
 * "socket-stream" | "socket-dgram" | "socket-seqpacket" | "socket-raw" |
 * "socket-other" | "other" */
static napi_value aio_js_fd_kind(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd;
  struct stat st;
  int type = 0;
  socklen_t len = sizeof(type);
  const char* kind = "other";
  napi_value v;
  if (!aio__args(env, info, &a)) return NULL;
  if (!aio__int_arg(&a, 0, "fd", 0, INT_MAX, &fd)) return NULL;
  if (fstat((int)fd, &st) < 0) return aio_throw_errno(env, -errno, "fstat");
  if (S_ISREG(st.st_mode)) {
    kind = "file";
  } else if (S_ISDIR(st.st_mode)) {
    kind = "directory";
  } else if (S_ISBLK(st.st_mode)) {
    kind = "block";
  } else if (S_ISFIFO(st.st_mode)) {
    kind = "fifo";
  } else if (S_ISCHR(st.st_mode)) {
    /* isatty() fails with ENOTTY (or EINVAL on some systems) for other
     * character devices; any failure just means "not a terminal". */
    kind = isatty((int)fd) ? "tty" : "char";
  } else if (S_ISSOCK(st.st_mode)) {
    if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
      return aio_throw_errno(env, -errno, "getsockopt");
    kind = type == SOCK_STREAM      ? "socket-stream"
           : type == SOCK_DGRAM     ? "socket-dgram"
           : type == SOCK_SEQPACKET ? "socket-seqpacket"
           : type == SOCK_RAW       ? "socket-raw"
                                    : "socket-other";
  }
  AIO_NAPI(env, napi_create_string_utf8(env, kind, NAPI_AUTO_LENGTH, &v));
  return v;
}

/* shutdown(fd, how): 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR */
static napi_value aio_js_shutdown(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t fd, how;
  static const int hows[3] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
  if (!aio__args(env, info, &a)) return NULL;
  if (!aio__int_arg(&a, 0, "fd", 0, INT_MAX, &fd) ||
      !aio__int_arg(&a, 1, "how", 0, 2, &how))
    return NULL;
  if (shutdown((int)fd, hows[how]) < 0)
    return aio_throw_errno(env, -errno, "shutdown");
  return aio__undefined(env);
}

/* socketpairOf(type) -> [fd, fd]: AF_UNIX, 0 = SOCK_STREAM, 1 = SOCK_DGRAM,
 * 2 = SOCK_SEQPACKET; non-blocking and close-on-exec like the other
 * helpers. */
static napi_value aio_js_socketpair_of(napi_env env, napi_callback_info info) {
  aio_args_t a;
  int64_t t;
  int fds[2], err;
  static const int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  if (!aio__args(env, info, &a)) return NULL;
  if (!aio__int_arg(&a, 0, "type", 0, 2, &t)) return NULL;
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
  if (socketpair(AF_UNIX, types[t] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) <
      0)
    return aio_throw_errno(env, -errno, "socketpair");
#else
  if (socketpair(AF_UNIX, types[t], 0, fds) < 0)
    return aio_throw_errno(env, -errno, "socketpair");
  if ((err = aio__cloexec_nonblock(fds[0])) < 0 ||
      (err = aio__cloexec_nonblock(fds[1])) < 0) {
    close(fds[0]);
    close(fds[1]);
    return aio_throw_errno(env, err, "fcntl");
  }
#endif
  (void)err;
  return aio__fd_pair(env, fds);
}

/* ---- END streams ------------------------------------------------------- */

/* ---- module ------------------------------------------------------------------ */

#include "reactor.h"

#define AIO_FN(name, fn) \
  { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }

static napi_value aio_addon_init(napi_env env, napi_value exports) {
  napi_value name, caps;
  napi_property_descriptor props[] = {
      AIO_FN("create", aio_js_create),
      AIO_FN("fromShared", aio_js_from_shared),
      AIO_FN("shareId", aio_js_share_id),
      AIO_FN("close", aio_js_close),
      AIO_FN("fd", aio_js_fd),
      AIO_FN("add", aio_js_add),
      AIO_FN("modify", aio_js_modify),
      AIO_FN("delete", aio_js_delete),
      AIO_FN("wait", aio_js_wait),
      AIO_FN("notify", aio_js_notify),
      AIO_FN("pipe", aio_js_pipe),
      AIO_FN("socketpair", aio_js_socketpair),
      AIO_FN("read", aio_js_read),
      AIO_FN("write", aio_js_write),
      AIO_FN("closeFd", aio_js_close_fd),
      AIO_FN("setNonblocking", aio_js_set_nonblocking),
      AIO_FN("fdReadiness", aio_js_fd_readiness),
      AIO_FN("fdStat", aio_js_fd_stat),
      /* streams (see the block above) */
      AIO_FN("fdKind", aio_js_fd_kind),
      AIO_FN("shutdown", aio_js_shutdown),
      AIO_FN("socketpairOf", aio_js_socketpair_of),
      AIO_REACTOR_PROPERTIES};
  AIO_NAPI(env, napi_create_string_utf8(env, aio_backend_name(),
                                        NAPI_AUTO_LENGTH, &name));
  AIO_NAPI(env, napi_create_uint32(env, aio_backend_caps(), &caps));
  AIO_NAPI(env, napi_set_named_property(env, exports, "name", name));
  AIO_NAPI(env, napi_set_named_property(env, exports, "caps", caps));
  AIO_NAPI(env, napi_define_properties(
                    env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE_INIT() { return aio_addon_init(env, exports); }

#endif /* ASYNC_IO_ADDON_H_ */
