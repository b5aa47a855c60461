/* poll.c's own checks, beyond the C contract suite (contract.c): its
 * identity, the wake-up pipe, what it says itself on a signal, an fd closed
 * without delete, and the stress test (4 threads changing 1,000 fds while one
 * waits and another notifies). `own-default --short` skips the stress test
 * (for valgrind). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "harness.h"
#include "devices.h"

static void t_identity(void) {
  aio_front_t* p = mk();
  check(strcmp(aio_backend_name(), "poll") == 0, "name is poll");
  check(aio_backend_caps() == (AIO_CAP_LEVEL | AIO_CAP_PRIORITY),
        "caps are level|priority, no edge (%#x)", aio_backend_caps());
  check(aio_front_fd(p) == -1, "no poller fd: -1");
  check(strcmp(aio_backend_syscall(AIO_OP_CREATE), "pipe") == 0 &&
            strcmp(aio_backend_syscall(AIO_OP_WAIT), "poll") == 0 &&
            strcmp(aio_backend_syscall(AIO_OP_NOTIFY), "write") == 0,
        "syscall names: pipe, poll, write");
  aio_front_destroy(p);
}

static void t_wake_pipe(void) {
  char before[256];
  int fd, found = 0, good = 0;
  aio_front_t* p;
  for (fd = 0; fd < 256; fd++)
    before[fd] = fcntl(fd, F_GETFD) >= 0;
  p = mk();
  for (fd = 0; fd < 256; fd++) {
    int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);
    if (before[fd] || fdfl < 0)
      continue;
    found++;
    good += (fdfl & FD_CLOEXEC) && (fl & O_NONBLOCK);
  }
  check(found == 2 && good == 2,
        "the wake-up pipe: 2 fds, close-on-exec and non-blocking (%d, %d)",
        found, good);
  aio_front_destroy(p);
}

static void* kill_later(void* arg) {
  sleep_ms(50);
  pthread_kill(*(pthread_t*)arg, SIGUSR1);
  return NULL;
}

/* The contract suite shows that the front absorbs signals; this shows that
 * it has something to absorb: poll.c alone says -EINTR. */
static void t_eintr(void) {
  aio_event_t ev[1];
  pthread_t th, self = pthread_self();
  aio_poller_t* raw = mk_raw();
  int n, woken = 0;
  double t;
  catch_sigusr1();
  if (pthread_create(&th, NULL, kill_later, &self) != 0)
    die("pthread_create");
  t = now_ms();
  n = aio_poller_wait(raw, ev, 1, NULL, MS(5000), &woken);
  pthread_join(th, NULL);
  check(n == -EINTR && !woken && now_ms() - t < 5000,
        "a signal makes poll.c return -EINTR before its timeout (n=%d)", n);
  signal(SIGUSR1, SIG_DFL);
  aio_poller_destroy(raw);
}

/* poll(2) sees numbers: a registered fd closed without delete is POLLNVAL,
 * reported once as gone (the front's rule for every backend), never a busy
 * loop; the registration is then no more. */
