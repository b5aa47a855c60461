/* The contract every async-io backend implements.
 *
 * One mechanism per file (src/epoll.c, src/kqueue.c, src/port.c, src/poll.c),
 * each defining exactly the aio_backend_* and aio_poller_* functions below;
 * a backend's build links one of them with backend-core's sources (the front,
 * the N-API glue, the fd helpers, the drivers). No vtable.
 *
 * Conventions (libuv's): functions return 0 (or a count) on success and a
 * negative errno on failure. Argument checking, the capability gate and
 * EINTR retry against a deadline live once in backend-core's front: a
 * mechanism is only called with an fd >= 0, a key other than AIO_NOTIFY_KEY,
 * known interest bits, a mode its caps allow and a capacity > 0. It makes
 * syscalls and keeps whatever registration table its kernel needs.
 *
 * Thread safety: one thread may block in aio_poller_wait() while others call
 * add/modify/delete/notify on the same poller. Those calls must take effect
 * promptly (a blocked wait sees them without waiting for its timeout) and a
 * wake-up must never be lost. The front lets one wait in at a time (a second
 * concurrent waiter gets no events), so a mechanism never sees two. destroy
 * is called once, after every other call has returned.
 */
#ifndef ASYNC_IO_BACKEND_H_
#define ASYNC_IO_BACKEND_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Readiness bits, used both for interest and for delivered events. */
#define AIO_READABLE 0x01u
#define AIO_WRITABLE 0x02u
#define AIO_PRIORITY 0x04u
#define AIO_HANGUP 0x08u /* delivered only: peer closed */
#define AIO_ERROR 0x10u  /* delivered only: error condition on the fd */
/* Delivered only, with AIO_ERROR, by the front (never by a mechanism): the
 * fd was closed, or closed and its number reused by another file, behind the
 * registration's back. The registration is gone; nothing more comes for it. */
#define AIO_GONE 0x20u

typedef enum {
  AIO_MODE_ONESHOT = 0,      /* fires once, then disarmed until modify() */
  AIO_MODE_LEVEL = 1,        /* fires on every wait while ready */
  AIO_MODE_EDGE = 2,         /* fires once per readiness edge */
  AIO_MODE_EDGE_ONESHOT = 3, /* edge, then disarmed until modify() */
  /* Only from the front, only to a mechanism with AIO_CAP_LEVEL_REARMED:
   * level as its kernel does it, not re-armed per event (an fd the library
   * owns, which nobody closes behind its back). */
  AIO_MODE_LEVEL_KEPT = 4,
} aio_mode_t;

/* Capability bits (aio_backend_caps). */
#define AIO_CAP_LEVEL 0x1u
#define AIO_CAP_EDGE 0x2u
#define AIO_CAP_PRIORITY 0x4u
/* Events are queued with the readiness of the moment they fired, not of the
 * moment the wait returns them (event ports): a consumer rechecks them. */
#define AIO_CAP_QUEUED 0x8u
/* AIO_MODE_LEVEL is armed as a oneshot that the front re-arms as it hands
 * each event out (epoll): a registration the kernel keeps after its fd was
 * closed, because the file is open elsewhere (epoll(7), Q6), then fires at
 * most once instead of on every wait, forever. */
#define AIO_CAP_LEVEL_REARMED 0x10u

/* Keys are 0 .. 2^32-2; this one is reserved for the backend's wake-up. */
#define AIO_NOTIFY_KEY UINT32_MAX

/* One delivered event; the JS batch buffer has the same layout. */
typedef struct {
  uint32_t key;
  uint32_t flags; /* AIO_READABLE | AIO_WRITABLE | ... */
} aio_event_t;

/* Which call failed, so the glue can name the syscall in its error. */
typedef enum {
  AIO_OP_CREATE = 0,
  AIO_OP_ADD,
  AIO_OP_MODIFY,
  AIO_OP_DELETE,
  AIO_OP_WAIT,
  AIO_OP_NOTIFY,
} aio_op_t;

typedef struct aio_poller_s aio_poller_t;

/* "epoll", "kqueue", "event-ports" or "poll". */
const char* aio_backend_name(void);
/* AIO_CAP_* bits this build really supports on this OS. */
unsigned aio_backend_caps(void);
/* The size of one kernel event (struct epoll_event, struct kevent, ...) in
 * the scratch buffer the front hands to aio_poller_wait(); 0 if the
 * mechanism needs none. */
size_t aio_backend_event_size(void);
/* The syscall an error from `op` is reported against ("epoll_ctl", ...). */
const char* aio_backend_syscall(aio_op_t op);

/* Creates a poller; every kernel object it opens is close-on-exec. */
int aio_poller_create(aio_poller_t** out);
/* Closes everything the poller owns and frees it. */
void aio_poller_destroy(aio_poller_t* p);
/* The kernel poller's fd (epoll/kqueue/port), or -1 when there is none. */
int aio_poller_fd(const aio_poller_t* p);

/* -EEXIST if fd is registered; -ENOTSUP for a mode or interest this backend
 * lacks (see caps). */
int aio_poller_add(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                   aio_mode_t mode);
/* Replaces key/interest/mode and re-arms a oneshot registration; -ENOENT if
 * fd is not registered. */
int aio_poller_modify(aio_poller_t* p, int fd, uint32_t key, unsigned interest,
                      aio_mode_t mode);
/* -ENOENT if fd is not registered. After it returns no wait reports fd. */
int aio_poller_delete(aio_poller_t* p, int fd);

