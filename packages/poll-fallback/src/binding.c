#include "async_io/addon.h"
