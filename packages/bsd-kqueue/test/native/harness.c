/* kqueue.c's own checks, beyond the C contract suite (contract.c), on the
 * Linux emulation of kqueue (../shim): what each header profile builds (caps,
 * syscall names), EVFILT_WRITE refused with EPIPE, EV_EOF on a pipe's write
 * end, what the kernel says of a closed or reused fd, and the emulation's own
 * strictness. Built once per profile (see the Makefile). */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>

#include <sys/event.h>
#include <sys/stat.h>

#include "harness.h"
#include "devices.h"

#ifndef PROFILE
#define PROFILE "default"
#endif

static int prio(void) {
  return (aio_backend_caps() & AIO_CAP_PRIORITY) != 0;
}

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

/* What kevent() itself refuses. */
static void t_kernel_errors(void) {
  int pr[2];
  aio_front_t* p = mk();
  make_pipe(pr);
  if (prio()) {
    check(aio_front_add(p, pr[1], 1, AIO_PRIORITY, AIO_MODE_ONESHOT) == -EINVAL,
          "priority on a pipe: EINVAL from the kernel (sockets only)");
    check(aio_front_delete(p, pr[1]) == -ENOENT, "... and nothing registered");
  }
  aio_front_destroy(p);
  close2(pr);
}

/* A pipe whose reader is gone refuses EVFILT_WRITE with EPIPE (macOS,
 * FreeBSD; mio#582): kqueue.c reports it as writable + error instead. */
static void t_epipe(void) {
  aio_event_t ev[8];
  int pr[2], n;
  aio_front_t* p = mk();
  make_pipe(pr);
  close(pr[0]);
  check(aio_front_add(p, pr[1], 6, AIO_WRITABLE, AIO_MODE_LEVEL) == 0,
        "EPIPE: add writable on a pipe with no reader succeeds");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 6 && (ev[0].flags & AIO_WRITABLE) &&
            (ev[0].flags & AIO_ERROR),
        "EPIPE: reported writable + error (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 6, "EPIPE: level, so again");
  check(aio_front_modify(p, pr[1], 7, AIO_WRITABLE, AIO_MODE_ONESHOT) == 0,
        "EPIPE: modify to oneshot");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 7, "EPIPE: oneshot, once");
  check(aio_front_wait(p, ev, 8, MS(30)) == 0, "EPIPE: then not again");
  check(aio_front_delete(p, pr[1]) == 0, "EPIPE: delete");
  close(pr[1]);

  /* Registered before the reader goes: EV_EOF on EVFILT_WRITE. */
  make_pipe(pr);
  aio_front_add(p, pr[1], 8, AIO_WRITABLE, AIO_MODE_EDGE);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].flags == AIO_WRITABLE,
        "EV_EOF: pipe write end writable");
  close(pr[0]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 8 && ev[0].flags == (AIO_WRITABLE | AIO_HANGUP),
        "EV_EOF: a pipe's write end is writable + hangup when the reader "
        "closes (a pipe has no half-close) (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  aio_front_delete(p, pr[1]);
  close(pr[1]);
  aio_front_destroy(p);
}

/* EV_EOF on EVFILT_WRITE once a socket cannot send more, which every BSD
 * raises after our own shutdown(SHUT_WR) too (filt_sowrite(); oven-sh/bun
 * #34678, tokio-rs/mio#1087, libuv/libuv#3277): not a hangup, since the
 * peer is alive and may still send. */
