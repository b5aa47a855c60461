/* The select() path: fds that a kernel poller refuses or misreports (see
 * backend.h). The mechanism decides at run time, by its kernel's answer,
 * which fds come here; this file only watches them.
 *
 * libuv's uv__stream_try_select() (src/unix/stream.c) is the model: a thread
 * blocked in select() over sets sized to the highest fd, a pipe to interrupt
 * it, and a hand-off to the loop after which the thread waits until the loop
 * has looked (libuv's semaphore; here `parked`). Deno ported the same design
 * (denoland/deno#32812). Unlike libuv, the thread reports nothing itself:
 * aio_select_take() asks select() again, on the waiter's thread, so that what
 * a wait reports is true when it reports it. */
#define _DARWIN_UNLIMITED_SELECT 1 /* select() past FD_SETSIZE on macOS */
#if defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#define _DARWIN_C_SOURCE /* fd_mask, NFDBITS */
#endif
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* fd_mask, NFDBITS */
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "async_io/backend.h"

/* fd sets of any size. FD_SET() past FD_SETSIZE is undefined (glibc's
 * _FORTIFY_SOURCE aborts), so the bits are set by hand in the kernel's own
 * layout: words of fd_mask, NFDBITS bits each. */
typedef struct {
  fd_mask* bits[3]; /* read, write, except */
  size_t words;
} aio__sets_t;

#define AIO__WORDS(maxfd) ((size_t)(maxfd) / NFDBITS + 1)
#define AIO__MASK(fd) ((fd_mask)1 << ((unsigned)(fd) % NFDBITS))

static int sets_reserve(aio__sets_t* s, int maxfd) {
  size_t words = AIO__WORDS(maxfd);
  int i;
  if (words > s->words) {
    for (i = 0; i < 3; i++) {
      fd_mask* b = (fd_mask*)realloc(s->bits[i], words * sizeof(fd_mask));
      if (b == NULL)
        return -ENOMEM;
      s->bits[i] = b;
    }
    s->words = words;
  }
  for (i = 0; i < 3; i++)
    memset(s->bits[i], 0, AIO__WORDS(maxfd) * sizeof(fd_mask));
  return 0;
}

static void sets_free(aio__sets_t* s) {
  int i;
  for (i = 0; i < 3; i++)
    free(s->bits[i]);
  memset(s, 0, sizeof(*s));
}

static void sets_add(aio__sets_t* s, int fd, unsigned interest) {
  size_t w = (size_t)fd / NFDBITS;
  if (interest & AIO_READABLE)
    s->bits[0][w] |= AIO__MASK(fd);
  if (interest & AIO_WRITABLE)
    s->bits[1][w] |= AIO__MASK(fd);
  if (interest & AIO_PRIORITY)
    s->bits[2][w] |= AIO__MASK(fd);
}

static unsigned sets_get(const aio__sets_t* s, int fd) {
  size_t w = (size_t)fd / NFDBITS;
  unsigned f = 0;
  if (s->bits[0][w] & AIO__MASK(fd))
    f |= AIO_READABLE;
  if (s->bits[1][w] & AIO__MASK(fd))
    f |= AIO_WRITABLE;
  if (s->bits[2][w] & AIO__MASK(fd))
    f |= AIO_PRIORITY;
  return f;
}

/* select() over the sets: timeout_ns -1 blocks, 0 polls (EINTR retried). */
static int sets_select(aio__sets_t* s, int maxfd, int64_t timeout_ns) {
  struct timeval tv;
  int n;
  tv.tv_sec = (time_t)(timeout_ns / 1000000000);
  /* rounded up: a look that is due must not come back early */
  tv.tv_usec = (long)((timeout_ns % 1000000000 + 999) / 1000);
  if (tv.tv_usec >= 1000000) {
    tv.tv_sec++;
    tv.tv_usec -= 1000000;
  }
  do
    n = select(maxfd + 1, (fd_set*)s->bits[0], (fd_set*)s->bits[1],
               (fd_set*)s->bits[2], timeout_ns < 0 ? NULL : &tv);
  while (n < 0 && errno == EINTR && timeout_ns == 0);
  return n < 0 ? -errno : n;
}

