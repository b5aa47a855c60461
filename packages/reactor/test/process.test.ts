import { describe, expect, it } from 'vitest';
import { EXPECTED_BACKEND, EXPECTED_DRIVER, EXPECTED_ROW, runFixture } from './helpers.js';

describe(`process liveness on ${EXPECTED_BACKEND}`, () => {
  it('a ref\'d handle with a pending wait keeps the process alive until it wakes', async () => {
    const r = await runFixture('liveness.cjs', ['ref']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['woke', 'exit']);
  });

  it('an unref\'d handle with a pending wait lets the process exit', async () => {
    const r = await runFixture('liveness.cjs', ['unref']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['exit']);
  });

  it('a ready() for several directions counts once: after it settles, a ref\'d wait still keeps the process alive', async () => {
    const r = await runFixture('liveness.cjs', ['ready']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['ready', 'woke', 'exit']);
  });

  it('an idle reactor never holds the process', async () => {
    const r = await runFixture('liveness.cjs', ['idle']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['exit']);
  });
});

describe(`a reactor under load on ${EXPECTED_BACKEND}`, () => {
  it.each(['thread', 'auto'])(
    'driver %s: never idle, it still lets timers and immediates run, keeps the process alive on its waits alone, hands back to its watcher once idle, and lets the process exit',
    async (driver) => {
      const r = await runFixture('busy.cjs', [driver]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      if (driver === 'thread') expect(out.driver).toBe('thread');
      expect(out.spurious).toBe(0);
      // The immediate ran during the ping-pong, not after it; so did the
      // timer that ended it (every round is one loop turn, never a loop of
      // our own).
      expect(out.immediateAt).toBeGreaterThanOrEqual(0);
      expect(out.immediateAt).toBeLessThan(out.timerAt);
      expect(out.timerAt).toBeGreaterThan(0);
      expect(out.afterTimer - out.timerAt).toBeGreaterThanOrEqual(0);
      expect(out.afterTimer - out.timerAt).toBeLessThanOrEqual(1); // the round in flight
      expect(out.rounds).toBe(out.afterTimer + 5000);
      expect(out.late).toBe(true);
    },
  );
});

describe(`fairness on ${EXPECTED_BACKEND}`, () => {
  for (const driver of ['thread', 'auto']) {
    it.each(['readWith', 'readable', 'read', 'ready'])(
      `driver ${driver}: a loop of awaited %s on an always-ready fd still lets a timer, a child's exit and a signal storm through`,
      async (mode) => {
        const r = await runFixture('coop.cjs', [driver, mode]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({ mode, timer: true, child: true, signals: true, handled: true });
      },
    );
  }

  // The budget is per thread and per loop turn: a round of 1,024 waits that
  // all find their fds ready completes 128 at once, and the rest yield once,
  // together (one setImmediate), instead of each yielding again on every turn
  // until it gets a unit (4,616 setImmediate calls a round before: bench/analysis.md).
  it('a round of 1,024 ready readWith() calls yields once, not once per call per turn', async () => {
    const r = await runFixture('coop-count.cjs', ['1024']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.error).toBeUndefined();
    for (const n of out.perRound) expect(n).toBeLessThanOrEqual(4);
  });
});

describe(`external driver on ${EXPECTED_BACKEND}`, () => {
  it('dispatches nothing by itself; reactorFd turns readable; dispatch() wakes the waiter', async (ctx) => {
    if (!EXPECTED_ROW.hasFd) return ctx.skip(`the ${EXPECTED_BACKEND} backend has no kernel poller fd to watch (README: Embedding)`);
    const r = await runFixture('external.cjs', [], { WATCHER_MODULE: require.resolve('@async-io/linux-epoll') });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      configureAfterStart: 'ERR_ASYNC_IO_ALREADY_STARTED',
      driver: 'external',
      wokeWithoutDispatch: false,
      fdReadable: true,
      dispatched: 1,
      wokeAfterDispatch: true,
      fdQuietAfter: true,
      secondDispatch: 0,
    });
  });
});

