/* The epoll backend (Linux, Android). */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "async_io/backend.h"

struct aio_poller_s {
  int epfd;
  int evfd;              /* eventfd behind notify() */
  atomic_int has_pwait2; /* 1 until epoll_pwait2 proves missing */
};

const char* aio_backend_name(void) {
  return "epoll";
}

unsigned aio_backend_caps(void) {
  return AIO_CAP_LEVEL | AIO_CAP_EDGE | AIO_CAP_PRIORITY |
         AIO_CAP_LEVEL_REARMED;
}

const char* aio_backend_syscall(aio_op_t op) {
  switch (op) {
    case AIO_OP_CREATE:
      return "epoll_create1";
    case AIO_OP_WAIT:
      return "epoll_wait";
    case AIO_OP_NOTIFY:
      return "write";
    default:
      return "epoll_ctl";
  }
}

int aio_poller_create(aio_poller_t** out) {
  struct epoll_event ev;
  int err;
  aio_poller_t* p = (aio_poller_t*)calloc(1, sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
  p->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (p->epfd < 0) {
    err = -errno;
    free(p);
    return err;
  }
  p->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (p->evfd < 0) {
    err = -errno;
    close(p->epfd);
    free(p);
    return err;
  }
  /* Level-triggered: a wake stays visible until a wait drains it. */
  ev.events = EPOLLIN;
  ev.data.u64 = AIO_NOTIFY_KEY;
  if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->evfd, &ev) < 0) {
    err = -errno;
    close(p->evfd);
    close(p->epfd);
    free(p);
    return err;
  }
  atomic_init(&p->has_pwait2, 1);
  *out = p;
  return 0;
}

void aio_poller_destroy(aio_poller_t* p) {
  close(p->evfd);
  close(p->epfd);
  free(p);
}

int aio_poller_fd(const aio_poller_t* p) {
  return p->epfd;
}

/* The interest rides in the upper half of data.u64 so that wait can report
 * only what was asked for without a registration table. */
static int ctl(aio_poller_t* p, int op, int fd, uint32_t key, unsigned interest,
               aio_mode_t mode) {
  struct epoll_event ev;
  ev.events = 0;
  if (interest & AIO_READABLE)
    ev.events |= EPOLLIN | EPOLLRDHUP;
  if (interest & AIO_WRITABLE)
    ev.events |= EPOLLOUT;
  if (interest & AIO_PRIORITY)
    ev.events |= EPOLLPRI;
  /* Level too (AIO_CAP_LEVEL_REARMED): the front re-arms it per event,
   * unless it asks for the kernel's own level (AIO_MODE_LEVEL_KEPT). */
  if (mode != AIO_MODE_EDGE && mode != AIO_MODE_LEVEL_KEPT)
    ev.events |= EPOLLONESHOT;
  if (mode == AIO_MODE_EDGE || mode == AIO_MODE_EDGE_ONESHOT)
    ev.events |= EPOLLET;
  ev.data.u64 = (uint64_t)key | ((uint64_t)interest << 32);
  return epoll_ctl(p->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int aio_poller_add(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                   aio_mode_t mode) {
  return ctl(p, EPOLL_CTL_ADD, fd, key, interest, mode);
}

int aio_poller_modify(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                      aio_mode_t mode) {
  return ctl(p, EPOLL_CTL_MOD, fd, key, interest, mode);
}

int aio_poller_delete(aio_poller_t* p, int fd) {
  /* A non-NULL event keeps pre-2.6.9 kernels happy; it is ignored. */
  struct epoll_event ev = {0, {0}};
  return epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &ev) < 0 ? -errno : 0;
}

/* epoll_pwait2 (Linux 5.11) takes a timespec, so timeouts below a millisecond
 * hold; called through syscall() so that a prebuild made against an older
 * glibc still finds it. Falls back to epoll_wait (ms, rounded up) on ENOSYS or
 * when a seccomp filter refuses it. */
static int epoll_wait_ns(aio_poller_t* p, struct epoll_event* ev, int n,
                         int64_t timeout_ns) {
  int r, ms;
#ifdef SYS_epoll_pwait2
  if (timeout_ns > 0 &&
      atomic_load_explicit(&p->has_pwait2, memory_order_relaxed)) {
    struct timespec ts;
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    r = (int)syscall(SYS_epoll_pwait2, p->epfd, ev, n, &ts, NULL, 0);
    if (r >= 0 || (errno != ENOSYS && errno != EPERM))
      return r;
    atomic_store(&p->has_pwait2, 0);
  }
#endif
  if (timeout_ns < 0) {
    ms = -1;
  } else {
    int64_t m = (timeout_ns + 999999) / 1000000;
    ms = m > INT32_MAX ? INT32_MAX : (int)m;
  }
  return epoll_wait(p->epfd, ev, n, ms);
}

static uint32_t to_flags(uint32_t e, unsigned interest) {
  uint32_t f = 0;
  if ((interest & AIO_READABLE) &&
      (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
    f |= AIO_READABLE;
  if ((interest & AIO_WRITABLE) && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
    f |= AIO_WRITABLE;
  if ((interest & AIO_PRIORITY) && (e & EPOLLPRI))
    f |= AIO_PRIORITY;
  if (e & (EPOLLHUP | EPOLLRDHUP))
    f |= AIO_HANGUP;
  if (e & EPOLLERR)
    f |= AIO_ERROR;
  return f;
}

size_t aio_backend_event_size(void) {
  return sizeof(struct epoll_event);
}

int aio_poller_wait(aio_poller_t* p, aio_event_t* out, int capacity,
                    void* scratch, int64_t timeout_ns, int* woken) {
  struct epoll_event* ev = (struct epoll_event*)scratch;
  int total = 0, n, i;
  /* One epoll_wait per wait, and never asking for more than fits: a second
   * call would report level-triggered fds again, and an event the kernel
   * hands over that we could not store would be lost (oneshot disarms). */
  n = epoll_wait_ns(p, ev, capacity, timeout_ns);
  if (n < 0)
    return -errno;
  for (i = 0; i < n; i++) {
    uint64_t d = ev[i].data.u64;
    uint32_t key = (uint32_t)d;
    if (key == AIO_NOTIFY_KEY) {
      uint64_t count;
      if (read(p->evfd, &count, sizeof(count)) < 0 && errno != EAGAIN) {
        total = -errno;
        break;
      }
      *woken = 1;
      continue;
    }
    out[total].key = key;
    out[total].flags = to_flags(ev[i].events, (unsigned)(d >> 32));
    total++;
  }
  return total;
}

int aio_poller_notify(aio_poller_t* p) {
  uint64_t one = 1;
  /* EAGAIN: the counter is full, so a wake-up is pending anyway. */
  if (write(p->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
    return -errno;
  return 0;
}
