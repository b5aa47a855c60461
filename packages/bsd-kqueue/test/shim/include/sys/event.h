/* TEST ONLY: the subset of BSD <sys/event.h> that src/kqueue.c uses,
 * emulated on Linux by ../../kqueue_shim.c so that the backend compiles
 * unchanged and runs here. Layout and values follow FreeBSD 12+ (struct
 * kevent with ext[4], 64-bit data); EVFILT_EXCEPT and NOTE_OOB take macOS's
 * values. Never ship this.
 *
 * Profiles pick which optional parts are visible, so that every #ifdef
 * branch of src/kqueue.c can be built and run here (the emulation itself
 * always implements everything):
 *   default                  FreeBSD 14 plus EVFILT_EXCEPT: all of it
 *   KQ_SHIM_PROFILE_MACOS    no kqueue1()/kqueuex()/KQUEUE_CLOEXEC
 *   KQ_SHIM_PROFILE_OPENBSD  as macOS, and no EVFILT_USER (pipe wake-up)
 *   KQ_SHIM_PROFILE_MINIMAL  as OpenBSD, and no EVFILT_EXCEPT, NOTE_OOB,
 *                            EV_DISPATCH, EV_RECEIPT */
#ifndef AIO_TEST_SHIM_SYS_EVENT_H_
#define AIO_TEST_SHIM_SYS_EVENT_H_

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ASYNC_IO_KQUEUE_SHIM 1

#if defined(KQ_SHIM_PROFILE_MINIMAL) && !defined(KQ_SHIM_PROFILE_OPENBSD)
#define KQ_SHIM_PROFILE_OPENBSD 1
#endif
#if defined(KQ_SHIM_PROFILE_OPENBSD) && !defined(KQ_SHIM_PROFILE_MACOS)
#define KQ_SHIM_PROFILE_MACOS 1
#endif

struct kevent {
  uintptr_t ident;      /* identifier for this event */
  short filter;         /* filter for event */
  unsigned short flags; /* action flags for kqueue */
  unsigned int fflags;  /* filter flag value */
  int64_t data;         /* filter data value */
  void* udata;          /* opaque user data identifier */
  uint64_t ext[4];      /* extensions */
};

#define EV_SET(kevp_, a, b, c, d, e, f) \
  do {                                  \
    struct kevent* kevp = (kevp_);      \
    (kevp)->ident = (a);                \
    (kevp)->filter = (b);               \
    (kevp)->flags = (c);                \
    (kevp)->fflags = (d);               \
    (kevp)->data = (e);                 \
    (kevp)->udata = (f);                \
    (kevp)->ext[0] = 0;                 \
    (kevp)->ext[1] = 0;                 \
    (kevp)->ext[2] = 0;                 \
    (kevp)->ext[3] = 0;                 \
  } while (0)

/* Always present, under reserved names, for the emulation itself. */
#define KQ_SHIM_EVFILT_USER (-11)
#define KQ_SHIM_EVFILT_EXCEPT (-15)
#define KQ_SHIM_EV_RECEIPT 0x0040
#define KQ_SHIM_EV_DISPATCH 0x0080
#define KQ_SHIM_NOTE_OOB 0x00000002
#define KQ_SHIM_KQUEUE_CLOEXEC_VALUE 0x00000001

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EVFILT_AIO (-3)
#define EVFILT_VNODE (-4)
#define EVFILT_PROC (-5)
#define EVFILT_SIGNAL (-6)
#define EVFILT_TIMER (-7)
#ifndef KQ_SHIM_PROFILE_OPENBSD
#define EVFILT_USER KQ_SHIM_EVFILT_USER
#endif
#ifndef KQ_SHIM_PROFILE_MINIMAL
#define EVFILT_EXCEPT KQ_SHIM_EVFILT_EXCEPT
#endif
#define EVFILT_SYSCOUNT 15

/* actions */
#define EV_ADD 0x0001     /* add event to kq (implies enable) */
#define EV_DELETE 0x0002  /* delete event from kq */
#define EV_ENABLE 0x0004  /* enable event */
#define EV_DISABLE 0x0008 /* disable event (not reported) */
/* flags */
#define EV_ONESHOT 0x0010 /* only report one occurrence */
#define EV_CLEAR 0x0020   /* clear event state after reporting */
#ifndef KQ_SHIM_PROFILE_MINIMAL
#define EV_RECEIPT KQ_SHIM_EV_RECEIPT   /* force EV_ERROR on success */
#define EV_DISPATCH KQ_SHIM_EV_DISPATCH /* disable event after reporting */
#endif
#define EV_SYSFLAGS 0xF000
/* returned values */
#define EV_EOF 0x8000   /* EOF detected */
#define EV_ERROR 0x4000 /* error, data contains errno */

/* EVFILT_USER */
#define NOTE_FFNOP 0x00000000
#define NOTE_FFAND 0x40000000
#define NOTE_FFOR 0x80000000
#define NOTE_FFCOPY 0xc0000000
#define NOTE_FFCTRLMASK 0xc0000000
#define NOTE_FFLAGSMASK 0x00ffffff
#define NOTE_TRIGGER 0x01000000

/* EVFILT_EXCEPT */
#ifndef KQ_SHIM_PROFILE_MINIMAL
#define NOTE_OOB KQ_SHIM_NOTE_OOB
#endif

int kqueue(void);
#ifndef KQ_SHIM_PROFILE_MACOS
#define KQUEUE_CLOEXEC KQ_SHIM_KQUEUE_CLOEXEC_VALUE
int kqueuex(unsigned int flags);
int kqueue1(int flags);
#endif
#ifdef KQ_SHIM_PROFILE_OPENBSD
/* BSD <unistd.h> declares pipe2() by default; glibc only for _GNU_SOURCE. */
int pipe2(int fds[2], int flags);
#endif
int kevent(int kq, const struct kevent* changelist, int nchanges,
           struct kevent* eventlist, int nevents,
           const struct timespec* timeout);

#ifdef __cplusplus
}
#endif

#endif /* AIO_TEST_SHIM_SYS_EVENT_H_ */
