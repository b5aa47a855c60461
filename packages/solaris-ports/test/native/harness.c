/* port.c's own checks, beyond the C contract suite (contract.c), on the
 * Linux emulation of event ports (../shim): its syscall names, what it says
 * itself to each kernel quirk the shim can make happen (and that the front
 * absorbs them), and the emulation's own strictness. */
#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>

#include <port.h>

#include "harness.h"
#include "port_shim.h"

static void t_identity(void) {
  check(strcmp(aio_backend_name(), "event-ports") == 0, "name is event-ports");
  check(
      aio_backend_caps() == (AIO_CAP_LEVEL | AIO_CAP_PRIORITY | AIO_CAP_QUEUED),
      "caps: level, priority and queued events, no edge");
  check(
      strcmp(aio_backend_syscall(AIO_OP_CREATE), "port_create") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_ADD), "port_associate") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_MODIFY), "port_associate") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_DELETE), "port_dissociate") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_WAIT), "port_getn") == 0 &&
          strcmp(aio_backend_syscall(AIO_OP_NOTIFY), "port_send") == 0,
      "syscall names");
}

/* ---- kernel quirks, made to happen by the shim -------------------------- */

/* port.c itself, without the front: what it answers to each quirk. */
static int raw_wait(aio_poller_t* m, aio_event_t* ev, int cap, int64_t t) {
  port_event_t scratch[8];
  int woken = 0;
  if (cap > 8)
    die("raw_wait: capacity");
  return aio_poller_wait(m, ev, cap, scratch, t, &woken);
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
  harness_start();
  t_identity();
  t_quirks();
  t_shim();
  return harness_end();
}
