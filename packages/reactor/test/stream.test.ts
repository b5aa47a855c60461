import { execFile, spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  Async,
  close,
  createDuplex,
  createReadStream,
  createWriteStream,
  pipe,
  read,
  socketpair,
  write,
} from '../lib/index.js';
import { EXPECTED_BACKEND, FIXTURES, openFds, runFixture } from './helpers.js';

const fds: number[] = [];
const streams: { destroy(): unknown }[] = [];
const dir = mkdtempSync(join(tmpdir(), 'async-io-stream-'));

function track<T extends { destroy(): unknown }>(s: T): T {
  streams.push(s);
  return s;
}
function tfds<T extends number[]>(p: T): T {
  fds.push(...p);
  return p;
}
function tick(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBADF') return false;
    throw e;
  }
}
/** Everything a stream emits until 'end', without destroying it (async iteration would). */
function readAll(s: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}
/** Everything a readable yields, concatenated. */
async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
/** A pattern that shows misordered or lost bytes. */
function pattern(n: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 11)) & 0xff;
  return b;
}
function once(emitter: NodeJS.EventEmitter, name: string): Promise<unknown[]> {
  return new Promise((resolve) => emitter.once(name, (...args: unknown[]) => resolve(args)));
}

/** Resolves once `s` has emitted 'close' (at once if it has already). */
function closed(s: { closed: boolean } & NodeJS.EventEmitter): Promise<void> {
  return s.closed ? Promise.resolve() : once(s, 'close').then(() => undefined);
}

/**
 * A pty pair, master non-blocking: Node cannot unlock /dev/ptmx (an ioctl),
 * so a python3 child does it on the master it inherits as stdin and prints
 * the slave's number.
 */
function openPty(): [master: number, slave: number] {
  const master = openSync('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  const script = [
    'import fcntl, struct',
    'fcntl.ioctl(0, 0x40045431, struct.pack("i", 0))', // TIOCSPTLCK: unlock
    'print(struct.unpack("I", fcntl.ioctl(0, 0x80045430, b"\\0" * 4))[0])', // TIOCGPTN
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { stdio: [master, 'pipe', 'pipe'] });
  if (r.status !== 0) {
    closeSync(master);
    throw new Error(`python3 could not unlock the pty: ${r.stderr}`);
  }
  const slave = openSync(`/dev/pts/${String(r.stdout).trim()}`, constants.O_RDWR | constants.O_NOCTTY);
  return [master, slave];
}

