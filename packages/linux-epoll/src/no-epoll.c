/* Built where epoll does not exist: every call fails with ENOSYS. */
#define AIO_STUB_NAME "epoll"
#include "async_io/stub.h"
