/* What every plain-C test here needs: one line per check ("ok  name" /
 * "FAIL name", read by describeNativeHarness), fds, clocks, a watchdog and
 * a poller made through the front, as the addon makes it. Linux only (the
 * tests run on the emulations here). Include after the system headers.
 * Define HARNESS_TAG to prefix each line (a backend, a header profile). */
#ifndef ASYNC_IO_TEST_HARNESS_H_
#define ASYNC_IO_TEST_HARNESS_H_

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "async_io/backend.h"
#include "internal.h"

static int failures;
static int checks;

static inline void check(int ok, const char* fmt, ...) {
  va_list ap;
  checks++;
  if (!ok)
    failures++;
#ifdef HARNESS_TAG
  printf("%s [%s] ", ok ? "ok  " : "FAIL", HARNESS_TAG);
#else
  printf("%s ", ok ? "ok  " : "FAIL");
#endif
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

static inline void die(const char* what) {
  perror(what);
  exit(2);
}

/* A lost wake-up shows as a wait that never returns: fail, do not hang. */
static inline void on_watchdog(int sig) {
  static const char msg[] = "FAIL hung: a wait never returned\n";
  (void)sig;
  if (write(1, msg, sizeof(msg) - 1) < 0)
    _exit(3);
  _exit(1);
}

static inline void harness_start(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGALRM, on_watchdog);
  alarm(240);
}

/* The last line, and the exit status. */
static inline int harness_end(void) {
#ifdef HARNESS_TAG
  printf("[%s] %d checks, %d failed\n", HARNESS_TAG, checks, failures);
#else
  printf("%d checks, %d failed\n", checks, failures);
#endif
  return failures == 0 ? 0 : 1;
}

static inline double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static inline void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
    die("pipe2");
}

static inline void make_socketpair(int fds[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) <
      0)
    die("socketpair");
}

static inline void send1(int fd) {
  if (write(fd, "x", 1) != 1)
    die("write");
}

static inline int drain(int fd) {
  char buf[4096];
  int total = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    total += (int)n;
  return total;
}

static inline void close2(int fds[2]) {
  close(fds[0]);
  close(fds[1]);
}

static inline int count_fds(void) {
  DIR* d = opendir("/proc/self/fd");
  struct dirent* e;
  int n = 0;
  if (d == NULL)
    die("opendir");
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1;
}

static inline aio_front_t* mk(void) {
  aio_front_t* p;
  int err = aio_front_create(&p);
  if (err != 0) {
    errno = -err;
    die("aio_front_create");
  }
  return p;
}

/* The mechanism alone, without the front: for what a mechanism says itself. */
static inline aio_poller_t* mk_raw(void) {
  aio_poller_t* m;
  int err = aio_poller_create(&m);
  if (err != 0) {
    errno = -err;
    die("aio_poller_create");
  }
  return m;
}

static inline void on_signal(int sig) {
  (void)sig;
}

/* SIGUSR1 interrupts syscalls (no SA_RESTART), so a wait sees EINTR. */
static inline void catch_sigusr1(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
}

#define MS(x) ((int64_t)(x) * 1000000)

static inline int has_key(const aio_event_t* ev, int n, uint32_t key) {
  int i;
  for (i = 0; i < n; i++)
    if (ev[i].key == key)
      return 1;
  return 0;
}

#endif /* ASYNC_IO_TEST_HARNESS_H_ */
