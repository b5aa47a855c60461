/**
 * `doctor --selftest`: a short battery of readiness checks on this machine,
 * through the public API (Async, watch(), streams, Poller) and the backend
 * this process selects (ASYNC_IO_BACKEND honoured). Each check proves one
 * behaviour kernels are known to get wrong (docs/platforms.md), has its own
 * deadline, and cleans up what it opened whatever happens. A check this OS
 * cannot run is `skipped` with the reason, never `ok`.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsc, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Events } from '@async-io/backend-core';
import { Async } from './async.js';
import { backendInfo, backendModule } from './reactor.js';
import { createDuplex, createReadStream } from './stream.js';
import { watch } from './watch.js';

/** One check's outcome. */
export interface SelftestCheck {
  name: string;
  status: 'ok' | 'failed' | 'skipped';
  /** What was seen (ok), what went wrong (failed) or why it could not run (skipped). */
  detail: string;
  /** Wall-clock milliseconds the check took. */
  ms: number;
}

/** The battery's report: where it ran and what each check found. */
export interface SelftestReport {
  platform: string;
  arch: string;
  node: string;
  libc: string;
  backend: string;
  driver: string;
  checks: SelftestCheck[];
  /** No check failed. */
  ok: boolean;
}

/** Thrown by a check that cannot run here. */
class Skip extends Error {}

/** What a check gets: a signal that aborts at its deadline, and a place to put its clean-up. */
interface Ctx {
  signal: AbortSignal;
  /** Runs after the check, last registered first, whether it passed or not. */
  defer(fn: () => void): void;
}

type Check = (t: Ctx) => Promise<string>;

function fail(message: string): never {
  throw new Error(message);
}

/** `syscall: CODE` for a system error (its message can be a poller's wording), else the message. */
function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && err.syscall) return `${err.syscall}: ${err.code}`;
  return String(err?.message ?? err);
}

