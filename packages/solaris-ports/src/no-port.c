/* Built where event ports do not exist: every call fails with ENOSYS. */
#define AIO_STUB_NAME "event-ports"
#include "async_io/stub.h"
