/* Drives src/kqueue.c through backend.h, on the Linux emulation of kqueue
 * (../shim), and checks the emulation's own strictness. Built once per shim
 * profile (see the Makefile). One line per check; exits non-zero if any
 * failed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

#include <sys/event.h>

#include "async_io/backend.h"
#include "internal.h" /* the front, as the addon calls it */

#ifndef PROFILE
#define PROFILE "default"
#endif

#define HARNESS_TAG PROFILE
#include "harness.h"

static int prio(void) {
  return (aio_backend_caps() & AIO_CAP_PRIORITY) != 0;
}

/* ---- the backend through backend.h ------------------------------------- */

static void t_identity(void) {
  check(strcmp(aio_backend_name(), "kqueue") == 0, "name is kqueue");
#if defined(EVFILT_EXCEPT) && defined(NOTE_OOB)
  check(aio_backend_caps() == (AIO_CAP_LEVEL | AIO_CAP_EDGE | AIO_CAP_PRIORITY),
        "caps: level, edge, priority (EVFILT_EXCEPT + NOTE_OOB)");
#else
  check(aio_backend_caps() == (AIO_CAP_LEVEL | AIO_CAP_EDGE),
        "caps: level, edge, no priority (no EVFILT_EXCEPT)");
#endif
#ifdef KQUEUE_CLOEXEC
  check(strcmp(aio_backend_syscall(AIO_OP_CREATE), "kqueue1") == 0,
        "create reported as kqueue1");
#else
  check(strcmp(aio_backend_syscall(AIO_OP_CREATE), "kqueue") == 0,
        "create reported as kqueue");
#endif
  check(strcmp(aio_backend_syscall(AIO_OP_ADD), "kevent") == 0 &&
            strcmp(aio_backend_syscall(AIO_OP_MODIFY), "kevent") == 0 &&
            strcmp(aio_backend_syscall(AIO_OP_DELETE), "kevent") == 0 &&
            strcmp(aio_backend_syscall(AIO_OP_WAIT), "kevent") == 0,
        "add/modify/delete/wait reported as kevent");
#ifdef EVFILT_USER
  check(strcmp(aio_backend_syscall(AIO_OP_NOTIFY), "kevent") == 0,
        "notify reported as kevent (EVFILT_USER)");
#else
  check(strcmp(aio_backend_syscall(AIO_OP_NOTIFY), "write") == 0,
        "notify reported as write (pipe)");
#endif
}

