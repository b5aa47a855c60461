/* The C contract suite: what backend.h promises, checked through the front
 * (backend-core's front.c, the very loop the addon runs) against whichever
 * mechanism file it is linked with. What a backend may lack (edge modes,
 * priority, a kernel poller fd) is asked of aio_backend_caps() and
 * aio_front_fd(), never guessed from its name. One line per check; exits
 * non-zero if any failed. Built by contract.mk. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>

#include "harness.h"

static unsigned caps;

static int has(unsigned cap) {
  return (caps & cap) != 0;
}

/* Registrations that the kernel tracks per open file (epoll, kqueue, event
 * ports), rather than by fd number (poll, which has no poller fd). */
static int kernel_tracked(aio_front_t* p) {
  return aio_front_fd(p) >= 0;
}

/* What delete says of a number that is not registered. For one that is not
 * even open, a kernel that looks at the fd first (epoll) says EBADF. */
static int unregistered(int err, int open) {
  return err == -ENOENT || (!open && err == -EBADF);
}

static int modes_supported(aio_mode_t mode) {
  return mode == AIO_MODE_ONESHOT || mode == AIO_MODE_LEVEL ||
         has(AIO_CAP_EDGE);
}

static void tcp_pair(int* listener, int* client, int* server) {
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  *listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*listener < 0 || bind(*listener, (struct sockaddr*)&sa, sizeof(sa)) < 0 ||
      listen(*listener, 1) < 0 ||
      getsockname(*listener, (struct sockaddr*)&sa, &len) < 0)
    die("listen");
  *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*client < 0 || connect(*client, (struct sockaddr*)&sa, sizeof(sa)) < 0)
    die("connect");
  *server = accept4(*listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (*server < 0)
    die("accept");
}

/* ---- identity and lifecycle ---------------------------------------------- */

static void t_identity(void) {
  const char* name = aio_backend_name();
  int op, named = 1;
  check(strcmp(name, "epoll") == 0 || strcmp(name, "kqueue") == 0 ||
            strcmp(name, "event-ports") == 0 || strcmp(name, "poll") == 0,
        "identity: the name is a known backend (%s)", name);
  check((caps & AIO_CAP_LEVEL) &&
            (caps & ~(AIO_CAP_LEVEL | AIO_CAP_EDGE | AIO_CAP_PRIORITY |
                      AIO_CAP_QUEUED | AIO_CAP_LEVEL_REARMED)) == 0,
        "identity: caps include level and nothing unknown (%#x)", caps);
  for (op = AIO_OP_CREATE; op <= AIO_OP_NOTIFY; op++) {
    const char* s = aio_backend_syscall((aio_op_t)op);
    named &= s != NULL && s[0] != '\0';
  }
  check(named, "identity: every op names the syscall its errors come from");
}

static void t_lifecycle(void) {
  char before[1024];
  int fd, found = 0, cloexec = 0, n0, i, pfd;
  aio_front_t* many[50];
  aio_front_t* p;
  /* A kernel emulation may open process-wide fds on first use. */
  aio_front_destroy(mk());
  for (fd = 0; fd < 1024; fd++)
    before[fd] = fcntl(fd, F_GETFD) >= 0;
  p = mk();
  for (fd = 0; fd < 1024; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (before[fd] || fl < 0)
      continue;
    found++;
    cloexec += (fl & FD_CLOEXEC) != 0;
  }
  check(found >= 1 && cloexec == found,
        "lifecycle: every fd a poller opens is close-on-exec (%d of %d)",
        cloexec, found);
  pfd = aio_front_fd(p);
  check(pfd == -1 || (pfd >= 0 && pfd < 1024 && !before[pfd] &&
                      fcntl(pfd, F_GETFD) >= 0),
        "lifecycle: the poller fd is -1 or one the poller opened (%d)", pfd);
  aio_front_destroy(p);
  for (fd = 0, i = 0; fd < 1024; fd++)
    i += !before[fd] && fcntl(fd, F_GETFD) >= 0;
  check(i == 0, "lifecycle: destroy closes every fd the poller opened");
  n0 = count_fds();
  for (i = 0; i < 50; i++)
    many[i] = mk();
  for (i = 0; i < 50; i++)
    aio_front_notify(many[i]);
  for (i = 0; i < 50; i++)
    aio_front_destroy(many[i]);
  check(count_fds() == n0,
        "lifecycle: 50 pollers created, notified and destroyed leak no fd");
}

/* ---- the front's checks -------------------------------------------------- */

