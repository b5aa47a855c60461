import { spawnSync } from 'node:child_process';
import { fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Async, backendInfo, close, decodeFlags, pipe, read, socketpair, type Watcher, watch, WatchFlags, write } from '../lib/index.js';
import { EXPECTED_BACKEND, EXPECTED_ROW, runFixture } from './helpers.js';

const { READABLE, WRITABLE, PRIORITY, HANGUP, ERROR } = WatchFlags;
const watchers: Watcher[] = [];
const fds: number[] = [];
const dir = mkdtempSync(join(tmpdir(), 'async-io-watch-'));

function track(w: Watcher): Watcher {
  watchers.push(w);
  return w;
}
function tfds<T extends number[]>(p: T): T {
  fds.push(...p);
  return p;
}
function untrack(fd: number): void {
  fds.splice(fds.indexOf(fd), 1);
}
function tick(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
/** Waits (polling the loop) until `cond()` holds; the test's own timeout bounds it. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await tick(2);
}
function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
  for (const fd of fds.splice(0)) {
    try {
      close(fd);
    } catch {}
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const edge = backendInfo().capabilities.edge;

describe(`watch() on ${EXPECTED_BACKEND}`, () => {
  it('calls back with (fd, READABLE) when data arrives, and not before', async () => {
    const [r, w] = tfds(pipe());
    const calls: [number, number][] = [];
    track(watch(r, READABLE, (fd, flags) => calls.push([fd, flags])));
    await tick(30);
    expect(calls).toEqual([]);
    write(w, Buffer.from('x'));
    await until(() => calls.length > 0);
    expect(calls[0]).toEqual([r, READABLE]);
  });

  it("level mode (the default) calls again on every turn while ready, and stops once drained", async () => {
    const [r, w] = tfds(pipe());
    let calls = 0;
    let drain = false;
    const watcher = track(
      watch(r, { readable: true }, (fd) => {
        calls++;
        if (drain) while (read(fd, Buffer.alloc(64)) !== null) {}
      }),
    );
    expect(watcher.mode).toBe('level');
    write(w, Buffer.from('data'));
    await until(() => calls >= 3); // not read: still ready, called again and again
    drain = true;
    await until(() => read(r, Buffer.alloc(1)) === null);
    await tick(30);
    const settled = calls;
    await tick(50);
    expect(calls).toBe(settled);
  });

  it(`edge mode calls once per readiness change (${edge ? 'native' : 'emulated: at least once'})`, async () => {
    const [r, w] = tfds(pipe());
    let calls = 0;
    const watcher = track(watch(r, READABLE, () => calls++, { mode: 'edge' }));
    expect(watcher.mode).toBe('edge');
    write(w, Buffer.from('a'));
    await until(() => calls >= 1);
    await tick(50);
    if (edge) expect(calls).toBe(1); // not drained, but no new edge
    const before = calls;
    write(w, Buffer.from('b')); // a new edge
    await until(() => calls > before);
    if (edge) {
      await tick(50);
      expect(calls).toBe(2);
    }
  });

  it('oneshot mode calls once and stops itself; start() re-arms it', async () => {
    const [r, w] = tfds(pipe());
    let calls = 0;
    const watcher = track(watch(r, READABLE, () => calls++, { mode: 'oneshot' }));
    write(w, Buffer.from('a'));
    await until(() => calls === 1);
    expect(watcher.active).toBe(false);
    write(w, Buffer.from('b'));
    await tick(50);
    expect(calls).toBe(1);
    expect(watcher.start()).toBe(watcher);
    expect(watcher.active).toBe(true);
    await until(() => calls === 2); // still readable: fires at once
    expect(watcher.active).toBe(false);
  });

  it('reports WRITABLE on a socket with room, and HANGUP when the peer closes', async () => {
    const [a, b] = tfds(socketpair());
    const seen: number[] = [];
    const watcher = track(watch(a, READABLE | WRITABLE, (_fd, flags) => seen.push(flags), { mode: 'oneshot' }));
    await until(() => seen.length === 1);
    expect(seen[0]! & WRITABLE).toBe(WRITABLE);
    expect(seen[0]! & READABLE).toBe(0);
    close(b);
    untrack(b);
    watcher.start(READABLE);
    await until(() => seen.length === 2);
    expect(decodeFlags(seen[1]!)).toMatchObject({ readable: true, hangup: true });
  });

  it('start(interest) switches what is watched', async () => {
    const [r, w] = tfds(pipe());
    const seen: number[] = [];
    const watcher = track(watch(w, WRITABLE, (_fd, flags) => seen.push(flags), { mode: 'oneshot' }));
    await until(() => seen.length === 1);
    expect(seen[0]! & WRITABLE).toBe(WRITABLE);
    const chunk = Buffer.alloc(65536);
    while (write(w, chunk) !== null) {} // full: not writable any more
    watcher.start(WRITABLE);
    await tick(50);
    expect(seen.length).toBe(1);
    while (read(r, chunk) !== null) {} // room again
    await until(() => seen.length === 2);
  });

  it('after stop() no callback comes, not even for an event already taken in the same batch', async () => {
    const [r1, w1] = tfds(pipe());
    const [r2, w2] = tfds(pipe());
    const calls: number[] = [];
    const both = (fd: number): void => {
      calls.push(fd);
      one.stop();
      two.stop();
    };
    const one: Watcher = track(watch(r1, READABLE, both));
    const two: Watcher = track(watch(r2, READABLE, both));
    write(w1, Buffer.from('1'));
    write(w2, Buffer.from('2')); // both ready before the reactor's next turn: one batch
    await until(() => calls.length > 0);
    await tick(50);
    expect(calls).toHaveLength(1); // level mode and never drained, yet the other one stays silent
    expect(one.active && two.active).toBe(false);
    one.start();
    two.start();
    await until(() => calls.length === 2);
    await tick(30);
    expect(calls).toHaveLength(2);
  });

  it('stop() and start() may be called from the callback; ref()/unref()/hasRef() chain', async () => {
    const [r, w] = tfds(pipe());
    let calls = 0;
    const watcher = track(
      watch(r, READABLE, () => {
        calls++;
        watcher.stop();
        if (calls < 3) watcher.start();
      }),
    );
    expect(watcher.unref()).toBe(watcher);
    expect(watcher.hasRef()).toBe(false);
    expect(watcher.ref().hasRef()).toBe(true);
    write(w, Buffer.from('x'));
    await until(() => calls === 3);
    await tick(50);
    expect(calls).toBe(3);
    expect(watcher.active).toBe(false);
    expect(watcher.stop().stop()).toBe(watcher); // idempotent
  });

  it('close() deregisters, closes an owned fd, and is idempotent; the fd number is free again', async () => {
    const [r, w] = pipe();
    fds.push(w);
    const owner = watch(r, READABLE, () => {}, { ownsFd: true });
    owner.close();
    owner.close();
    expect(owner.closed).toBe(true);
    expect(isOpen(r)).toBe(false);
    expect(() => owner.start()).toThrow(expect.objectContaining({ code: 'ERR_WATCHER_CLOSED' }));
    const [r2] = tfds(pipe());
    const borrower = watch(r2, READABLE, () => {});
    borrower.close();
    expect(isOpen(r2)).toBe(true);
    const h = new Async(r2); // registrable again
    h.close();
  });

  it('one registration per fd: an Async, a stream or another watcher on it is EEXIST, both ways', () => {
    const [r, w] = tfds(pipe());
    track(watch(r, READABLE, () => {}));
    const exists = expect.objectContaining({ code: 'EEXIST' });
    expect(() => watch(r, READABLE, () => {})).toThrow(exists);
    expect(() => new Async(r)).toThrow(exists);
    const h = new Async(w);
    try {
      expect(() => watch(w, WRITABLE, () => {})).toThrow(exists);
    } finally {
      h.close();
    }
  });

  it('a stopped watcher leaves the fd to others, and cannot start again while they hold it', () => {
    const [r] = tfds(pipe());
    const watcher = track(watch(r, READABLE, () => {}));
    watcher.stop();
    const h = new Async(r);
    try {
      expect(() => watcher.start()).toThrow(expect.objectContaining({ code: 'EEXIST' }));
      expect(watcher.active).toBe(false);
    } finally {
      h.close();
    }
    watcher.start();
    expect(watcher.active).toBe(true);
  });

  it('an fd closed behind its back and reused: the new file is watched, the old watcher hears nothing of it but its EBADF', async () => {
    const [r1, w1] = pipe();
    const oldFlags: number[] = [];
    const oldErrors: string[] = [];
    const old = watch(r1, READABLE, (_fd, flags) => oldFlags.push(flags), { onError: (e) => oldErrors.push((e as NodeJS.ErrnoException).code!) });
    close(r1);
    close(w1);
    const [r2, w2] = tfds(pipe());
    expect(r2).toBe(r1); // the number is reused
    let newCalls = 0;
    const fresh = track(watch(r2, READABLE, () => newCalls++, { mode: 'oneshot' }));
    write(w2, Buffer.from('fresh'));
    await until(() => newCalls === 1);
    // The front saw the number taken by another file: the old watcher's
    // registration is gone (its onError gets EBADF, once), on every backend,
    // and its callback never runs for the new file.
    await until(() => oldErrors.length === 1);
    expect(oldFlags).toEqual([]);
    expect(oldErrors).toEqual(['EBADF']);
    expect(old.active).toBe(false);
    old.close(); // must not take the new registration with it
    fresh.start();
    await until(() => newCalls === 2);
    // and an Async can take over from a stale watcher the same way
    const [r3, w3] = pipe();
    const staleErrors: string[] = [];
    const stale = watch(r3, READABLE, () => {}, { onError: (e) => staleErrors.push((e as NodeJS.ErrnoException).code!) });
    close(r3);
    close(w3);
    const [r4, w4] = tfds(pipe());
    expect(r4).toBe(r3);
    const h = new Async(r4);
    try {
      write(w4, Buffer.from('y'));
      await h.readable();
      await until(() => staleErrors.length === 1);
      expect(staleErrors).toEqual(['EBADF']);
    } finally {
      h.close();
      stale.close();
    }
  });

  it('refuses a regular file with ERR_INVALID_FD_TYPE on every backend (epoll would say EPERM, the others always ready)', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    const f = openSync(file, 'r');
    fds.push(f);
    expect(() => watch(f, READABLE, () => {})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_FD_TYPE', name: 'TypeError' }));
  });

  it('decodeFlags() and WatchFlags name every bit', () => {
    expect(WatchFlags).toEqual({ READABLE: 1, WRITABLE: 2, PRIORITY: 4, HANGUP: 8, ERROR: 16 });
    expect(Object.isFrozen(WatchFlags)).toBe(true);
    expect(decodeFlags(READABLE | HANGUP)).toEqual({ readable: true, writable: false, priority: false, hangup: true, error: false });
    expect(decodeFlags(WRITABLE | PRIORITY | ERROR)).toEqual({ readable: false, writable: true, priority: true, hangup: false, error: true });
    expect(() => decodeFlags('1' as unknown as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('bad input gets coded errors and leaves no registration behind', () => {
    const [r] = tfds(pipe());
    const type = expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' });
    const value = expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' });
    const range = expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' });
    const w = watch as unknown as (...a: unknown[]) => Watcher;
    const cb = () => {};
    expect(() => w('3', READABLE, cb)).toThrow(type);
    expect(() => w(-1, READABLE, cb)).toThrow(range);
    expect(() => w(2 ** 31, READABLE, cb)).toThrow(range);
    expect(() => w(r, 'readable', cb)).toThrow(type);
    expect(() => w(r, null, cb)).toThrow(type);
    expect(() => w(r, 8, cb)).toThrow(value); // HANGUP is delivered, never asked for
    expect(() => w(r, 1.5, cb)).toThrow(value);
    expect(() => w(r, { readable: 1 }, cb)).toThrow(type);
    expect(() => w(r, READABLE)).toThrow(type);
    expect(() => w(r, READABLE, 'cb')).toThrow(type);
    expect(() => w(r, READABLE, cb, null)).toThrow(type);
    expect(() => w(r, READABLE, cb, { mode: 'edgy' })).toThrow(value);
    expect(() => w(r, READABLE, cb, { mode: 2 })).toThrow(type);
    expect(() => w(r, READABLE, cb, { ownsFd: 'yes' })).toThrow(type);
    expect(() => w(r, READABLE, cb, { onError: 1 })).toThrow(type);
    const [c, d] = pipe();
    close(c);
    close(d);
    expect(() => w(c, READABLE, cb)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => w(1_000_000, READABLE, cb)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const watcher = track(watch(r, READABLE, cb)); // nothing above kept a registration
    expect(() => watcher.start('x' as unknown as number)).toThrow(type);
    expect(() => watcher.start(64)).toThrow(value);
  });
});

describe(`watch() in other processes on ${EXPECTED_BACKEND}`, () => {
  it("an active ref'd watcher keeps the process alive until its callback; an unref'd or stopped one does not", async () => {
    for (const [mode, expected] of [
      ['ref', ['called', 'exit']],
      ['unref', ['exit']],
      ['stopped', ['exit']],
    ] as const) {
      const r = await runFixture('watch-liveness.cjs', [mode]);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean)).toEqual(expected);
    }
  });

  it('a callback that throws is an uncaught exception, and the rest of its batch is still delivered', async () => {
    const r = await runFixture('watch-throw.cjs');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ uncaught: 'boom', called: [1, 2, 3] });
  });

  it('Workers terminated with active watchers (owned fds) tear down cleanly and leak no fd', async () => {
    const r = await runFixture('watch-workers.cjs', ['20'], {}, 120_000);
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.terminated).toBe(20);
    expect(out.watching).toBeGreaterThan(0);
    expect(out.fdsAfter).toBeLessThanOrEqual(out.fdsBefore);
  }, 150_000);

  // A change that /proc/self/mountinfo reports once, on every driver: under
  // nested and external the outer loop's poll of the reactor fd would consume
  // it first, so the watcher's registration moves to the side poller.
  const drivers = [...(EXPECTED_ROW.hasFd ? ['nested'] : []), 'thread', 'external'];
  it.runIf(process.platform === 'linux').for(drivers)('reports PRIORITY|ERROR on /proc/self/mountinfo when a mount appears (%s driver)', async (driver, ctx) => {
    const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true']);
    if (probe.status !== 0) {
      return ctx.skip(`unshare -m refused here (${String(probe.stderr).trim()})`);
    }
    const r = await runFixture('watch-priority.cjs', [dir, driver]);
    // kqueue's priority filter (EVFILT_EXCEPT) serves sockets only: a coded refusal.
    if (EXPECTED_BACKEND === 'kqueue') return expect(r.stderr).toMatch(/code: '(EINVAL|ENOTSUP)'/);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ before: 0, after: { priority: true, error: true } });
  });
});
