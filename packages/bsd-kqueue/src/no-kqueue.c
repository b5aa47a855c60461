/* Built where kqueue does not exist: every call fails with ENOSYS. */
#define AIO_STUB_NAME "kqueue"
#include "async_io/stub.h"