static void t_arguments(void) {
  aio_event_t ev[4];
  int pr[2], n;
  aio_front_t* p = mk();
  make_pipe(pr);
  check(aio_front_add(p, -1, 1, AIO_READABLE, AIO_MODE_ONESHOT) == -EBADF &&
            aio_front_modify(p, -1, 1, AIO_READABLE, AIO_MODE_ONESHOT) ==
                -EBADF &&
            aio_front_delete(p, -1) == -EBADF,
        "arguments: fd -1 is EBADF for add, modify and delete");
  check(aio_front_add(p, pr[0], AIO_NOTIFY_KEY, AIO_READABLE,
                      AIO_MODE_ONESHOT) == -EINVAL,
        "arguments: the reserved key is EINVAL");
  check(aio_front_add(p, pr[0], 1, 0x8, AIO_MODE_ONESHOT) == -EINVAL &&
            aio_front_add(p, pr[0], 1, AIO_HANGUP, AIO_MODE_ONESHOT) == -EINVAL,
        "arguments: interest beyond readable/writable/priority is EINVAL");
  check(aio_front_add(p, pr[0], 1, AIO_READABLE, 4) == -EINVAL &&
            aio_front_add(p, pr[0], 1, AIO_READABLE, -1) == -EINVAL,
        "arguments: an unknown mode is EINVAL");
  check(aio_front_delete(p, pr[0]) == -ENOENT,
        "arguments: a refused add registers nothing");
  check(aio_front_wait(p, ev, 0, 0) == -EINVAL &&
            aio_front_wait(p, ev, -1, 0) == -EINVAL &&
            aio_front_wait(p, NULL, 4, 0) == -EINVAL,
        "arguments: capacity <= 0 or no event buffer is EINVAL");

  if (!has(AIO_CAP_EDGE)) {
    check(aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_EDGE) == -ENOTSUP &&
              aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_EDGE_ONESHOT) ==
                  -ENOTSUP,
          "caps: edge modes without AIO_CAP_EDGE are ENOTSUP");
    check(aio_front_delete(p, pr[0]) == -ENOENT,
          "caps: nothing half-registered after ENOTSUP");
  }
  if (!has(AIO_CAP_PRIORITY)) {
    check(aio_front_add(p, pr[0], 1, AIO_READABLE | AIO_PRIORITY,
                        AIO_MODE_LEVEL) == -ENOTSUP,
          "caps: priority without AIO_CAP_PRIORITY is ENOTSUP");
  }
  /* A refused modify leaves the registration as it was. */
  check(aio_front_add(p, pr[0], 5, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "arguments: add");
  check(aio_front_modify(p, pr[0], 6, AIO_READABLE, 9) == -EINVAL,
        "arguments: a modify to an unknown mode is EINVAL");
  if (!has(AIO_CAP_EDGE))
    check(
        aio_front_modify(p, pr[0], 6, AIO_READABLE, AIO_MODE_EDGE) == -ENOTSUP,
        "caps: a modify to edge without AIO_CAP_EDGE is ENOTSUP");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 4, MS(1000));
  check(n == 1 && ev[0].key == 5,
        "arguments: ... and the registration still fires with its old key");
  aio_front_destroy(p);
  close2(pr);
}

/* ---- registration -------------------------------------------------------- */

static void t_errors(void) {
  int pr[2], closed[2];
  aio_front_t* p = mk();
  make_pipe(pr);
  check(aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "errors: add");
  check(aio_front_add(p, pr[0], 2, AIO_READABLE, AIO_MODE_LEVEL) == -EEXIST,
        "errors: a second add is EEXIST");
  check(
      aio_front_modify(p, pr[1], 1, AIO_WRITABLE, AIO_MODE_ONESHOT) == -ENOENT,
      "errors: modify of an fd never added is ENOENT");
  check(aio_front_delete(p, pr[1]) == -ENOENT,
        "errors: delete of an fd never added is ENOENT");
  check(unregistered(aio_front_delete(p, 100000), 0),
        "errors: delete of a huge fd number is ENOENT (or EBADF)");
  check(aio_front_delete(p, pr[0]) == 0, "errors: delete");
  check(
      aio_front_modify(p, pr[0], 1, AIO_READABLE, AIO_MODE_ONESHOT) == -ENOENT,
      "errors: modify after delete is ENOENT");
  check(aio_front_delete(p, pr[0]) == -ENOENT,
        "errors: a second delete is ENOENT");
  check(aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "errors: add again after delete");
  check(aio_front_add(p, 1000000, 1, AIO_READABLE, AIO_MODE_ONESHOT) == -EBADF,
        "errors: add of a never-opened fd is EBADF");
  check(aio_front_add(p, 1000000, 1, 0, AIO_MODE_ONESHOT) == -EBADF,
        "errors: ... with no interest too");
  make_pipe(closed);
  close2(closed);
  check(
      aio_front_add(p, closed[0], 1, AIO_READABLE, AIO_MODE_ONESHOT) == -EBADF,
      "errors: add of a closed fd is EBADF");
  check(unregistered(aio_front_delete(p, closed[0]), 0),
        "errors: a failed add registers nothing");
  aio_front_destroy(p);
  close2(pr);
}

