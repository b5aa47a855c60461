import { afterEach, describe, expect, it } from 'vitest';
import { Events, type BackendModule } from '@async-io/backend-core/internal';

// Real kqueue.c on the Linux emulation (test/shim/kqueue_shim.c), asked the
// questions that real kernels answer differently from the emulation's
// defaults. Each kernel behaviour is made to happen by the shim: always (as
// every BSD does) or by a named quirk in KQ_SHIM_QUIRKS, which the shim reads
// at every kevent() call (vitest runs each file in its own process, so
// process.env reaches the C environment). docs/platforms.md lists them.
const backend = require('./emulated.cjs') as BackendModule;
const SHUT_WR = 1;

const open: number[] = [];
const pollers: InstanceType<BackendModule['Poller']>[] = [];
afterEach(() => {
  delete process.env.KQ_SHIM_QUIRKS;
  for (const p of pollers.splice(0)) p.close();
  for (const fd of open.splice(0)) backend.close(fd);
});
function poller() {
  const p = new backend.Poller();
  pollers.push(p);
  return p;
}
function socketpair(): [number, number] {
  const pair = backend.socketpair();
  open.push(...pair);
  return pair;
}
function pipe(): [number, number] {
  const pair = backend.pipe();
  open.push(...pair);
  return pair;
}

describe('kqueue (emulated): EV_EOF on EVFILT_WRITE after our own shutdown(SHUT_WR)', () => {
  // filt_sowrite() on macOS and FreeBSD raises EV_EOF on the write filter as
  // soon as the socket cannot send more, our own half-close included
  // (oven-sh/bun#34678, tokio-rs/mio#1087, libuv/libuv#3277).
  it('is no hangup: the socket stays writable, the peer can still send, and hangup comes from the read side when the peer closes', () => {
    const p = poller();
    const [a, b] = socketpair();
    const events = new Events();
    p.add(a, 1, { readable: true, writable: true }, 'edge');
    expect(p.wait(events, 1000)).toBe(1);
    expect(events.at(0)).toEqual({ key: 1, readable: false, writable: true, priority: false, hangup: false, error: false, gone: false });
    backend.native.shutdown(a, SHUT_WR);
    expect(p.wait(events, 1000)).toBe(1);
    expect(events.at(0)).toEqual({ key: 1, readable: false, writable: true, priority: false, hangup: false, error: false, gone: false });
    backend.write(b, Buffer.from('still here'));
    expect(p.wait(events, 1000)).toBe(1);
    expect(events.at(0)).toMatchObject({ key: 1, readable: true, hangup: false, error: false, gone: false });
    backend.close(b);
    open.splice(open.indexOf(b), 1);
    expect(p.wait(events, 1000)).toBe(1);
    expect(events.at(0)).toMatchObject({ key: 1, readable: true, hangup: true, error: false, gone: false });
  });

  it('is no hangup for a writable-only level registration either', () => {
    const p = poller();
    const [a] = socketpair();
    const events = new Events();
    p.add(a, 2, { writable: true }, 'level');
    backend.native.shutdown(a, SHUT_WR);
    for (let i = 0; i < 2; i++) {
      expect(p.wait(events, 1000)).toBe(1);
      expect(events.at(0)).toEqual({ key: 2, readable: false, writable: true, priority: false, hangup: false, error: false, gone: false });
    }
  });

  it('a pipe whose reader closed is still writable + hangup (a pipe has no half-close)', () => {
    const p = poller();
    const [r, w] = pipe();
    const events = new Events();
    p.add(w, 3, { writable: true }, 'edge');
    expect(p.wait(events, 1000)).toBe(1);
    backend.close(r);
    open.splice(open.indexOf(r), 1);
    expect(p.wait(events, 1000)).toBe(1);
    expect(events.at(0)).toEqual({ key: 3, readable: false, writable: true, priority: false, hangup: true, error: false, gone: false });
  });
});

describe('kqueue (emulated): kevent() timeouts', () => {
  it('a timeout above 10^8 s, which macOS refuses with EINVAL (quirk timeout-einval), still waits', () => {
    process.env.KQ_SHIM_QUIRKS = 'timeout-einval';
    const p = poller();
    const [r, w] = pipe();
    const events = new Events();
    p.add(r, 4, { readable: true }, 'level');
    backend.write(w, Buffer.from('x'));
    // 2e11 ms = 2e8 s; and the largest timeout the Poller takes.
    expect(p.wait(events, 2e11)).toBe(1);
    expect(events.at(0)).toMatchObject({ key: 4, readable: true });
    expect(p.wait(events, Number.MAX_SAFE_INTEGER)).toBe(1);
  });

  it('a one-shot ETIMEDOUT from kevent() (quirk etimedout-once) is a timeout, never an error', () => {
    process.env.KQ_SHIM_QUIRKS = 'etimedout-once';
    const p = poller();
    const [r, w] = pipe();
    const events = new Events();
    p.add(r, 5, { readable: true }, 'level');
    const t0 = performance.now();
    expect(p.wait(events, 100)).toBe(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
    // Re-armed (a call that sees the quirk off), then a wait with an fd ready.
    delete process.env.KQ_SHIM_QUIRKS;
    expect(p.wait(events, 0)).toBe(0);
    process.env.KQ_SHIM_QUIRKS = 'etimedout-once';
    backend.write(w, Buffer.from('x'));
    expect(p.wait(events, 1000)).toBe(1);
    expect(events.at(0)).toMatchObject({ key: 5, readable: true });
  });
});