/** Reads what is there now from a non-blocking fd: bytes, 'eof' (0 or EIO, a pty's hangup), or null (would block). */
function readNow(fd: number, buf: Buffer): Buffer | 'eof' | null {
  try {
    const n = backendModule().read(fd, buf);
    if (n === null) return null;
    return n === 0 ? 'eof' : Buffer.from(buf.subarray(0, n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EIO') return 'eof';
    throw e;
  }
}

/** Waits on `h` until the bytes read from `fd` contain `want`; returns them. */
async function readUntil(h: Async, fd: number, want: string, signal: AbortSignal): Promise<string> {
  const buf = Buffer.alloc(256);
  let text = '';
  while (!text.includes(want)) {
    const r = await h.ready({ readable: true }, { signal });
    if (!r.readable && !r.hangup) continue;
    for (let got = readNow(fd, buf); got !== null; got = readNow(fd, buf)) {
      if (got === 'eof') fail(`EOF before ${JSON.stringify(want)} (had ${JSON.stringify(text)})`);
      text += got.toString('latin1');
    }
  }
  return text;
}

/**
 * For a wait on an fd that is always ready: it must end by itself. A timer
 * of PROMPT_MS keeps it from hanging but also wakes the loop, and a wait
 * stuck until some wake-up can then end in that turn, before the timer's
 * callback: so one that took half of PROMPT_MS or more is reported as stuck.
 */
const PROMPT_MS = 2000;
async function promptly<T>(wait: Promise<T>, what: string): Promise<T> {
  const t0 = process.hrtime.bigint();
  let timer: NodeJS.Timeout | undefined;
  try {
    const out = await Promise.race([wait, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not resolve within ${PROMPT_MS} ms`)), PROMPT_MS)))]);
    const took = ms(t0);
    if (took >= PROMPT_MS / 2) fail(`${what} took ${took} ms: it ended only when something else woke the loop`);
    return out;
  } finally {
    clearTimeout(timer);
  }
}

function ms(t0: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100;
}

/**
 * A pty, shell-less: bytes written on the slave make the master readable and
 * arrive (Async); a line written on the master reaches the slave (watch());
 * when the slave closes, the master's wait ends with a hangup (or EOF).
 */
const pty: Check = async (t) => {
  if (process.platform === 'win32') throw new Skip('no ptys on Windows');
  let pair: [number, number];
  try {
    pair = backendModule().native.openpty();
  } catch (e) {
    // No pty device here (a container without devpts): nothing to test.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO') throw new Skip(`no pseudo-terminals here: ${describeError(e)}`);
    throw e;
  }
  const [master, slave] = pair;
  let slaveOpen = true;
  const m = new Async(master, { ownsFd: true });
  t.defer(() => m.close());
  t.defer(() => {
    if (slaveOpen) backendModule().close(slave);
  });
  // slave -> master, waited for with Async#ready()
  backendModule().write(slave, Buffer.from('ping\n'));
  await readUntil(m, master, 'ping', t.signal);
  // master -> slave, seen by a watch() callback (a line: the slave is canonical)
  const got = await new Promise<string>((resolve, reject) => {
    const buf = Buffer.alloc(256);
    let text = '';
    const w = watch(slave, { readable: true }, () => {
      try {
        for (let r = readNow(slave, buf); r !== null && r !== 'eof'; r = readNow(slave, buf)) text += r.toString('latin1');
      } catch (e) {
        w.close();
        reject(e);
        return;
      }
      if (text.includes('pong')) {
        w.close();
        resolve(text);
      }
    });
    t.defer(() => w.close());
    t.signal.addEventListener('abort', () => reject(new Error(`watch() saw ${JSON.stringify(text)} of the master's "pong"`)), { once: true });
    backendModule().write(master, Buffer.from('pong\n'));
  });
  if (!got.includes('pong')) fail(`slave read ${JSON.stringify(got)}`);
  // the slave's last close: the master's wait must end, and the read say EOF
  backendModule().close(slave);
  slaveOpen = false;
  const buf = Buffer.alloc(256);
  let hangup = false;
  for (;;) {
    const r = await m.ready({ readable: true }, { signal: t.signal });
    hangup ||= r.hangup;
    let got: Buffer | 'eof' | null;
    while ((got = readNow(master, buf)) !== null && got !== 'eof'); // the echo of "pong", if any
    if (got === 'eof') break;
  }
  return `slave->master read, master->slave watch(), slave close seen (${hangup ? 'hangup' : 'readable'}, then EOF)`;
};

/**
 * A named FIFO: readable when written, and EOF when its last writer closes
 * (macOS kqueue never reports that: golang/go#24164).
 */
const fifo: Check = async (t) => {
  if (process.platform === 'win32') throw new Skip('no named FIFOs on Windows');
  const dir = mkdtempSync(join(tmpdir(), 'async-io-doctor-'));
  t.defer(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'fifo');
  try {
    execFileSync('mkfifo', [path], { stdio: 'pipe' });
  } catch (e) {
    throw new Skip(`mkfifo(1) could not make a FIFO: ${describeError(e)}`);
  }
  const r = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  const h = new Async(r, { ownsFd: true });
  t.defer(() => h.close());
  const w = openSync(path, fsc.O_WRONLY | fsc.O_NONBLOCK);
  let wOpen = true;
  t.defer(() => {
    if (wOpen) closeSync(w);
  });
  backendModule().write(w, Buffer.from('fifo\n'));
  const first = await h.ready({ readable: true }, { signal: t.signal });
  if (!first.readable) fail(`ready() after a write: ${JSON.stringify(first)}`);
  const buf = Buffer.alloc(64);
  const n = await h.read(buf, { signal: t.signal }); // a short read: drained
  if (buf.subarray(0, n).toString() !== 'fifo\n') fail(`read ${JSON.stringify(buf.subarray(0, n).toString())}, not "fifo\\n"`);
  // Drained, so this read waits for the kernel; the last writer goes while it does.
  const eof = h.read(buf, { signal: t.signal });
  const closer = setTimeout(() => {
    closeSync(w);
    wOpen = false;
  }, 20);
  t.defer(() => clearTimeout(closer));
  const end = await eof.catch((e: Error) => {
    throw e.name === 'AbortError' ? new Error('no EOF after the last writer closed: the read waited on') : e;
  });
  if (end !== 0) fail(`read ${end} bytes after the last writer closed, not EOF`);
  return 'readable after a write; a waiting read got EOF when the last writer closed';
};

/** /dev/null: always ready, both ways; a read stream reads it to EOF at once. */
const devNull: Check = async (t) => {
  if (process.platform === 'win32') throw new Skip('no /dev/null on Windows');
  // One handle after the other, the first still open: each wait must end
  // at once and on its own, whatever else the loop has (not) to do.
  const r = new Async(openSync('/dev/null', fsc.O_RDONLY | fsc.O_NONBLOCK), { ownsFd: true });
  t.defer(() => r.close());
  const rr = await promptly(r.ready({ readable: true }, { signal: t.signal }), 'ready({ readable }) on /dev/null');
  if (!rr.readable) fail(`ready({ readable }) resolved without readable: ${JSON.stringify(rr)}`);
  const w = new Async(openSync('/dev/null', fsc.O_WRONLY | fsc.O_NONBLOCK), { ownsFd: true });
  t.defer(() => w.close());
  const wr = await promptly(w.ready({ writable: true }, { signal: t.signal }), 'ready({ writable }) on a second /dev/null handle');
  if (!wr.writable) fail(`ready({ writable }) resolved without writable: ${JSON.stringify(wr)}`);
  const stream = createReadStream(openSync('/dev/null', fsc.O_RDONLY | fsc.O_NONBLOCK), { ownsFd: true, signal: t.signal });
  t.defer(() => stream.destroy());
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => (bytes += c.length));
    stream.once('end', resolve);
    stream.once('error', (e) => reject(e.name === 'AbortError' ? new Error('the read stream never ended') : e));
  });
  if (bytes !== 0) fail(`read ${bytes} bytes from /dev/null`);
  return 'readable and writable at once; a read stream ended with 0 bytes';
};