static void t_readiness(void) {
  aio_event_t ev[8];
  int pr[2], sp[2], n;
  aio_front_t* p = mk();
  make_pipe(pr);
  check(aio_front_add(p, pr[0], 42, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "readiness: add a pipe's read end");
  check(aio_front_wait(p, ev, 8, 0) == 0, "readiness: an empty pipe: nothing");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 42 && ev[0].flags == AIO_READABLE,
        "readiness: the pipe turns readable, with its key and only READABLE "
        "(n=%d flags=%#x)",
        n, n > 0 ? ev[0].flags : 0);
  make_socketpair(sp);
  check(aio_front_add(p, sp[0], 1, AIO_WRITABLE, AIO_MODE_ONESHOT) == 0,
        "readiness: add a socket for writable");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 1 && ev[0].flags == AIO_WRITABLE,
        "readiness: a socket is writable at once");
  check(aio_front_modify(p, sp[0], 2, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "readiness: modify to readable");
  check(aio_front_wait(p, ev, 8, 0) == 0, "readiness: nothing to read yet");
  if (write(sp[1], "hello", 5) != 5)
    die("write");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 2 && ev[0].flags == AIO_READABLE,
        "readiness: readable once the peer writes, with the new key");
  check(drain(sp[0]) == 5, "readiness: 5 bytes");

  send1(sp[1]);
  check(aio_front_modify(p, sp[0], 3, AIO_READABLE | AIO_WRITABLE,
                         AIO_MODE_LEVEL) == 0,
        "readiness: modify to readable+writable, level");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(
      n == 1 && ev[0].key == 3 && ev[0].flags == (AIO_READABLE | AIO_WRITABLE),
      "readiness: one event per fd, with both bits (n=%d flags=%#x)", n,
      n > 0 ? ev[0].flags : 0);
  check(aio_front_modify(p, sp[0], 4, AIO_READABLE | AIO_WRITABLE,
                         AIO_MODE_ONESHOT) == 0,
        "readiness: modify to readable+writable, oneshot");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(
      n == 1 && ev[0].key == 4 && ev[0].flags == (AIO_READABLE | AIO_WRITABLE),
      "readiness: oneshot: one event with both bits");
  check(aio_front_wait(p, ev, 8, MS(30)) == 0,
        "readiness: oneshot: then the whole fd is disarmed");
  aio_front_destroy(p);
  close2(pr);
  close2(sp);
}

static void t_modes(void) {
  aio_event_t ev[8];
  int pr[2], n, i;
  aio_front_t* p = mk();
  make_pipe(pr);

  check(aio_front_add(p, pr[0], 5, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "oneshot: add");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 5, "oneshot: fires");
  check(aio_front_wait(p, ev, 8, 0) == 0, "oneshot: not again");
  send1(pr[1]);
  check(aio_front_wait(p, ev, 8, MS(50)) == 0,
        "oneshot: not again after more data");
  check(aio_front_modify(p, pr[0], 6, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "oneshot: modify re-arms");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 6, "oneshot: re-armed, fires with the new key");
  check(aio_front_wait(p, ev, 8, 0) == 0, "oneshot: and not again");
  check(aio_front_add(p, pr[0], 9, AIO_READABLE, AIO_MODE_LEVEL) == -EEXIST,
        "oneshot: a fired registration is still registered (EEXIST)");
  check(aio_front_delete(p, pr[0]) == 0, "oneshot: delete of a fired one");
  drain(pr[0]);

  check(aio_front_add(p, pr[0], 7, AIO_READABLE, AIO_MODE_LEVEL) == 0,
        "level: add");
  send1(pr[1]);
  for (i = 0; i < 3; i++) {
    n = aio_front_wait(p, ev, 8, MS(1000));
    check(n == 1 && ev[0].key == 7,
          "level: fires on every wait while readable (%d)", i + 1);
  }
  drain(pr[0]);
  check(aio_front_wait(p, ev, 8, 0) == 0, "level: stops once drained");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 7, "level: fires again on new data");

  if (has(AIO_CAP_EDGE)) {
    check(aio_front_modify(p, pr[0], 8, AIO_READABLE, AIO_MODE_EDGE) == 0,
          "edge: modify from level");
    n = aio_front_wait(p, ev, 8, MS(1000));
    check(n == 1 && ev[0].key == 8, "edge: fires for what is there");
    check(aio_front_wait(p, ev, 8, MS(30)) == 0,
          "edge: not again without new data (data still unread)");
    send1(pr[1]);
    n = aio_front_wait(p, ev, 8, MS(1000));
    check(n == 1 && ev[0].key == 8, "edge: fires on new data");
    check(aio_front_wait(p, ev, 8, MS(30)) == 0, "edge: then quiet");
    drain(pr[0]);
    check(aio_front_modify(p, pr[0], 10, AIO_READABLE, AIO_MODE_EDGE_ONESHOT) ==
              0,
          "edge-oneshot: modify from edge");
    check(aio_front_wait(p, ev, 8, MS(20)) == 0, "edge-oneshot: nothing yet");
    send1(pr[1]);
    n = aio_front_wait(p, ev, 8, MS(1000));
    check(n == 1 && ev[0].key == 10, "edge-oneshot: fires");
    send1(pr[1]);
    check(aio_front_wait(p, ev, 8, MS(30)) == 0,
          "edge-oneshot: not again after new data");
    check(aio_front_modify(p, pr[0], 11, AIO_READABLE, AIO_MODE_EDGE_ONESHOT) ==
              0,
          "edge-oneshot: modify re-arms");
    n = aio_front_wait(p, ev, 8, MS(1000));
    check(n == 1 && ev[0].key == 11,
          "edge-oneshot: re-armed, reports the pending data");
  }
  check(aio_front_modify(p, pr[0], 12, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "modes: back to oneshot");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 12, "modes: fires once more as oneshot");
  check(aio_front_modify(p, pr[0], 13, 0, AIO_MODE_LEVEL) == 0,
        "modes: modify to no interest");
  check(aio_front_wait(p, ev, 8, MS(30)) == 0, "modes: no interest, no event");
  check(aio_front_delete(p, pr[0]) == 0, "modes: delete");
  aio_front_destroy(p);
  close2(pr);
}