describe(`Workers on ${EXPECTED_BACKEND}`, () => {
  it('50 Workers with pending waits terminate cleanly while the main thread serves traffic', async () => {
    const r = await runFixture('workers.cjs', ['50'], {}, 120_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.terminated).toBe(50);
    expect(out.served).toBeGreaterThan(0);
    expect(out.fdsAfter).toBeLessThanOrEqual(out.fdsBefore);
  }, 150_000);
});

describe(`nested driver self-check on ${EXPECTED_BACKEND}`, () => {
  it('switches to the thread driver after repeated empty wakes, logs it, and keeps delivering', async (ctx) => {
    if (EXPECTED_DRIVER !== 'nested') return ctx.skip(`the start-up probe gives ${EXPECTED_BACKEND} the ${EXPECTED_DRIVER} driver here: nothing to switch from`);
    const r = await runFixture('switch.cjs', [], { NODE_DEBUG: 'async-io' });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.before).toBe('nested');
    expect(out.after).toBe('thread');
    expect(out.wakes).toBeGreaterThanOrEqual(64);
    expect(out.wakes).toBeLessThan(1000);
    expect(r.stderr).toMatch(/ASYNC-IO \d+: reactor: the nested driver kept waking with nothing to dispatch; switched to the thread driver/);
  });
});

describe('doctor', () => {
  it(`names the chosen backend, its file and fd (${EXPECTED_BACKEND})`, async () => {
    const r = await runFixture('../../dist/cli.js', ['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.chosen).toBe(EXPECTED_BACKEND);
    expect(report.file).toMatch(/\.node$/);
    expect(report.reactorFd === null).toBe(!EXPECTED_ROW.hasFd);
    expect(report.backends.find((b: { chosen: boolean }) => b.chosen).backend).toBe(EXPECTED_BACKEND);
    expect(report).toMatchObject({ platform: process.platform, arch: process.arch, napi: process.versions.napi });
  });

  it('exits non-zero and explains when no backend can load', async () => {
    const r = await runFixture('../../dist/cli.js', ['doctor'], { ASYNC_IO_BACKEND: 'nonsense' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ERR_ASYNC_IO_UNKNOWN_BACKEND/);
  });
});

/**
 * read(2) and write(2) on a kernel poller's fd, per kernel, as the error's
 * `code` names it (ENOTSUP where it equals EOPNOTSUPP). Here (Linux) it is an
 * epoll fd, under the kqueue and event-ports emulations too.
 */
const REACTOR_FD_READ_WRITE: Record<string, string> = {
  linux: 'EINVAL', // epoll has no read/write
  darwin: 'ENXIO', // XNU kqueue_read()/kqueue_write()
  openbsd: 'ENXIO', // kqueue_read()/kqueue_write()
  freebsd: 'ENOTSUP', // invfo_rdwr(): EOPNOTSUPP, equal to ENOTSUP there
  netbsd: 'EOPNOTSUPP', // fbadop_read()/fbadop_write()
  sunos: 'ENOSYS', // portfs has no read/write vnode operation (fs_nosys)
};

describe(`misusing reactorFd() on ${EXPECTED_BACKEND}`, () => {
  it('reading, writing or closing it gives coded errors and never crashes; the reactor keeps working', async () => {
    const r = await runFixture('misuse.cjs');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    if (!EXPECTED_ROW.hasFd) {
      // No fd to misuse: the helpers refuse null with a type error.
      expect(out).toMatchObject({ read: 'ERR_INVALID_ARG_TYPE', close: 'ERR_INVALID_ARG_TYPE' });
    } else {
      // What read(2)/write(2) on the poller's fd answer is the kernel's.
      const answer = REACTOR_FD_READ_WRITE[process.platform];
      expect(answer, `the answer of ${process.platform}'s kernel is not known yet`).toBeDefined();
      expect(out.read).toBe(answer);
      expect(out.write).toBe(answer);
      expect(out.close).toBe('ok'); // it is the user's own dup to close...
    }
    // ...and the reactor never noticed: waits still complete, handles still register.
    expect(out.waitAfterClose).toBe('resolved');
    expect(out.newHandle).toBe('ok');
  });
});