/**
 * A socket half-close: after our `end()` (shutdown(SHUT_WR)), ready() on our
 * side reports no hangup while the peer lives (kqueue's EV_EOF on the write
 * filter is not one), the peer reads EOF, and what the peer sends still
 * arrives on our side.
 */
const halfClose: Check = async (t) => {
  if (process.platform === 'win32') throw new Skip('no AF_UNIX socketpair on Windows');
  const [a, b] = backendModule().socketpair();
  const ours = new Async(a, { ownsFd: true });
  t.defer(() => ours.close());
  const peer = new Async(b, { ownsFd: true });
  t.defer(() => peer.close());
  const duplex = createDuplex(ours, { allowHalfOpen: true, signal: t.signal });
  t.defer(() => duplex.destroy());
  await new Promise<void>((resolve, reject) => {
    duplex.once('error', reject);
    duplex.end(Buffer.from('bye'), () => resolve());
  });
  const afterEnd = await ours.ready({ writable: true }, { signal: t.signal });
  if (afterEnd.hangup || afterEnd.error) fail(`ready() after our end() reported ${afterEnd.hangup ? 'hangup' : 'error'} while the peer lives`);
  const buf = Buffer.alloc(64);
  let text = '';
  for (;;) {
    const n = await peer.read(buf, { signal: t.signal });
    if (n === 0) break;
    text += buf.subarray(0, n).toString();
  }
  if (text !== 'bye') fail(`the peer read ${JSON.stringify(text)} before EOF, not "bye"`);
  await peer.write(Buffer.from('back'), { signal: t.signal });
  const readable = await ours.ready({ readable: true }, { signal: t.signal });
  if (readable.hangup) fail('ready({ readable }) reported hangup after our end(), with the peer open');
  const got = await new Promise<string>((resolve, reject) => {
    duplex.once('data', (c: Buffer) => resolve(c.toString()));
    duplex.once('error', reject);
  });
  if (got !== 'back') fail(`our side read ${JSON.stringify(got)}, not "back"`);
  return 'no hangup after our end(); the peer saw EOF; the peer\'s reply arrived';
};

/**
 * A Poller shared with two Workers (Poller.fromShared(p.share())) that wait
 * on it while this thread adds and deletes a readable pipe: every wait
 * returns, a registration left in place is delivered to a Worker, and both
 * Workers finish.
 */
