/* The addon's `constants` export: every number that crosses the seam between
 * TypeScript and C, taken from the C definitions so that JavaScript keeps no
 * copy (lib/native.ts freezes what it reads). Plain objects of uint32 values:
 *
 *   { flags:   { readable, writable, priority, hangup, error, gone },
 *     caps:    { level, edge, priority, queued, levelRearmed },
 *     modes:   { oneshot, level, edge, 'edge-oneshot' },
 *     drivers: { nested, thread, external, auto },
 *     reactorFlags: { napiOnly },
 *     registrationFlags: { owned },
 *     batch: { fresh, captured, failed, driver },
 *     socketTypes:  { stream, dgram, seqpacket },
 *     shutdown:     { read, write, both },
 *     notifyKey }
 */
#include "constants.h"
#include "internal.h"

#include "async_io/backend.h"

typedef struct {
  const char* name;
  uint32_t value;
} aio_constant_t;

#define AIO_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static napi_status group(napi_env env, napi_value into, const char* name,
                         const aio_constant_t* list, size_t n) {
  napi_value obj, v;
  napi_status s = napi_create_object(env, &obj);
  for (size_t i = 0; s == napi_ok && i < n; i++) {
    s = napi_create_uint32(env, list[i].value, &v);
    if (s == napi_ok)
      s = napi_set_named_property(env, obj, list[i].name, v);
  }
  if (s == napi_ok)
    s = napi_set_named_property(env, into, name, obj);
  return s;
}

napi_status aio_define_constants(napi_env env, napi_value exports) {
  static const aio_constant_t flags[] = {
      {"readable", AIO_READABLE}, {"writable", AIO_WRITABLE},
      {"priority", AIO_PRIORITY}, {"hangup", AIO_HANGUP},
      {"error", AIO_ERROR},       {"gone", AIO_GONE},
  };
  static const aio_constant_t caps[] = {
      {"level", AIO_CAP_LEVEL},
      {"edge", AIO_CAP_EDGE},
      {"priority", AIO_CAP_PRIORITY},
      {"queued", AIO_CAP_QUEUED},
      {"levelRearmed", AIO_CAP_LEVEL_REARMED},
  };
  static const aio_constant_t modes[] = {
      {"oneshot", AIO_MODE_ONESHOT},
      {"level", AIO_MODE_LEVEL},
      {"edge", AIO_MODE_EDGE},
      {"edge-oneshot", AIO_MODE_EDGE_ONESHOT},
  };
  static const aio_constant_t drivers[] = {
      {"nested", AIO_DRIVER_NESTED},
      {"thread", AIO_DRIVER_THREAD},
      {"external", AIO_DRIVER_EXTERNAL},
      {"auto", AIO_DRIVER_AUTO},
  };
  static const aio_constant_t registration_flags[] = {
      {"owned", AIO_REG_OWNED},
  };
  static const aio_constant_t reactor_flags[] = {
      {"napiOnly", AIO_REACTOR_NAPI_ONLY},
  };
  static const aio_constant_t batch[] = {
      {"fresh", AIO_BATCH_FRESH},
      {"captured", AIO_BATCH_CAPTURED},
      {"failed", AIO_BATCH_FAILED},
      {"driver", AIO_BATCH_DRIVER},
  };
  static const aio_constant_t socket_types[] = {
      {"stream", AIO_SOCK_STREAM},
      {"dgram", AIO_SOCK_DGRAM},
      {"seqpacket", AIO_SOCK_SEQPACKET},
  };
  static const aio_constant_t shutdown[] = {
      {"read", AIO_SHUT_RD},
      {"write", AIO_SHUT_WR},
      {"both", AIO_SHUT_RDWR},
  };
  napi_value obj, key;
  napi_status s = napi_create_object(env, &obj);
  if (s == napi_ok)
    s = group(env, obj, "flags", flags, AIO_COUNT(flags));
  if (s == napi_ok)
    s = group(env, obj, "caps", caps, AIO_COUNT(caps));
  if (s == napi_ok)
    s = group(env, obj, "modes", modes, AIO_COUNT(modes));
  if (s == napi_ok)
    s = group(env, obj, "drivers", drivers, AIO_COUNT(drivers));
  if (s == napi_ok)
    s = group(env, obj, "reactorFlags", reactor_flags,
              AIO_COUNT(reactor_flags));
  if (s == napi_ok)
    s = group(env, obj, "registrationFlags", registration_flags,
              AIO_COUNT(registration_flags));
  if (s == napi_ok)
    s = group(env, obj, "batch", batch, AIO_COUNT(batch));
  if (s == napi_ok)
    s = group(env, obj, "socketTypes", socket_types, AIO_COUNT(socket_types));
  if (s == napi_ok)
    s = group(env, obj, "shutdown", shutdown, AIO_COUNT(shutdown));
  if (s == napi_ok)
    s = napi_create_uint32(env, AIO_NOTIFY_KEY, &key);
  if (s == napi_ok)
    s = napi_set_named_property(env, obj, "notifyKey", key);
  if (s == napi_ok)
    s = napi_set_named_property(env, exports, "constants", obj);
  return s;
}