/* ---- notify -------------------------------------------------------------- */

static void t_notify(void) {
  aio_event_t ev[8];
  int pr[2], n;
  double t;
  aio_front_t* p = mk();
  check(aio_front_notify(p) == 0, "notify: returns 0");
  t = now_ms();
  n = aio_front_wait(p, ev, 8, MS(10000));
  check(n == 0 && now_ms() - t < 10000,
        "notify: before a wait, the wait returns before its timeout, with no "
        "event (n=%d)",
        n);
  aio_front_notify(p);
  aio_front_notify(p);
  aio_front_notify(p);
  t = now_ms();
  n = aio_front_wait(p, ev, 8, MS(10000));
  check(n == 0 && now_ms() - t < 10000, "notify: three notifies wake one wait");
  t = now_ms();
  n = aio_front_wait(p, ev, 8, MS(50));
  check(n == 0 && now_ms() - t >= 49,
        "notify: coalesced, so the next wait times out (%.1f ms)",
        now_ms() - t);

  /* A notify and an fd event, room for one: neither is lost. */
  make_pipe(pr);
  aio_front_add(p, pr[0], 3, AIO_READABLE, AIO_MODE_ONESHOT);
  aio_front_notify(p);
  send1(pr[1]);
  n = aio_front_wait(p, ev, 1, MS(1000));
  if (n == 0)
    n = aio_front_wait(p, ev, 1, MS(1000));
  check(n == 1 && ev[0].key == 3,
        "notify: capacity 1, the fd event survives a notify");
  t = now_ms();
  check(aio_front_wait(p, ev, 8, MS(30)) == 0 && now_ms() - t >= 29,
        "notify: and no wake-up is left over");
  check(!has_key(ev, 8, AIO_NOTIFY_KEY), "notify: never an event");
  aio_front_destroy(p);
  close2(pr);
}

/* ---- threads and signals ------------------------------------------------- */

typedef struct {
  aio_front_t* p;
  int fd;
  int wfd;
  int delay_ms;
  int result;
  int issued; /* set (release) just before the call: orders it before a wake */
} job_t;

static void* notify_later(void* arg) {
  job_t* j = (job_t*)arg;
  sleep_ms(j->delay_ms);
  __atomic_store_n(&j->issued, 1, __ATOMIC_RELEASE);
  j->result = aio_front_notify(j->p);
  return NULL;
}

static void* add_later(void* arg) {
  job_t* j = (job_t*)arg;
  sleep_ms(j->delay_ms);
  j->result = aio_front_add(j->p, j->fd, 77, AIO_READABLE, AIO_MODE_ONESHOT);
  return NULL;
}

static void* modify_later(void* arg) {
  job_t* j = (job_t*)arg;
  sleep_ms(j->delay_ms);
  j->result = aio_front_modify(j->p, j->fd, 78, AIO_READABLE, AIO_MODE_ONESHOT);
  return NULL;
}

static void* delete_later(void* arg) {
  job_t* j = (job_t*)arg;
  sleep_ms(j->delay_ms);
  j->result = aio_front_delete(j->p, j->fd);
  send1(j->wfd);
  sleep_ms(j->delay_ms);
  aio_front_notify(j->p);
  return NULL;
}

static void run_later(job_t* j, void* (*fn)(void*), pthread_t* th) {
  if (pthread_create(th, NULL, fn, j) != 0)
    die("pthread_create");
}

