/* Native checks of src/poll.c through async_io/backend.h, one line per
 * check. `harness --short` skips the stress test (for valgrind). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "async_io/backend.h"
#include "internal.h" /* the front, as the addon calls it */

#define MS 1000000LL

static int failures;
static int checks;

static void check(int ok, const char* name, const char* fmt, ...) {
  checks++;
  if (ok) {
    printf("ok %d - %s\n", checks, name);
  } else {
    va_list ap;
    failures++;
    printf("not ok %d - %s: ", checks, name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
  }
  fflush(stdout);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static void die(const char* what) {
  perror(what);
  exit(2);
}

static void nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    die("fcntl");
}

static void mkpipe(int fds[2]) {
  if (pipe(fds) < 0)
    die("pipe");
  nonblock(fds[0]);
  nonblock(fds[1]);
}

static void put(int fd) {
  if (write(fd, "x", 1) != 1)
    die("write");
}

static aio_front_t* mkpoller(void) {
  aio_front_t* p;
  int err = aio_front_create(&p);
  if (err != 0) {
    errno = -err;
    die("aio_poller_create");
  }
  return p;
}

/* Waits and reports how long it took (ns) through *took. */
static int timed_wait(aio_front_t* p, aio_event_t* ev, int cap, int64_t t,
                      int64_t* took) {
  int64_t t0 = now_ns();
  int n = aio_front_wait(p, ev, cap, t);
  *took = now_ns() - t0;
  return n;
}

static void test_identity(void) {
  aio_front_t* p = mkpoller();
  check(strcmp(aio_backend_name(), "poll") == 0, "name is poll", "%s",
        aio_backend_name());
  check(aio_backend_caps() == (AIO_CAP_LEVEL | AIO_CAP_PRIORITY),
        "caps are level|priority, no edge", "%#x", aio_backend_caps());
  check(aio_front_fd(p) == -1, "poller fd is -1", "%d", aio_front_fd(p));
  check(strcmp(aio_backend_syscall(AIO_OP_CREATE), "pipe") == 0 &&
            strcmp(aio_backend_syscall(AIO_OP_WAIT), "poll") == 0 &&
            strcmp(aio_backend_syscall(AIO_OP_NOTIFY), "write") == 0 &&
            aio_backend_syscall(AIO_OP_ADD) != NULL,
        "syscall names", "%s/%s/%s", aio_backend_syscall(AIO_OP_CREATE),
        aio_backend_syscall(AIO_OP_WAIT), aio_backend_syscall(AIO_OP_NOTIFY));
  aio_front_destroy(p);
}

static void test_cloexec(void) {
  char before[256];
  int fd, found = 0, good = 0;
  aio_front_t* p;
  for (fd = 0; fd < 256; fd++)
    before[fd] = fcntl(fd, F_GETFD) >= 0;
  p = mkpoller();
  for (fd = 0; fd < 256; fd++) {
    int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);
    if (before[fd] || fdfl < 0)
      continue;
    found++;
    if ((fdfl & FD_CLOEXEC) && (fl & O_NONBLOCK))
      good++;
  }
  check(found == 2 && good == 2, "wake pipe is close-on-exec and non-blocking",
        "%d new fds, %d good", found, good);
  aio_front_destroy(p);
}

static void test_readable_writable(void) {
  aio_front_t* p = mkpoller();
  aio_event_t ev[4];
  int fds[2], sv[2], n;
  mkpipe(fds);
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
    die("socketpair");
  check(aio_front_add(p, fds[0], 7, AIO_READABLE, AIO_MODE_LEVEL) == 0,
        "add pipe read end", "");
  n = aio_front_wait(p, ev, 4, 0);
  check(n == 0, "empty pipe: no event", "n=%d", n);
  put(fds[1]);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 7 && ev[0].flags == AIO_READABLE,
        "pipe readable", "n=%d key=%u flags=%#x", n, ev[0].key, ev[0].flags);
  check(aio_front_add(p, sv[0], 9, AIO_WRITABLE, AIO_MODE_ONESHOT) == 0,
        "add socket", "");
  check(aio_front_delete(p, fds[0]) == 0, "delete pipe", "");
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 9 && ev[0].flags == AIO_WRITABLE,
        "socketpair writable", "n=%d key=%u flags=%#x", n, ev[0].key,
        ev[0].flags);
  check(aio_front_delete(p, sv[0]) == 0, "delete socket", "");
  close(fds[0]);
  close(fds[1]);
  close(sv[0]);
  close(sv[1]);
  aio_front_destroy(p);
}

