/* W4's C side: the limit for bulk bytes through a pipe, and the writer every
 * W4 contender reads from (a separate process, so the reader's CPU time is
 * its own).
 *   bulk w4 bytes=268435456       fork a writer, blocking read() loop, 64 KiB
 *   bulk write bytes=N            write N bytes to fd 1 in 64 KiB chunks
 *   bulk write bytes=N path=FIFO  the same into a FIFO opened for writing */
#include "common.h" /* first: it defines _GNU_SOURCE */

#include <sys/wait.h>

#define CHUNK 65536

static const char* arg_str(int argc, char** argv, const char* name) {
  size_t len = strlen(name);
  for (int i = 2; i < argc; i++)
    if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=')
      return argv[i] + len + 1;
  return NULL;
}

static int64_t cpu_ns(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) < 0)
    die("getrusage");
  return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
         ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Writes `bytes` into fd, blocking; a reader that left (EPIPE) ends it. */
static void write_all(int fd, long bytes) {
  static char buf[CHUNK];
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
    die("fcntl");
  memset(buf, 'x', sizeof(buf));
  while (bytes > 0) {
    size_t want = bytes < CHUNK ? (size_t)bytes : CHUNK;
    ssize_t n = write(fd, buf, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      die("write");
    bytes -= n;
  }
}

int main(int argc, char** argv) {
  const char* w = argc > 1 ? argv[1] : "w4";
  long bytes = arg_long(argc, argv, "bytes", 256L << 20);
  if (strcmp(w, "write") == 0) {
    const char* path = arg_str(argc, argv, "path");
    int fd = 1;
    if (path && (fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
      die("open fifo");
    write_all(fd, bytes);
    if (path && close(fd) < 0)
      die("close");
    return 0;
  }
  if (strcmp(w, "w4") != 0) {
    fprintf(stderr, "usage: bulk w4|write bytes=N [path=FIFO]\n");
    return 2;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    die("pipe2");
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    close(fds[0]);
    write_all(fds[1], bytes);
    _exit(0);
  }
  if (close(fds[1]) < 0)
    die("close");
  static char buf[CHUNK];
  long total = 0, first = 0;
  int64_t t0 = 0, c0 = 0;
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      die("read");
    if (n == 0)
      break;
    if (total == 0) { /* timed from the first chunk: no fork in the figure */
      t0 = now_ns(), c0 = cpu_ns();
      first = n;
    }
    total += n;
  }
  int64_t ns = now_ns() - t0, cpu = cpu_ns() - c0;
  int status;
  if (waitpid(pid, &status, 0) < 0)
    die("waitpid");
  close(fds[0]);
  if (total != bytes || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    printf(
        "{\"ok\":false,\"error\":\"read %ld of %ld bytes, writer status "
        "%d\"}\n",
        total, bytes, status);
    return 1;
  }
  long timed = total - first;
  printf(
      "{\"ok\":true,\"contender\":\"c-bulk\",\"workload\":\"w4\",\"params\":{"
      "\"bytes\":%ld},\"events\":%ld,\"ns\":%lld,\"ns_per_event\":%.6f,"
      "\"bytes_per_s\":%.1f,\"cpu_ns\":%lld,\"cpu_ns_per_gib\":%.1f,"
      "\"maxrss_kb\":%ld}\n",
      bytes, timed, (long long)ns, (double)ns / (double)timed,
      (double)timed * 1e9 / (double)ns, (long long)cpu,
      (double)cpu * (double)(1L << 30) / (double)timed, rss_kb());
  return 0;
}
