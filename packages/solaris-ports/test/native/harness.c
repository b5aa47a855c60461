/* Drives src/port.c through backend.h, on the Linux emulation of event
 * ports (../shim), and checks the emulation's own strictness. One line per
 * check; exits non-zero if any failed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <port.h>

#include "async_io/backend.h"
#include "internal.h" /* the front, as the addon calls it */
#include "port_shim.h"

#include "harness.h"

static void nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    die("fcntl");
}

/* ---- the backend through backend.h ------------------------------------- */

static void t_identity(void) {
  check(strcmp(aio_backend_name(), "event-ports") == 0, "name is event-ports");
  check(aio_backend_caps() == (AIO_CAP_LEVEL | AIO_CAP_PRIORITY),
        "caps: level and priority, no edge");
  check(
      strcmp(aio_backend_syscall(AIO_OP_CREATE), "port_create") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_ADD), "port_associate") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_MODIFY), "port_associate") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_DELETE), "port_dissociate") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_WAIT), "port_getn") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_NOTIFY), "port_send") == 0,
      "syscall names");
}

static void t_lifecycle(void) {
  aio_front_t* many[50];
  int before, i, fd, fl;
  aio_front_t* p = mk();
  fd = aio_front_fd(p);
  fl = fcntl(fd, F_GETFD);
  check(fd >= 0 && fl >= 0 && (fl & FD_CLOEXEC), "port fd is close-on-exec");
  aio_front_destroy(p);
  check(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "destroy closes the port");
  before = count_fds();
  for (i = 0; i < 50; i++)
    many[i] = mk();
  check(count_fds() == before + 50, "one fd per poller (%d -> %d)", before,
        count_fds());
  for (i = 0; i < 50; i++)
    aio_front_notify(many[i]);
  for (i = 0; i < 50; i++)
    aio_front_destroy(many[i]);
  check(count_fds() == before, "50 pollers created and destroyed leak no fd");
}

static void t_readiness(void) {
  aio_event_t ev[8];
  int pr[2], sp[2], n;
  aio_front_t* p = mk();
  make_pipe(pr);
  check(aio_front_add(p, pr[0], 42, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "add pipe read end");
  check(aio_front_wait(p, ev, 8, 0) == 0, "empty pipe: no event");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 42 && ev[0].flags == AIO_READABLE,
        "pipe readable with its key and only READABLE (n=%d flags=%#x)", n,
        n > 0 ? ev[0].flags : 0);

  make_socketpair(sp);
  check(aio_front_add(p, sp[0], 1, AIO_WRITABLE, AIO_MODE_ONESHOT) == 0,
        "add socket for writable");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 1 && ev[0].flags == AIO_WRITABLE,
        "socket writable at once");
  check(aio_front_modify(p, sp[0], 2, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "modify to readable");
  check(aio_front_wait(p, ev, 8, 0) == 0, "nothing to read yet");
  if (write(sp[1], "hello", 5) != 5)
    die("write");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 2 && (ev[0].flags & AIO_READABLE),
        "readable after the peer writes, new key");
  check(drain(sp[0]) == 5, "5 bytes");
  aio_front_destroy(p);
  close(pr[0]);
  close(pr[1]);
  close(sp[0]);
  close(sp[1]);
}

static void t_errors(void) {
  int pr[2], closed[2];
  aio_front_t* p = mk();
  make_pipe(pr);
  check(aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_ONESHOT) == 0, "add");
  check(aio_front_add(p, pr[0], 2, AIO_READABLE, AIO_MODE_ONESHOT) == -EEXIST,
        "second add: -EEXIST (the kernel would re-associate silently)");
  check(
      aio_front_modify(p, pr[1], 1, AIO_WRITABLE, AIO_MODE_ONESHOT) == -ENOENT,
      "modify of an fd never added: -ENOENT");
  check(aio_front_delete(p, pr[1]) == -ENOENT,
        "delete of an fd never added: -ENOENT");
  check(aio_front_delete(p, pr[0]) == 0, "delete");
  check(
      aio_front_modify(p, pr[0], 1, AIO_READABLE, AIO_MODE_ONESHOT) == -ENOENT,
      "modify after delete: -ENOENT");
  check(aio_front_delete(p, pr[0]) == -ENOENT, "delete twice: -ENOENT");
  check(aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "add again after delete");
  check(aio_front_add(p, 1000000, 1, AIO_READABLE, AIO_MODE_ONESHOT) == -EBADF,
        "add of a never-opened fd: -EBADF (EBADFD normalised)");
  make_pipe(closed);
  close(closed[0]);
  close(closed[1]);
  check(
      aio_front_add(p, closed[0], 1, AIO_READABLE, AIO_MODE_ONESHOT) == -EBADF,
      "add of a closed fd: -EBADF");
  check(aio_front_delete(p, closed[0]) == -ENOENT,
        "a failed add registers nothing");
  aio_front_destroy(p);
  close(pr[0]);
  close(pr[1]);
}