static void test_errors(void) {
  aio_front_t* p = mkpoller();
  int fds[2], err;
  mkpipe(fds);
  check(aio_front_add(p, fds[0], 1, AIO_READABLE, AIO_MODE_LEVEL) == 0, "add",
        "");
  err = aio_front_add(p, fds[0], 1, AIO_READABLE, AIO_MODE_LEVEL);
  check(err == -EEXIST, "second add: EEXIST", "%d", err);
  err = aio_front_modify(p, fds[1], 1, AIO_READABLE, AIO_MODE_LEVEL);
  check(err == -ENOENT, "modify of unknown fd: ENOENT", "%d", err);
  err = aio_front_delete(p, fds[1]);
  check(err == -ENOENT, "delete of unknown fd: ENOENT", "%d", err);
  err = aio_front_delete(p, 100000);
  check(err == -ENOENT, "delete of huge fd: ENOENT", "%d", err);
  check(aio_front_delete(p, fds[0]) == 0, "delete", "");
  err = aio_front_delete(p, fds[0]);
  check(err == -ENOENT, "second delete: ENOENT", "%d", err);
  err = aio_front_add(p, 100000, 1, AIO_READABLE, AIO_MODE_LEVEL);
  check(err == -EBADF, "add of a closed fd: EBADF", "%d", err);
  err = aio_front_add(p, fds[0], 1, AIO_READABLE, AIO_MODE_EDGE);
  check(err == -ENOTSUP, "add edge: ENOTSUP", "%d", err);
  err = aio_front_add(p, fds[0], 1, AIO_READABLE, AIO_MODE_EDGE_ONESHOT);
  check(err == -ENOTSUP, "add edge-oneshot: ENOTSUP", "%d", err);
  check(aio_front_add(p, fds[0], 1, AIO_READABLE, AIO_MODE_LEVEL) == 0,
        "add after delete", "");
  err = aio_front_modify(p, fds[0], 1, AIO_READABLE, AIO_MODE_EDGE);
  check(err == -ENOTSUP, "modify to edge: ENOTSUP", "%d", err);
  close(fds[0]);
  close(fds[1]);
  aio_front_destroy(p);
}

static void test_modes(void) {
  aio_front_t* p = mkpoller();
  aio_event_t ev[4];
  int a[2], b[2], n;
  int64_t took;
  mkpipe(a);
  mkpipe(b);
  put(a[1]);
  put(b[1]);
  aio_front_add(p, a[0], 1, AIO_READABLE, AIO_MODE_ONESHOT);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 1, "oneshot fires", "n=%d", n);
  n = timed_wait(p, ev, 4, 50 * MS, &took);
  check(n == 0 && took >= 50 * MS, "oneshot does not fire again",
        "n=%d took=%lldns", n, (long long)took);
  aio_front_modify(p, a[0], 2, AIO_READABLE, AIO_MODE_ONESHOT);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 2, "modify re-arms oneshot with its new key",
        "n=%d key=%u", n, ev[0].key);
  aio_front_delete(p, a[0]);
  aio_front_add(p, b[0], 3, AIO_READABLE, AIO_MODE_LEVEL);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 3, "level fires", "n=%d", n);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 3, "level fires again while ready", "n=%d", n);
  aio_front_modify(p, b[0], 3, 0, AIO_MODE_LEVEL);
  n = aio_front_wait(p, ev, 4, 20 * MS);
  check(n == 0, "no interest: no event", "n=%d", n);
  close(a[0]);
  close(a[1]);
  close(b[0]);
  close(b[1]);
  aio_front_destroy(p);
}

