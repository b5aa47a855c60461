/* The N-API glue of every backend addon, and its only module init: argument
 * unpacking, Node-shaped errors, the Poller functions over the front, the
 * shared-poller registry and the fd functions. Nothing clever: what a call
 * means is decided by the front and the mechanism. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "constants.h"
#include "glue.h"

/* ---- errors ------------------------------------------------------------ */

void aio_throw_last_napi_error(napi_env env) {
  bool pending = false;
  const napi_extended_error_info* info = NULL;
  napi_is_exception_pending(env, &pending);
  if (pending)
    return;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ERR_ASYNC_IO_NAPI",
                   info != NULL && info->error_message != NULL
                       ? info->error_message
                       : "N-API call failed");
}

/* Errno names and texts without libuv: Bun panics on uv_err_name and
 * uv_strerror, and Deno does not export uv_err_name at all (the process dies
 * with "symbol lookup error" on the first throw). The names are Node's
 * (EAGAIN, not EWOULDBLOCK; ENOTSUP, not EOPNOTSUPP, where they are equal). */
#define AIO_ERRNO(name) {name, #name},
static const struct {
  int code;
  const char* name;
} errno_names[] = {
    /* clang-format off */
    AIO_ERRNO(EPERM) AIO_ERRNO(ENOENT) AIO_ERRNO(ESRCH) AIO_ERRNO(EINTR)
    AIO_ERRNO(EIO) AIO_ERRNO(ENXIO) AIO_ERRNO(E2BIG) AIO_ERRNO(EBADF)
    AIO_ERRNO(ECHILD) AIO_ERRNO(EAGAIN) AIO_ERRNO(ENOMEM) AIO_ERRNO(EACCES)
    AIO_ERRNO(EFAULT) AIO_ERRNO(EBUSY) AIO_ERRNO(EEXIST) AIO_ERRNO(EXDEV)
    AIO_ERRNO(ENODEV) AIO_ERRNO(ENOTDIR) AIO_ERRNO(EISDIR) AIO_ERRNO(EINVAL)
    AIO_ERRNO(ENFILE) AIO_ERRNO(EMFILE) AIO_ERRNO(ENOTTY) AIO_ERRNO(ETXTBSY)
    AIO_ERRNO(EFBIG) AIO_ERRNO(ENOSPC) AIO_ERRNO(ESPIPE) AIO_ERRNO(EROFS)
    AIO_ERRNO(EMLINK) AIO_ERRNO(EPIPE) AIO_ERRNO(ERANGE) AIO_ERRNO(EDEADLK)
    AIO_ERRNO(ENAMETOOLONG) AIO_ERRNO(ENOSYS) AIO_ERRNO(ENOTEMPTY)
    AIO_ERRNO(ELOOP) AIO_ERRNO(ENOTSUP) AIO_ERRNO(EOPNOTSUPP)
    AIO_ERRNO(EWOULDBLOCK) AIO_ERRNO(ENOTSOCK) AIO_ERRNO(EDESTADDRREQ)
    AIO_ERRNO(EMSGSIZE) AIO_ERRNO(EPROTOTYPE) AIO_ERRNO(ENOPROTOOPT)
    AIO_ERRNO(EPROTONOSUPPORT) AIO_ERRNO(EAFNOSUPPORT) AIO_ERRNO(EADDRINUSE)
    AIO_ERRNO(EADDRNOTAVAIL) AIO_ERRNO(ENETDOWN) AIO_ERRNO(ENETUNREACH)
    AIO_ERRNO(ECONNABORTED) AIO_ERRNO(ECONNRESET) AIO_ERRNO(ENOBUFS)
    AIO_ERRNO(EISCONN) AIO_ERRNO(ENOTCONN) AIO_ERRNO(ETIMEDOUT)
    AIO_ERRNO(ECONNREFUSED) AIO_ERRNO(EHOSTUNREACH) AIO_ERRNO(EALREADY)
    AIO_ERRNO(EINPROGRESS) AIO_ERRNO(ECANCELED) AIO_ERRNO(EOVERFLOW)
    AIO_ERRNO(EPROTO)
    /* clang-format on */
};
#undef AIO_ERRNO

/* The first name wins where two are equal (EAGAIN before EWOULDBLOCK). */
static const char* errno_name(int err) {
  size_t i;
  for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++) {
    if (errno_names[i].code == -err)
      return errno_names[i].name;
  }
  return "UNKNOWN";
}

/* The C library's text, first letter lowered as Node prints it
 * ("bad file descriptor"), from either strerror_r flavour. */
static const char* errno_text(int err, char* buf, size_t len) {
  const char* text = buf;
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  text = strerror_r(-err, buf, len);
#else
  if (strerror_r(-err, buf, len) != 0)
    snprintf(buf, len, "unknown error %d", err);
#endif
  if (text != buf) {
    snprintf(buf, len, "%s", text);
    text = buf;
  }
  if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
    buf[0] = (char)(buf[0] - 'A' + 'a');
  return text;
}