static void t_threads(void) {
  aio_event_t ev[8];
  pthread_t th;
  job_t j;
  int pr[2], n, woke_after;
  aio_front_t* p = mk();
  make_pipe(pr);
  j.p = p;
  j.fd = pr[0];
  j.wfd = pr[1];
  j.delay_ms = 100;
  j.issued = 0;
  /* Order, not time: the wait may only return after the other thread began
   * its notify (a wall-clock lower bound flaked on a loaded machine). */
  run_later(&j, notify_later, &th);
  n = aio_front_wait(p, ev, 8, -1);
  woke_after = __atomic_load_n(&j.issued, __ATOMIC_ACQUIRE);
  pthread_join(th, NULL);
  check(n == 0 && j.result == 0 && woke_after,
        "threads: a notify from another thread wakes a wait with no timeout "
        "(n=%d, returned %s the notify)",
        n, woke_after ? "after" : "before");
  send1(pr[1]);
  run_later(&j, add_later, &th);
  n = aio_front_wait(p, ev, 8, MS(20000));
  pthread_join(th, NULL);
  check(n == 1 && ev[0].key == 77 && j.result == 0,
        "threads: an add from another thread reaches a blocked wait");
  run_later(&j, modify_later, &th);
  n = aio_front_wait(p, ev, 8, MS(20000));
  pthread_join(th, NULL);
  check(n == 1 && ev[0].key == 78 && j.result == 0,
        "threads: a modify from another thread re-arms during a blocked wait");
  drain(pr[0]);
  aio_front_modify(p, pr[0], 79, AIO_READABLE, AIO_MODE_ONESHOT);
  j.delay_ms = 50;
  run_later(&j, delete_later, &th);
  n = aio_front_wait(p, ev, 8, MS(20000));
  pthread_join(th, NULL);
  check(n == 0 && j.result == 0,
        "threads: a delete from another thread during a wait: no event for "
        "that fd");
  check(aio_front_wait(p, ev, 8, 0) == 0, "threads: nor later");

  /* Level and ready the whole time: once delete returned, no wait reports
   * the fd. */
  aio_front_add(p, pr[0], 44, AIO_READABLE, AIO_MODE_LEVEL);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 44, "threads: a level fd, ready");
  j.delay_ms = 0;
  run_later(&j, delete_later, &th);
  pthread_join(th, NULL);
  n = aio_front_wait(p, ev, 8, MS(20));
  check(n == 0 && j.result == 0,
        "threads: no event after a delete from another thread returned");
  aio_front_destroy(p);
  close2(pr);
}

static void* signal_later(void* arg) {
  pthread_t target = *(pthread_t*)arg;
  int i;
  for (i = 0; i < 5; i++) {
    sleep_ms(30);
    pthread_kill(target, SIGUSR1);
  }
  return NULL;
}

/* The front's EINTR retry is the production loop, so this is the addon's
 * behaviour: a signal never ends a wait early nor makes it longer than its
 * deadline allows. */
static void t_signals(void) {
  aio_event_t ev[4];
  pthread_t th, self = pthread_self();
  int pr[2], n;
  double t;
  aio_front_t* p = mk();
  catch_sigusr1();
  if (pthread_create(&th, NULL, signal_later, &self) != 0)
    die("pthread_create");
  t = now_ms();
  n = aio_front_wait(p, ev, 4, MS(300));
  pthread_join(th, NULL);
  check(n == 0 && now_ms() - t >= 299,
        "signals: five signals during a 300 ms wait: it times out, no EINTR "
        "(n=%d, %.0f ms)",
        n, now_ms() - t);
  make_pipe(pr);
  aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_ONESHOT);
  if (pthread_create(&th, NULL, signal_later, &self) != 0)
    die("pthread_create");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 4, -1);
  pthread_join(th, NULL);
  check(n == 1 && ev[0].key == 1,
        "signals: an event during a signal storm is still delivered");
  signal(SIGUSR1, SIG_DFL);
  aio_front_destroy(p);
  close2(pr);
}

/* ---- what the kernel reports --------------------------------------------- */