static void test_timeouts(void) {
  aio_front_t* p = mkpoller();
  aio_event_t ev[1];
  int n;
  int64_t took;
  n = timed_wait(p, ev, 1, 0, &took);
  check(n == 0 && took < 20 * MS, "timeout 0 does not block", "took=%lldns",
        (long long)took);
  n = timed_wait(p, ev, 1, 30 * MS, &took);
  check(n == 0 && took >= 30 * MS, "30 ms timeout not early", "took=%lldns",
        (long long)took);
  n = timed_wait(p, ev, 1, 1500000, &took);
  check(n == 0 && took >= 1500000, "1.5 ms timeout not early", "took=%lldns",
        (long long)took);
  aio_front_destroy(p);
}

static void test_notify(void) {
  aio_front_t* p = mkpoller();
  aio_event_t ev[1];
  int n;
  int64_t took;
  aio_front_notify(p);
  n = timed_wait(p, ev, 1, 5000 * MS, &took);
  check(n == 0 && took < 500 * MS, "notify before wait returns at once",
        "n=%d took=%lldns", n, (long long)took);
  aio_front_notify(p);
  aio_front_notify(p);
  aio_front_notify(p);
  n = timed_wait(p, ev, 1, 5000 * MS, &took);
  check(n == 0 && took < 500 * MS, "three notifies wake one wait",
        "n=%d took=%lldns", n, (long long)took);
  n = timed_wait(p, ev, 1, 50 * MS, &took);
  check(n == 0 && took >= 50 * MS, "coalesced: the next wait blocks",
        "n=%d took=%lldns", n, (long long)took);
  aio_front_destroy(p);
}

typedef struct {
  aio_front_t* p;
  int fd;
  int delay_ms;
  int result;
  int64_t took;
} job_t;

static void* notify_job(void* arg) {
  job_t* j = (job_t*)arg;
  sleep_ms(j->delay_ms);
  j->result = aio_front_notify(j->p);
  return NULL;
}

static void* add_job(void* arg) {
  job_t* j = (job_t*)arg;
  int64_t t0;
  sleep_ms(j->delay_ms);
  t0 = now_ns();
  j->result = aio_front_add(j->p, j->fd, 42, AIO_READABLE, AIO_MODE_ONESHOT);
  j->took = now_ns() - t0;
  return NULL;
}

static void* modify_job(void* arg) {
  job_t* j = (job_t*)arg;
  int64_t t0;
  sleep_ms(j->delay_ms);
  t0 = now_ns();
  j->result = aio_front_modify(j->p, j->fd, 43, AIO_READABLE, AIO_MODE_ONESHOT);
  j->took = now_ns() - t0;
  return NULL;
}

static void* delete_job(void* arg) {
  job_t* j = (job_t*)arg;
  int64_t t0;
  sleep_ms(j->delay_ms);
  t0 = now_ns();
  j->result = aio_front_delete(j->p, j->fd);
  j->took = now_ns() - t0;
  return NULL;
}

static void run_job(job_t* j, void* (*fn)(void*), pthread_t* t) {
  if (pthread_create(t, NULL, fn, j) != 0)
    die("pthread_create");
}