static void t_lifecycle(void) {
  aio_front_t* many[50];
  int before, i, fd, fl, after;
  aio_front_t* p;
  before = count_fds();
  p = mk();
  fd = aio_front_fd(p);
  fl = fcntl(fd, F_GETFD);
  check(fd >= 0 && fl >= 0 && (fl & FD_CLOEXEC), "kqueue fd is close-on-exec");
  check(count_fds() - before >= 1, "poller holds %d fd(s)",
        count_fds() - before);
  aio_front_destroy(p);
  check(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "destroy closes the kqueue");
  before = count_fds();
  for (i = 0; i < 50; i++)
    many[i] = mk();
  for (i = 0; i < 50; i++)
    aio_front_notify(many[i]);
  for (i = 0; i < 50; i++)
    aio_front_destroy(many[i]);
  after = count_fds();
  check(after == before,
        "50 pollers created and destroyed leak no fd (%d -> %d)", before,
        after);
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
  check(n == 1 && ev[0].key == 2 && ev[0].flags == AIO_READABLE,
        "readable after the peer writes, new key, no WRITABLE");
  check(drain(sp[0]) == 5, "5 bytes");

  /* READ and WRITE of one fd merge into one event. */
  if (write(sp[1], "x", 1) != 1)
    die("write");
  check(aio_front_modify(p, sp[0], 3, AIO_READABLE | AIO_WRITABLE,
                         AIO_MODE_LEVEL) == 0,
        "modify to readable+writable, level");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(
      n == 1 && ev[0].key == 3 && ev[0].flags == (AIO_READABLE | AIO_WRITABLE),
      "one event per fd with both bits (n=%d flags=%#x)", n,
      n > 0 ? ev[0].flags : 0);
  check(aio_front_modify(p, sp[0], 4, AIO_READABLE | AIO_WRITABLE,
                         AIO_MODE_ONESHOT) == 0,
        "modify to readable+writable, oneshot");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(
      n == 1 && ev[0].key == 4 && ev[0].flags == (AIO_READABLE | AIO_WRITABLE),
      "oneshot: one event with both bits (flags=%#x)", n > 0 ? ev[0].flags : 0);
  n = aio_front_wait(p, ev, 8, MS(30));
  check(n == 0 || n == -EINTR, "oneshot: the whole fd is disarmed (n=%d)", n);
  check(wait_retry(p, ev, 8, MS(30)) == 0, "... and stays so");
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
  check(aio_front_add(p, pr[0], 2, AIO_READABLE, AIO_MODE_LEVEL) == -EEXIST,
        "second add: -EEXIST (the kernel would modify silently)");
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
        "add of a never-opened fd: -EBADF");
  check(aio_front_add(p, 1000000, 1, 0, AIO_MODE_ONESHOT) == -EBADF,
        "add of a never-opened fd with no interest: -EBADF");
  make_pipe(closed);
  close(closed[0]);
  close(closed[1]);
  check(
      aio_front_add(p, closed[0], 1, AIO_READABLE, AIO_MODE_ONESHOT) == -EBADF,
      "add of a closed fd: -EBADF");
  check(aio_front_delete(p, closed[0]) == -ENOENT,
        "a failed add registers nothing");
  if (!prio()) {
    check(
        aio_front_add(p, pr[1], 1, AIO_PRIORITY, AIO_MODE_ONESHOT) == -ENOTSUP,
        "priority without EVFILT_EXCEPT: -ENOTSUP");
    check(aio_front_modify(p, pr[0], 1, AIO_READABLE | AIO_PRIORITY,
                           AIO_MODE_LEVEL) == -ENOTSUP,
          "modify to priority: -ENOTSUP");
  } else {
    check(aio_front_add(p, pr[1], 1, AIO_PRIORITY, AIO_MODE_ONESHOT) == -EINVAL,
          "priority on a pipe: -EINVAL from the kernel (sockets only)");
    check(aio_front_delete(p, pr[1]) == -ENOENT, "... and nothing registered");
  }
  aio_front_destroy(p);
  close(pr[0]);
  close(pr[1]);
}

