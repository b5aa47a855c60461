/* What every backend's plain-C harness needs around backend.h: one line per
 * check ("ok  name" / "FAIL name", read by describeNativeHarness), fds,
 * clocks, and the glue's EINTR retry. Linux only (the harnesses run on the
 * emulations here). Include after the system headers and backend.h. Define
 * HARNESS_TAG to prefix each line (e.g. a header profile). */
#ifndef ASYNC_IO_TEST_HARNESS_H_
#define ASYNC_IO_TEST_HARNESS_H_

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int failures;
static int checks;

static void check(int ok, const char* fmt, ...) {
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

static void die(const char* what) {
  perror(what);
  exit(2);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
    die("pipe2");
}

static void make_socketpair(int fds[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) <
      0)
    die("socketpair");
}

static void send1(int fd) {
  if (write(fd, "x", 1) != 1)
    die("write");
}

static int drain(int fd) {
  char buf[4096];
  int total = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    total += (int)n;
  return total;
}

static int count_fds(void) {
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

static aio_front_t* mk(void) {
  aio_front_t* p;
  int err = aio_front_create(&p);
  if (err != 0) {
    errno = -err;
    die("aio_poller_create");
  }
  return p;
}

#define MS(x) ((int64_t)(x) * 1000000)

/* What the N-API glue does: retry -EINTR against one deadline. */
static int wait_retry(aio_front_t* p, aio_event_t* ev, int cap,
                      int64_t timeout_ns) {
  double deadline = now_ms() + timeout_ns / 1e6;
  for (;;) {
    int n = aio_front_wait(p, ev, cap, timeout_ns);
    if (n != -EINTR)
      return n;
    if (timeout_ns > 0) {
      timeout_ns = (int64_t)((deadline - now_ms()) * 1e6);
      if (timeout_ns <= 0)
        return 0;
    }
  }
}

static int has_key(const aio_event_t* ev, int n, uint32_t key) {
  int i;
  for (i = 0; i < n; i++)
    if (ev[i].key == key)
      return 1;
  return 0;
}

#endif /* ASYNC_IO_TEST_HARNESS_H_ */