static void test_cross_thread(void) {
  aio_front_t* p = mkpoller();
  aio_event_t ev[4];
  pthread_t t;
  job_t j;
  int fds[2], n;
  int64_t took;

  memset(&j, 0, sizeof(j));
  j.p = p;
  j.delay_ms = 50;
  run_job(&j, notify_job, &t);
  n = timed_wait(p, ev, 4, -1, &took);
  pthread_join(t, NULL);
  check(n == 0 && j.result == 0 && took < 1000 * MS,
        "notify from another thread wakes a blocked wait", "n=%d took=%lldns",
        n, (long long)took);

  mkpipe(fds);
  put(fds[1]);
  j.fd = fds[0];
  run_job(&j, add_job, &t);
  n = timed_wait(p, ev, 4, 5000 * MS, &took);
  pthread_join(t, NULL);
  check(n == 1 && ev[0].key == 42 && j.result == 0 && took < 1000 * MS,
        "add from another thread is picked up by a blocked wait",
        "n=%d took=%lldns", n, (long long)took);
  check(j.took < 500 * MS, "that add returned promptly", "took=%lldns",
        (long long)j.took);

  run_job(&j, modify_job, &t);
  n = timed_wait(p, ev, 4, 5000 * MS, &took);
  pthread_join(t, NULL);
  check(n == 1 && ev[0].key == 43 && j.result == 0 && took < 1000 * MS,
        "modify from another thread re-arms during a blocked wait",
        "n=%d took=%lldns", n, (long long)took);

  /* Readable, but the registration is disarmed: delete it from another
   * thread, then re-arm nothing. The wait must time out. */
  run_job(&j, delete_job, &t);
  n = timed_wait(p, ev, 4, 300 * MS, &took);
  pthread_join(t, NULL);
  check(n == 0 && j.result == 0 && took >= 300 * MS,
        "delete from another thread during a wait: no event",
        "n=%d took=%lldns", n, (long long)took);
  check(j.took < 200 * MS, "that delete returned promptly", "took=%lldns",
        (long long)j.took);

  /* Level and ready the whole time: once delete returned, no later wait may
   * report the fd. */
  aio_front_add(p, fds[0], 44, AIO_READABLE, AIO_MODE_LEVEL);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 44, "level fd ready", "n=%d", n);
  j.delay_ms = 0;
  run_job(&j, delete_job, &t);
  pthread_join(t, NULL);
  n = aio_front_wait(p, ev, 4, 20 * MS);
  check(n == 0 && j.result == 0, "no event after delete returned", "n=%d", n);
  close(fds[0]);
  close(fds[1]);
  aio_front_destroy(p);
}

static void on_signal(int sig) {
  (void)sig;
}

typedef struct {
  pthread_t target;
} kill_job_t;

static void* kill_job(void* arg) {
  kill_job_t* k = (kill_job_t*)arg;
  sleep_ms(50);
  pthread_kill(k->target, SIGUSR1);
  return NULL;
}

static void test_eintr(void) {
  aio_front_t* p = mkpoller();
  aio_poller_t* raw;
  aio_event_t ev[1];
  struct sigaction sa;
  kill_job_t k;
  pthread_t t;
  int n, woken = 0;
  int64_t took, t0;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  k.target = pthread_self();
  /* poll.c alone says -EINTR (before its timeout) ... */
  if (aio_poller_create(&raw) != 0)
    die("aio_poller_create");
  if (pthread_create(&t, NULL, kill_job, &k) != 0)
    die("pthread_create");
  t0 = now_ns();
  n = aio_poller_wait(raw, ev, 1, 5000 * MS, &woken);
  took = now_ns() - t0;
  pthread_join(t, NULL);
  check(n == -EINTR && took < 5000 * MS, "a signal makes poll.c return EINTR",
        "n=%d took=%lldns", n, (long long)took);
  aio_poller_destroy(raw);
  /* ... which the front retries against the same deadline. */
  if (pthread_create(&t, NULL, kill_job, &k) != 0)
    die("pthread_create");
  n = timed_wait(p, ev, 1, 300 * MS, &took);
  pthread_join(t, NULL);
  check(n == 0 && took >= 300 * MS,
        "through the front a signal neither ends nor lengthens the wait",
        "n=%d took=%lldns", n, (long long)took);
  signal(SIGUSR1, SIG_DFL);
  aio_front_destroy(p);
}

static void test_hangup(void) {
  aio_front_t* p = mkpoller();
  aio_event_t ev[4];
  int fds[2], sv[2], n;
  mkpipe(fds);
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
    die("socketpair");
  aio_front_add(p, fds[0], 1, AIO_READABLE, AIO_MODE_ONESHOT);
  close(fds[1]);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && (ev[0].flags & AIO_HANGUP) && (ev[0].flags & AIO_READABLE),
        "pipe: hangup when the writer closes", "n=%d flags=%#x", n,
        ev[0].flags);
  n = aio_front_wait(p, ev, 4, 30 * MS);
  check(n == 0, "oneshot hangup does not fire again", "n=%d", n);
  aio_front_add(p, sv[0], 2, AIO_READABLE, AIO_MODE_ONESHOT);
  close(sv[1]);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 2 && (ev[0].flags & AIO_HANGUP),
        "socketpair: hangup when the peer closes", "n=%d flags=%#x", n,
        ev[0].flags);
  close(fds[0]);
  close(sv[0]);
  aio_front_destroy(p);
}