static int is_open(int fd) {
  return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

int aio_select_now(int fd, unsigned interest) {
  aio__sets_t s = {{NULL, NULL, NULL}, 0};
  unsigned f;
  int n;
  if (fd < 0 || !is_open(fd))
    return -EBADF;
  n = sets_reserve(&s, fd);
  if (n == 0) {
    sets_add(&s, fd, interest);
    n = sets_select(&s, fd, 0);
  }
  f = n > 0 ? sets_get(&s, fd) : 0;
  sets_free(&s);
  return n < 0 ? n : (int)f;
}

/* Edge modes. select() only says what is ready now, so an edge is emulated:
 * a direction reported once is held (left out of the helper's sets, so that
 * an always-writable tty does not wake it forever: libuv#614) until it is
 * seen not ready, at a take or when the helper looks again. It looks after
 * AIO__HOLD_MS, doubling up to AIO__HOLD_MAX_MS while the direction stays
 * ready, and reports it again if it is: a consumer that drained it and got
 * more in between (which select() cannot tell from "never drained") hears of
 * it late rather than never. Edge consumers take such a repeat as a
 * spurious edge (one EAGAIN). */
#define AIO__HOLD_MS 50
#define AIO__HOLD_MAX_MS 400

typedef struct {
  int fd;
  unsigned interest;
  int edge;
  unsigned held;    /* edge: reported, not yet seen not ready */
  unsigned again;   /* edge: held, still ready when looked at: report */
  int64_t due;      /* edge: when the helper looks at `held` (ns) */
  int64_t interval; /* edge: the next hold (ns) */
} aio__watch_t;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct aio_select_s {
  int (*wake)(void* arg);
  void* arg;
  pthread_mutex_t lock; /* guards everything below */
  pthread_cond_t cond;  /* a change, a take or stop */
  aio__watch_t* watch;  /* a short list: only the fds the kernel refused */
  int nwatch, cwatch;
  int intr[2]; /* interrupts the helper's select(); -1 before it starts */
  pthread_t thread;
  int started;
  int stop;
  int kicked;        /* a byte is on its way down intr */
  int parked;        /* the helper woke the mechanism and waits for its take */
  aio__sets_t mine;  /* the helper's sets */
  aio__sets_t probe; /* the helper's look at held directions */
  aio__sets_t take;  /* aio_select_take()'s */
};

static void drain(int fd) {
  char buf[64];
  ssize_t n;
  do
    n = read(fd, buf, sizeof(buf));
  while (n > 0 || (n < 0 && errno == EINTR));
}

static void kick(aio_select_t* s) {
  ssize_t r;
  if (!s->started || s->kicked)
    return;
  do
    r = write(s->intr[1], "", 1);
  while (r < 0 && errno == EINTR);
  /* EAGAIN: the pipe is full of kicks already. */
  s->kicked = r == 1 || errno == EAGAIN;
}

/* The highest fd the sets need; fills them. The helper's (extra: its
 * interrupt pipe) leave held directions out; a take's ask for everything.
 * Under the lock. */
static int fill(aio_select_t* s, aio__sets_t* sets, int extra) {
  int i, maxfd = extra, err;
  for (i = 0; i < s->nwatch; i++)
    if (s->watch[i].fd > maxfd)
      maxfd = s->watch[i].fd;
  err = sets_reserve(sets, maxfd);
  if (err != 0)
    return err;
  if (extra >= 0)
    sets_add(sets, extra, AIO_READABLE);
  for (i = 0; i < s->nwatch; i++)
    sets_add(sets, s->watch[i].fd,
             s->watch[i].interest & (extra >= 0 ? ~s->watch[i].held : ~0u));
  return maxfd;
}

/* The helper's timeout: until the first held direction is due (-1: none). */
static int64_t next_look(const aio_select_t* s, int64_t now) {
  int64_t wait = -1;
  int i;
  for (i = 0; i < s->nwatch; i++) {
    int64_t d;
    if (s->watch[i].held == 0)
      continue;
    d = s->watch[i].due > now ? s->watch[i].due - now : 0;
    if (wait < 0 || d < wait)
      wait = d;
  }
  return wait;
}

/* The helper looks at held directions that are due: those no longer ready
 * are released (watched again), those still ready are to be reported again.
 * 1 if any is. Under the lock. */
static int look(aio_select_t* s, int64_t now) {
  int i, n, found = 0;
  for (i = 0; i < s->nwatch; i++) {
    aio__watch_t* w = &s->watch[i];
    unsigned f;
    if (w->held == 0 || w->due > now)
      continue;
    n = sets_reserve(&s->probe, w->fd);
    if (n == 0) {
      sets_add(&s->probe, w->fd, w->held);
      n = sets_select(&s->probe, w->fd, 0);
    }
    /* A failure (the fd closed): report, so that a take finds out. */
    f = n > 0 ? sets_get(&s->probe, w->fd) : n < 0 ? w->held : 0;
    w->again = f & w->held;
    w->held = w->again;
    if (w->held == 0)
      w->interval = (int64_t)AIO__HOLD_MS * 1000000;
    else
      w->due = now + w->interval;
    found |= w->again != 0;
  }
  return found;
}

static void* helper(void* arg) {
  aio_select_t* s = (aio_select_t*)arg;
  int maxfd, n, i, ready;
  int64_t wait;
  pthread_mutex_lock(&s->lock);
  while (!s->stop) {
    if (s->parked || s->nwatch == 0) {
      pthread_cond_wait(&s->cond, &s->lock);
      continue;
    }
    maxfd = fill(s, &s->mine, s->intr[0]);
    wait = next_look(s, now_ns());
    pthread_mutex_unlock(&s->lock);
    /* Out of memory: wake the mechanism, whose take reports what it can,
     * rather than spin or go silent. */
    n = maxfd < 0 ? maxfd : sets_select(&s->mine, maxfd, wait);
    pthread_mutex_lock(&s->lock);
    if (s->stop)
      break;
    if (n == -EINTR)
      continue;
    ready = n < 0; /* EBADF (a watched fd closed) or worse: take tells */
    if (wait >= 0 && look(s, now_ns()))
      ready = 1;
    if (n > 0 && (sets_get(&s->mine, s->intr[0]) & AIO_READABLE)) {
      drain(s->intr[0]);
      s->kicked = 0;
      n--;
    }
    for (i = 0; i < s->nwatch && n > 0 && !ready; i++)
      ready = sets_get(&s->mine, s->watch[i].fd) != 0;
    if (ready) {
      s->parked = 1;
      pthread_mutex_unlock(&s->lock);
      (void)s->wake(s->arg); /* fails only once our own fds are gone */
      pthread_mutex_lock(&s->lock);
    }
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

int aio_select_create(aio_select_t** out, int (*wake)(void* arg), void* arg) {
  aio_select_t* s = (aio_select_t*)calloc(1, sizeof(*s));
  int err;
  if (s == NULL)
    return -ENOMEM;
  s->wake = wake;
  s->arg = arg;
  s->intr[0] = s->intr[1] = -1;
  err = pthread_mutex_init(&s->lock, NULL);
  if (err != 0) {
    free(s);
    return -err;
  }
  err = pthread_cond_init(&s->cond, NULL);
  if (err != 0) {
    pthread_mutex_destroy(&s->lock);
    free(s);
    return -err;
  }
  *out = s;
  return 0;
}

void aio_select_destroy(aio_select_t* s) {
  if (s->started) {
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    kick(s);
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
  }
  if (s->intr[0] >= 0) {
    close(s->intr[0]);
    close(s->intr[1]);
  }
  sets_free(&s->mine);
  sets_free(&s->probe);
  sets_free(&s->take);
  free(s->watch);
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

/* Under the lock. The thread starts with the first watched fd. */
static int start(aio_select_t* s) {
  int err;
  if (s->started)
    return 0;
  if (s->intr[0] < 0) {
    err = aio_fd_pipe(s->intr);
    if (err != 0)
      return err;
  }
  err = pthread_create(&s->thread, NULL, helper, s);
  if (err != 0)
    return -err;
  s->started = 1;
  return 0;
}

static int find(const aio_select_t* s, int fd) {
  int i;
  for (i = 0; i < s->nwatch; i++)
    if (s->watch[i].fd == fd)
      return i;
  return -1;
}

int aio_select_watch(aio_select_t* s, int fd, unsigned interest, int edge) {
  int i, err = 0;
  interest &= AIO_READABLE | AIO_WRITABLE | AIO_PRIORITY;
  pthread_mutex_lock(&s->lock);
  i = find(s, fd);
  if (interest == 0) {
    if (i >= 0)
      s->watch[i] = s->watch[--s->nwatch];
    goto out;
  }
  if (i < 0) {
    if (s->nwatch == s->cwatch) {
      int c = s->cwatch > 0 ? 2 * s->cwatch : 8;
      aio__watch_t* w =
          (aio__watch_t*)realloc(s->watch, (size_t)c * sizeof(*w));
      if (w == NULL) {
        err = -ENOMEM;
        goto out;
      }
      s->watch = w;
      s->cwatch = c;
    }
    err = start(s);
    if (err != 0)
      goto out;
    i = s->nwatch++;
    s->watch[i].fd = fd;
  }
  /* Every change starts afresh: a re-armed edge reports what is ready. */
  s->watch[i].interest = interest;
  s->watch[i].edge = edge;
  s->watch[i].held = 0;
  s->watch[i].again = 0;
  s->watch[i].interval = (int64_t)AIO__HOLD_MS * 1000000;
out:
  if (err == 0) {
    kick(s);
    pthread_cond_signal(&s->cond);
  }
  pthread_mutex_unlock(&s->lock);
  return err;
}

int aio_select_take(aio_select_t* s, aio_event_t* out, int room) {
  int i, n = 0, maxfd, more = 0;
  pthread_mutex_lock(&s->lock);
  /* A watched fd closed behind our back would fail the whole select()
   * (EBADF): report it alone, as poll() reports POLLNVAL, and forget it. */
  for (i = 0; i < s->nwatch;) {
    if (is_open(s->watch[i].fd)) {
      i++;
    } else if (n == room) {
      more = 1;
      break;
    } else {
      out[n].key = (uint32_t)s->watch[i].fd;
      out[n++].flags = AIO_ERROR;
      s->watch[i] = s->watch[--s->nwatch];
    }
  }
  maxfd = s->nwatch > 0 ? fill(s, &s->take, -1) : -1;
  if (maxfd >= 0) {
    int k = sets_select(&s->take, maxfd, 0);
    if (k < 0 && n == 0) {
      n = k;
    } else {
      int64_t now = now_ns();
      for (i = 0; i < s->nwatch; i++) {
        aio__watch_t* w = &s->watch[i];
        unsigned f = k > 0 ? sets_get(&s->take, w->fd) : 0;
        if (w->edge) {
          /* Held and not ready now: released. Held and still ready: only
           * what the helper's look found again. */
          w->held &= f;
          w->again &= f;
          if (w->held == 0)
            w->interval = (int64_t)AIO__HOLD_MS * 1000000;
          f &= ~w->held | w->again;
        }
        if (f == 0)
          continue;
        if (n == room) {
          more = 1;
          break;
        }
        if (w->edge) {
          if (f & w->again) {
            w->interval *= 2;
            if (w->interval > (int64_t)AIO__HOLD_MAX_MS * 1000000)
              w->interval = (int64_t)AIO__HOLD_MAX_MS * 1000000;
          }
          w->again = 0;
          w->held |= f;
          w->due = now + w->interval;
        }
        out[n].key = (uint32_t)w->fd;
        out[n++].flags = f;
      }
    }
  } else if (maxfd < -1 && n == 0) {
    n = maxfd;
  }
  /* What did not fit stays parked, and the mechanism is woken for it. */
  s->parked = more;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->lock);
  if (more)
    (void)s->wake(s->arg);
  return n;
}
