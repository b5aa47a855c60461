/* The growable fd-indexed table the backends that keep their own
 * registration table share (kqueue, event ports, poll). */
#ifndef ASYNC_IO_FDTABLE_H_
#define ASYNC_IO_FDTABLE_H_

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Makes index `fd` valid in *table (*len entries of `elem` bytes): doubles
 * from 64 until it fits and zeroes the new entries. O(1) amortised. Returns
 * 0 or -ENOMEM (the table is then unchanged). */
static inline int aio_fdtable_grow(void** table, int* len, size_t elem,
                                   int fd) {
  size_t n;
  char* grown;
  if (fd < *len) return 0;
  n = *len > 0 ? (size_t)*len : 64;
  while (n <= (size_t)fd) n *= 2;
  if (n > INT_MAX) n = (size_t)INT_MAX;
  if ((size_t)fd >= n) return -ENOMEM;
  grown = (char*)realloc(*table, n * elem);
  if (grown == NULL) return -ENOMEM;
  memset(grown + (size_t)*len * elem, 0, (n - (size_t)*len) * elem);
  *table = grown;
  *len = (int)n;
  return 0;
}

#endif /* ASYNC_IO_FDTABLE_H_ */