afterEach(async () => {
  for (const s of streams.splice(0)) s.destroy();
  await tick(5);
  for (const fd of fds.splice(0)) {
    try {
      close(fd);
    } catch {}
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`streams over a pipe on ${EXPECTED_BACKEND}`, () => {
  it('carries 8 MiB intact from a write stream to a read stream with pipeline()', async () => {
    const [r, w] = pipe();
    const data = pattern(8 << 20);
    const rs = track(createReadStream(r, { ownsFd: true }));
    const ws = track(createWriteStream(w, { ownsFd: true }));
    const got = collect(rs);
    await pipeline(Readable.from([data.subarray(0, 3 << 20), data.subarray(3 << 20)]), ws);
    expect((await got).equals(data)).toBe(true);
    expect(isOpen(r)).toBe(false); // ownsFd: closed with the stream
    expect(isOpen(w)).toBe(false);
  });

  it('reads at most readSize per read() and pushes views of one pooled buffer', async () => {
    const [r, w] = tfds(pipe());
    const rs = track(createReadStream(r, { readSize: 4096 }));
    const chunk = pattern(60_000);
    expect(write(w, chunk)).toBe(60_000);
    close(w);
    fds.splice(fds.indexOf(w), 1);
    const parts: Buffer[] = [];
    rs.on('data', (c: Buffer) => parts.push(c)); // flowing: one 'data' per read()
    await once(rs, 'end');
    expect(parts.map((p) => p.length)).toEqual([...Array(14).fill(4096), 60_000 - 14 * 4096]);
    expect(Buffer.concat(parts).equals(chunk)).toBe(true);
    expect(parts[0]!.buffer).toBe(parts[1]!.buffer); // pooled: one slab for several reads
  });

  it('reads 64 KiB per read() by default', async () => {
    const [r, w] = tfds(pipe());
    const rs = track(createReadStream(r));
    expect(write(w, pattern(65536))).toBe(65536);
    expect((await once(rs, 'data'))[0]).toHaveLength(65536);
  });

  it('applies backpressure: writes queue while the pipe is full, and drain comes once the reader reads', async () => {
    const [r, w] = tfds(pipe());
    const ws = track(createWriteStream(w, { highWaterMark: 1024 }));
    const chunk = pattern(65536);
    const results: boolean[] = [];
    for (let i = 0; i < 16; i++) results.push(ws.write(chunk));
    expect(results.every((ok) => !ok)).toBe(true); // each one is over the high-water mark
    await tick(30);
    expect(ws.writableNeedDrain).toBe(true); // nobody reads: the pipe holds 64 KiB, the rest waits in the stream
    expect(ws.writableLength).toBeGreaterThanOrEqual(14 * 65536);
    const drained = once(ws, 'drain');
    const sink = Buffer.alloc(1 << 20);
    const got: Buffer[] = [];
    let taken = 0;
    while (taken < 16 * 65536) {
      const n = read(r, sink);
      if (n === null) await tick(1);
      else {
        got.push(Buffer.from(sink.subarray(0, n)));
        taken += n;
      }
    }
    await drained;
    expect(Buffer.concat(got).equals(Buffer.concat(Array(16).fill(chunk)))).toBe(true);
  });

  it('a paused read stream stops reading: the kernel buffer fills, nothing is lost', async () => {
    const [r, w] = tfds(pipe());
    const rs = track(createReadStream(r, { highWaterMark: 1024 }));
    write(w, Buffer.from('first'));
    const [first] = (await once(rs, 'data')) as [Buffer];
    rs.pause();
    await tick(10);
    // fill the pipe behind the paused stream: it holds at most one more read
    let sent = first.length;
    const chunk = pattern(4096);
    while (write(w, chunk) !== null) sent += 4096;
    await tick(10);
    while (write(w, chunk) !== null) sent += 4096; // room for at most the one read it may take meanwhile
    await tick(10);
    expect(rs.readableLength).toBeLessThanOrEqual(65536 + first.length);
    expect(write(w, chunk)).toBeNull(); // still full: the stream is not draining it
    close(w);
    fds.splice(fds.indexOf(w), 1);
    const rest = await collect(rs);
    expect(first.length + rest.length).toBe(sent);
  });

  it("emits 'end' when the writer closes (read returns 0), then 'close'", async () => {
    const [r, w] = tfds(pipe());
    const rs = track(createReadStream(r));
    const events: string[] = [];
    rs.on('end', () => events.push('end'));
    rs.on('close', () => events.push('close'));
    rs.resume();
    write(w, Buffer.from('bye'));
    close(w);
    fds.splice(fds.indexOf(w), 1);
    await closed(rs);
    expect(events).toEqual(['end', 'close']);
    expect(isOpen(r)).toBe(true); // not owned: left open
  });

  it('works with finished() and async iteration, and Readable.toWeb() reads the same bytes', async () => {
    const [r, w] = tfds(pipe());
    const rs = track(createReadStream(r));
    const done = new Promise<Error | null | undefined>((resolve) => finished(rs, resolve));
    const web = Readable.toWeb(rs);
    write(w, Buffer.from('web '));
    setTimeout(() => {
      write(w, Buffer.from('streams'));
      close(w);
      fds.splice(fds.indexOf(w), 1);
    }, 20);
    const parts: Uint8Array[] = [];
    for await (const c of web as unknown as AsyncIterable<Uint8Array>) parts.push(c);
    expect(Buffer.concat(parts).toString()).toBe('web streams');
    expect(await done).toBeUndefined();
  });

  it('an AbortSignal destroys the stream with an AbortError and closes an owned fd', async () => {
    const [r, w] = tfds(pipe());
    fds.splice(fds.indexOf(r), 1);
    const ac = new AbortController();
    const rs = track(createReadStream(r, { signal: ac.signal, ownsFd: true }));
    rs.resume();
    const error = once(rs, 'error');
    const closed = once(rs, 'close');
    setTimeout(() => ac.abort(), 20);
    const [e] = await error;
    expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await closed;
    expect(isOpen(r)).toBe(false);
    expect(isOpen(w)).toBe(true);
    // an aborted signal from the start: destroyed at once
    const [r2] = tfds(pipe());
    const rs2 = createReadStream(r2, { signal: AbortSignal.abort() });
    expect((await once(rs2, 'error'))[0]).toMatchObject({ code: 'ABORT_ERR' });
  });

  it('destroy() mid-read closes the handle; an unowned fd stays open, an owned one is closed', async () => {
    const [r, w] = tfds(pipe());
    const rs = createReadStream(r);
    rs.resume(); // a read is pending
    await tick(10);
    rs.destroy();
    await closed(rs);
    expect(isOpen(r)).toBe(true);
    // the fd can be used again: the stream's registration is gone
    const again = track(createReadStream(r));
    write(w, Buffer.from('again'));
    expect(String((await once(again, 'data'))[0])).toBe('again');
  });

  it("'close' comes only after a pending write has failed, when destroyed with the pipe full", async () => {
    const [r, w] = tfds(pipe());
    void r;
    const ws = createWriteStream(w);
    const order: string[] = [];
    ws.write(Buffer.alloc(1 << 20), (e) => order.push(`write:${(e as NodeJS.ErrnoException | null)?.code}`));
    ws.write(Buffer.from('queued'), (e) => order.push(`queued:${(e as NodeJS.ErrnoException | null)?.code}`));
    await tick(20); // the first write waits for room that never comes
    ws.on('close', () => order.push('close'));
    ws.destroy();
    await closed(ws);
    expect(order.at(-1)).toBe('close');
    expect(order).toContain('write:ERR_STREAM_DESTROYED');
    expect(order).toContain('queued:ERR_STREAM_DESTROYED');
  });

  it("'finish' and 'close' only after every byte of end(data) reached the pipe", async () => {
    const [r, w] = tfds(pipe());
    const ws = createWriteStream(w);
    const data = pattern(1 << 20, 3);
    const order: string[] = [];
    ws.on('finish', () => order.push('finish'));
    ws.on('close', () => order.push('close'));
    const closed = once(ws, 'close');
    ws.end(data);
    const sink = Buffer.alloc(1 << 16);
    const got: Buffer[] = [];
    let total = 0;
    while (total < data.length) {
      const n = read(r, sink);
      if (n === null) {
        expect(order).toEqual([]); // not finished while bytes are still queued
        await tick(2);
      } else {
        got.push(Buffer.from(sink.subarray(0, n)));
        total += n;
      }
    }
    await closed;
    expect(order).toEqual(['finish', 'close']);
    expect(Buffer.concat(got).equals(data)).toBe(true);
  });

  it('merges many small queued writes into few write() calls, in order', async () => {
    const [r, w] = tfds(pipe());
    const ws = track(createWriteStream(w));
    const rs = track(createReadStream(r));
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`);
    for (const l of lines) ws.write(l);
    ws.end();
    rs.setEncoding('utf8');
    let text = '';
    let reads = 0;
    rs.on('data', (s: string) => {
      text += s;
      reads++;
    });
    await closed(ws);
    while (text.length < lines.join('').length) await tick(5);
    expect(text).toBe(lines.join(''));
    expect(reads).toBeLessThan(lines.length / 10);
  });

  it("a write error is 'error' with the SystemError shape: EPIPE once the reader is gone", async () => {
    const [r, w] = pipe();
    fds.push(w);
    close(r);
    const ws = createWriteStream(w);
    const cb = new Promise<unknown>((resolve) => ws.write('x', resolve));
    const [e] = await once(ws, 'error');
    expect(e).toMatchObject({ code: 'EPIPE', errno: -32, syscall: 'write' });
    expect((e as Error).message).toMatch(/^EPIPE: /);
    expect(await cb).toBe(e);
  });

  it('write after end() is ERR_STREAM_WRITE_AFTER_END', async () => {
    const [, w] = tfds(pipe());
    const ws = track(createWriteStream(w));
    const error = once(ws, 'error');
    ws.end('x');
    const cb = new Promise<unknown>((resolve) => ws.write('y', resolve));
    expect(await cb).toMatchObject({ code: 'ERR_STREAM_WRITE_AFTER_END' });
    expect((await error)[0]).toMatchObject({ code: 'ERR_STREAM_WRITE_AFTER_END' });
  });

  it('takes over an Async handle: reads through it, and destroying the stream closes it', async () => {
    const [reader, writer] = Async.pipe();
    const rs = createReadStream(reader);
    const ws = createWriteStream(writer);
    const closed = once(ws, 'close');
    ws.end('via handles');
    expect((await collect(rs)).toString()).toBe('via handles');
    await closed;
    expect(reader.closed).toBe(true);
    expect(writer.closed).toBe(true);
    expect(isOpen(reader.fd)).toBe(false); // Async.pipe() handles own their fds
  });

  it('ref()/unref() return the stream and reach its handle', () => {
    const [r] = tfds(pipe());
    const rs = track(createReadStream(r));
    expect(rs.unref()).toBe(rs);
    expect(rs.ref()).toBe(rs);
    expect(rs.fd).toBe(r);
    expect(rs.packet).toBe(false);
  });
});

describe(`Async.read, what the streams read with, on ${EXPECTED_BACKEND}`, () => {
  it('a read loop reaches EOF when the last bytes and the hangup arrive in one event', async () => {
    const [r, w] = tfds(pipe());
    const h = new Async(r);
    try {
      const buf = Buffer.alloc(1024);
      const pending = h.read(buf); // waiting when the single event comes
      await tick(10);
      write(w, Buffer.from('last'));
      close(w);
      fds.splice(fds.indexOf(w), 1);
      expect(await pending).toBe(4); // a short read, but no further edge will come: EOF is next
      expect(await h.read(buf)).toBe(0);
    } finally {
      h.close();
    }
  });
});

describe(`streams over a FIFO on ${EXPECTED_BACKEND}`, () => {
  it('reads what a writer sends through a FIFO opened O_RDONLY|O_NONBLOCK, then ends when it closes', async () => {
    const path = join(dir, 'fifo');
    rmSync(path, { force: true });
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    const r = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    const rs = track(createReadStream(r, { ownsFd: true }));
    const ws = track(createWriteStream(w, { ownsFd: true }));
    const data = pattern(3 << 20, 5);
    const got = collect(rs);
    ws.end(data);
    expect((await got).equals(data)).toBe(true);
    expect(isOpen(r)).toBe(false);
  });
});

describe(`streams over sockets on ${EXPECTED_BACKEND}`, () => {
  it('reads what the peer sent before it hung up, then ends', async () => {
    const [a, b] = tfds(socketpair());
    const data = pattern(100_000, 9);
    expect(write(b, data)).toBe(data.length); // fits in the socket buffer
    close(b); // hangup with data still queued for us
    fds.splice(fds.indexOf(b), 1);
    const rs = track(createReadStream(a));
    expect((await collect(rs)).equals(data)).toBe(true);
  });

  it('end() half-closes a stream socket: the peer reads EOF and can still answer (allowHalfOpen)', async () => {
    const [a, b] = socketpair();
    const client = createDuplex(a, { ownsFd: true });
    const server = createDuplex(b, { ownsFd: true, allowHalfOpen: true });
    const answer = readAll(client);
    client.end('request');
    const request = await readAll(server); // 'end' came: the client shut down its writing side
    expect(request.toString()).toBe('request');
    expect(server.writable).toBe(true); // allowHalfOpen: our side may still write
    server.end('response');
    expect((await answer).toString()).toBe('response');
    await Promise.all([closed(client), closed(server)]);
    expect(isOpen(a)).toBe(false);
    expect(isOpen(b)).toBe(false);
  });

  it('without allowHalfOpen (the default, as node:net) the side that reads EOF ends its writing side too', async () => {
    const [a, b] = socketpair();
    const client = createDuplex(a, { ownsFd: true, allowHalfOpen: true });
    const server = createDuplex(b, { ownsFd: true });
    const serverFinished = once(server, 'finish');
    const clientGot = readAll(client);
    client.end();
    server.resume();
    await serverFinished; // ended by the peer's EOF, not by us
    expect((await clientGot).length).toBe(0); // and the client sees our EOF
    await closed(server);
  });

  it('a seqpacket socket is in packet mode: one chunk per message, never merged or split', async () => {
    const [a, b] = socketpair('seqpacket');
    const left = createDuplex(a, { ownsFd: true });
    const right = createDuplex(b, { ownsFd: true, readSize: 131072 });
    expect(left.packet).toBe(true);
    const sizes = [1, 100, 5000, 70_000, 3, 0, 17];
    for (const n of sizes.filter((n) => n > 0)) left.write(pattern(n, n)); // all queued in one tick
    left.end();
    const got: Buffer[] = [];
    for await (const m of right) got.push(m as Buffer);
    expect(got.map((m) => m.length)).toEqual(sizes.filter((n) => n > 0));
    for (const m of got) expect(m.equals(pattern(m.length, m.length))).toBe(true);
  });

  it('a message longer than readSize arrives cut to readSize (the kernel drops the rest)', async () => {
    const [a, b] = tfds(socketpair('seqpacket'));
    const rs = track(createReadStream(b, { readSize: 1000 }));
    expect(write(a, pattern(1500))).toBe(1500);
    expect(write(a, pattern(10))).toBe(10);
    const got: Buffer[] = [];
    rs.on('data', (m: Buffer) => got.push(m));
    while (got.length < 2) await tick(5);
    expect(got.map((m) => m.length)).toEqual([1000, 10]);
  });

  it('a datagram socket is in packet mode; an empty datagram is an empty chunk, not EOF', async () => {
    const [a, b] = tfds(socketpair('dgram'));
    const ws = track(createWriteStream(a));
    const rs = track(createReadStream(b));
    expect(rs.packet).toBe(true);
    expect(rs.readableObjectMode).toBe(true);
    ws.write('one');
    ws.write(Buffer.alloc(0));
    ws.write('three');
    const got: string[] = [];
    for await (const m of rs) {
      got.push(String(m));
      if (got.length === 3) break;
    }
    expect(got).toEqual(['one', '', 'three']);
  });

  it('packet mode is refused where the kernel says bytes, and byte mode where it says messages', () => {
    const [r] = tfds(pipe());
    const [s] = tfds(socketpair());
    const [d] = tfds(socketpair('seqpacket'));
    const value = expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(() => createReadStream(r, { packet: true })).toThrow(value);
    expect(() => createDuplex(s, { packet: true })).toThrow(value);
    expect(() => createDuplex(d, { packet: false })).toThrow(value);
  });
});

describe.runIf(process.platform === 'linux')(`streams over a pty on ${EXPECTED_BACKEND}`, () => {
  it("reads the slave's output from the master and ends (not errors) at the EIO that follows the slave's close", async () => {
    const [master, slave] = openPty();
    const term = createDuplex(master, { ownsFd: true });
    const errors: unknown[] = [];
    term.on('error', (e) => errors.push(e));
    const all = readAll(term);
    let seen = '';
    term.on('data', (c: Buffer) => (seen += c.toString()));
    writeSync(slave, 'hello from the slave\n');
    while (!seen.includes('\n')) await tick(5);
    expect(seen).toBe('hello from the slave\r\n'); // the line discipline's ONLCR
    term.write('typed\n'); // the master writes: the slave reads it, and echoes it back to us
    while (!seen.includes('typed')) await tick(5);
    const line = Buffer.alloc(64);
    const n = readSync(slave, line);
    expect(line.subarray(0, n).toString()).toBe('typed\n');
    closeSync(slave);
    expect((await all).toString()).toBe('hello from the slave\r\ntyped\r\n');
    await closed(term);
    expect(errors).toEqual([]);
  });
});

// Creates a TUN device in a private network namespace, then execs node with
// it (Node cannot make the TUNSETIFF ioctl).
const TUN_SETUP = `
import fcntl, os, struct, subprocess, sys
fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'aio0', 0x0001 | 0x1000))  # TUNSETIFF: IFF_TUN | IFF_NO_PI
subprocess.run(['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'aio0'], check=True)
subprocess.run(['ip', 'link', 'set', 'aio0', 'up'], check=True)
os.set_inheritable(fd, True)
os.environ['TUN_FD'] = str(fd)
os.execv(sys.argv[1], sys.argv[1:])
`;

describe.runIf(process.platform === 'linux')(`packet mode on a TUN device on ${EXPECTED_BACKEND}`, () => {
  it('packet: true reads one whole IP packet per chunk and writes one packet per chunk', async (ctx) => {
    const probe = spawnSync('unshare', ['-n', 'python3', '-c', "import os; os.close(os.open('/dev/net/tun', os.O_RDWR))"]);
    if (probe.status !== 0) {
      return ctx.skip(`no TUN device in a private network namespace here (${String(probe.stderr).trim()})`);
    }
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'unshare',
        ['-n', 'python3', '-c', TUN_SETUP, process.execPath, join(FIXTURES, 'tun.cjs')],
        { timeout: 30_000, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    // UDP payloads of 10, 300 and 1200 bytes: 20 + 8 bytes of headers each, never merged or split
    expect(JSON.parse(out)).toEqual({ sizes: [38, 328, 1228], reply: 'pong', from: '10.77.0.2:9999' });
  });
});

describe(`stream bad input on ${EXPECTED_BACKEND}`, () => {
  it('wrong types and options are ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE', () => {
    const [r] = tfds(pipe());
    const type = expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' });
    const range = expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' });
    const any = (f: unknown) => f as (...a: unknown[]) => unknown;
    for (const make of [createReadStream, createWriteStream, createDuplex]) {
      expect(() => any(make)('3')).toThrow(type);
      expect(() => any(make)(null)).toThrow(type);
      expect(() => any(make)({ fd: r })).toThrow(type);
      expect(() => any(make)(-1)).toThrow(range);
      expect(() => any(make)(1.5)).toThrow(range);
      expect(() => any(make)(r, 'x')).toThrow(type);
      expect(() => any(make)(r, { ownsFd: 1 })).toThrow(type);
      expect(() => any(make)(r, { packet: 'yes' })).toThrow(type);
      expect(() => any(make)(r, { signal: {} })).toThrow(type);
      expect(() => any(make)(r, { readSize: 0 })).toThrow(range);
      expect(() => any(make)(r, { readSize: 1.5 })).toThrow(range);
      expect(() => any(make)(r, { highWaterMark: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => any(createDuplex)(r, { allowHalfOpen: 'no' })).toThrow(type);
    // none of those left a registration behind
    track(createReadStream(r));
  });

  it('a closed or never-opened fd is EBADF, an fd already registered is EEXIST', () => {
    const [r, w] = pipe();
    close(r);
    fds.push(w);
    expect(() => createReadStream(r)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'fstat' }));
    expect(() => createWriteStream(1_000_000)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    track(createWriteStream(w));
    expect(() => createWriteStream(w)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it('regular files, directories and block devices are ERR_INVALID_FD_TYPE on every backend, never a hang', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'data');
    const f = openSync(file, 'r');
    const d = openSync(dir, 'r');
    fds.push(f, d);
    const bad = expect.objectContaining({ code: 'ERR_INVALID_FD_TYPE', name: 'TypeError' });
    expect(() => createReadStream(f)).toThrow(bad);
    expect(() => createWriteStream(f)).toThrow(bad);
    expect(() => createDuplex(d)).toThrow(bad);
    expect(() => createReadStream(f)).toThrow(/Unsupported fd type: FILE/);
    // and the fd was not touched: still registrable by someone else
    expect(isOpen(f)).toBe(true);
  });

  it('a closed Async handle is ERR_ASYNC_CLOSED; ownsFd with a handle is ERR_INVALID_ARG_VALUE', () => {
    const [r] = tfds(pipe());
    const h = new Async(r);
    expect(() => createReadStream(h, { ownsFd: true })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    h.close();
    expect(() => createReadStream(h)).toThrow(expect.objectContaining({ code: 'ERR_ASYNC_CLOSED' }));
  });

  it('socketpair() refuses an unknown type', () => {
    expect(() => socketpair('raw' as 'stream')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe(`streams and process liveness on ${EXPECTED_BACKEND}`, () => {
  it("a flowing ref'd stream keeps the process alive until data comes; unref'd or paused, it does not", async () => {
    for (const [mode, expected] of [
      ['ref', ['data x', 'exit']],
      ['unref', ['exit']],
      ['paused', ['exit']],
    ] as const) {
      const r = await runFixture('stream-liveness.cjs', [mode]);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean)).toEqual(expected);
    }
  });
});

describe(`streams and Workers on ${EXPECTED_BACKEND}`, () => {
  it('Workers terminated with streams mid-flow tear down cleanly and leak no fd', async () => {
    const before = openFds();
    const r = await runFixture('stream-workers.cjs', ['20'], {}, 120_000);
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.terminated).toBe(20);
    expect(out.flowing).toBeGreaterThan(0); // at least some were terminated while data moved
    expect(out.fdsAfter).toBeLessThanOrEqual(out.fdsBefore);
    expect(openFds()).toBeLessThanOrEqual(before + 2);
  }, 150_000);
});