static void t_closed_without_delete(void) {
  aio_event_t ev[4];
  int fds[2], n;
  double t;
  aio_front_t* p = mk();
  make_pipe(fds);
  aio_front_add(p, fds[0], 8, AIO_READABLE, AIO_MODE_LEVEL);
  close(fds[0]);
  n = aio_front_wait(p, ev, 4, MS(1000));
  check(n == 1 && ev[0].key == 8 && ev[0].flags == (AIO_GONE | AIO_ERROR),
        "closed without delete: one gone event (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  t = now_ms();
  n = aio_front_wait(p, ev, 4, MS(100));
  check(n == 0 && now_ms() - t >= 100, "then quiet, even in level mode");
  check(aio_front_modify(p, fds[0], 9, AIO_READABLE, AIO_MODE_LEVEL) == -ENOENT,
        "modify of the gone registration: ENOENT");
  check(aio_front_wait(p, ev, 4, MS(30)) == 0, "and quiet again");
  n = aio_front_delete(p, fds[0]);
  check(n == -ENOENT || n == -EBADF, "delete of it: unknown (%d)", n);
  close(fds[1]);
  aio_front_destroy(p);
}

/* Stress: NTHREADS threads re-arm, re-register and disarm 1,000 pipes while
 * one thread waits and a notifier pokes it. Every arm writes one byte and
 * must yield exactly one event; every notify must end a wait. */
#define NPIPES 1000
#define NTHREADS 4
#define STRESS_MS 3000

typedef struct {
  aio_front_t* p;
  int r[NPIPES], w[NPIPES];
  atomic_int state[NPIPES]; /* 1 from arming until the waiter drained it */
  atomic_long armed, delivered, spurious, errors, changes;
  atomic_long notifies, lost_notifies, timeouts, started, waits;
  atomic_int stop_changes, stop_wait;
} stress_t;

typedef struct {
  stress_t* s;
  int id;
} stress_arg_t;

static uint32_t xorshift(uint32_t* x) {
  *x ^= *x << 13;
  *x ^= *x >> 17;
  *x ^= *x << 5;
  return *x;
}

static void* stress_changer(void* arg) {
  stress_t* s = ((stress_arg_t*)arg)->s;
  int id = ((stress_arg_t*)arg)->id;
  uint32_t seed = 2463534242u + (uint32_t)id * 7919u;
  while (!atomic_load(&s->stop_changes)) {
    int i = (int)(xorshift(&seed) % (NPIPES / NTHREADS)) * NTHREADS + id;
    uint32_t dice = xorshift(&seed) % 4;
    int err;
    if (atomic_load(&s->state[i]) != 0)
      continue;
    if (dice < 2) {
      send1(s->w[i]);
      atomic_store(&s->state[i], 1);
      atomic_fetch_add(&s->armed, 1);
      err = aio_front_modify(s->p, s->r[i], (uint32_t)i, AIO_READABLE,
                             AIO_MODE_ONESHOT);
    } else if (dice == 2) {
      err = aio_front_modify(s->p, s->r[i], (uint32_t)i, 0, AIO_MODE_LEVEL);
    } else {
      err = aio_front_delete(s->p, s->r[i]);
      if (err == 0)
        err = aio_front_add(s->p, s->r[i], (uint32_t)i, 0, AIO_MODE_ONESHOT);
    }
    if (err != 0)
      atomic_fetch_add(&s->errors, 1);
    atomic_fetch_add(&s->changes, 1);
  }
  return NULL;
}

static void* stress_notifier(void* arg) {
  stress_t* s = (stress_t*)arg;
  while (!atomic_load(&s->stop_changes)) {
    double t0 = now_ms();
    long started;
    if (aio_front_notify(s->p) != 0)
      atomic_fetch_add(&s->errors, 1);
    atomic_fetch_add(&s->notifies, 1);
    /* The wait in progress (or the one about to start) must return. */
    started = atomic_load(&s->started);
    while (atomic_load(&s->waits) < started) {
      if (now_ms() - t0 > 2000) {
        atomic_fetch_add(&s->lost_notifies, 1);
        break;
      }
      sched_yield();
    }
    sleep_ms(1);
  }
  return NULL;
}

static void* stress_waiter(void* arg) {
  stress_t* s = (stress_t*)arg;
  aio_event_t ev[64];
  while (!atomic_load(&s->stop_wait)) {
    double t0;
    int n, k;
    atomic_fetch_add(&s->started, 1);
    t0 = now_ms();
    n = aio_front_wait(s->p, ev, 64, MS(5000));
    atomic_fetch_add(&s->waits, 1);
    if (n < 0) {
      atomic_fetch_add(&s->errors, 1);
      break;
    }
    /* Notifies come every millisecond: a wait that reaches its 5 s timeout
     * missed hundreds of them. */
    if (n == 0 && now_ms() - t0 >= 5000)
      atomic_fetch_add(&s->timeouts, 1);
    for (k = 0; k < n; k++) {
      uint32_t i = ev[k].key;
      char c;
      if (i >= NPIPES || atomic_load(&s->state[i]) != 1 ||
          ev[k].flags != AIO_READABLE || read(s->r[i], &c, 1) != 1) {
        atomic_fetch_add(&s->spurious, 1);
        continue;
      }
      atomic_store(&s->state[i], 0);
      atomic_fetch_add(&s->delivered, 1);
    }
  }
  return NULL;
}

/* poll() refuses an nfds above the process's fd limit with EINVAL: Linux
 * and the BSDs above RLIMIT_NOFILE, macOS above OPEN_MAX (10,240) too (the
 * darwin profile makes poll() answer so, see macos_poll.c). Every wait would
 * then fail; add() refuses the registration that would not fit instead,
 * with EMFILE, and the waits go on. `limit` is the nfds poll() takes; the
 * wake-up pipe has one slot. */
#ifdef AIO_POLL_NFDS_MAX
static void fill_to_limit(const char* what, int limit) {
  aio_event_t ev[8];
  int* r = (int*)calloc((size_t)limit + 1, sizeof(int));
  int* w = (int*)calloc((size_t)limit + 1, sizeof(int));
  int i, fds[2], added = 0, err = 0, n;
  aio_front_t* p = mk();
  if (r == NULL || w == NULL)
    die("calloc");
  for (i = 0; i <= limit; i++) {
    make_pipe(fds);
    r[i] = fds[0];
    w[i] = fds[1];
  }
  for (i = 0; i <= limit && err == 0; i++) {
    err = aio_front_add(p, r[i], (uint32_t)i, AIO_READABLE, AIO_MODE_LEVEL);
    if (err == 0)
      added++;
  }
  check(added == limit - 1 && err == -EMFILE,
        "%s: %d registrations fit (the wake-up pipe is the %dth fd), the "
        "next is EMFILE (added %d, err %d)",
        what, limit - 1, limit, added, err);
  send1(w[0]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 0,
        "%s: a wait with every slot taken reports the ready fd (%d)", what, n);
  check(
      aio_front_delete(p, r[1]) == 0 &&
          aio_front_add(p, r[limit - 1], 7, AIO_READABLE, AIO_MODE_LEVEL) == 0,
      "%s: after a delete, an add fits again", what);
  check(aio_front_add(p, r[limit], 8, AIO_READABLE, AIO_MODE_LEVEL) == -EMFILE,
        "%s: and the next is EMFILE again", what);
  n = aio_front_wait(p, ev, 8, 0);
  check(n == 1 && ev[0].key == 0, "%s: waits still work (%d)", what, n);
  aio_front_destroy(p);
  for (i = 0; i <= limit; i++) {
    close(r[i]);
    close(w[i]);
  }
  free(r);
  free(w);
}
#endif

static void t_nfds_limit(void) {
  struct rlimit old, low;
#ifdef AIO_POLL_NFDS_MAX
  fill_to_limit("macOS OPEN_MAX (wrapped poll)", AIO_POLL_NFDS_MAX);
#endif
  /* This kernel's own limit: RLIMIT_NOFILE lowered below the fds we hold
   * (fds already open stay open), so that nfds can exceed it. */
  {
    aio_event_t ev[8];
    int i, fds[2], added = 0, err = 0, n;
    int r[150], w[150];
    aio_front_t* p = mk();
    for (i = 0; i < 150; i++) {
      make_pipe(fds);
      r[i] = fds[0];
      w[i] = fds[1];
    }
    if (getrlimit(RLIMIT_NOFILE, &old) != 0)
      die("getrlimit");
    low = old;
    low.rlim_cur = 200;
    if (setrlimit(RLIMIT_NOFILE, &low) != 0)
      die("setrlimit");
    /* 300 fds open now, the limit is 200: add the read and write ends. */
    for (i = 0; i < 300 && err == 0; i++) {
      err =
          aio_front_add(p, i < 150 ? r[i] : w[i - 150], (uint32_t)i,
                        i < 150 ? AIO_READABLE : AIO_WRITABLE, AIO_MODE_LEVEL);
      if (err == 0)
        added++;
    }
    check(added == 199 && err == -EMFILE,
          "RLIMIT_NOFILE 200: 199 registrations fit, the next is EMFILE "
          "(added %d, err %d)",
          added, err);
    n = aio_front_wait(p, ev, 8, MS(1000));
    check(n > 0, "RLIMIT_NOFILE 200: waits still work (%d)", n);
    if (setrlimit(RLIMIT_NOFILE, &old) != 0)
      die("setrlimit");
    aio_front_destroy(p);
    for (i = 0; i < 150; i++) {
      close(r[i]);
      close(w[i]);
    }
  }
}

static void t_stress(void) {
  static stress_t s;
  stress_arg_t args[NTHREADS];
  pthread_t changers[NTHREADS], notifier, waiter;
  aio_event_t ev[8];
  int i, n, leftover = 0;
  double t0;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * NPIPES + 64) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  s.p = mk();
  for (i = 0; i < NPIPES; i++) {
    int fds[2];
    make_pipe(fds);
    s.r[i] = fds[0];
    s.w[i] = fds[1];
    atomic_init(&s.state[i], 0);
    if (aio_front_add(s.p, fds[0], (uint32_t)i, 0, AIO_MODE_ONESHOT) != 0)
      die("add");
  }
  if (pthread_create(&waiter, NULL, stress_waiter, &s) != 0 ||
      pthread_create(&notifier, NULL, stress_notifier, &s) != 0)
    die("pthread_create");
  for (i = 0; i < NTHREADS; i++) {
    args[i].s = &s;
    args[i].id = i;
    if (pthread_create(&changers[i], NULL, stress_changer, &args[i]) != 0)
      die("pthread_create");
  }
  sleep_ms(STRESS_MS);
  atomic_store(&s.stop_changes, 1);
  for (i = 0; i < NTHREADS; i++)
    pthread_join(changers[i], NULL);
  pthread_join(notifier, NULL);
  t0 = now_ms();
  while (atomic_load(&s.delivered) + atomic_load(&s.spurious) <
             atomic_load(&s.armed) &&
         now_ms() - t0 < 3000)
    sleep_ms(5);
  atomic_store(&s.stop_wait, 1);
  aio_front_notify(s.p);
  pthread_join(waiter, NULL);
  n = aio_front_wait(s.p, ev, 8, 0);
  if (n > 0)
    leftover = n;
  printf(
      "# stress: %ld changes, %ld armed, %ld delivered, %ld waits, "
      "%ld notifies\n",
      atomic_load(&s.changes), atomic_load(&s.armed), atomic_load(&s.delivered),
      atomic_load(&s.waits), atomic_load(&s.notifies));
  check(atomic_load(&s.errors) == 0, "stress: no call failed (%ld)",
        atomic_load(&s.errors));
  check(atomic_load(&s.armed) == atomic_load(&s.delivered) &&
            atomic_load(&s.armed) > 1000,
        "stress: every readiness event delivered, once (armed %ld, delivered "
        "%ld)",
        atomic_load(&s.armed), atomic_load(&s.delivered));
  check(atomic_load(&s.spurious) == 0 && leftover == 0,
        "stress: no spurious or duplicate event (%ld spurious, %d left)",
        atomic_load(&s.spurious), leftover);
  check(atomic_load(&s.lost_notifies) == 0 && atomic_load(&s.timeouts) == 0 &&
            atomic_load(&s.notifies) > 100,
        "stress: no notify lost (%ld of %ld lost, %ld waits timed out)",
        atomic_load(&s.lost_notifies), atomic_load(&s.notifies),
        atomic_load(&s.timeouts));
  for (i = 0; i < NPIPES; i++) {
    if (aio_front_delete(s.p, s.r[i]) != 0)
      leftover++;
    close(s.r[i]);
    close(s.w[i]);
  }
  check(leftover == 0, "stress: clean teardown (%d)", leftover);
  aio_front_destroy(s.p);
}

int main(int argc, char** argv) {
  int short_only = argc > 1 && strcmp(argv[1], "--short") == 0;
  harness_start();
  t_identity();
  t_wake_pipe();
  t_eintr();
  t_closed_without_delete();
  t_nfds_limit();
  t_device_fd_checks();
  t_device_poller();
  t_device_edge();
#ifdef AIO_POLL_NFDS_MAX
  short_only = 1; /* the darwin profile: the nfds limit is its point */
#endif
  if (!short_only)
    t_stress();
  return harness_end();
}