static void t_modes(void) {
  aio_event_t ev[8];
  int pr[2], n, i;
  aio_front_t* p = mk();
  make_pipe(pr);

  check(aio_front_add(p, pr[0], 5, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "oneshot add");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 5, "oneshot fires");
  check(wait_retry(p, ev, 8, 0) == 0, "oneshot: not again");
  send1(pr[1]);
  check(wait_retry(p, ev, 8, MS(50)) == 0,
        "oneshot: not again after more data");
  check(aio_front_modify(p, pr[0], 6, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "modify re-arms");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 6, "re-armed oneshot fires with the new key");
  check(wait_retry(p, ev, 8, 0) == 0, "and not again");
  check(aio_front_add(p, pr[0], 9, AIO_READABLE, AIO_MODE_LEVEL) == -EEXIST,
        "a fired oneshot fd is still registered: -EEXIST");
  check(aio_front_delete(p, pr[0]) == 0, "delete of a fired oneshot");
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

  check(aio_front_modify(p, pr[0], 8, AIO_READABLE, AIO_MODE_EDGE) == 0,
        "level -> edge (mode change re-creates the knote)");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 8, "edge: fires for what is there");
  check(wait_retry(p, ev, 8, MS(30)) == 0,
        "edge: not again without new data (data still unread)");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 8, "edge: fires on new data");
  check(wait_retry(p, ev, 8, MS(30)) == 0, "edge: then quiet");
  drain(pr[0]);

  check(
      aio_front_modify(p, pr[0], 10, AIO_READABLE, AIO_MODE_EDGE_ONESHOT) == 0,
      "edge -> edge-oneshot");
  check(wait_retry(p, ev, 8, MS(20)) == 0, "edge-oneshot: nothing yet");
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 10, "edge-oneshot fires");
  send1(pr[1]);
  check(wait_retry(p, ev, 8, MS(30)) == 0,
        "edge-oneshot: not again after new data");
  check(
      aio_front_modify(p, pr[0], 11, AIO_READABLE, AIO_MODE_EDGE_ONESHOT) == 0,
      "modify re-arms edge-oneshot");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 11,
        "re-armed edge-oneshot reports pending data");
  check(aio_front_modify(p, pr[0], 12, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "edge-oneshot -> oneshot");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 12, "oneshot fires once more");
  check(aio_front_modify(p, pr[0], 13, 0, AIO_MODE_LEVEL) == 0,
        "modify to no interest");
  check(wait_retry(p, ev, 8, MS(30)) == 0, "no interest: nothing");
  check(aio_front_delete(p, pr[0]) == 0, "delete");
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
  make_pipe(pr);
  aio_front_add(p, pr[0], 3, AIO_READABLE, AIO_MODE_ONESHOT);
  aio_front_notify(p);
  send1(pr[1]);
  n = aio_front_wait(p, ev, 1, MS(1000));
  if (n == 0)
    n = aio_front_wait(p, ev, 1, MS(1000));
  check(n == 1 && ev[0].key == 3, "capacity 1: the fd event survives a notify");
  t = now_ms();
  check(wait_retry(p, ev, 8, MS(30)) == 0 && now_ms() - t >= 29,
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
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int pr[2], sp[2], n, lfd, cfd;
  aio_front_t* p = mk();
  make_pipe(pr);
  aio_front_add(p, pr[0], 4, AIO_READABLE, AIO_MODE_ONESHOT);
  close(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 4 && ev[0].flags == (AIO_READABLE | AIO_HANGUP),
        "pipe: READABLE|HANGUP when the write end closes (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  check(aio_front_delete(p, pr[0]) == 0, "delete the fired oneshot pipe");
  close(pr[0]);
  make_socketpair(sp);
  aio_front_add(p, sp[0], 3, AIO_READABLE, AIO_MODE_ONESHOT);
  close(sp[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 3 && (ev[0].flags & AIO_HANGUP) &&
            (ev[0].flags & AIO_READABLE) && !(ev[0].flags & AIO_ERROR),
        "socketpair: readable + hangup when the peer closes (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  check(aio_front_delete(p, sp[0]) == 0, "delete the fired oneshot socket");
  close(sp[0]);

  /* Write end of a pipe whose reader is gone: the kernel refuses
   * EVFILT_WRITE with EPIPE; the backend reports it instead. */
  make_pipe(pr);
  close(pr[0]);
  check(aio_front_add(p, pr[1], 6, AIO_WRITABLE, AIO_MODE_LEVEL) == 0,
        "add writable on a pipe with no reader (EPIPE absorbed)");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 6 && (ev[0].flags & AIO_WRITABLE) &&
            (ev[0].flags & AIO_ERROR),
        "... reported writable + error (flags=%#x)", n > 0 ? ev[0].flags : 0);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 6, "... level: again");
  check(aio_front_modify(p, pr[1], 7, AIO_WRITABLE, AIO_MODE_ONESHOT) == 0,
        "... modify to oneshot");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 7, "... oneshot: once");
  check(wait_retry(p, ev, 8, MS(30)) == 0, "... then not again");
  check(aio_front_delete(p, pr[1]) == 0, "... delete");
  close(pr[1]);

  /* Registered before the reader goes: EV_EOF on EVFILT_WRITE. */
  make_pipe(pr);
  aio_front_add(p, pr[1], 8, AIO_WRITABLE, AIO_MODE_EDGE);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].flags == AIO_WRITABLE, "pipe write end writable");
  close(pr[0]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 8 && (ev[0].flags & AIO_HANGUP),
        "pipe write end: hangup when the reader closes (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  aio_front_delete(p, pr[1]);
  close(pr[1]);

  /* A refused connect: EV_EOF with the socket error in fflags. */
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
        "refused connect: writable + hangup + error (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  close(cfd);
  aio_front_destroy(p);
}