static void t_modes(void) {
  aio_event_t ev[8];
  int pr[2], n, i;
  aio_front_t* p = mk();
  make_pipe(pr);
  check(aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_EDGE) == -ENOTSUP,
        "edge: -ENOTSUP");
  check(aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_EDGE_ONESHOT) ==
            -ENOTSUP,
        "edge-oneshot: -ENOTSUP");
  check(aio_front_delete(p, pr[0]) == -ENOENT,
        "nothing half-registered after -ENOTSUP");

  check(aio_front_add(p, pr[0], 5, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "oneshot add");
  check(aio_front_modify(p, pr[0], 5, AIO_READABLE, AIO_MODE_EDGE) == -ENOTSUP,
        "modify to edge: -ENOTSUP");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 5,
        "oneshot fires (registration untouched by the refused modify)");
  check(aio_front_wait(p, ev, 8, 0) == 0, "oneshot: not again");
  send1(pr[1]);
  check(aio_front_wait(p, ev, 8, MS(50)) == 0,
        "oneshot: not again after more data");
  check(aio_front_modify(p, pr[0], 6, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "modify re-arms");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 6, "re-armed oneshot fires with the new key");
  check(aio_front_wait(p, ev, 8, 0) == 0, "and not again");
  check(aio_front_delete(p, pr[0]) == 0,
        "delete of a fired oneshot succeeds (port_dissociate said ENOENT)");
  drain(pr[0]);

  check(aio_front_add(p, pr[0], 7, AIO_READABLE, AIO_MODE_LEVEL) == 0,
        "level add");
  send1(pr[1]);
  for (i = 0; i < 3; i++) {
    n = aio_front_wait(p, ev, 8, MS(1000));
    check(n == 1 && ev[0].key == 7, "level fires again while readable (%d)",
          i + 1);
  }
  drain(pr[0]);
  check(aio_front_wait(p, ev, 8, 0) == 0, "level stops once drained");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 7, "level fires again on new data");
  check(aio_front_modify(p, pr[0], 8, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "level -> oneshot");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 8, "fires once as oneshot");
  check(aio_front_wait(p, ev, 8, 0) == 0, "then stays quiet");
  aio_front_destroy(p);
  close(pr[0]);
  close(pr[1]);
}

static void t_notify(void) {
  aio_event_t ev[8];
  int pr[2], n;
  double t;
  aio_front_t* p = mk();
  check(aio_front_notify(p) == 0, "notify");
  t = now_ms();
  n = aio_front_wait(p, ev, 8, MS(10000));
  check(n == 0 && now_ms() - t < 1000,
        "notify before wait: returns at once, no event (n=%d)", n);
  aio_front_notify(p);
  aio_front_notify(p);
  aio_front_notify(p);
  t = now_ms();
  check(aio_front_wait(p, ev, 8, MS(10000)) == 0 && now_ms() - t < 1000,
        "three notifies wake one wait");
  t = now_ms();
  n = aio_front_wait(p, ev, 8, MS(50));
  check(n == 0 && now_ms() - t >= 49,
        "coalesced: the next wait times out (%.1f ms)", now_ms() - t);

  /* A notify and an fd event, room for one: neither is lost. */
  make_pipe(pr);
  aio_front_add(p, pr[0], 3, AIO_READABLE, AIO_MODE_ONESHOT);
  aio_front_notify(p);
  send1(pr[1]);
  n = aio_front_wait(p, ev, 1, MS(1000));
  if (n == 0)
    n = aio_front_wait(p, ev, 1, MS(1000));
  check(n == 1 && ev[0].key == 3, "capacity 1: the fd event survives a notify");
  t = now_ms();
  check(aio_front_wait(p, ev, 8, MS(30)) == 0 && now_ms() - t >= 29,
        "and no wake is left over");
  aio_front_destroy(p);
  close(pr[0]);
  close(pr[1]);
}