/* Waits up to timeout_ns (-1: no limit, 0: do not block) and stores at most
 * `capacity` events. `scratch` has room for `capacity` kernel events of
 * aio_backend_event_size() bytes, owned by the front (one per poller, so no
 * wait allocates). Returns the count (0 on timeout) or a negative errno.
 * The wake-up that aio_poller_notify() wrote is consumed, never reported as
 * an event, and said with *woken = 1 (the front's coalescing then lets the
 * next notify write another); a wait that consumed one returns, with or
 * without events. May return -EINTR when woken with nothing for the caller
 * (a signal, a spurious return, only stale events): the front retries with
 * what is left of the same deadline. */
int aio_poller_wait(aio_poller_t* p, aio_event_t* events, int capacity,
                    void* scratch, int64_t timeout_ns, int* woken);
/* Writes the wake-up that makes a blocked (or the next) wait return. The
 * front coalesces: it calls this again only after a wait consumed the last
 * one. Safe from any thread. */
int aio_poller_notify(aio_poller_t* p);

/* ---- what backend-core provides to a mechanism -------------------------- */

/* A pipe whose ends are close-on-exec and non-blocking: 0 or -errno. */
int aio_fd_pipe(int fds[2]);
/* Sets FD_CLOEXEC, for kernel objects whose create call takes no flag. */
int aio_fd_set_cloexec(int fd);
/* Makes index `fd` valid in *table (*len entries of `elem` bytes): doubles
 * from 64 until it fits and zeroes the new entries. O(1) amortised. Returns
 * 0 or -ENOMEM (the table is then unchanged). */
int aio_fdtable_grow(void** table, int* len, size_t elem, int fd);

/* poll(2)'s vocabulary, for the mechanisms that speak it (poll, event
 * ports) and the core's own readiness checks: the POLL* events that ask for
 * `interest`, and the AIO_* flags that `revents` reports for it. Hangup and
 * error are reported whatever the interest (poll() reports them so); a
 * hangup or an error also makes the asked-for directions ready, since an
 * operation would not block. */
short aio_poll_events(unsigned interest);
uint32_t aio_poll_flags(int revents, unsigned interest);

/* The registrations of a mechanism whose kernel forgets a closed fd in
 * silence and answers EEXIST/ENOENT differently (kqueue, event ports): an
 * fd-indexed table of the mechanism's own entries of `elem` bytes, each of
 * which begins with an aio_reg_t. */
typedef struct {
  uintptr_t gen; /* 0: not registered; else the tag its kernel events carry */
  dev_t dev;     /* the file registered: a closed-and-reused fd number */
  ino_t ino;     /* names another file (polling #262) */
} aio_reg_t;

typedef struct {
  char* entries;
  int len;
  size_t elem;
  uintptr_t next_gen;
} aio_regs_t;

void aio_regs_init(aio_regs_t* t, size_t elem);
void aio_regs_free(aio_regs_t* t);
/* fd's entry if it is registered (gen != 0), else NULL. */
void* aio_regs_find(const aio_regs_t* t, int fd);
/* fd's entry, zeroed if the table had to grow for it; NULL: out of memory. */
void* aio_regs_reserve(aio_regs_t* t, int fd);
/* A tag no live registration carries (never 0). A new tag on every add and
 * modify makes an event the kernel handed out under the old one stale. */
uintptr_t aio_regs_new_gen(aio_regs_t* t);

/* The select() path (select.c), for fds a kernel poller refuses or
 * misreports: macOS poll() answers POLLNVAL for character devices, macOS
 * kqueue refuses /dev/tty with EINVAL. libuv's uv__stream_try_select()
 * (src/unix/stream.c) is the model: a helper thread blocks in select() over
 * fd sets sized to the highest fd (not FD_SETSIZE) and a pipe interrupts it.
 * It never reports events itself: when a watched fd may be ready it calls
 * `wake` (the mechanism's own wake-up, distinct from notify) and parks; the
 * mechanism's wait then calls aio_select_take(), which asks select() again
 * with a zero timeout and lets the helper go on. So a wait reports what is
 * ready at that moment, a level registration fires on every wait while
 * ready, and nothing spins while nobody waits. */

/* What `fd` is ready for right now among `interest` (select(), zero
 * timeout): AIO_* bits, AIO_ERROR if fd is not open, or -errno. */
int aio_select_now(int fd, unsigned interest);

typedef struct aio_select_s aio_select_t;

/* No thread starts until the first fd is watched. */
int aio_select_create(aio_select_t** out, int (*wake)(void* arg), void* arg);
/* Stops and joins the helper, closes what it opened, frees. */
void aio_select_destroy(aio_select_t* s);
/* Watches fd for `interest` (replacing what it had); interest 0 stops
 * watching it. `edge`: a direction is reported when it turns ready, not at
 * every take while it stays ready (select() cannot see edges: select.c says
 * how it approximates them, never losing one). 0 or -errno (-ENOMEM, or the
 * thread could not start). */
int aio_select_watch(aio_select_t* s, int fd, unsigned interest, int edge);
/* Stores at most `room` events, key = the fd, flags = what it is ready for
 * now (AIO_ERROR alone for a watched fd that was closed, which stops
 * watching it); the count. The helper selects again afterwards; what did not
 * fit calls `wake` again. */
int aio_select_take(aio_select_t* s, aio_event_t* out, int room);

/* A backend built where its mechanism does not exist compiles only its
 * src/no-<mechanism>.c, which defines this name, with backend-core's
 * src/stub.c, which fails every call with ENOSYS (libuv's no-*.c idiom). */
extern const char aio_stub_name[];

#ifdef __cplusplus
}
#endif

#endif /* ASYNC_IO_BACKEND_H_ */