static const char* describe(int err, const char* syscall, char* buf,
                            size_t len) {
  /* The registration errors read better in the poller's own words. */
  if (syscall != NULL && strcmp(syscall, "delete") != 0) {
    if (err == -EEXIST)
      return "file already registered";
    if (err == -ENOENT)
      return "file not registered";
  }
  if (err == -ENOTSUP)
    return "operation not supported by this backend";
  return errno_text(err, buf, len);
}

napi_value aio_throw_errno(napi_env env, int err, const char* syscall) {
  char msg[256], text[128];
  const char* code = errno_name(err);
  napi_value js_code, js_msg, error, js_errno, js_syscall;
  snprintf(msg, sizeof(msg), "%s: %s, %s", code,
           describe(err, syscall, text, sizeof(text)), syscall);
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code) !=
          napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &js_msg) != napi_ok ||
      napi_create_error(env, js_code, js_msg, &error) != napi_ok ||
      napi_create_int32(env, err, &js_errno) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &js_syscall) !=
          napi_ok ||
      napi_set_named_property(env, error, "errno", js_errno) != napi_ok ||
      napi_set_named_property(env, error, "syscall", js_syscall) != napi_ok) {
    aio_throw_last_napi_error(env);
    return NULL;
  }
  napi_throw(env, error);
  return NULL;
}