typedef struct {
  aio_front_t* p;
  int fd;
  int wfd;
  int result;
} job_t;

static void* notify_later(void* arg) {
  job_t* j = (job_t*)arg;
  sleep_ms(100);
  j->result = aio_front_notify(j->p);
  return NULL;
}

static void* add_later(void* arg) {
  job_t* j = (job_t*)arg;
  sleep_ms(100);
  j->result = aio_front_add(j->p, j->fd, 77, AIO_READABLE, AIO_MODE_ONESHOT);
  return NULL;
}

static void* modify_later(void* arg) {
  job_t* j = (job_t*)arg;
  sleep_ms(100);
  j->result = aio_front_modify(j->p, j->fd, 78, AIO_READABLE, AIO_MODE_ONESHOT);
  return NULL;
}

static void* delete_later(void* arg) {
  job_t* j = (job_t*)arg;
  sleep_ms(50);
  j->result = aio_front_delete(j->p, j->fd);
  send1(j->wfd);
  sleep_ms(50);
  aio_front_notify(j->p);
  return NULL;
}

static void t_threads(void) {
  aio_event_t ev[8];
  pthread_t th;
  job_t j;
  int pr[2], n;
  double t;
  aio_front_t* p = mk();
  make_pipe(pr);

  j.p = p;
  j.fd = pr[0];
  j.wfd = pr[1];
  if (pthread_create(&th, NULL, notify_later, &j) != 0)
    die("pthread_create");
  t = now_ms();
  n = wait_retry(p, ev, 8, -1);
  pthread_join(th, NULL);
  check(n == 0 && j.result == 0 && now_ms() - t >= 90 && now_ms() - t < 5000,
        "notify from another thread wakes a blocked wait (%.0f ms)",
        now_ms() - t);

  send1(pr[1]);
  if (pthread_create(&th, NULL, add_later, &j) != 0)
    die("pthread_create");
  n = wait_retry(p, ev, 8, MS(20000));
  pthread_join(th, NULL);
  check(n == 1 && ev[0].key == 77 && j.result == 0,
        "add from another thread reaches a blocked wait");

  if (pthread_create(&th, NULL, modify_later, &j) != 0)
    die("pthread_create");
  n = wait_retry(p, ev, 8, MS(20000));
  pthread_join(th, NULL);
  check(n == 1 && ev[0].key == 78 && j.result == 0,
        "modify from another thread reaches a blocked wait");
  drain(pr[0]);

  aio_front_modify(p, pr[0], 79, AIO_READABLE, AIO_MODE_ONESHOT);
  if (pthread_create(&th, NULL, delete_later, &j) != 0)
    die("pthread_create");
  n = wait_retry(p, ev, 8, MS(20000));
  pthread_join(th, NULL);
  check(n == 0 && j.result == 0 && !has_key(ev, n, 79),
        "delete from another thread while waiting: no event for that fd");
  check(aio_front_wait(p, ev, 8, 0) == 0, "nor later");
  aio_front_destroy(p);
  close(pr[0]);
  close(pr[1]);
}