static void t_priority(void) {
  aio_event_t ev[8];
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int lfd, cfd, afd, n;
  aio_front_t* p;
  if (!prio()) {
    check(1, "priority: not supported in this profile (checked in errors)");
    return;
  }
  p = mk();
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
  afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (afd < 0)
    die("accept");
  check(aio_front_add(p, afd, 9, AIO_PRIORITY, AIO_MODE_ONESHOT) == 0,
        "add TCP socket for priority");
  check(aio_front_wait(p, ev, 8, 0) == 0, "no urgent data yet");
  if (send(cfd, "!", 1, MSG_OOB) != 1)
    die("send MSG_OOB");
  n = aio_front_wait(p, ev, 8, MS(2000));
  check(n == 1 && ev[0].key == 9 && ev[0].flags == AIO_PRIORITY,
        "MSG_OOB byte: PRIORITY only (flags=%#x)", n > 0 ? ev[0].flags : 0);
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
  check(aio_front_wait(p, ev, 0, 0) == -EINVAL, "capacity 0: -EINVAL");
  aio_front_destroy(p);
  close(pr[0]);
  close(pr[1]);
}

static void t_delete_reuse(void) {
  aio_event_t ev[8];
  int pr[2], pr2[2], n, fd, mode;
  aio_front_t* p = mk();
  make_pipe(pr);
  aio_front_add(p, pr[0], 11, AIO_READABLE, AIO_MODE_LEVEL);
  send1(pr[1]);
  check(aio_front_delete(p, pr[0]) == 0, "delete a ready level fd");
  check(wait_retry(p, ev, 8, MS(50)) == 0, "then no event for it");
  close(pr[0]);
  close(pr[1]);

  /* Closed without delete, number reused (polling #262), in every mode. */
  for (mode = 0; mode < 4; mode++) {
    make_pipe(pr);
    aio_front_add(p, pr[0], 12, AIO_READABLE, (aio_mode_t)mode);
    send1(pr[1]);
    if (mode == 1)
      aio_front_wait(p, ev, 8, 0); /* level: delivered once, queued again */
    fd = pr[0];
    close(pr[0]);
    close(pr[1]);
    make_pipe(pr2);
    if (pr2[0] != fd)
      die("fd number not reused");
    send1(pr2[1]);
    n = aio_front_wait(p, ev, 8, 0);
    check(!(n > 0 && has_key(ev, n, 12)),
          "mode %d: the closed fd's key does not come back", mode);
    check(aio_front_add(p, pr2[0], 13, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
          "mode %d: add of the new file under the old number succeeds", mode);
    n = wait_retry(p, ev, 8, MS(1000));
    check(n == 1 && ev[0].key == 13, "mode %d: the new file reports its key",
          mode);
    check(
        aio_front_add(p, pr2[0], 14, AIO_READABLE, AIO_MODE_ONESHOT) == -EEXIST,
        "mode %d: and it is registered (-EEXIST)", mode);
    check(aio_front_delete(p, pr2[0]) == 0, "mode %d: delete", mode);
    close(pr2[0]);
    close(pr2[1]);
  }

  /* A fired oneshot, then closed and reused. */
  make_pipe(pr);
  aio_front_add(p, pr[0], 15, AIO_READABLE, AIO_MODE_ONESHOT);
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  fd = pr[0];
  close(pr[0]);
  close(pr[1]);
  make_pipe(pr2);
  n = aio_front_add(p, pr2[0], 16, AIO_READABLE, AIO_MODE_ONESHOT);
  check(pr2[0] == fd && n == 0,
        "fired oneshot closed and reused: add succeeds (another file by "
        "dev/ino)");
  check(aio_front_add(p, pr2[0], 16, AIO_READABLE, AIO_MODE_ONESHOT) == -EEXIST,
        "a second add of the same file is EEXIST");
  aio_front_delete(p, pr2[0]);
  close(pr2[0]);
  close(pr2[1]);

  /* Closed, then deleted by number while nothing reuses it. */
  make_pipe(pr);
  aio_front_add(p, pr[0], 17, AIO_READABLE, AIO_MODE_ONESHOT);
  fd = pr[0];
  close(pr[0]);
  close(pr[1]);
  check(aio_front_delete(p, fd) == 0,
        "delete of a closed fd forgets it (kevent said EBADF)");
  check(aio_front_delete(p, fd) == -ENOENT, "and then it is unknown");
  /* Closed, reused, then modified: EV_ADD re-creates the knote. */
  make_pipe(pr);
  aio_front_add(p, pr[0], 18, AIO_READABLE, AIO_MODE_LEVEL);
  fd = pr[0];
  close(pr[0]);
  close(pr[1]);
  make_pipe(pr2);
  send1(pr2[1]);
  check(aio_front_modify(p, pr2[0], 19, AIO_READABLE, AIO_MODE_LEVEL) == 0,
        "modify of a reused number re-creates the knote");
  n = wait_retry(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 19, "and it reports the new key");
  check(aio_front_delete(p, pr2[0]) == 0, "delete");
  close(pr2[0]);
  close(pr2[1]);
  aio_front_destroy(p);
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
    n = wait_retry(p, ev, 32, MS(1000));
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

/* ---- the shim's own strictness ------------------------------------------ */

#ifndef KQ_SHIM_EV_RECEIPT
#error "built against the real <sys/event.h>?"
#endif

static void* trigger_later(void* arg) {
  int kq = *(int*)arg;
  struct kevent kev;
  sleep_ms(100);
  EV_SET(&kev, 5, KQ_SHIM_EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
  kevent(kq, &kev, 1, NULL, 0, NULL);
  return NULL;
}

static void t_shim(void) {
  struct kevent ch[4], out[8];
  struct timespec zero = {0, 0}, neg = {-1, 0}, big = {0, 1000000000L},
                  ms50 = {0, 50000000};
  struct pollfd pfd;
  pthread_t th;
  int kq, pr[2], r, fl, x;
  double t;

  kq = kqueue();
  fl = fcntl(kq, F_GETFD);
  check(kq >= 0 && fl >= 0 && !(fl & FD_CLOEXEC),
        "shim: kqueue() is not close-on-exec (as on the BSDs)");
  make_pipe(pr);
  errno = 0;
  r = kevent(-1, NULL, 0, NULL, 0, NULL);
  check(r == -1 && errno == EBADF, "shim: kevent on -1: EBADF");
  errno = 0;
  r = kevent(pr[0], NULL, 0, NULL, 0, NULL);
  check(r == -1 && errno == EBADF, "shim: kevent on a pipe: EBADF");
  errno = 0;
  r = kevent(kq, NULL, -1, NULL, 0, NULL);
  check(r == -1 && errno == EINVAL, "shim: nchanges < 0: EINVAL");
  check(kevent(kq, NULL, 0, NULL, 0, NULL) == 0,
        "shim: nothing to do, NULL lists: 0");

  /* Errors without EV_RECEIPT: as events if there is room, else -1. */
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
  errno = 0;
  r = kevent(kq, ch, 1, NULL, 0, NULL);
  check(r == -1 && errno == ENOENT, "shim: EV_DELETE of no knote: ENOENT");
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_TIMER, EV_ADD, 0, 0, NULL);
  errno = 0;
  r = kevent(kq, ch, 1, NULL, 0, NULL);
  check(r == -1 && errno == EINVAL, "shim: unemulated filter: EINVAL");
  EV_SET(&ch[0], (uintptr_t)pr[0], 7, EV_ADD, 0, 0, NULL);
  errno = 0;
  r = kevent(kq, ch, 1, NULL, 0, NULL);
  check(r == -1 && errno == EINVAL, "shim: unknown filter: EINVAL");
  EV_SET(&ch[0], 1000000, EVFILT_READ, EV_ADD, 0, 0, NULL);
  errno = 0;
  r = kevent(kq, ch, 1, NULL, 0, NULL);
  check(r == -1 && errno == EBADF, "shim: ident no open fd: EBADF");
  EV_SET(&ch[0], (uintptr_t)kq, EVFILT_READ, EV_ADD, 0, 0, NULL);
  errno = 0;
  r = kevent(kq, ch, 1, NULL, 0, NULL);
  check(r == -1 && errno == EINVAL, "shim: a kqueue on itself: EINVAL");
  EV_SET(&ch[0], (uintptr_t)pr[0], KQ_SHIM_EVFILT_EXCEPT, EV_ADD,
         KQ_SHIM_NOTE_OOB, 0, NULL);
  errno = 0;
  r = kevent(kq, ch, 1, NULL, 0, NULL);
  check(r == -1 && errno == EINVAL, "shim: EVFILT_EXCEPT on a pipe: EINVAL");

  /* Receipts: one EV_ERROR per change, no wait. */
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_READ, EV_ADD | KQ_SHIM_EV_RECEIPT, 0,
         0, &x);
  EV_SET(&ch[1], (uintptr_t)pr[1], EVFILT_READ, EV_DELETE | KQ_SHIM_EV_RECEIPT,
         0, 0, NULL);
  EV_SET(&ch[2], 0, 0, EV_ADD, 0, 0, NULL); /* filter 0: skipped */
  EV_SET(&ch[3], (uintptr_t)pr[1], EVFILT_WRITE, EV_ADD | KQ_SHIM_EV_RECEIPT, 0,
         0, NULL);
  send1(pr[1]);
  r = kevent(kq, ch, 4, out, 8, NULL);
  check(r == 3 && (out[0].flags & EV_ERROR) && out[0].data == 0 &&
            out[0].ident == (uintptr_t)pr[0] && (out[1].flags & EV_ERROR) &&
            out[1].data == ENOENT && (out[2].flags & EV_ERROR) &&
            out[2].data == 0,
        "shim: EV_RECEIPT: 3 receipts (0, ENOENT, 0), filter 0 skipped, no "
        "wait though data is ready (r=%d)",
        r);
  r = kevent(kq, NULL, 0, out, 8, &zero);
  check(r == 2, "shim: then the ready events (r=%d)", r);
  EV_SET(&ch[0], (uintptr_t)pr[1], EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
  check(kevent(kq, ch, 1, NULL, 0, NULL) == 0, "shim: delete write knote");
  r = kevent(kq, NULL, 0, out, 8, &zero);
  check(r == 1 && out[0].filter == EVFILT_READ && out[0].udata == &x &&
            out[0].data == 1 && !(out[0].flags & EV_EOF),
        "shim: level knote reported again, udata and data (bytes) kept");
  errno = 0;
  r = kevent(kq, NULL, 0, out, 8, &neg);
  check(r == -1 && errno == EINVAL, "shim: negative timeout: EINVAL");
  errno = 0;
  r = kevent(kq, NULL, 0, out, 8, &big);
  check(r == -1 && errno == EINVAL, "shim: tv_nsec >= 1e9: EINVAL");
  errno = 0;
  r = kevent(kq, NULL, 0, NULL, 8, &zero);
  check(r == -1 && errno == EFAULT,
        "shim: NULL eventlist with nevents: EFAULT");
  pfd.fd = kq;
  pfd.events = POLLIN;
  check(poll(&pfd, 1, 0) == 1, "shim: the kqueue fd polls readable");
  drain(pr[0]);
  r = kevent(kq, NULL, 0, out, 8, &zero);
  check(r == 0, "shim: level knote gone once drained");
  check(poll(&pfd, 1, 0) == 0, "shim: kqueue fd not readable then");

  /* EV_ADD on an existing knote keeps its EV_CLEAR (kqueue_register). */
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
  kevent(kq, ch, 1, NULL, 0, NULL);
  send1(pr[1]);
  r = kevent(kq, NULL, 0, out, 8, &zero);
  r += kevent(kq, NULL, 0, out, 8, &zero);
  check(r == 2, "shim: still level after EV_ADD|EV_CLEAR (%d events)", r);
  /* Changes are applied before waiting. */
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
  r = kevent(kq, ch, 1, out, 8, &ms50);
  check(r == 0, "shim: delete in the same call as the wait: no event");
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_READ, EV_ADD | KQ_SHIM_EV_DISPATCH, 0,
         0, NULL);
  r = kevent(kq, ch, 1, out, 8, &zero);
  check(r == 1, "shim: EV_DISPATCH knote fires");
  r = kevent(kq, NULL, 0, out, 8, &zero);
  check(r == 0, "shim: EV_DISPATCH: disabled after delivery");
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_READ, EV_ENABLE, 0, 0, NULL);
  r = kevent(kq, ch, 1, out, 8, &zero);
  check(r == 1, "shim: EV_ENABLE re-arms, data still there");
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
  kevent(kq, ch, 1, NULL, 0, NULL);
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_READ, EV_ADD | EV_ONESHOT, 0, 0,
         NULL);
  r = kevent(kq, ch, 1, out, 8, &zero);
  check(r == 1, "shim: EV_ONESHOT fires");
  EV_SET(&ch[0], (uintptr_t)pr[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
  errno = 0;
  r = kevent(kq, ch, 1, NULL, 0, NULL);
  check(r == -1 && errno == ENOENT, "shim: EV_ONESHOT: knote gone (ENOENT)");
  drain(pr[0]);

  /* EVFILT_USER. */
  EV_SET(&ch[0], 5, KQ_SHIM_EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
  errno = 0;
  r = kevent(kq, ch, 1, NULL, 0, NULL);
  check(r == -1 && errno == ENOENT, "shim: trigger of no user knote: ENOENT");
  EV_SET(&ch[0], 5, KQ_SHIM_EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
  check(kevent(kq, ch, 1, NULL, 0, NULL) == 0, "shim: EVFILT_USER add");
  check(kevent(kq, NULL, 0, out, 8, &zero) == 0, "shim: not triggered yet");
  if (pthread_create(&th, NULL, trigger_later, &kq) != 0)
    die("pthread_create");
  t = now_ms();
  r = kevent(kq, NULL, 0, out, 8, NULL);
  pthread_join(th, NULL);
  check(r == 1 && out[0].filter == KQ_SHIM_EVFILT_USER && out[0].ident == 5 &&
            now_ms() - t >= 90,
        "shim: NULL timeout blocks until a trigger from another thread");
  check(kevent(kq, NULL, 0, out, 8, &zero) == 0,
        "shim: EV_CLEAR user event consumed");
  close(kq);
  errno = 0;
  r = kevent(kq, NULL, 0, NULL, 0, NULL);
  check(r == -1 && errno == EBADF, "shim: closed kqueue: EBADF");

#ifdef KQUEUE_CLOEXEC
  kq = kqueue1(O_CLOEXEC);
  fl = fcntl(kq, F_GETFD);
  check(kq >= 0 && (fl & FD_CLOEXEC), "shim: kqueue1(O_CLOEXEC) is cloexec");
  close(kq);
  errno = 0;
  check(kqueue1(O_APPEND) == -1 && errno == EINVAL,
        "shim: kqueue1 with another flag: EINVAL");
  errno = 0;
  check(kqueuex(2) == -1 && errno == EINVAL, "shim: kqueuex(2): EINVAL");
#endif
  close(pr[0]);
  close(pr[1]);
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
  t_delete_reuse();
  t_many();
  t_shim();
  printf("[%s] %d checks, %d failed\n", PROFILE, checks, failures);
  return failures == 0 ? 0 : 1;
}