static void test_priority(void) {
  aio_front_t* p = mkpoller();
  aio_event_t ev[4];
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int l, c, s, n;
  l = socket(AF_INET, SOCK_STREAM, 0);
  c = socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0 || c < 0)
    die("socket");
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, (struct sockaddr*)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
      getsockname(l, (struct sockaddr*)&sa, &len) < 0 ||
      connect(c, (struct sockaddr*)&sa, sizeof(sa)) < 0)
    die("tcp setup");
  s = accept(l, NULL, NULL);
  if (s < 0)
    die("accept");
  aio_front_add(p, s, 5, AIO_PRIORITY, AIO_MODE_ONESHOT);
  n = aio_front_wait(p, ev, 4, 20 * MS);
  check(n == 0, "no urgent data: no priority event", "n=%d", n);
  if (send(c, "!", 1, MSG_OOB) != 1)
    die("send");
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 5 && (ev[0].flags & AIO_PRIORITY),
        "MSG_OOB on loopback TCP: priority (POLLPRI)", "n=%d flags=%#x", n,
        ev[0].flags);
  close(s);
  close(c);
  close(l);
  aio_front_destroy(p);
}

static void test_capacity(void) {
  aio_front_t* p = mkpoller();
  aio_event_t ev[2];
  int fds[5][2], i, round, n, seen = 0, dup = 0, sizes[4];
  for (i = 0; i < 5; i++) {
    mkpipe(fds[i]);
    put(fds[i][1]);
    aio_front_add(p, fds[i][0], (uint32_t)i, AIO_READABLE, AIO_MODE_ONESHOT);
  }
  for (round = 0; round < 4; round++) {
    n = aio_front_wait(p, ev, 2, round < 3 ? 1000 * MS : 30 * MS);
    sizes[round] = n;
    for (i = 0; i < n; i++) {
      if (seen & (1 << ev[i].key))
        dup++;
      seen |= 1 << ev[i].key;
    }
  }
  check(sizes[0] == 2 && sizes[1] == 2 && sizes[2] == 1 && sizes[3] == 0 &&
            seen == 0x1f && dup == 0,
        "oneshot, capacity 2 of 5 ready: 2+2+1, each once",
        "sizes %d %d %d %d seen=%#x dup=%d", sizes[0], sizes[1], sizes[2],
        sizes[3], seen, dup);
  for (i = 0; i < 5; i++)
    aio_front_modify(p, fds[i][0], (uint32_t)i, AIO_READABLE, AIO_MODE_LEVEL);
  seen = 0;
  for (round = 0; round < 3; round++) {
    n = aio_front_wait(p, ev, 2, 1000 * MS);
    for (i = 0; i < n; i++)
      seen |= 1 << ev[i].key;
  }
  check(seen == 0x1f, "level, capacity 2 of 5 ready: all 5 in 3 waits",
        "seen=%#x", seen);
  /* Deleting from the middle moves the last slot: keys must follow fds. */
  aio_front_delete(p, fds[1][0]);
  aio_front_delete(p, fds[3][0]);
  {
    aio_event_t big[8];
    n = aio_front_wait(p, big, 8, 1000 * MS);
    seen = 0;
    for (i = 0; i < n; i++)
      seen |= 1 << big[i].key;
    check(n == 3 && seen == 0x15, "after deletes in the middle: keys intact",
          "n=%d seen=%#x", n, seen);
  }
  for (i = 0; i < 5; i++) {
    close(fds[i][0]);
    close(fds[i][1]);
  }
  aio_front_destroy(p);
}

