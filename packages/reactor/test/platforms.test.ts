import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Async, close, pipe, socketpair, type Watcher, watch, WatchFlags, write } from '../lib/index.js';
import { EXPECTED_BACKEND, runFixture } from './helpers.js';

// Kernel quirks (docs/platforms.md) as the facade's users meet them, on every
// backend this machine runs; on the kqueue emulation the shim makes each
// kernel's answer happen.
const { READABLE, WRITABLE, HANGUP } = WatchFlags;
const fds: number[] = [];
const handles: Async[] = [];
const watchers: Watcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
  for (const h of handles.splice(0)) h.close();
  for (const fd of fds.splice(0)) close(fd);
});
const tick = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

/** shutdown(SHUT_WR) on our socket, done by a child on the same open socket (Node has no call for it on a raw fd). */
function shutdownWrite(fd: number): void {
  const child = spawnSync(
    'python3',
    ['-c', 'import socket; s = socket.socket(fileno=3); s.shutdown(socket.SHUT_WR); s.detach()'],
    { stdio: ['ignore', 'inherit', 'inherit', fd] },
  );
  expect(child.status).toBe(0);
}

describe(`a half-closed socket is no hangup on ${EXPECTED_BACKEND}`, () => {
  // macOS and FreeBSD raise EV_EOF on EVFILT_WRITE after our own
  // shutdown(SHUT_WR) (oven-sh/bun#34678, tokio-rs/mio#1087, libuv#3277).
  it('ready() after our shutdown(SHUT_WR) says writable, no hangup; the peer still sends; hangup only when the peer closes', async () => {
    const [a, b] = socketpair();
    fds.push(b);
    const h = new Async(a, { ownsFd: true });
    handles.push(h);
    shutdownWrite(a); // as a stream's end() does once its writes are flushed
    // The first wait after it asks the kernel for both directions afresh.
    expect(await h.ready({ readable: true, writable: true })).toEqual({ readable: false, writable: true, priority: false, hangup: false, error: false });
    await tick();
    expect(await h.ready({ readable: true, writable: true })).toEqual({ readable: false, writable: true, priority: false, hangup: false, error: false });
    write(b, Buffer.from('answer'));
    await tick();
    expect(await h.ready({ readable: true })).toMatchObject({ readable: true, hangup: false, error: false });
    close(b);
    fds.splice(fds.indexOf(b), 1);
    await tick();
    expect(await h.ready({ readable: true })).toMatchObject({ readable: true, hangup: true });
  });

  it('watch() after our shutdown(SHUT_WR) gets no HANGUP until the peer closes', async () => {
    const [a, b] = socketpair();
    fds.push(a, b);
    const seen: number[] = [];
    watchers.push(watch(a, READABLE | WRITABLE, (_fd, flags) => seen.push(flags)));
    await tick();
    expect(seen.length).toBeGreaterThan(0); // writable at once
    shutdownWrite(a);
    write(b, Buffer.from('answer'));
    await tick(100);
    expect(seen.some((f) => (f & READABLE) !== 0)).toBe(true);
    expect(seen.filter((f) => (f & HANGUP) !== 0)).toEqual([]);
    close(b);
    fds.splice(fds.indexOf(b), 1);
    await tick(100);
    expect(seen.some((f) => (f & HANGUP) !== 0)).toBe(true);
  });
});

describe(`a kevent() that fails once with ETIMEDOUT is a timeout on ${EXPECTED_BACKEND}`, () => {
  // golang/go#59679; made to happen by the kqueue emulation's quirk
  // etimedout-once (ignored elsewhere, where the fixture must pass as well).
  it('the thread driver waits on: both waits resolve, no handle is rejected', async () => {
    const r = await runFixture('etimedout.cjs', [], { KQ_SHIM_QUIRKS: 'etimedout-once', ASYNC_IO_NO_LIBUV: '1' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ driver: 'thread', first: 'resolved', second: 'resolved' });
  });
});

describe(`Async#priority() on a closed handle on ${EXPECTED_BACKEND}`, () => {
  it('rejects ERR_ASYNC_CLOSED, as ready({ priority }) does', async () => {
    const [r] = pipe();
    const h = new Async(r, { ownsFd: true });
    h.close();
    await expect(h.priority()).rejects.toMatchObject({ code: 'ERR_ASYNC_CLOSED' });
    await expect(h.ready({ readable: true, priority: true })).rejects.toMatchObject({ code: 'ERR_ASYNC_CLOSED' });
  });

  // A kqueue without EVFILT_EXCEPT (FreeBSD 14, NetBSD) checked the
  // capability first and answered ENOTSUP. The kqueue emulation's minimal
  // header profile is such a kqueue; run.sh builds it for the emulated
  // kqueue pass, which is where this runs.
  it.runIf(process.env.ASYNC_IO_EMULATE === 'kqueue')('on a kqueue without a priority filter: ENOTSUP while open, ERR_ASYNC_CLOSED once closed', async () => {
    const r = await runFixture('priority-closed.cjs', [], { ASYNC_IO_EMULATE_PROFILE: 'minimal' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ backend: 'kqueue', open: 'ENOTSUP', closed: 'ERR_ASYNC_CLOSED', readyClosed: 'ERR_ASYNC_CLOSED' });
  });
});