static void t_write_eof_after_shutdown(void) {
  aio_event_t ev[8];
  struct kevent kev, out;
  struct timespec zero = {0, 0};
  int sp[2], n, kq, r;
  aio_front_t* p = mk();

  /* The emulation raises it, as the kernels do. */
  make_socketpair(sp);
  kq = kqueue();
  EV_SET(&kev, sp[0], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
  r = kevent(kq, &kev, 1, &out, 1, &zero);
  check(r == 1 && out.filter == EVFILT_WRITE && !(out.flags & EV_EOF),
        "write EOF: writable socket, no EV_EOF before shutdown");
  shutdown(sp[0], SHUT_WR);
  r = kevent(kq, NULL, 0, &out, 1, &zero);
  check(r == 1 && out.filter == EVFILT_WRITE && (out.flags & EV_EOF) &&
            out.fflags == 0,
        "write EOF: EV_EOF on EVFILT_WRITE after shutdown(SHUT_WR), no "
        "fflags (flags=%#x)",
        r == 1 ? out.flags : 0);
  close(kq);
  close2(sp);

  /* kqueue.c: writable, neither hangup nor error; the read side neither. */
  make_socketpair(sp);
  check(aio_front_add(p, sp[0], 30, AIO_READABLE | AIO_WRITABLE,
                      AIO_MODE_EDGE) == 0,
        "write EOF: add a socket, readable + writable, edge");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].flags == AIO_WRITABLE,
        "write EOF: writable at first (flags=%#x)", n > 0 ? ev[0].flags : 0);
  shutdown(sp[0], SHUT_WR);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 30 && ev[0].flags == AIO_WRITABLE,
        "write EOF: after our shutdown(SHUT_WR) no hangup, no error "
        "(flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  send1(sp[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 30 && (ev[0].flags & AIO_READABLE) &&
            !(ev[0].flags & AIO_HANGUP),
        "write EOF: the peer still sends: readable, no hangup (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  close(sp[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 30 && (ev[0].flags & AIO_READABLE) &&
            (ev[0].flags & AIO_HANGUP),
        "write EOF: hangup once the peer closes, from the read filter "
        "(flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  aio_front_delete(p, sp[0]);
  close(sp[0]);

  /* Writable interest only, level: the same, on every wait. */
  make_socketpair(sp);
  aio_front_add(p, sp[0], 31, AIO_WRITABLE, AIO_MODE_LEVEL);
  shutdown(sp[0], SHUT_WR);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 31 && ev[0].flags == AIO_WRITABLE,
        "write EOF: level, writable only: no hangup (flags=%#x)",
        n > 0 ? ev[0].flags : 0);
  aio_front_delete(p, sp[0]);
  close2(sp);
  aio_front_destroy(p);
}

static void* notify_later(void* arg) {
  sleep_ms(100);
  aio_front_notify((aio_front_t*)arg);
  return NULL;
}

/* kevent() timeouts: macOS refuses tv_sec > 10^8 with EINVAL
 * (apple/swift-nio#1642, netty/netty#13503) and has been seen failing with
 * ETIMEDOUT (golang/go#59679). Neither may reach the caller as an error. */
static void t_timeouts(void) {
  aio_event_t ev[8];
  struct timespec huge = {100000001, 0};
  struct kevent out;
  pthread_t t;
  int pr[2], n, kq, r;
  double t0;
  aio_front_t* p = mk();
  make_pipe(pr);

  setenv("KQ_SHIM_QUIRKS", "timeout-einval", 1);
  kq = kqueue();
  errno = 0;
  r = kevent(kq, NULL, 0, &out, 1, &huge);
  check(r == -1 && errno == EINVAL,
        "timeout-einval: the emulation refuses tv_sec > 10^8 (%d)", errno);
  close(kq);
  aio_front_add(p, pr[0], 40, AIO_READABLE, AIO_MODE_LEVEL);
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, (int64_t)200000000 * 1000000000);
  check(n == 1 && ev[0].key == 40,
        "timeout-einval: a 2x10^8 s wait with an fd ready reports it (%d)", n);
  n = aio_front_wait(p, ev, 8, INT64_MAX);
  check(n == 1 && ev[0].key == 40,
        "timeout-einval: an INT64_MAX ns wait reports it too (%d)", n);
  drain(pr[0]);
  pthread_create(&t, NULL, notify_later, p);
  n = aio_front_wait(p, ev, 8, (int64_t)200000000 * 1000000000);
  pthread_join(t, NULL);
  check(n == 0, "timeout-einval: an idle 2x10^8 s wait ends at notify (%d)", n);
  unsetenv("KQ_SHIM_QUIRKS");

  setenv("KQ_SHIM_QUIRKS", "etimedout-once", 1);
  t0 = now_ms();
  n = aio_front_wait(p, ev, 8, MS(100));
  check(n == 0 && now_ms() - t0 >= 99,
        "etimedout-once: a 100 ms wait times out after 100 ms, no error "
        "(%d, %.0f ms)",
        n, now_ms() - t0);
  unsetenv("KQ_SHIM_QUIRKS");
  aio_front_wait(p, ev, 8, 0); /* the shim sees it off: re-armed */
  setenv("KQ_SHIM_QUIRKS", "etimedout-once", 1);
  send1(pr[1]);
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 40,
        "etimedout-once: a timed wait with an fd ready still reports it (%d)",
        n);
  drain(pr[0]);
  unsetenv("KQ_SHIM_QUIRKS");
  aio_front_wait(p, ev, 8, 0); /* the shim sees it off: re-armed */
  setenv("KQ_SHIM_QUIRKS", "etimedout-once", 1);
  pthread_create(&t, NULL, notify_later, p);
  n = aio_front_wait(p, ev, 8, -1);
  pthread_join(t, NULL);
  check(n == 0, "etimedout-once: an unbounded wait still ends at notify (%d)",
        n);
  unsetenv("KQ_SHIM_QUIRKS");
  aio_front_delete(p, pr[0]);
  close2(pr);
  aio_front_destroy(p);
}

