/* Built where event ports do not exist: backend-core's stub.c fails every
 * call with ENOSYS under this name. */
#include "async_io/backend.h"

const char aio_stub_name[] = "event-ports";