static void t_hangup(void) {
  aio_event_t ev[8];
  int pr[2], sp[2], n;
  aio_front_t* p = mk();
  make_pipe(pr);
  aio_front_add(p, pr[0], 4, AIO_READABLE, AIO_MODE_ONESHOT);
  close(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 4 && (ev[0].flags & AIO_HANGUP),
        "pipe: hangup when the write end closes (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  make_socketpair(sp);
  aio_front_add(p, sp[0], 3, AIO_READABLE, AIO_MODE_ONESHOT);
  close(sp[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 3 && (ev[0].flags & AIO_HANGUP) &&
            (ev[0].flags & AIO_READABLE),
        "socketpair: readable + hangup when the peer closes (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  aio_front_destroy(p);
  close(pr[0]);
  close(sp[0]);
}

static void t_priority(void) {
  aio_event_t ev[8];
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int lfd, cfd, afd, n;
  aio_front_t* p = mk();
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || bind(lfd, (struct sockaddr*)&sa, sizeof(sa)) < 0 ||
      listen(lfd, 1) < 0 || getsockname(lfd, (struct sockaddr*)&sa, &len) < 0)
    die("listen");
  cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (cfd < 0 || connect(cfd, (struct sockaddr*)&sa, sizeof(sa)) < 0)
    die("connect");
  afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (afd < 0)
    die("accept");
  nonblock(afd);
  check(aio_front_add(p, afd, 9, AIO_PRIORITY, AIO_MODE_ONESHOT) == 0,
        "add TCP socket for priority");
  check(aio_front_wait(p, ev, 8, 0) == 0, "no urgent data yet");
  if (send(cfd, "!", 1, MSG_OOB) != 1)
    die("send MSG_OOB");
  n = aio_front_wait(p, ev, 8, MS(2000));
  check(n == 1 && ev[0].key == 9 && (ev[0].flags & AIO_PRIORITY) &&
            !(ev[0].flags & AIO_READABLE),
        "MSG_OOB byte: PRIORITY (flags=%#x)", n > 0 ? ev[0].flags : 0);
  aio_front_destroy(p);
  close(afd);
  close(cfd);
  close(lfd);
}

static void t_timeouts(void) {
  aio_event_t ev[8];
  int pr[2], i, ok = 1;
  double t, took;
  aio_front_t* p = mk();
  make_pipe(pr);
  aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_ONESHOT);
  t = now_ms();
  for (i = 0; i < 100; i++)
    ok &= aio_front_wait(p, ev, 8, 0) == 0;
  check(ok && now_ms() - t < 500,
        "a zero timeout does not block (100 in %.1f ms)", now_ms() - t);
  t = now_ms();
  ok = wait_retry(p, ev, 8, MS(50)) == 0;
  took = now_ms() - t;
  check(ok && took >= 50 && took < 1050, "50 ms timeout (%.2f ms)", took);
  t = now_ms();
  ok = wait_retry(p, ev, 8, 200000) == 0;
  took = now_ms() - t;
  check(ok && took >= 0.19 && took < 1000, "0.2 ms timeout (%.3f ms)", took);
  t = now_ms();
  ok = wait_retry(p, ev, 8, MS(1000)) == 0;
  took = now_ms() - t;
  check(ok && took >= 999, "1 s timeout (%.1f ms)", took);
  aio_front_destroy(p);
  close(pr[0]);
  close(pr[1]);
}

static void t_delete(void) {
  aio_event_t ev[8];
  int pr[2], pr2[2], n, fd;
  aio_front_t* p = mk();
  make_pipe(pr);
  aio_front_add(p, pr[0], 11, AIO_READABLE, AIO_MODE_LEVEL);
  send1(pr[1]);
  check(aio_front_delete(p, pr[0]) == 0, "delete a ready level fd");
  check(wait_retry(p, ev, 8, MS(50)) == 0, "then no event for it");

  /* Closed without delete, number reused. */
  aio_front_add(p, pr[0], 12, AIO_READABLE, AIO_MODE_LEVEL);
  fd = pr[0];
  close(pr[0]);
  close(pr[1]);
  make_pipe(pr2);
  check(pr2[0] == fd, "the pipe reuses the closed fd number (%d)", pr2[0]);
  send1(pr2[1]);
  n = aio_front_wait(p, ev, 8, 0);
  check(!(n > 0 && has_key(ev, n, 12)),
        "the closed fd's key does not come back for the new file");
  check(aio_front_add(p, pr2[0], 13, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "add of the reused number succeeds (another file: the old entry is "
        "stale)");
  check(aio_front_add(p, pr2[0], 13, AIO_READABLE, AIO_MODE_ONESHOT) == -EEXIST,
        "a second add of the same file is EEXIST");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 13, "the new file reports its own key");

  /* Closed, then deleted by number while nothing reuses it. */
  make_pipe(pr);
  aio_front_add(p, pr[0], 14, AIO_READABLE, AIO_MODE_ONESHOT);
  fd = pr[0];
  close(pr[0]);
  close(pr[1]);
  check(aio_front_delete(p, fd) == 0,
        "delete of a closed fd forgets it (port_dissociate said EBADFD)");
  aio_front_destroy(p);
  close(pr2[0]);
  close(pr2[1]);
}

static void t_many(void) {
  enum { N = 150 };
  static int pairs[N][2];
  static int seen[N];
  aio_event_t ev[32];
  int i, round, total = 0, once = 1, n;
  aio_front_t* p = mk();
  for (i = 0; i < N; i++) {
    make_socketpair(pairs[i]);
    seen[i] = 0;
    aio_front_add(p, pairs[i][0], (uint32_t)i, AIO_READABLE, AIO_MODE_ONESHOT);
  }
  for (i = 0; i < N; i++)
    send1(pairs[i][1]);
  for (round = 0; round < 50 && total < N; round++) {
    n = aio_front_wait(p, ev, 32, MS(1000));
    for (i = 0; i < n; i++) {
      if (ev[i].key < N)
        seen[ev[i].key]++;
      total++;
    }
  }
  for (i = 0; i < N; i++)
    once &= seen[i] == 1;
  check(total == N && once, "150 ready oneshot fds, batches of 32: each once");
  check(aio_front_wait(p, ev, 32, 0) == 0, "and nothing more");
  aio_front_destroy(p);
  for (i = 0; i < N; i++) {
    close(pairs[i][0]);
    close(pairs[i][1]);
  }
}

/* ---- kernel quirks, made to happen by the shim -------------------------- */

/* port.c itself, without the front: what it answers to each quirk. */
static aio_poller_t* mk_raw(void) {
  aio_poller_t* m;
  int err = aio_poller_create(&m);
  if (err != 0) {
    errno = -err;
    die("aio_poller_create");
  }
  return m;
}

static int raw_wait(aio_poller_t* m, aio_event_t* ev, int cap, int64_t t) {
  int woken = 0;
  return aio_poller_wait(m, ev, cap, t, &woken);
}

typedef struct {
  aio_poller_t* m;
  int fd;
  int result;
} race_t;

static void race_delete(void* arg) {
  race_t* r = (race_t*)arg;
  r->result = aio_poller_delete(r->m, r->fd);
}

static void race_modify(void* arg) {
  race_t* r = (race_t*)arg;
  r->result =
      aio_poller_modify(r->m, r->fd, 99, AIO_READABLE, AIO_MODE_ONESHOT);
}

static void t_quirks(void) {
  aio_event_t ev[8];
  race_t race;
  int pr[2], n, port;
  aio_poller_t* m = mk_raw();
  aio_front_t* f = mk();
  port = aio_poller_fd(m);
  make_pipe(pr);
  aio_poller_add(m, pr[0], 21, AIO_READABLE, AIO_MODE_LEVEL);
  aio_front_add(f, pr[0], 21, AIO_READABLE, AIO_MODE_LEVEL);
  send1(pr[1]);

  port_shim_quirk(port, PORT_SHIM_QUIRK_NGET_STALE);
  n = raw_wait(m, ev, 8, MS(1000));
  check(n == -EINTR, "nget not updated, nothing written: -EINTR, no garbage");
  port_shim_quirk(aio_front_fd(f), PORT_SHIM_QUIRK_NGET_STALE);
  n = aio_front_wait(f, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 21, "... and the front's retry gets the event");

  port_shim_quirk(port, PORT_SHIM_QUIRK_SPURIOUS);
  n = raw_wait(m, ev, 8, -1);
  check(n == -EINTR, "spurious return with nget 0, no timeout: -EINTR (retry)");
  port_shim_quirk(port, PORT_SHIM_QUIRK_SPURIOUS);
  n = raw_wait(m, ev, 8, 0);
  check(n == 0, "spurious return with a zero timeout: 0");
  port_shim_quirk(aio_front_fd(f), PORT_SHIM_QUIRK_SPURIOUS);
  n = aio_front_wait(f, ev, 8, -1);
  check(n == 1 && ev[0].key == 21, "... and the front's retry gets the event");

  port_shim_quirk(port, PORT_SHIM_QUIRK_EINTR);
  n = raw_wait(m, ev, 8, MS(1000));
  check(n == -EINTR, "EINTR without events: -EINTR");

  port_shim_quirk(port, PORT_SHIM_QUIRK_EINTR_EVENTS);
  n = raw_wait(m, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 21, "EINTR with events: the events");

  port_shim_quirk(port, PORT_SHIM_QUIRK_ETIME_EVENTS);
  n = raw_wait(m, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 21, "ETIME with events: the events");
  n = raw_wait(m, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 21, "level still re-armed after the quirks");

  /* An event already taken by port_getn when a delete runs. */
  race.m = m;
  race.fd = pr[0];
  race.result = -1;
  port_shim_after_retrieve(port, race_delete, &race);
  n = raw_wait(m, ev, 8, MS(1000));
  check(race.result == 0 && n <= 0 && !(n > 0 && has_key(ev, n, 21)),
        "delete while its event is in flight: delete ok, event dropped (n=%d)",
        n);
  n = raw_wait(m, ev, 8, MS(50));
  check(n == 0, "and the level fd is not re-armed");

  /* ... and a modify. */
  aio_poller_add(m, pr[0], 22, AIO_READABLE, AIO_MODE_ONESHOT);
  race.result = -1;
  port_shim_after_retrieve(port, race_modify, &race);
  n = raw_wait(m, ev, 8, MS(1000));
  check(race.result == 0 && n <= 0,
        "modify while its event is in flight: stale event dropped (n=%d)", n);
  n = raw_wait(m, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 99, "the re-armed registration fires, new key");
  aio_poller_destroy(m);
  aio_front_destroy(f);
  close(pr[0]);
  close(pr[1]);
}

/* ---- the shim's own strictness ------------------------------------------ */

static void t_shim(void) {
  port_event_t list[4];
  struct timespec zero = {0, 0}, ms50 = {0, 50000000}, neg = {-1, 0},
                  big = {0, 1000000000L};
  struct pollfd pfd;
  int pr[2], pr2[2], port, fl, r;
  uint_t nget;
  double t;
  int a, b;

  port = port_create();
  fl = fcntl(port, F_GETFD);
  check(port >= 0 && fl >= 0 && !(fl & FD_CLOEXEC),
        "shim: port_create() is not close-on-exec (as on illumos)");
  make_pipe(pr);
  make_pipe(pr2);

  errno = 0;
  r = port_dissociate(port, PORT_SOURCE_FD, (uintptr_t)pr[0]);
  check(r == -1 && errno == ENOENT, "shim: dissociate on a fresh port: ENOENT");
  errno = 0;
  r = port_associate(port, PORT_SOURCE_USER, (uintptr_t)pr[0], POLLIN, NULL);
  check(r == -1 && errno == EINVAL, "shim: associate unknown source: EINVAL");
  errno = 0;
  r = port_associate(port, 99, (uintptr_t)pr[0], POLLIN, NULL);
  check(r == -1 && errno == EINVAL, "shim: associate source 99: EINVAL");
  errno = 0;
  r = port_associate(-1, PORT_SOURCE_FD, (uintptr_t)pr[0], POLLIN, NULL);
  check(r == -1 && errno == EBADF, "shim: bad port: EBADF");
  errno = 0;
  r = port_associate(pr[1], PORT_SOURCE_FD, (uintptr_t)pr[0], POLLIN, NULL);
  check(r == -1 && errno == EBADFD, "shim: an fd that is no port: EBADFD");
  errno = 0;
  r = port_associate(port, PORT_SOURCE_FD, 1000000, POLLIN, NULL);
  check(r == -1 && errno == EBADFD, "shim: object no open fd: EBADFD");
  errno = 0;
  r = port_associate(port, PORT_SOURCE_FD, (uintptr_t)INT_MAX + 1, POLLIN,
                     NULL);
  check(r == -1 && errno == EBADFD, "shim: object > INT_MAX: EBADFD");

  check(port_associate(port, PORT_SOURCE_FD, (uintptr_t)pr[0], POLLIN, &a) == 0,
        "shim: associate");
  errno = 0;
  r = port_dissociate(port, PORT_SOURCE_FD, (uintptr_t)pr2[0]);
  check(r == -1 && errno == ENOENT, "shim: dissociate unassociated fd: ENOENT");
  errno = 0;
  r = port_dissociate(port, PORT_SOURCE_FD, 1000000);
  check(r == -1 && errno == EBADFD, "shim: dissociate bad fd: EBADFD");
  check(port_associate(port, PORT_SOURCE_FD, (uintptr_t)pr[0], POLLIN, &b) == 0,
        "shim: associating again is accepted silently");
  send1(pr[1]);
  pfd.fd = port;
  pfd.events = POLLIN;
  check(poll(&pfd, 1, 1000) == 1, "shim: the port fd polls readable");
  nget = 1;
  r = port_getn(port, list, 4, &nget, &ms50);
  check(r == 0 && nget == 1 && list[0].portev_source == PORT_SOURCE_FD &&
            list[0].portev_object == (uintptr_t)pr[0] &&
            list[0].portev_user == &b && (list[0].portev_events & POLLIN),
        "shim: one event, with the replacing user value");
  nget = 1;
  r = port_getn(port, list, 4, &nget, &ms50);
  check(r == -1 && errno == ETIME && nget == 0,
        "shim: one-shot: no second event though still readable");
  errno = 0;
  r = port_dissociate(port, PORT_SOURCE_FD, (uintptr_t)pr[0]);
  check(r == -1 && errno == ENOENT,
        "shim: dissociate after the event was retrieved: ENOENT");

  check(port_associate(port, PORT_SOURCE_FD, (uintptr_t)pr[0], POLLIN, &a) == 0,
        "shim: re-associate (fires at once: data is there)");
  nget = 0;
  check(port_getn(port, list, 0, &nget, NULL) == 0 && nget == 1,
        "shim: max 0 counts what is queued (1)");
  check(port_dissociate(port, PORT_SOURCE_FD, (uintptr_t)pr[0]) == 0,
        "shim: dissociate with its event queued: 0");
  nget = 1;
  r = port_getn(port, list, 4, &nget, &zero);
  check(
      r == 0 && nget == 0,
      "shim: ... and the event is gone; zero timeout with nothing: 0, nget 0");

  /* ETIME with events: one ready, two asked for. */
  check(port_associate(port, PORT_SOURCE_FD, (uintptr_t)pr[0], POLLIN, &a) == 0,
        "shim: associate for ETIME-with-events");
  nget = 2;
  t = now_ms();
  r = port_getn(port, list, 4, &nget, &ms50);
  check(r == -1 && errno == ETIME && nget == 1 && list[0].portev_user == &a &&
            now_ms() - t >= 49,
        "shim: timeout with 1 of 2 events: -1/ETIME and nget 1");

  errno = 0;
  nget = 5;
  r = port_getn(port, list, 4, &nget, &zero);
  check(r == -1 && errno == EINVAL && nget == 5,
        "shim: nget > max: EINVAL, nget untouched");
  errno = 0;
  r = port_getn(port, list, 4, NULL, &zero);
  check(r == -1 && errno == EINVAL, "shim: nget NULL: EINVAL");
  errno = 0;
  nget = 1;
  r = port_getn(port, list, 4, &nget, &neg);
  check(r == -1 && errno == EINVAL, "shim: negative timeout: EINVAL");
  errno = 0;
  nget = 1;
  r = port_getn(port, list, 4, &nget, &big);
  check(r == -1 && errno == EINVAL, "shim: tv_nsec >= 1e9: EINVAL");
  errno = 0;
  nget = 1;
  r = port_getn(port, NULL, 4, &nget, &zero);
  check(r == -1 && errno == EFAULT, "shim: list NULL: EFAULT");
  nget = 0;
  r = port_getn(port, list, 4, &nget, NULL);
  check(r == 0 && nget == 0, "shim: nget 0 returns at once");

  /* port_send: queued, one event per call, source USER. */
  check(port_send(port, 7, &a) == 0 && port_send(port, 8, &b) == 0,
        "shim: port_send twice");
  check(poll(&pfd, 1, 0) == 1, "shim: user events make the port readable");
  nget = 1;
  r = port_getn(port, list, 4, &nget, NULL);
  check(r == 0 && nget == 2 && list[0].portev_source == PORT_SOURCE_USER &&
            list[0].portev_events == 7 && list[0].portev_user == &a &&
            list[1].portev_events == 8 && list[1].portev_user == &b,
        "shim: two user events, in order, not coalesced");
  check(poll(&pfd, 1, 0) == 0, "shim: port not readable once drained");
  errno = 0;
  r = port_send(pr[0], 0, NULL);
  check(r == -1 && errno == EBADFD, "shim: port_send to no port: EBADFD");

  close(port);
  errno = 0;
  r = port_send(port, 0, NULL);
  check(r == -1 && errno == EBADF, "shim: port_send to a closed port: EBADF");
  close(pr[0]);
  close(pr[1]);
  close(pr2[0]);
  close(pr2[1]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  t_identity();
  t_lifecycle();
  t_readiness();
  t_errors();
  t_modes();
  t_notify();
  t_threads();
  t_hangup();
  t_priority();
  t_timeouts();
  t_delete();
  t_many();
  t_quirks();
  t_shim();
  printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