static void test_closed_without_delete(void) {
  aio_front_t* p = mkpoller();
  aio_event_t ev[4];
  int fds[2], n, err;
  int64_t took;
  mkpipe(fds);
  aio_front_add(p, fds[0], 8, AIO_READABLE, AIO_MODE_LEVEL);
  close(fds[0]);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 8 && (ev[0].flags & AIO_ERROR),
        "closed without delete: an error event", "n=%d flags=%#x", n,
        ev[0].flags);
  n = timed_wait(p, ev, 4, 100 * MS, &took);
  check(n == 0 && took >= 100 * MS, "then quiet, no spin (level mode)",
        "n=%d took=%lldns", n, (long long)took);
  aio_front_modify(p, fds[0], 9, AIO_READABLE, AIO_MODE_LEVEL);
  n = aio_front_wait(p, ev, 4, 1000 * MS);
  check(n == 1 && ev[0].key == 9 && (ev[0].flags & AIO_ERROR),
        "modify re-arms: one more error event", "n=%d", n);
  n = aio_front_wait(p, ev, 4, 30 * MS);
  check(n == 0, "and quiet again", "n=%d", n);
  err = aio_front_delete(p, fds[0]);
  check(err == 0, "delete of the closed fd succeeds", "%d", err);
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
      put(s->w[i]);
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
    int64_t t0 = now_ns();
    long started;
    if (aio_front_notify(s->p) != 0)
      atomic_fetch_add(&s->errors, 1);
    atomic_fetch_add(&s->notifies, 1);
    /* The wait in progress (or the one about to start) must return. */
    started = atomic_load(&s->started);
    while (atomic_load(&s->waits) < started) {
      if (now_ns() - t0 > 2000 * MS) {
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
    int64_t took;
    int n, k;
    atomic_fetch_add(&s->started, 1);
    n = timed_wait(s->p, ev, 64, 5000 * MS, &took);
    atomic_fetch_add(&s->waits, 1);
    if (n < 0) {
      atomic_fetch_add(&s->errors, 1);
      break;
    }
    /* Notifies come every millisecond: a wait that reaches its 5 s
     * timeout missed hundreds of them. */
    if (n == 0 && took >= 5000 * MS)
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

static void test_stress(void) {
  static stress_t s;
  stress_arg_t args[NTHREADS];
  pthread_t changers[NTHREADS], notifier, waiter;
  aio_event_t ev[8];
  int i, n, leftover = 0;
  int64_t t0;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * NPIPES + 64) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  s.p = mkpoller();
  for (i = 0; i < NPIPES; i++) {
    int fds[2];
    mkpipe(fds);
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
  t0 = now_ns();
  while (atomic_load(&s.delivered) + atomic_load(&s.spurious) <
             atomic_load(&s.armed) &&
         now_ns() - t0 < 3000 * MS)
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
  check(atomic_load(&s.errors) == 0, "stress: no call failed", "%ld",
        atomic_load(&s.errors));
  check(atomic_load(&s.armed) == atomic_load(&s.delivered) &&
            atomic_load(&s.armed) > 1000,
        "stress: every readiness event delivered, once",
        "armed %ld delivered %ld", atomic_load(&s.armed),
        atomic_load(&s.delivered));
  check(atomic_load(&s.spurious) == 0 && leftover == 0,
        "stress: no spurious or duplicate event", "%ld spurious, %d left",
        atomic_load(&s.spurious), leftover);
  check(atomic_load(&s.lost_notifies) == 0 && atomic_load(&s.timeouts) == 0 &&
            atomic_load(&s.notifies) > 100,
        "stress: no notify lost", "%ld of %ld lost, %ld waits timed out",
        atomic_load(&s.lost_notifies), atomic_load(&s.notifies),
        atomic_load(&s.timeouts));
  for (i = 0; i < NPIPES; i++) {
    if (aio_front_delete(s.p, s.r[i]) != 0)
      leftover++;
    close(s.r[i]);
    close(s.w[i]);
  }
  check(leftover == 0, "stress: clean teardown", "%d", leftover);
  aio_front_destroy(s.p);
}

/* A lost wake-up shows as a wait that never returns: fail instead of hang. */
static void on_alarm(int sig) {
  static const char msg[] = "not ok - hung: a wait never returned\n";
  (void)sig;
  if (write(1, msg, sizeof(msg) - 1) < 0)
    _exit(3);
  _exit(1);
}

int main(int argc, char** argv) {
  int short_only = argc > 1 && strcmp(argv[1], "--short") == 0;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGALRM, on_alarm);
  alarm(120);
  test_identity();
  test_cloexec();
  test_readable_writable();
  test_errors();
  test_modes();
  test_timeouts();
  test_notify();
  test_cross_thread();
  test_eintr();
  test_hangup();
  test_priority();
  test_capacity();
  test_closed_without_delete();
  if (!short_only)
    test_stress();
  printf("# %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
