import fs, { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, Async, backendInfo, close, createReadStream, createWriteStream, Events, pipe, read, Reactor, reactorFd, socketpair, watch, write } from '../lib/index.js';
import { backendModule } from '../lib/reactor.js';
import { EXPECTED_BACKEND, EXPECTED_DRIVER, EXPECTED_ROW, runFixture } from './helpers.js';

const handles: Async[] = [];
const fds: number[] = [];

function track<T extends Async>(a: T): T {
  handles.push(a);
  return a;
}
function tpipe(): [number, number] {
  const p = pipe();
  fds.push(...p);
  return p;
}
function tick(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
/** Resolves to 'pending' unless `p` settles within `ms`. */
function stateAfter(p: Promise<unknown>, ms = 50): Promise<string> {
  return Promise.race([
    p.then(
      () => 'resolved',
      (e: NodeJS.ErrnoException) => `rejected:${e.code}`,
    ),
    tick(ms).then(() => 'pending'),
  ]);
}

afterEach(() => {
  for (const a of handles.splice(0)) a.close();
  for (const fd of fds.splice(0)) {
    try {
      close(fd);
    } catch {}
  }
});

describe(`Async on ${EXPECTED_BACKEND}`, () => {
  it('uses the expected backend and driver', () => {
    const info = backendInfo();
    expect(info.name).toBe(EXPECTED_BACKEND);
    expect(info.driver).toBe(EXPECTED_DRIVER);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.file).toMatch(/\.node$/);
    expect(typeof info.prebuilt).toBe('boolean');
    expect(info.capabilities.level).toBe(true);
  });

  it('readable() resolves when data arrives, and not before', async () => {
    const [r, w] = tpipe();
    const a = track(new Async(r));
    const waiting = a.readable();
    expect(await stateAfter(waiting)).toBe('pending');
    write(w, Buffer.from('x'));
    expect(await stateAfter(waiting, 5000)).toBe('resolved');
  });

  it('readWith retries the op until data arrives and returns its result', async () => {
    const [r, w] = tpipe();
    const a = track(new Async(r));
    const buf = Buffer.alloc(64);
    setTimeout(() => write(w, Buffer.from('hello')), 30);
    const n = await a.readWith(() => read(r, buf));
    expect(n).toBe(5);
    expect(buf.subarray(0, 5).toString()).toBe('hello');
  });

  it('readWith also retries an op that throws EAGAIN, and passes other errors through', async () => {
    const [r, w] = tpipe();
    const a = track(new Async(r));
    // Make the handle believe it is readable, then drain behind its back: the
    // op's first call can only see EAGAIN.
    write(w, Buffer.from('y'));
    await a.readable();
    expect(read(r, Buffer.alloc(1))).toBe(1);
    let calls = 0;
    setTimeout(() => write(w, Buffer.from('z')), 30);
    const got = await a.readWith(() => {
      calls++;
      const n = read(r, Buffer.alloc(1));
      if (n === null) throw Object.assign(new Error('would block'), { code: 'EAGAIN' });
      return n;
    });
    expect(got).toBe(1);
    expect(calls).toBe(2); // EAGAIN, then the byte after the event
    // The next op sees EAGAIN; from then on the fd is known to block, so on an
    // edge-tracked backend a further readWith waits before calling its op.
    let second = 0;
    let third = 0;
    const next = a.readWith(() => (second++, read(r, Buffer.alloc(1))));
    expect(second).toBe(1);
    const after = a.readWith(() => (third++, read(r, Buffer.alloc(1))));
    expect(third).toBe(backendInfo().capabilities.edge ? 0 : 1);
    write(w, Buffer.from('vw'));
    expect(await next).toBe(1);
    expect(await after).toBe(1);
    const boom = Object.assign(new Error('boom'), { code: 'EIO' });
    await expect(
      a.readWith(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });

  it('writeWith waits for room in a full pipe', async () => {
    const [r, w] = tpipe();
    const a = track(new Async(w));
    const chunk = Buffer.alloc(65536, 1);
    while (write(w, chunk) !== null) {}
    const pending = a.writeWith(() => write(w, Buffer.from('after')));
    expect(await stateAfter(pending)).toBe('pending');
    const sink = Buffer.alloc(1 << 20);
    while (read(r, sink) !== null) {}
    expect(await pending).toBe(5);
  });

  it('writable() resolves at once on a fresh socket', async () => {
    const [a0, b0] = socketpair();
    fds.push(a0, b0);
    const a = track(new Async(a0));
    expect(await stateAfter(a.writable(), 5000)).toBe('resolved');
  });

  it('wakes every one of many concurrent waiters', async () => {
    const [r, w] = tpipe();
    const a = track(new Async(r));
    const waits = Array.from({ length: 25 }, () => a.readable());
    await tick();
    write(w, Buffer.from('x'));
    await expect(Promise.all(waits)).resolves.toHaveLength(25);
  });

  it('reports EOF to a reader when the writer closes', async () => {
    const [r, w] = pipe();
    fds.push(r);
    const a = track(new Async(r));
    setTimeout(() => close(w), 20);
    expect(await a.readWith(() => read(r, Buffer.alloc(8)))).toBe(0);
  });

  it('rejects with AbortError (code ABORT_ERR) when the signal aborts, and for an already aborted signal', async () => {
    const [r] = tpipe();
    const a = track(new Async(r));
    const ac = new AbortController();
    const waiting = a.readable({ signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(a.readable({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    await expect(a.readWith(() => null, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    // The aborted waiter is gone; a new one still works.
    const ok = a.readable();
    const [, w] = [r, fds[1]!];
    write(w, Buffer.from('x'));
    await expect(ok).resolves.toBeUndefined();
  });

  it('close() rejects pending waits with ERR_ASYNC_CLOSED and closes an owned fd', async () => {
    const [r, w] = pipe();
    fds.push(w);
    const a = new Async(r, { ownsFd: true });
    const waiting = a.readable();
    a.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_ASYNC_CLOSED' });
    await expect(a.readable()).rejects.toMatchObject({ code: 'ERR_ASYNC_CLOSED' });
    a.close(); // idempotent
    expect(() => read(r, Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('Symbol.dispose closes; a non-owning handle leaves the fd open', () => {
    const [r] = tpipe();
    {
      using a = new Async(r);
      expect(a.closed).toBe(false);
    }
    expect(read(r, Buffer.alloc(1))).toBeNull(); // still open, would block
  });

  it('never delivers an old registration\'s event to a reused fd number', async () => {
    const [r1, w1] = pipe();
    const a1 = new Async(r1, { ownsFd: true });
    const old = a1.readable();
    write(w1, Buffer.from('stale'));
    a1.close(); // closes r1, before the event is dispatched
    close(w1);
    await expect(old).rejects.toMatchObject({ code: 'ERR_ASYNC_CLOSED' });
    const [r2, w2] = tpipe();
    expect(r2).toBe(r1); // the number is reused
    const a2 = track(new Async(r2));
    expect(await stateAfter(a2.readable(), 100)).toBe('pending');
    write(w2, Buffer.from('fresh'));
    const buf = Buffer.alloc(16);
    const n = await a2.readWith(() => read(r2, buf));
    expect(buf.subarray(0, n).toString()).toBe('fresh');
  });

  it('closing never fails when the fd was closed behind its back and the number reused by a file no poller takes', async () => {
    const r = await runFixture('behind-back.cjs');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0); // and nothing left keeps the process alive
    const out = JSON.parse(r.stdout);
    // `reused`: the new file got the old number, so the close really met it.
    expect(out).toEqual({ async: 'reused', asyncFile: 'open', watch: 'reused', watchFile: 'open', stream: 'reused', streamFile: 'open' });
  });

  // The everyday case of a close behind our back: a child inherited the fd,
  // so epoll keeps the old registration (epoll(7), Q6) and reports the old
  // file under the old key, while the number names a new pipe with data.
  it.each(['auto', 'thread'])(
    'an fd closed behind its back while a child holds its file, its number reused: no callback, wait or stream data for the new file, close() clean, nothing spins (%s driver)',
    async (driver) => {
      const r = await runFixture('behind-back-elsewhere.cjs', ['async,level,edge,stream', driver, 'elsewhere']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0); // and nothing left keeps the process alive
      const out = JSON.parse(r.stdout);
      for (const api of ['async', 'level', 'edge', 'stream']) {
        // The last word is EBADF (the registration is gone), never the new file's readiness or bytes.
        expect(out[api], api).toMatchObject({ callbacks: 0, data: '', outcome: 'EBADF', close: 'ok' });
        // CPU over the 300 ms that the old file stayed readable: a reactor woken
        // by a registration nobody can remove would take most of it (load only
        // lowers that, never raises a sleeping one's).
        expect(out[api].cpuMs, api).toBeLessThan(100);
      }
    },
  );

  // The thread driver's helper took the old file's event (the front checked
  // the file then); before the batch reached JS the fd was closed and its
  // number given to a new pipe with data: the delivery checks again.
  it('an event taken by the helper thread before the fd was closed and its number reused never reaches the old handle as the new file', async () => {
    const r = await runFixture('behind-back-elsewhere.cjs', ['async,level,edge', 'thread', 'captured']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const api of ['async', 'level', 'edge']) expect(out[api], api).toMatchObject({ outcome: 'EBADF', close: 'ok' });
  });

  // poll's helper took POLLNVAL for the closed fd; a new watcher took the
  // number before the batch reached JS. Without the delivery check of an
  // entry whose registration had left the front, the old watcher was called
  // (and the new one, in edge mode, missed its data).
  it('an event taken by the helper before a new registration took the closed fd\'s number goes to nobody but as EBADF', async () => {
    const r = await runFixture('behind-back-elsewhere.cjs', ['level,edge', 'thread', 'replaced']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const api of ['level', 'edge']) expect(out[api], api).toMatchObject({ outcome: 'EBADF', callbacks: 0, fresh: 1 });
  });

  it.each(['auto', 'thread'])('a wait pending on an fd closed behind its back settles with EBADF, though the kernel says nothing (%s driver)', async (driver) => {
    const r = await runFixture('behind-back-elsewhere.cjs', ['async,level,edge,stream', driver, 'closed']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const api of ['async', 'level', 'edge', 'stream']) expect(out[api], api).toMatchObject({ outcome: 'EBADF', close: 'ok' });
  });

  it('regular files and directories get ERR_INVALID_FD_TYPE from Async, watch() and streams, on every backend', () => {
    const kinds = { file: fs.openSync(__filename, 'r'), directory: fs.openSync(__dirname, 'r') };
    try {
      for (const [kind, fd] of Object.entries(kinds)) {
        const refused = expect.objectContaining({ code: 'ERR_INVALID_FD_TYPE', message: expect.stringContaining(kind.toUpperCase()) });
        expect(() => new Async(fd)).toThrow(refused);
        expect(() => watch(fd, { readable: true }, () => {})).toThrow(refused);
        expect(() => createReadStream(fd)).toThrow(refused);
        expect(() => createWriteStream(fd)).toThrow(refused);
      }
    } finally {
      for (const fd of Object.values(kinds)) fs.closeSync(fd);
    }
  });

  it('always-ready character devices (/dev/null, /dev/zero) are always ready on every backend: waits resolve, streams read to EOF or write, a watcher fires', async () => {
    const devnull = fs.openSync('/dev/null', 'r+');
    const zero = fs.openSync('/dev/zero', 'r');
    try {
      const a = new Async(devnull);
      await a.readable();
      await a.writable();
      expect(await a.ready({ readable: true, writable: true })).toMatchObject({ readable: true, writable: true });
      expect(await a.read(Buffer.alloc(8))).toBe(0); // /dev/null reads EOF
      expect(await a.write(Buffer.from('gone'))).toBe(4);
      a.close();
      const z = new Async(zero);
      const buf = Buffer.alloc(16, 1);
      expect(await z.readWith(() => read(zero, buf))).toBe(16);
      expect(buf.every((b) => b === 0)).toBe(true);
      z.close();
      // A read stream over /dev/null ends; a write stream into it finishes.
      const input = createReadStream(devnull);
      const chunks: Buffer[] = [];
      for await (const chunk of input) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).length).toBe(0);
      const output = createWriteStream(devnull);
      await new Promise<void>((resolve, reject) => output.end(Buffer.alloc(100_000), (e?: Error | null) => (e ? reject(e) : resolve())));
      // A level watcher fires on every turn while started.
      let calls = 0;
      await new Promise<void>((resolve) => {
        const w = watch(devnull, { readable: true }, () => {
          if (++calls === 3) {
            w.close();
            resolve();
          }
        });
      });
      expect(calls).toBe(3);
    } finally {
      fs.closeSync(devnull);
      fs.closeSync(zero);
    }
  });

  it('refuses a second handle on the same fd with EEXIST', () => {
    const [r] = tpipe();
    track(new Async(r));
    expect(() => new Async(r)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it('throws coded errors for bad arguments', async () => {
    const [r] = tpipe();
    const type = expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(() => new Async('3' as unknown as number)).toThrow(type);
    expect(() => new Async(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Async(r, { ownsFd: 'yes' as unknown as boolean })).toThrow(type);
    expect(() => new Async(999_999)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const a = track(new Async(r));
    await expect(a.readWith(42 as unknown as () => number)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(a.readable({ signal: 'x' as unknown as AbortSignal })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(() => read(r, 'x' as unknown as Buffer)).toThrow(type);
  });

  it('ref()/unref()/hasRef() toggle and chain', () => {
    const [r] = tpipe();
    const a = track(new Async(r));
    expect(a.hasRef()).toBe(true);
    expect(a.unref()).toBe(a);
    expect(a.hasRef()).toBe(false);
    expect(a.ref().hasRef()).toBe(true);
  });
});

describe(`Async.ready() on ${EXPECTED_BACKEND}`, () => {
  const none = { readable: false, writable: false, priority: false, hangup: false, error: false };

  it('resolves with what was detected: a pipe turns readable when data arrives, and not before; its write end is writable', async () => {
    const [r, w] = tpipe();
    const reader = track(new Async(r));
    const writer = track(new Async(w));
    const waiting = reader.ready({ readable: true });
    expect(await stateAfter(waiting)).toBe('pending');
    expect(await writer.ready({ writable: true })).toEqual({ ...none, writable: true });
    write(w, Buffer.from('x'));
    expect(await waiting).toEqual({ ...none, readable: true });
  });

  it('waits for any of several directions and reports only the asked-for ones (plus hangup and error)', async () => {
    const [s, t] = socketpair();
    fds.push(s, t);
    const a = track(new Async(s));
    expect(await a.ready({ readable: true, writable: true })).toEqual({ ...none, writable: true });
    const reading = a.ready({ readable: true });
    expect(await stateAfter(reading)).toBe('pending');
    write(t, Buffer.from('x'));
    expect(await reading).toEqual({ ...none, readable: true }); // writable too, but not asked
    expect(await a.ready({ readable: true, writable: true })).toEqual({ ...none, readable: true, writable: true });
  });

  it('a wait for several directions settles once: later waits on either direction still work', async () => {
    const [s, t] = socketpair();
    fds.push(s, t);
    const a = track(new Async(s));
    const waits = Array.from({ length: 3 }, () => a.ready({ readable: true, writable: true }));
    for (const got of await Promise.all(waits)) expect(got.writable).toBe(true);
    const reading = a.readable();
    expect(await stateAfter(reading)).toBe('pending');
    write(t, Buffer.from('x'));
    await expect(reading).resolves.toBeUndefined();
    expect(await a.readWith(() => read(s, Buffer.alloc(8)))).toBe(1);
  });

  it('reports hangup when the peer of a socketpair closes, and when the write end of a pipe closes', async () => {
    const [s, t] = socketpair();
    fds.push(s);
    const a = track(new Async(s));
    const waiting = a.ready({ readable: true });
    expect(await stateAfter(waiting)).toBe('pending');
    close(t);
    expect(await waiting).toEqual({ ...none, readable: true, hangup: true });
    expect(read(s, Buffer.alloc(8))).toBe(0); // EOF
    const [r, w] = pipe();
    fds.push(r);
    const reader = track(new Async(r));
    const eof = reader.ready({ readable: true });
    close(w);
    expect(await eof).toMatchObject({ readable: true, hangup: true, error: false });
  });

  it('reports the closed reader on the write end of a pipe (error; kqueue says EV_EOF: hangup)', async () => {
    const [r, w] = pipe();
    fds.push(w);
    const writer = track(new Async(w));
    close(r);
    const got = await writer.ready({ writable: true });
    expect(got).toMatchObject(EXPECTED_BACKEND === 'kqueue' ? { writable: true, hangup: true } : { writable: true, error: true });
  });

  it('does not consume readiness: a would-block clears it and the next event renews it', async () => {
    const [r, w] = tpipe();
    const a = track(new Async(r));
    write(w, Buffer.from('xy'));
    expect((await a.ready({ readable: true })).readable).toBe(true);
    expect(read(r, Buffer.alloc(1))).toBe(1);
    expect((await a.ready({ readable: true })).readable).toBe(true); // one byte left: still readable
    expect(await a.read(Buffer.alloc(8))).toBe(1); // a short read on a pipe: drained
    const again = a.ready({ readable: true });
    expect(await stateAfter(again)).toBe('pending');
    write(w, Buffer.from('z'));
    expect(await again).toEqual({ ...none, readable: true });
    // Drained behind the handle's back: the cached readiness is checked, not trusted.
    expect(read(r, Buffer.alloc(8))).toBe(1);
    expect(await stateAfter(a.ready({ readable: true }))).toBe('pending');
  });

  it('rejects with AbortError when the signal aborts, and for an already aborted signal', async () => {
    const [r, w] = tpipe();
    const a = track(new Async(r));
    const ac = new AbortController();
    const waiting = a.ready({ readable: true, writable: true }, { signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(a.ready({ readable: true }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    const ok = a.ready({ readable: true });
    write(w, Buffer.from('x'));
    expect((await ok).readable).toBe(true);
  });

  it('close() rejects a pending ready() with ERR_ASYNC_CLOSED, and so does ready() after close', async () => {
    const [r] = tpipe();
    const a = new Async(r);
    // (kqueue has no priority filter for pipes: EINVAL there.)
    const waiting = a.ready({ readable: true, priority: EXPECTED_BACKEND !== 'kqueue' });
    a.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_ASYNC_CLOSED' });
    await expect(a.ready({ readable: true })).rejects.toMatchObject({ code: 'ERR_ASYNC_CLOSED' });
  });

  it('rejects a bad interest with ERR_INVALID_ARG_TYPE, an empty one with ERR_INVALID_ARG_VALUE', async () => {
    const [r] = tpipe();
    const a = track(new Async(r));
    const ready = a.ready.bind(a) as (...args: unknown[]) => Promise<unknown>;
    for (const bad of [undefined, null, 'readable', 1, { readable: 1 }, { writable: 'yes' }]) {
      await expect(ready(bad), String(bad)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    }
    for (const empty of [{}, { readable: false }, { readable: false, writable: false, priority: false }]) {
      await expect(ready(empty)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    }
    await expect(ready({ readable: true }, null)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(ready({ readable: true }, { signal: 'x' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe(`reactorFd on ${EXPECTED_BACKEND}`, () => {
  it('is the same for the life of the reactor, close-on-exec, or null on poll', () => {
    const fd = reactorFd();
    expect(reactorFd()).toBe(fd);
    expect(Reactor.get()).toBe(Reactor.get());
    if (EXPECTED_BACKEND === 'poll') return expect(fd).toBeNull();
    expect(typeof fd).toBe('number');
    const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!;
    expect(parseInt(flags, 8) & 0o2000000).not.toBe(0);
  });

  it('turns readable when a registered pipe becomes readable, and not before', async (ctx) => {
    if (!EXPECTED_ROW.hasFd) return ctx.skip(`the ${EXPECTED_BACKEND} backend has no kernel poller fd (reactorFd() is null)`);
    const fd = reactorFd();
    if (fd === null) throw new Error(`reactorFd() is null on ${EXPECTED_BACKEND}, whose table row has an fd`);
    // An independent poller of the same backend watches the reactor's fd.
    const watcher = new (backendModule().Poller)();
    try {
      watcher.add(fd, 1, { readable: true }, 'level');
      const [r, w] = tpipe();
      const a = track(new Async(r));
      const waiting = a.readable();
      const events = new Events();
      expect(watcher.wait(events, 0)).toBe(0);
      write(w, Buffer.from('x'));
      expect(watcher.wait(events, 1000)).toBe(1); // the reactor has something to dispatch
      await waiting;
      expect(watcher.wait(events, 0)).toBe(0); // dispatched: quiet again
    } finally {
      watcher.close();
    }
  });
});
