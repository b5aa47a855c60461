/* Node-shaped errors for the glue: SystemError-like errors from a negative
 * errno and the syscall that returned it, and Node's ERR_* argument errors. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <node_api.h>

#include "glue.h"

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