/* close() dropped the knotes. Re-arming the reused number would watch the
 * new file under the old registration: the front refuses (EBADF) and the
 * number is free for an add, which kqueue.c makes afresh. */
static void t_closed(void) {
  aio_event_t ev[8];
  int pr[2], pr2[2], n;
  aio_front_t* p = mk();
  make_pipe(pr);
  aio_front_add(p, pr[0], 18, AIO_READABLE, AIO_MODE_LEVEL);
  close2(pr);
  make_pipe(pr2);
  send1(pr2[1]);
  check(aio_front_modify(p, pr2[0], 19, AIO_READABLE, AIO_MODE_LEVEL) == -EBADF,
        "closed: modify of a reused number is EBADF");
  check(aio_front_add(p, pr2[0], 19, AIO_READABLE, AIO_MODE_LEVEL) == 0,
        "closed: an add of it re-creates the knote");
  n = aio_front_wait(p, ev, 8, MS(1000));
  check(n == 1 && ev[0].key == 19, "closed: and it reports the new key");
  check(aio_front_delete(p, pr2[0]) == 0, "closed: delete");
  close2(pr2);
  aio_front_destroy(p);
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

/* macOS kqueue never reports the last writer's close of a named FIFO
 * (golang/go#24164, oven-sh/bun#37823): the emulation's fifo-no-eof quirk
 * answers so, kqueue.c's probe finds it out at the first named FIFO and
 * watches those with select(), so that the EOF is reported. */
static void t_named_fifo(void) {
  char dir[] = "/tmp/kq-fifo-XXXXXX", path[64];
  aio_event_t ev[4];
  int r, w, n;
  aio_front_t* p;
  setenv("KQ_SHIM_QUIRKS", "fifo-no-eof", 1);
  if (mkdtemp(dir) == NULL)
    die("mkdtemp");
  snprintf(path, sizeof(path), "%s/f", dir);
  if (mkfifo(path, 0600) < 0)
    die("mkfifo");
  r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (r < 0 || w < 0)
    die("open fifo");
  unlink(path);
  rmdir(dir);
  p = mk();
  check(aio_front_add(p, r, 21, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "named fifo: add");
  send1(w);
  n = aio_front_wait(p, ev, 4, MS(1000));
  check(n == 1 && ev[0].key == 21 && (ev[0].flags & AIO_READABLE),
        "named fifo: readable with data (n=%d)", n);
  drain(r);
  aio_front_modify(p, r, 22, AIO_READABLE, AIO_MODE_ONESHOT);
  check(aio_front_wait(p, ev, 4, MS(50)) == 0, "named fifo: then quiet");
  close(w);
  n = aio_front_wait(p, ev, 4, MS(1000));
  check(n == 1 && ev[0].key == 22 && (ev[0].flags & AIO_READABLE),
        "named fifo: the last writer's close is reported (n=%d)", n);
  check(read(r, path, 1) == 0, "named fifo: and read() says EOF");
  aio_front_delete(p, r);
  close(r);
  aio_front_destroy(p);
  unsetenv("KQ_SHIM_QUIRKS");
}

/* macOS kqueue refuses /dev/tty and other devices with EINVAL
 * (oven-sh/bun#24162, tokio-rs/mio#1377, crossterm#996): the emulation's
 * device-einval quirk answers so for every character device, and kqueue.c
 * must watch them with select() instead, in every mode. */
static void t_devices(void) {
  int m, s, kq, r;
  struct kevent kev;
  setenv("KQ_SHIM_QUIRKS", "device-einval", 1);
  open_pty(&m, &s);
  kq = kqueue();
  EV_SET(&kev, (uintptr_t)m, EVFILT_READ, EV_ADD, 0, 0, NULL);
  r = kevent(kq, &kev, 1, NULL, 0, NULL);
  check(r < 0 && errno == EINVAL,
        "device-einval: the emulation refuses a pty with EINVAL (%d)", r);
  close(kq);
  close(m);
  close(s);
  t_device_poller();
  t_device_edge();
  unsetenv("KQ_SHIM_QUIRKS");
}

int main(void) {
  harness_start();
  t_identity();
  t_kernel_errors();
  t_epipe();
  t_closed();
  t_write_eof_after_shutdown();
  t_timeouts();
  t_shim();
  t_named_fifo();
  t_devices();
  return harness_end();
}
