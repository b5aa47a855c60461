/* The serial benchmark's device and its C baseline, over a pty pair (the
 * master is the device, the slave is the port a program opens by path).
 *   serial device bytes=N     print the slave's path, wait for a line on
 *                             stdin, write N bytes into the master (64 KiB
 *                             blocking writes), then hold it open until
 *                             stdin closes (closing a master hangs up the
 *                             slave and discards what it has not read)
 *   serial echo               print the slave's path, echo what arrives
 *   serial throughput bytes=N the C baseline reader: a forked device, the
 *                             slave raw, poll() + 64 KiB read() loop
 *   serial latency samples=N  the C baseline round trip: a forked echo
 *                             device, 1 byte written, poll(), read back */
#include "common.h" /* first: it defines _GNU_SOURCE */

#include <poll.h>
#include <sys/wait.h>
#include <termios.h>

#define CHUNK 65536

static int64_t cpu_ns(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) < 0)
    die("getrusage");
  return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
         ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* A pty master; its slave's path in `path`. */
static int open_master(char* path, size_t size) {
  int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    die("posix_openpt");
  if (grantpt(fd) < 0 || unlockpt(fd) < 0)
    die("grantpt/unlockpt");
  if (ptsname_r(fd, path, size) != 0)
    die("ptsname_r");
  return fd;
}

/* Opens the slave as a serial binding does: non-blocking, raw. */
static int open_port(const char* path) {
  int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  struct termios t;
  if (fd < 0)
    die("open slave");
  if (tcgetattr(fd, &t) < 0)
    die("tcgetattr");
  cfmakeraw(&t);
  cfsetspeed(&t, B115200);
  if (tcsetattr(fd, TCSANOW, &t) < 0)
    die("tcsetattr");
  return fd;
}

static void write_all(int fd, long bytes) {
  static char buf[CHUNK];
  memset(buf, 'x', sizeof(buf));
  while (bytes > 0) {
    ssize_t n = write(fd, buf, bytes < CHUNK ? (size_t)bytes : CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      die("write");
    bytes -= n;
  }
}

/* Blocks until `fd` reaches EOF (or fails). */
static void wait_eof(int fd) {
  char c;
  while (read(fd, &c, 1) > 0 || errno == EINTR)
    ;
}

static void echo(int master) {
  static char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      exit(0); /* EIO: the port closed */
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(master, buf + off, (size_t)(n - off));
      if (w < 0 && errno != EINTR)
        exit(0);
      if (w > 0)
        off += w;
    }
  }
}

/* Waits until `fd` is readable. */
static void wait_in(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (poll(&p, 1, -1) < 0)
    if (errno != EINTR)
      die("poll");
}

static int cmp64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  char path[128];
  if (strcmp(mode, "device") == 0 || strcmp(mode, "echo") == 0) {
    int master = open_master(path, sizeof(path));
    printf("%s\n", path);
    fflush(stdout);
    if (strcmp(mode, "echo") == 0)
      echo(master);
    char line[16];
    if (!fgets(line, sizeof(line), stdin))
      return 0;
    write_all(master, arg_long(argc, argv, "bytes", 64L << 20));
    wait_eof(0);
    return 0;
  }
  if (strcmp(mode, "throughput") == 0) {
    long bytes = arg_long(argc, argv, "bytes", 64L << 20);
    int master = open_master(path, sizeof(path));
    int go[2];
    if (pipe(go) < 0)
      die("pipe");
    int port = open_port(path);
    pid_t pid = fork();
    if (pid < 0)
      die("fork");
    if (pid == 0) {
      close(go[1]);
      write_all(master, bytes);
      wait_eof(go[0]);
      _exit(0);
    }
    close(go[0]);
    static char buf[CHUNK];
    long total = 0, reads = 0;
    int64_t t0 = 0, c0 = 0;
    while (total < bytes) {
      ssize_t n = read(port, buf, sizeof(buf));
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        wait_in(port);
        continue;
      }
      if (n <= 0)
        die("read");
      if (total == 0) {
        t0 = now_ns();
        c0 = cpu_ns();
      }
      total += n;
      reads++;
    }
    int64_t ns = now_ns() - t0, cpu = cpu_ns() - c0;
    close(go[1]);
    waitpid(pid, NULL, 0);
    printf(
        "{\"ok\":true,\"contender\":\"serial-c\",\"workload\":\"throughput\","
        "\"bytes\":%ld,\"reads\":%ld,"
        "\"ns_per_event\":%.1f,\"events\":%ld,\"bytes_per_s\":%.1f,\"cpu_ns_"
        "per_mib\":%.1f}\n",
        total, reads, (double)ns / reads, reads, total / (ns / 1e9),
        cpu / (total / 1048576.0));
    return 0;
  }
  if (strcmp(mode, "latency") == 0) {
    long samples = arg_long(argc, argv, "samples", 2000);
    long warm = samples / 16 > 20 ? samples / 16 : 20;
    int master = open_master(path, sizeof(path));
    int port = open_port(path);
    pid_t pid = fork();
    if (pid < 0)
      die("fork");
    if (pid == 0) {
      close(port);
      echo(master);
    }
    close(master);
    int64_t* t = calloc((size_t)samples, sizeof(int64_t));
    int64_t c0 = 0;
    char c = '?';
    for (long i = 0; i < warm + samples; i++) {
      if (i == warm)
        c0 = cpu_ns();
      int64_t s = now_ns();
      if (write(port, &c, 1) != 1)
        die("write");
      for (;;) {
        ssize_t n = read(port, &c, 1);
        if (n == 1)
          break;
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          wait_in(port);
          continue;
        }
        die("read");
      }
      if (i >= warm)
        t[i - warm] = now_ns() - s;
    }
    int64_t cpu = cpu_ns() - c0;
    close(port);
    waitpid(pid, NULL, 0);
    qsort(t, (size_t)samples, sizeof(int64_t), cmp64);
    printf(
        "{\"ok\":true,\"contender\":\"serial-c\",\"workload\":\"latency\","
        "\"samples\":%ld,\"p50_ns\":%lld,"
        "\"p99_ns\":%lld,\"cpu_ns_per_rtt\":%.1f}\n",
        samples, (long long)t[samples / 2], (long long)t[samples * 99 / 100],
        (double)cpu / samples);
    free(t);
    return 0;
  }
  fprintf(stderr,
          "usage: serial device bytes=N | echo | throughput bytes=N | latency "
          "samples=N\n");
  return 2;
}