napi_value aio_throw_type(napi_env env, const char* what) {
  char msg[160];
  snprintf(msg, sizeof(msg), "The \"%s\" argument is of the wrong type", what);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

napi_value aio_throw_range(napi_env env, const char* what) {
  char msg[160];
  snprintf(msg, sizeof(msg), "The value of \"%s\" is out of range", what);
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

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

/* ---- shared pollers -----------------------------------------------------
 * A JS Poller owns one reference to an aio_shared_t. share() hands out the
 * id; fromShared() in any thread takes another reference while at least one
 * is alive. The kernel object is destroyed with the last reference. The
 * registry is process-wide because every Worker loads the same addon image.
 */
struct aio_shared_s {
  aio_front_t* front;
  uint64_t id;
  unsigned refs;
  struct aio_shared_s* next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static aio_shared_t* registry = NULL;
static uint64_t next_id = 1;

typedef struct {
  aio_shared_t* shared; /* NULL once closed */
} handle_t;

aio_shared_t* aio_shared_new(aio_front_t* f) {
  aio_shared_t* s = (aio_shared_t*)calloc(1, sizeof(*s));
  if (s == NULL) {
    aio_front_destroy(f);
    return NULL;
  }
  s->front = f;
  s->refs = 1;
  pthread_mutex_lock(&registry_lock);
  s->id = next_id++;
  s->next = registry;
  registry = s;
  pthread_mutex_unlock(&registry_lock);
  return s;
}

aio_front_t* aio_shared_front(const aio_shared_t* s) {
  return s->front;
}

void aio_shared_retain(aio_shared_t* s) {
  pthread_mutex_lock(&registry_lock);
  s->refs++;
  pthread_mutex_unlock(&registry_lock);
}

void aio_shared_release(aio_shared_t* s) {
  aio_shared_t** pp;
  int last = 0;
  pthread_mutex_lock(&registry_lock);
  if (--s->refs == 0) {
    for (pp = &registry; *pp != NULL; pp = &(*pp)->next) {
      if (*pp == s) {
        *pp = s->next;
        break;
      }
    }
    last = 1;
  }
  pthread_mutex_unlock(&registry_lock);
  if (last) {
    aio_front_destroy(s->front);
    free(s);
  }
}

/* ---- externals finalized by env teardown at the latest ------------------- */

/* One per live external of this env, on a list the instance data owns. */
typedef struct tracked_s {
  struct tracked_s* prev;
  struct tracked_s* next;
  void* data;
  napi_finalize fin;
} tracked_t;

static void untrack(tracked_t* t) {
  t->prev->next = t->next;
  t->next->prev = t->prev;
}

static void tracked_finalize(napi_env env, void* data, void* hint) {
  tracked_t* t = (tracked_t*)hint;
  untrack(t);
  t->fin(env, data, NULL);
  free(t);
}

/* The instance data's finalizer, the last thing an env runs (after its
 * cleanup hooks and whatever external finalizers the runtime does run). */
static void env_gone(napi_env env, void* data, void* hint) {
  tracked_t* head = (tracked_t*)data;
  (void)env;
  (void)hint;
  while (head->next != head) {
    tracked_t* t = head->next;
    untrack(t);
    t->fin(NULL, t->data, NULL);
    free(t);
  }
  free(head);
}

napi_status aio_create_external(napi_env env, void* data, napi_finalize fin,
                                napi_value* result) {
  tracked_t* head = NULL;
  tracked_t* t;
  napi_status status = napi_get_instance_data(env, (void**)&head);
  if (status != napi_ok)
    return status;
  if (head == NULL)
    return napi_generic_failure;
  t = (tracked_t*)malloc(sizeof(*t));
  if (t == NULL)
    return napi_generic_failure;
  t->data = data;
  t->fin = fin;
  status = napi_create_external(env, data, tracked_finalize, t, result);
  if (status != napi_ok) {
    free(t);
    return status;
  }
  t->prev = head;
  t->next = head->next;
  head->next->prev = t;
  head->next = t;
  return napi_ok;
}

static void handle_finalize(napi_env env, void* data, void* hint) {
  handle_t* h = (handle_t*)data;
  (void)env;
  (void)hint;
  if (h->shared != NULL)
    aio_shared_release(h->shared);
  free(h);
}

napi_value aio_shared_wrap(napi_env env, aio_shared_t* s) {
  napi_value ext;
  handle_t* h = (handle_t*)malloc(sizeof(*h));
  if (h == NULL) {
    aio_shared_release(s);
    return aio_throw_errno(env, -ENOMEM, "malloc");
  }
  h->shared = s;
  if (aio_create_external(env, h, handle_finalize, &ext) != napi_ok) {
    aio_shared_release(s);
    free(h);
    aio_throw_last_napi_error(env);
    return NULL;
  }
  return ext;
}

/* Unwraps argument 0 as an open poller; throws ERR_POLLER_CLOSED if closed. */
static aio_front_t* poller_arg(aio_args_t* a, handle_t** out) {
  handle_t* h = NULL;
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
  return h->shared->front;
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
  pthread_mutex_lock(&registry_lock);
  for (s = registry; s != NULL && s->id != (uint64_t)id; s = s->next) {
  }
  if (s != NULL)
    s->refs++;
  pthread_mutex_unlock(&registry_lock);
  if (s == NULL) {
    napi_throw_error(env, "ERR_POLLER_CLOSED",
                     "The shared poller has been closed by every owner");
    return NULL;
  }
  return aio_shared_wrap(env, s);
}

static napi_value js_share_id(napi_env env, napi_callback_info info) {
  aio_args_t a;
  handle_t* h;
  if (!aio_args(env, info, &a) || poller_arg(&a, &h) == NULL)
    return NULL;
  return aio_int(env, (int64_t)h->shared->id);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  aio_args_t a;
  handle_t* h = NULL;
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
      !aio_int_arg(&a, 4, "mode", AIO_MODE_ONESHOT, AIO_MODE_EDGE_ONESHOT,
                   &mode))
    return NULL;
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
  napi_typedarray_type type;
  size_t nfds, nev;
  void *fds, *events;
  int64_t n;
  int err;
  if (!aio_args(env, info, &a))
    return NULL;
  if (a.argc < 3 ||
      napi_get_typedarray_info(env, a.argv[0], &type, &nfds, &fds, NULL,
                               NULL) != napi_ok ||
      type != napi_int32_array)
    return aio_throw_type(env, "fds");
  if (napi_get_typedarray_info(env, a.argv[1], &type, &nev, &events, NULL,
                               NULL) != napi_ok ||
      type != napi_uint32_array)
    return aio_throw_type(env, "batch");
  if (!aio_int_arg(&a, 2, "n", 0, (int64_t)(nfds < nev / 2 ? nfds : nev / 2),
                   &n))
    return NULL;
  err = aio_fd_recheck((const int32_t*)fds, (aio_event_t*)events, (int)n);
  if (err < 0)
    return aio_throw_errno(env, err, "poll");
  return aio_undefined(env);
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
  tracked_t* head = (tracked_t*)malloc(sizeof(*head));
  if (head == NULL) {
    aio_throw_errno(env, -ENOMEM, "malloc");
    return NULL;
  }
  head->prev = head->next = head;
  if (napi_set_instance_data(env, head, env_gone, NULL) != napi_ok) {
    free(head);
    aio_throw_last_napi_error(env);
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
      AIO_FN("pipe", aio_js_pipe),
      AIO_FN("socketpair", aio_js_socketpair),
      AIO_FN("read", js_read),
      AIO_FN("write", js_write),
      AIO_FN("closeFd", js_close_fd),
      AIO_FN("setNonblocking", js_set_nonblocking),
      AIO_FN("fdReadiness", js_fd_readiness),
      AIO_FN("fdStat", js_fd_stat),
      AIO_FN("recheck", js_recheck),
      AIO_FN("fdKind", js_fd_kind),
      AIO_FN("shutdown", js_shutdown),
      AIO_FN("socketpairOf", js_socketpair_of),
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