static void t_hangup(void) {
  aio_event_t ev[8];
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int pr[2], sp[2], n, lfd, cfd;
  aio_front_t* p = mk();
  make_pipe(pr);
  aio_front_add(p, pr[0], 4, AIO_READABLE, AIO_MODE_ONESHOT);
  close(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 4 && ev[0].flags == (AIO_READABLE | AIO_HANGUP),
        "hangup: a pipe is READABLE|HANGUP once its write end closes "
        "(flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  check(aio_front_wait(p, ev, 8, MS(30)) == 0, "hangup: oneshot, so not again");
  check(aio_front_delete(p, pr[0]) == 0, "hangup: delete of the fired pipe");
  close(pr[0]);
  make_socketpair(sp);
  aio_front_add(p, sp[0], 3, AIO_READABLE, AIO_MODE_ONESHOT);
  close(sp[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 3 && (ev[0].flags & AIO_HANGUP) &&
            (ev[0].flags & AIO_READABLE) && !(ev[0].flags & AIO_ERROR),
        "hangup: a socket is readable + hangup, no error, when the peer "
        "closes (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  aio_front_delete(p, sp[0]);
  close(sp[0]);

  /* A refused connect: the socket error comes with the hangup. */
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || bind(lfd, (struct sockaddr*)&sa, sizeof(sa)) < 0 ||
      getsockname(lfd, (struct sockaddr*)&sa, &len) < 0)
    die("bind");
  close(lfd); /* nobody listens on that port now */
  cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (cfd < 0 || (connect(cfd, (struct sockaddr*)&sa, sizeof(sa)) < 0 &&
                  errno != EINPROGRESS && errno != ECONNREFUSED))
    die("connect");
  aio_front_add(p, cfd, 9, AIO_WRITABLE, AIO_MODE_ONESHOT);
  n = aio_front_wait(p, ev, 8, MS(2000));
  check(n == 1 && ev[0].key == 9 &&
            (ev[0].flags & (AIO_WRITABLE | AIO_HANGUP | AIO_ERROR)) ==
                (AIO_WRITABLE | AIO_HANGUP | AIO_ERROR),
        "hangup: a refused connect is writable + hangup + error (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  close(cfd);
  aio_front_destroy(p);
}

static void t_priority(void) {
  aio_event_t ev[8];
  int lfd, cfd, afd, n;
  aio_front_t* p;
  if (!has(AIO_CAP_PRIORITY))
    return; /* the caps gate is checked in t_arguments */
  p = mk();
  tcp_pair(&lfd, &cfd, &afd);
  check(aio_front_add(p, afd, 9, AIO_PRIORITY, AIO_MODE_ONESHOT) == 0,
        "priority: add a TCP socket");
  check(aio_front_wait(p, ev, 8, MS(20)) == 0,
        "priority: no urgent data, no event");
  if (send(cfd, "!", 1, MSG_OOB) != 1)
    die("send MSG_OOB");
  n = aio_front_wait(p, ev, 8, MS(2000));
  check(n == 1 && ev[0].key == 9 && ev[0].flags == AIO_PRIORITY,
        "priority: an MSG_OOB byte is PRIORITY only (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  aio_front_destroy(p);
  close(afd);
  close(cfd);
  close(lfd);
}

/* ---- timeouts ------------------------------------------------------------ */

static void t_timeouts(void) {
  aio_event_t ev[8];
  int pr[2], i, ok = 1;
  double t, took;
  aio_front_t* p = mk();
  make_pipe(pr);
  aio_front_add(p, pr[0], 1, AIO_READABLE, AIO_MODE_ONESHOT);
  /* A zero timeout that blocked would never return: the watchdog says so. */
  for (i = 0; i < 100; i++)
    ok &= aio_front_wait(p, ev, 8, 0) == 0;
  check(ok, "timeouts: a zero timeout returns 0 at once, 100 times");
  t = now_ms();
  ok = aio_front_wait(p, ev, 8, MS(50)) == 0;
  took = now_ms() - t;
  check(ok && took >= 50, "timeouts: 50 ms, not early (%.2f ms)", took);
  t = now_ms();
  ok = aio_front_wait(p, ev, 8, 200000) == 0;
  took = now_ms() - t;
  check(ok && took >= 0.2, "timeouts: 0.2 ms, not early (%.3f ms)", took);
  t = now_ms();
  ok = aio_front_wait(p, ev, 8, MS(1000)) == 0;
  took = now_ms() - t;
  check(ok && took >= 1000, "timeouts: 1 s, not early (%.1f ms)", took);
  aio_front_destroy(p);
  close2(pr);
}

/* ---- delete, close and reuse --------------------------------------------- */

static double thread_cpu_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    die("clock_gettime");
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* How many events in ev[0..n) have `key` with exactly `flags`; *ready
 * counts its others. */
static int count_key(const aio_event_t* ev, int n, uint32_t key, uint32_t flags,
                     int* ready) {
  int i, c = 0;
  for (i = 0; i < n; i++) {
    if (ev[i].key != key)
      continue;
    if (ev[i].flags == flags)
      c++;
    else
      (*ready)++;
  }
  return c;
}

static void t_delete_reuse(void) {
  aio_event_t ev[8];
  int pr[2], pr2[2], n, fd, mode, seen, ready = 0, got13, round;
  aio_front_t* p = mk();
  make_pipe(pr);
  aio_front_add(p, pr[0], 11, AIO_READABLE, AIO_MODE_LEVEL);
  send1(pr[1]);
  check(aio_front_delete(p, pr[0]) == 0, "reuse: delete a ready level fd");
  check(aio_front_wait(p, ev, 8, MS(50)) == 0, "reuse: then no event for it");
  close2(pr);

  /* Closed without delete, number reused (polling #262), in every mode and
   * on every backend alike: the front knows the file each registration was
   * made for. The old key is reported once, gone (AIO_GONE | AIO_ERROR),
   * never ready for the new file; an add of the new file under the number
   * succeeds. */
  for (mode = 0; mode < 4; mode++) {
    if (!modes_supported((aio_mode_t)mode))
      continue;
    ready = 0;
    make_pipe(pr);
    aio_front_add(p, pr[0], 12, AIO_READABLE, mode);
    send1(pr[1]);
    if (mode == AIO_MODE_LEVEL)
      aio_front_wait(p, ev, 8, 0); /* delivered once, queued again */
    fd = pr[0];
    close2(pr);
    make_pipe(pr2);
    if (pr2[0] != fd)
      die("fd number not reused");
    send1(pr2[1]);
    n = aio_front_wait(p, ev, 8, 0);
    seen = count_key(ev, n, 12, AIO_GONE | AIO_ERROR, &ready);
    check(ready == 0,
          "reuse: mode %d, the closed fd's key never reports the new file",
          mode);
    check(aio_front_add(p, pr2[0], 13, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
          "reuse: mode %d, an add of the new file under the old number "
          "succeeds",
          mode);
    got13 = 0;
    for (round = 0; round < 3 && !got13; round++) {
      n = aio_front_wait(p, ev, 8, MS(1000));
      seen += count_key(ev, n, 12, AIO_GONE | AIO_ERROR, &ready);
      got13 = has_key(ev, n, 13);
    }
    check(got13 && ready == 0,
          "reuse: mode %d, the new file reports its own key", mode);
    check(seen <= 1 && (seen == 1 || kernel_tracked(p)),
          "reuse: mode %d, the old key is reported gone at most once "
          "(%d; poll: exactly once)",
          mode, seen);
    check(
        aio_front_add(p, pr2[0], 14, AIO_READABLE, AIO_MODE_ONESHOT) == -EEXIST,
        "reuse: mode %d, and it is registered (EEXIST)", mode);
    check(aio_front_delete(p, pr2[0]) == 0, "reuse: mode %d, delete", mode);
    close2(pr2);
  }

  /* A fired oneshot, then closed and its number reused. */
  make_pipe(pr);
  aio_front_add(p, pr[0], 15, AIO_READABLE, AIO_MODE_ONESHOT);
  send1(pr[1]);
  aio_front_wait(p, ev, 8, MS(1000));
  fd = pr[0];
  close2(pr);
  make_pipe(pr2);
  n = aio_front_add(p, pr2[0], 16, AIO_READABLE, AIO_MODE_ONESHOT);
  check(pr2[0] == fd && n == 0,
        "reuse: a fired oneshot closed and reused: add succeeds");
  n = aio_front_wait(p, ev, 8, 0);
  check(n == 1 && ev[0].key == 15 && ev[0].flags == (AIO_GONE | AIO_ERROR),
        "reuse: and its old key is reported gone, once");
  check(aio_front_modify(p, pr2[0], 16, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "reuse: the new registration re-arms");
  aio_front_delete(p, pr2[0]);
  close2(pr2);

  /* The old file still open elsewhere (a child that inherited it; here a
   * dup), its number closed and reused by a file nobody registered: epoll
   * keeps reporting the old file under the old registration (epoll(7), Q6).
   * The key is told once that it is gone, never that it is ready. */
  for (mode = 0; mode < 4; mode++) {
    int other;
    if (!modes_supported((aio_mode_t)mode))
      continue;
    make_pipe(pr);
    other = dup(pr[0]);
    if (other < 0)
      die("dup");
    aio_front_add(p, pr[0], 18, AIO_READABLE, mode);
    fd = pr[0];
    close(pr[0]);
    make_pipe(pr2);
    if (pr2[0] != fd)
      die("fd number not reused");
    send1(pr[1]); /* the old file turns readable */
    send1(pr2[1]);
    seen = 0;
    ready = 0;
    for (round = 0; round < 3; round++) {
      n = aio_front_wait(p, ev, 8, MS(50));
      seen += count_key(ev, n, 18, AIO_GONE | AIO_ERROR, &ready);
    }
    check(ready == 0 && seen <= 1,
          "reuse: mode %d, old file open elsewhere: its key never ready for "
          "the number's new file, gone at most once (%d)",
          mode, seen);
    {
      /* A registration the kernel keeps (epoll) must not keep firing: a
       * 200 ms wait then sleeps (a spinning one took 28 ms of CPU here at
       * load 9). CPU time, not wall time: load can only make a spinning
       * wait look cheaper, never a sleeping one dearer. */
      double cpu = thread_cpu_ms();
      n = aio_front_wait(p, ev, 8, MS(200));
      cpu = thread_cpu_ms() - cpu;
      check(n == 0 && cpu < 5,
            "reuse: mode %d, old file open elsewhere: then a wait sleeps "
            "(%d events, %.1f ms CPU in 200 ms)",
            mode, n, cpu);
    }
    n = aio_front_delete(p, fd);
    check(n == 0 || unregistered(n, 1),
          "reuse: mode %d, deleting it by the number: done or unknown (%d)",
          mode, n);
    check(aio_front_add(p, pr2[0], 19, AIO_READABLE, AIO_MODE_ONESHOT) == 0 &&
              (n = aio_front_wait(p, ev, 8, MS(1000))) >= 1 &&
              has_key(ev, n, 19),
          "reuse: mode %d, the new file registers and reports its key", mode);
    aio_front_delete(p, pr2[0]);
    close(other);
    close(pr[1]);
    close2(pr2);
  }

  /* Re-arming a registration whose fd was closed behind its back would
   * watch whatever the number names now: EBADF instead, and it is gone. */
  make_pipe(pr);
  aio_front_add(p, pr[0], 20, AIO_READABLE, AIO_MODE_ONESHOT);
  fd = pr[0];
  close2(pr);
  make_pipe(pr2);
  check(pr2[0] == fd && aio_front_modify(p, fd, 20, AIO_READABLE,
                                         AIO_MODE_ONESHOT) == -EBADF,
        "reuse: modify of a number closed and reused: EBADF");
  check(aio_front_add(p, pr2[0], 21, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "reuse: and the number is free for the new file");
  aio_front_delete(p, pr2[0]);
  close2(pr2);

  /* A wait pending on an fd closed behind its back, the number not reused:
   * the kernel forgets it in silence (epoll, kqueue, ports), so only a sweep
   * can tell the waiter. */
  make_pipe(pr);
  aio_front_add(p, pr[0], 22, AIO_READABLE, AIO_MODE_ONESHOT);
  close(pr[0]);
  check(aio_front_sweep(p) == 1, "sweep: finds the fd closed behind its back");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 22 && ev[0].flags == (AIO_GONE | AIO_ERROR),
        "sweep: the next wait reports it gone");
  check(aio_front_sweep(p) == 0 && aio_front_wait(p, ev, 8, MS(20)) == 0,
        "sweep: once");
  close(pr[1]);

  /* Closed, then deleted by number while nothing reuses it: the registration
   * ends either way (epoll's kernel looks at the fd first: EBADF). */
  make_pipe(pr);
  aio_front_add(p, pr[0], 17, AIO_READABLE, AIO_MODE_ONESHOT);
  fd = pr[0];
  close2(pr);
  n = aio_front_delete(p, fd);
  check(n == 0 || n == -EBADF,
        "reuse: delete of a registered fd closed since ends it (%d)", n);
  check(unregistered(aio_front_delete(p, fd), 0),
        "reuse: and then it is unknown");
  aio_front_destroy(p);
}

/* ---- many fds, small batches --------------------------------------------- */

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
  check(total == N && once,
        "batches: 150 ready oneshot fds, 32 a wait: each exactly once");
  check(aio_front_wait(p, ev, 32, 0) == 0, "batches: and nothing more");
  aio_front_destroy(p);
  for (i = 0; i < N; i++)
    close2(pairs[i]);
}

static void t_capacity(void) {
  aio_event_t ev[2], big[8];
  int fds[5][2], i, round, n, seen = 0, dup = 0, sizes[4];
  aio_front_t* p = mk();
  for (i = 0; i < 5; i++) {
    make_pipe(fds[i]);
    send1(fds[i][1]);
    aio_front_add(p, fds[i][0], (uint32_t)i, AIO_READABLE, AIO_MODE_ONESHOT);
  }
  for (round = 0; round < 4; round++) {
    n = aio_front_wait(p, ev, 2, round < 3 ? MS(1000) : MS(30));
    sizes[round] = n;
    for (i = 0; i < n; i++) {
      dup += (seen & (1 << ev[i].key)) != 0;
      seen |= 1 << ev[i].key;
    }
  }
  check(sizes[0] == 2 && sizes[1] == 2 && sizes[2] == 1 && sizes[3] == 0 &&
            seen == 0x1f && dup == 0,
        "batches: oneshot, capacity 2 of 5 ready: 2+2+1, each once (%d %d %d "
        "%d)",
        sizes[0], sizes[1], sizes[2], sizes[3]);
  for (i = 0; i < 5; i++)
    aio_front_modify(p, fds[i][0], (uint32_t)i, AIO_READABLE, AIO_MODE_LEVEL);
  seen = 0;
  for (round = 0; round < 3; round++) {
    n = aio_front_wait(p, ev, 2, MS(1000));
    for (i = 0; i < n; i++)
      seen |= 1 << ev[i].key;
  }
  check(seen == 0x1f,
        "batches: level, capacity 2 of 5 ready: no fd starved, all 5 in 3 "
        "waits (%#x)",
        seen);
  aio_front_delete(p, fds[1][0]);
  aio_front_delete(p, fds[3][0]);
  n = aio_front_wait(p, big, 8, MS(1000));
  for (i = 0, seen = 0; i < n; i++)
    seen |= 1 << big[i].key;
  check(n == 3 && seen == 0x15,
        "batches: after deletes in the middle, every key still names its fd");
  for (i = 0; i < 5; i++)
    close2(fds[i]);
  aio_front_destroy(p);
}

int main(void) {
  harness_start();
  caps = aio_backend_caps();
  t_identity();
  t_lifecycle();
  t_arguments();
  t_errors();
  t_readiness();
  t_modes();
  t_notify();
  t_threads();
  t_signals();
  t_hangup();
  t_priority();
  t_timeouts();
  t_delete_reuse();
  t_many();
  t_capacity();
  return harness_end();
}
