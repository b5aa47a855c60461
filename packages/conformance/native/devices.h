/* Checks over a real pty (a character device) for a backend whose kernel
 * refuses or misreports devices: macOS poll() answers POLLNVAL for them, as
 * the poll backend's `darwin` profile reproduces with -Wl,--wrap=poll, and
 * macOS kqueue refuses /dev/tty with EINVAL, as the kqueue emulation's
 * `device-einval` quirk does. Readiness must still be reported, in every
 * mode, without a busy loop, a silent registration or EBADF. Include after
 * harness.h. */
#ifndef ASYNC_IO_TEST_DEVICES_H_
#define ASYNC_IO_TEST_DEVICES_H_

#include <pthread.h>
#include <termios.h>

/* A pty pair: m the master (/dev/ptmx), s the slave, raw, both
 * non-blocking. What is written to s is read from m. */
static inline void open_pty(int* m, int* s) {
  struct termios t;
  *m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (*m < 0 || grantpt(*m) < 0 || unlockpt(*m) < 0)
    die("posix_openpt");
  *s = open(ptsname(*m), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (*s < 0 || tcgetattr(*s, &t) < 0)
    die("open pty slave");
  cfmakeraw(&t);
  if (tcsetattr(*s, TCSANOW, &t) < 0)
    die("tcsetattr");
}

/* The pty moves data to the master asynchronously: wait until it is there. */
static inline int pty_arrived(int m) {
  int i, r = 0;
  for (i = 0; i < 200; i++) {
    r = aio_fd_readiness(m);
    if (r < 0 || (r & AIO_READABLE))
      return r;
    sleep_ms(5);
  }
  return r;
}

/* backend-core's own readiness checks (fd.c): the confirm and the batch
 * recheck ask select() where poll() says POLLNVAL for an open fd. */
static inline void t_device_fd_checks(void) {
  aio_event_t ev;
  int m, s, r, fd;
  open_pty(&m, &s);
  r = aio_fd_readiness(m);
  check(r >= 0 && (r & AIO_WRITABLE) && !(r & AIO_READABLE),
        "pty: aio_fd_readiness() says writable, not readable, no EBADF (%d)",
        r);
  send1(s);
  r = pty_arrived(m);
  check(r >= 0 && (r & AIO_READABLE), "pty: then readable once data came (%d)",
        r);
  drain(m);
  fd = m;
  ev.key = 1;
  ev.flags = AIO_READABLE | AIO_WRITABLE;
  r = aio_fd_recheck(&fd, &ev, 1);
  check(r == 0 && ev.flags == AIO_WRITABLE,
        "pty: aio_fd_recheck() drops a readable that a read consumed "
        "(flags=%#x)",
        ev.flags);
  close(m);
  close(s);
  fd = m;
  check(aio_fd_readiness(fd) == -EBADF, "closed fd: still EBADF");
}

static inline void* write_later(void* arg) {
  sleep_ms(50);
  send1(*(int*)arg);
  return NULL;
}

/* A registration of a device: every mode delivers, and an idle one sleeps
 * through its timeout. */
static inline void t_device_poller(void) {
  aio_event_t ev[4];
  pthread_t th;
  int m, s, n, m2, s2;
  double t;
  aio_front_t* p = mk();
  open_pty(&m, &s);
  check(aio_front_add(p, m, 5, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "pty: add (oneshot)");
  t = now_ms();
  n = aio_front_wait(p, ev, 4, MS(100));
  check(n == 0 && now_ms() - t >= 99,
        "pty, oneshot, nothing to read: the wait sleeps its 100 ms (n=%d, "
        "flags=%#x, %.0f ms)",
        n, n > 0 ? ev[0].flags : 0, now_ms() - t);
  if (pthread_create(&th, NULL, write_later, &s) != 0)
    die("pthread_create");
  n = aio_front_wait(p, ev, 4, MS(2000));
  pthread_join(th, NULL);
  check(n == 1 && ev[0].key == 5 && ev[0].flags == AIO_READABLE,
        "pty, oneshot: a blocked wait wakes for data written meanwhile "
        "(n=%d, flags=%#x)",
        n, n > 0 ? ev[0].flags : 0);
  t = now_ms();
  n = aio_front_wait(p, ev, 4, MS(100));
  check(n == 0 && now_ms() - t >= 99,
        "pty, oneshot, fired and not re-armed: quiet though still readable");
  drain(m);
  check(aio_front_modify(p, m, 6, AIO_READABLE, AIO_MODE_ONESHOT) == 0,
        "pty: modify re-arms");
  t = now_ms();
  n = aio_front_wait(p, ev, 4, MS(100));
  check(n == 0 && now_ms() - t >= 99,
        "pty, re-armed with nothing to read: no busy loop (n=%d, %.0f ms)", n,
        now_ms() - t);
  check(aio_front_modify(p, m, 7, AIO_READABLE, AIO_MODE_LEVEL) == 0,
        "pty: modify to level");
  send1(s);
  n = aio_front_wait(p, ev, 4, MS(2000));
  check(n == 1 && ev[0].key == 7 && ev[0].flags == AIO_READABLE,
        "pty, level: readable (n=%d)", n);
  n = aio_front_wait(p, ev, 4, MS(2000));
  check(n == 1 && ev[0].key == 7 && ev[0].flags == AIO_READABLE,
        "pty, level: readable again while unread (n=%d)", n);
  drain(m);
  t = now_ms();
  n = aio_front_wait(p, ev, 4, MS(100));
  check(n == 0 && now_ms() - t >= 99, "pty, level: quiet once read (n=%d)", n);
  check(aio_front_modify(p, m, 8, AIO_WRITABLE, AIO_MODE_ONESHOT) == 0,
        "pty: modify to writable");
  n = aio_front_wait(p, ev, 4, MS(2000));
  check(n == 1 && ev[0].key == 8 && ev[0].flags == AIO_WRITABLE,
        "pty: writable (n=%d)", n);
  /* A device closed behind our back while watched: one error, then quiet
   * (as a closed fd in poll()). A blocked select() does not notice a
   * close(); the next change to the watched set (here a modify) does. */
  open_pty(&m2, &s2);
  aio_front_add(p, m2, 9, AIO_READABLE, AIO_MODE_LEVEL);
  n = aio_front_wait(p, ev, 4, MS(50));
  check(n == 0, "second pty, level, idle: quiet (n=%d)", n);
  close(m2);
  close(s2);
  aio_front_modify(p, m, 10, AIO_READABLE, AIO_MODE_ONESHOT);
  n = aio_front_wait(p, ev, 4, MS(1000));
  check(n == 1 && ev[0].key == 9 && (ev[0].flags & AIO_ERROR),
        "second pty closed without delete: an error event (n=%d, key=%u, "
        "flags=%#x)",
        n, n > 0 ? ev[0].key : 0, n > 0 ? ev[0].flags : 0);
  t = now_ms();
  n = aio_front_wait(p, ev, 4, MS(100));
  check(n == 0 && now_ms() - t >= 99, "then quiet (n=%d)", n);
  aio_front_delete(p, m2);
  check(aio_front_delete(p, m) == 0, "pty: delete");
  send1(s);
  sleep_ms(20);
  check(aio_front_wait(p, ev, 4, MS(50)) == 0, "pty: nothing after delete");
  close(m);
  close(s);
  aio_front_destroy(p);
}

/* Edge modes where the backend has them: a device watched by select() gets
 * its edges without a busy loop (an always-writable pty) and without losing
 * one (data drained, then more). */
static inline void t_device_edge(void) {
  aio_event_t ev[4];
  int m, s, n, i, events = 0, got;
  double t;
  aio_front_t* p;
  if (!(aio_backend_caps() & AIO_CAP_EDGE))
    return;
  p = mk();
  open_pty(&m, &s);
  check(
      aio_front_add(p, m, 11, AIO_READABLE | AIO_WRITABLE, AIO_MODE_EDGE) == 0,
      "pty: add (edge, readable and writable)");
  n = aio_front_wait(p, ev, 4, MS(1000));
  check(n == 1 && ev[0].key == 11 && ev[0].flags == AIO_WRITABLE,
        "pty, edge: writable once (n=%d, flags=%#x)", n,
        n > 0 ? ev[0].flags : 0);
  t = now_ms();
  while (now_ms() - t < 500) {
    n = aio_front_wait(p, ev, 4, MS(100));
    events += n > 0 ? n : 0;
    if (n < 0 || events > 50)
      break;
  }
  check(events <= 6,
        "pty, edge, writable and idle for 500 ms: no busy loop (%d repeats)",
        events);
  for (i = 0; i < 2; i++) {
    send1(s);
    got = 0;
    t = now_ms();
    while (!got && now_ms() - t < 2000) {
      n = aio_front_wait(p, ev, 4, MS(2000));
      got = n == 1 && (ev[0].flags & AIO_READABLE);
    }
    check(got, "pty, edge: readable after data came (%s)",
          i == 0 ? "first" : "after a drain to EAGAIN");
    check(drain(m) > 0 && errno == EAGAIN, "pty: drained to EAGAIN");
  }
  check(aio_front_delete(p, m) == 0, "pty, edge: delete");
  close(m);
  close(s);
  aio_front_destroy(p);
}

#endif /* ASYNC_IO_TEST_DEVICES_H_ */