const sharedPoller: Check = async (t) => {
  const mod = backendModule();
  const p = new mod.Poller();
  t.defer(() => p.close());
  const [r, w] = mod.pipe();
  t.defer(() => mod.close(r));
  t.defer(() => mod.close(w));
  mod.write(w, Buffer.from('x')); // readable throughout
  // [0]: stop; [1]: events seen by the Workers; [2]: the final key was seen
  const ctl = new Int32Array(new SharedArrayBuffer(12));
  const workers = [0, 1].map(() => new Worker(join(__dirname, 'selftest-worker.js'), { workerData: { shared: p.share(), ctl } }));
  const exited = workers.map(
    (wk) =>
      new Promise<void>((resolve, reject) => {
        wk.once('error', reject);
        wk.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a Worker exited with code ${code}`))));
      }),
  );
  exited.forEach((e) => e.catch(() => {}));
  t.defer(() => workers.forEach((wk) => void wk.terminate()));
  const events = new Events(4);
  const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
  const CHURN = 200;
  for (let i = 1; i <= CHURN; i++) {
    if (t.signal.aborted) fail(`aborted during churn at ${i}/${CHURN}`);
    p.add(r, i, { readable: true }, 'oneshot');
    if (i % 4 === 0) await tick();
    if (i % 2 === 0) p.modify(r, i, { readable: true }, 'oneshot');
    p.delete(r);
    if (i % 16 === 0) p.wait(events, 0); // this thread waits too, now and then
  }
  // left in place: a Worker must be woken for it
  const FINAL = 0x7fff0001;
  p.add(r, FINAL, { readable: true }, 'oneshot');
  while (Atomics.load(ctl, 2) === 0) {
    if (t.signal.aborted) fail(`no Worker saw the registration left in place (events seen during churn: ${Atomics.load(ctl, 1)})`);
    await tick();
  }
  Atomics.store(ctl, 0, 1);
  p.notify();
  await Promise.race([
    Promise.all(exited),
    new Promise((_, reject) => t.signal.addEventListener('abort', () => reject(new Error('a Worker did not finish')), { once: true })),
  ]);
  return `2 Workers waited through ${CHURN} add/modify/delete; ${Atomics.load(ctl, 1)} events delivered to them; both finished`;
};

const CHECKS: [string, Check][] = [
  ['/dev/null', devNull],
  ['pty', pty],
  ['named FIFO', fifo],
  ['socket half-close', halfClose],
  ['shared Poller', sharedPoller],
];

async function run(name: string, check: Check, timeoutMs: number): Promise<SelftestCheck> {
  const t0 = process.hrtime.bigint();
  const ctl = new AbortController();
  const cleanups: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctl.abort();
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  let out: Omit<SelftestCheck, 'ms'>;
  try {
    const detail = await Promise.race([check({ signal: ctl.signal, defer: (fn) => cleanups.push(fn) }), deadline]);
    // The deadline's own timer wakes the loop: a wait that was stuck until
    // then can finish in that same turn, before the timer's callback runs.
    // Finishing at the deadline is missing it.
    const elapsed = ms(t0);
    out = elapsed >= timeoutMs - 5
      ? { name, status: 'failed', detail: `finished only as its ${timeoutMs} ms deadline woke the loop (a wait did not end on its own): ${detail}` }
      : { name, status: 'ok', detail };
  } catch (e) {
    out = e instanceof Skip ? { name, status: 'skipped', detail: e.message } : { name, status: 'failed', detail: describeError(e) };
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
  for (const fn of cleanups.reverse()) {
    try {
      fn();
    } catch {}
  }
  return { ...out, ms: ms(t0) };
}

/**
 * Runs the battery, one check after another.
 *
 * @example const report = await selftest({ timeoutMs: 5000 }); process.exitCode = report.ok ? 0 : 1;
 */
export async function selftest(options: { timeoutMs?: number; libc?: string } = {}): Promise<SelftestReport> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const info = backendInfo();
  const checks: SelftestCheck[] = [];
  for (const [name, check] of CHECKS) checks.push(await run(name, check, timeoutMs));
  return {
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    libc: options.libc ?? 'n/a',
    backend: info.name,
    driver: info.driver,
    checks,
    ok: checks.every((c) => c.status !== 'failed'),
  };
}

/** The report as text to paste into an issue. */
export function formatSelftest(r: SelftestReport): string {
  const lines = [
    '### async-io doctor --selftest',
    '',
    `- platform: ${r.platform} ${r.arch} (${r.libc})`,
    `- node: ${r.node}`,
    `- backend: ${r.backend}, driver: ${r.driver}`,
    '',
    '| check | result | ms | detail |',
    '| --- | --- | ---: | --- |',
    ...r.checks.map((c) => `| ${c.name} | ${c.status === 'ok' ? 'ok' : c.status === 'failed' ? 'FAILED' : 'skipped'} | ${c.ms} | ${c.detail.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`),
    '',
    r.ok ? 'all checks passed' : `${r.checks.filter((c) => c.status === 'failed').length} check(s) FAILED`,
  ];
  return lines.join('\n');
}
