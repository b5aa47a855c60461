/**
 * The hardening suite: faults, load and bad input against one backend's
 * `Poller`, with nothing lost and nothing leaked. Runs against any
 * backend module path, like the conformance suite.
 *
 * @example
 * // packages/linux-epoll/test/hardening.test.ts
 * describeHardening({ modulePath: require.resolve('@async-io/linux-epoll/internal') });
 *
 * Knobs (environment): ASYNC_IO_HARDENING_LIGHT=1 scales every figure down
 * and skips the RSS bound (sanitizer builds: ASan's quarantine grows RSS by
 * design); ASYNC_IO_FC_SEED / ASYNC_IO_FC_RUNS pick the property runs;
 * ASYNC_IO_UPDATE_DOCS=1 rewrites the generated tables in docs/errors.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendName, Events, type Interest, type PollEvent, type Poller, type PollMode } from '@async-io/backend-core';
import type { BackendModule } from '@async-io/backend-core/internal';
import { fdCount } from './fds.cjs';

export interface HardeningOptions {
  /** Absolute path of a CommonJS module exporting the backend (Poller, pipe, ...). */
  modulePath: string;
  /** Label for describe(); defaults to the backend's name. */
  label?: string;
  /**
   * For a backend built against an emulated kernel: bad-input cases (by
   * "fn(input)") where the emulation answers differently from the real
   * kernel, with the emulation's answer. Each is a documented shim limit.
   */
  emulationDifferences?: Record<string, string>;
}

const LIGHT = process.env.ASYNC_IO_HARDENING_LIGHT === '1';

/** The figures each test uses; LIGHT is for sanitizer builds (slow, RSS-hungry). */
export const FIGURES = {
  cycles: LIGHT ? 1_000 : 10_000,
  warmup: LIGHT ? 200 : 1_000,
  /** RSS may grow this much over a whole leak test (V8 heap noise, malloc arenas). */
  rssToleranceMiB: 16,
  pipes: LIGHT ? 1_000 : 7_500,
  signalHz: 10_000,
  fcRuns: Number(process.env.ASYNC_IO_FC_RUNS || (LIGHT ? 50 : 400)),
  fcSeed: Number(process.env.ASYNC_IO_FC_SEED || 0x5eed),
};

/** Lines of figures each test prints (the measured figures behind the README's claims). */
const report: string[] = [];

// ---- tools shared with the facade's hardening test ---------------------------

/**
 * The most fds one poll() takes on this host: poll() fails with EINVAL above
 * the soft RLIMIT_NOFILE (Linux, the BSDs, illumos) and on macOS also above
 * OPEN_MAX, 10,240. The poll backend refuses the registration past it (its
 * wake-up pipe takes one) with EMFILE instead (src/poll.c).
 */
function pollNfdsLimit(): number {
  const soft = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  const rlimit = soft === 'unlimited' ? Infinity : Number(soft);
  return process.platform === 'darwin' ? Math.min(rlimit, 10_240) : rlimit;
}

/** Number of open fds of this process (fstat over the table: portable, no /proc). */
export { fdCount };

/** fd number -> readlink target (`pipe:[123]`, `anon_inode:[eventpoll]`, ...). */
export function fdTargets(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the directory handle readdir used, already closed
    }
  }
  return out;
}

/** fds open now that were not open (with the same target) in `before`. */
export function newFds(before: Map<number, string>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [fd, target] of fdTargets()) if (before.get(fd) !== target) out.set(fd, target);
  return out;
}

/** Whether fd has O_CLOEXEC, from /proc/self/fdinfo. */
export function isCloexec(fd: number): boolean {
  const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!;
  return (parseInt(flags, 8) & 0o2000000) !== 0;
}

/**
 * The fds a freshly exec'd child holds, as `ls -l /proc/self/fd` (run by `ls`
 * itself) sees them: fd number -> target. `spawnFn` lets the caller spawn from
 * wherever it wants (a Worker, a timer) - by default synchronously, here.
 */
export function childFds(): Map<number, string> {
  const r = spawnSync('ls', ['-l', '/proc/self/fd/'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ls failed: ${r.stderr}`);
  return parseLs(r.stdout);
}

export function parseLs(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = / (\d+) -> (.*)$/.exec(line);
    if (m) out.set(Number(m[1]), m[2]!);
  }
  return out;
}

/** The fds of `mine` a child holds too: same number, same target. */
export function inherited(mine: Map<number, string>, child: Map<number, string>): string[] {
  const out: string[] = [];
  for (const [fd, target] of mine) if (child.get(fd) === target) out.push(`${fd} -> ${target}`);
  return out;
}

let gcFn: (() => void) | undefined;
/** A full GC (exposes `gc` on first use). */
export function forceGc(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/**
 * Lets the loop turn and collects garbage: N-API finalizers of collected
 * objects (a Poller's native handle) run from the loop, not inside gc().
 */
export async function settle(): Promise<void> {
  forceGc();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 5));
  forceGc();
}

/** RSS in MiB after the loop turned and a full GC. */
export async function rssMiB(): Promise<number> {
  await settle();
  return process.memoryUsage().rss / 2 ** 20;
}

/** Where docs/errors.md lives (the repository root's docs/). */
export const ERRORS_DOC = join(__dirname, '..', '..', '..', 'docs', 'errors.md');

/**
 * Checks that the section `name` of docs/errors.md is exactly `markdown`
 * (generated from a test's case table, so the doc cannot drift). With
 * ASYNC_IO_UPDATE_DOCS=1 rewrites the section instead.
 */
export function checkDocSection(name: string, markdown: string): void {
  const begin = `<!-- generated:${name} begin -->`;
  const end = `<!-- generated:${name} end -->`;
  const text = existsSync(ERRORS_DOC) ? readFileSync(ERRORS_DOC, 'utf8') : '';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  const current = a >= 0 && b > a ? text.slice(a + begin.length, b).trim() : null;
  if (process.env.ASYNC_IO_UPDATE_DOCS === '1') {
    if (current === markdown.trim()) return;
    const section = `${begin}\n${markdown.trim()}\n${end}`;
    const next = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + end.length) : `${text}\n${section}\n`;
    writeFileSync(ERRORS_DOC, next);
    return;
  }
  expect(current, `docs/errors.md section '${name}' is stale: run the test with ASYNC_IO_UPDATE_DOCS=1`).toBe(markdown.trim());
}

/** What a bad-input case must do: a coded error, or 'ok' (no throw). Per backend where they differ. */
export type Expectation = string | ({ default: string } & Partial<Record<BackendName, string>>);

export function expectedFor(e: Expectation, backend: string): string {
  return typeof e === 'string' ? e : ((e as Record<string, string>)[backend] ?? e.default);
}

/** Runs `call` and returns 'ok' or the thrown error's code (checking TypeError/RangeError by code). */
export function outcome(call: () => unknown): string {
  try {
    const r = call();
    if (r instanceof Promise) r.catch(() => {});
    return 'ok';
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const code = typeof err?.code === 'string' ? err.code : `uncoded ${String(err)}`;
    if (code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_INVALID_ARG_VALUE') {
      if (!(err instanceof TypeError)) return `${code} (not a TypeError)`;
    } else if (code === 'ERR_OUT_OF_RANGE') {
      if (!(err instanceof RangeError)) return `${code} (not a RangeError)`;
    } else if (/^E[A-Z]+$/.test(code)) {
      if (typeof err.errno !== 'number' || err.errno >= 0 || typeof err.syscall !== 'string') return `${code} (not SystemError-shaped)`;
    }
    return code;
  }
}

/** A markdown table of cases: one column per backend when the expectations differ. */
export function casesTable(cases: readonly { fn: string; input: string; expect: Expectation }[], columns: readonly string[] | null): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const code = (s: string) => (s === 'ok' ? 'no error' : `\`${s}\``);
  const lines: string[] = [];
  if (columns === null) {
    lines.push('| function | input | throws |', '| --- | --- | --- |');
    for (const c of cases) lines.push(`| \`${esc(c.fn)}\` | ${esc(c.input)} | ${code(expectedFor(c.expect, ''))} |`);
  } else {
    lines.push(`| function | input | ${columns.join(' | ')} |`, `| --- | --- | ${columns.map(() => '---').join(' | ')} |`);
    for (const c of cases) {
      lines.push(`| \`${esc(c.fn)}\` | ${esc(c.input)} | ${columns.map((b) => code(expectedFor(c.expect, b))).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

/** Spawns node with `code` (a script string); resolves with its exit and output. */
export function runNode(
  code: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  onStdout?: (chunk: string, child: import('node:child_process').ChildProcess) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      onStdout?.(d, child);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // let the pipes drain
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
}

/**
 * A signal sender: sends `signal` to `pid` at `hz` until the target is gone or
 * `maxMs` passes, then prints {"sent": N}. Paced by a busy loop on hrtime
 * (a timer cannot tick at 10 kHz).
 */
export const SENDER = `
const pid = Number(process.argv[1]), hz = Number(process.argv[2]), maxMs = Number(process.argv[3]);
const sig = process.argv[4] || 'SIGUSR2';
const period = 1e9 / hz;
const start = process.hrtime.bigint();
let sent = 0;
for (;;) {
  const now = Number(process.hrtime.bigint() - start);
  if (now > maxMs * 1e6) break;
  if (now >= sent * period) {
    try { process.kill(pid, sig); } catch { break; }
    sent++;
  }
}
process.stdout.write(JSON.stringify({ sent, seconds: Number(process.hrtime.bigint() - start) / 1e9 }) + '\\n');
`;

/** Starts a sender at the child `pid`; resolves with how many signals it sent. */
export function signalStorm(pid: number, hz: number, maxMs: number, signal = 'SIGUSR2'): Promise<{ sent: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const s = spawn(process.execPath, ['-e', SENDER, String(pid), String(hz), String(maxMs), signal], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    s.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    s.on('exit', () => {
      try {
        resolve(JSON.parse(out));
      } catch (e) {
        reject(new Error(`sender printed ${JSON.stringify(out)}: ${String(e)}`));
      }
    });
  });
}

// ---- the signal fixture (runs in a child node process) --------------------------

/**
 * Ping-pong through a Worker echo, timed waits and a notify, all while the
 * parent storms this process with SIGUSR2. Prints one JSON line. The Worker
 * and this thread each block in their own poller's wait.
 */
const SIGNAL_FIXTURE = `
const { Worker } = require('node:worker_threads');
const backend = require(process.env.MODULE);
const { Poller } = backend;
const Events = backend.Events || require(require.resolve('@async-io/backend-core', { paths: [process.env.MODULE] })).Events;
let received = 0;
process.on('SIGUSR2', () => received++);
const out = { errors: [], bytesOut: 0, bytesIn: 0, rounds: 0, timeouts: [], notify: null };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const [aR, aW] = backend.pipe(); // main -> worker
const [bR, bW] = backend.pipe(); // worker -> main
const ctl = new Int32Array(new SharedArrayBuffer(8));
const worker = new Worker(\`
  const { workerData } = require('node:worker_threads');
  const backend = require(workerData.module);
  const Events = backend.Events || require(require.resolve('@async-io/backend-core', { paths: [workerData.module] })).Events;
  const p = new backend.Poller();
  const ev = new Events(8);
  const buf = Buffer.alloc(65536);
  const ctl = workerData.ctl;
  p.add(workerData.aR, 1, { readable: true }, 'level');
  let pending = Buffer.alloc(0);
  while (Atomics.load(ctl, 0) === 0) {
    if (pending.length) {
      const n = backend.write(workerData.bW, pending);
      if (n !== null) pending = pending.subarray(n);
    }
    p.wait(ev, pending.length ? 1 : 100);
    for (;;) {
      const n = backend.read(workerData.aR, buf);
      if (n === null || n === 0) break;
      pending = Buffer.concat([pending, buf.subarray(0, n)]);
    }
  }
  p.close();
\`, { eval: true, workerData: { module: process.env.MODULE, aR, bW, ctl } });

async function main() {
  const phase = (s) => process.stderr.write('phase: ' + s + '\\n');
  console.log('ready');
  // wait for the storm to reach us
  while (received === 0) await sleep(1);
  phase('ping-pong');
  const p = new Poller();
  const events = new Events(16);
  const buf = Buffer.alloc(65536);
  const deadline = performance.now() + Number(process.env.STORM_MS) * 0.6;
  // 1. ping-pong: every byte sent comes back, counted both ways.
  p.add(bR, 7, { readable: true }, 'oneshot');
  let round = 0;
  try {
    while (performance.now() < deadline) {
      const size = 1 + ((round * 7919) % 4096);
      const chunk = Buffer.alloc(size, round & 0xff);
      let sent = 0;
      while (sent < size) {
        const n = backend.write(aW, chunk.subarray(sent));
        if (n !== null) sent += n;
      }
      out.bytesOut += size;
      let got = 0;
      while (got < size) {
        const n = p.wait(events, 5000);
        if (n === 0) throw new Error('ping-pong: no event within 5 s (lost?) at round ' + round);
        for (;;) {
          const m = backend.read(bR, buf);
          if (m === null) break;
          if (m === 0) throw new Error('EOF');
          for (let i = 0; i < m; i++) if (buf[i] !== (round & 0xff)) throw new Error('corrupt byte at round ' + round);
          got += m;
        }
        p.modify(bR, 7, { readable: true }, 'oneshot');
      }
      out.bytesIn += got;
      round++;
    }
  } catch (e) {
    out.errors.push(String(e && e.code || '') + ' ' + String(e && e.stack));
  }
  out.rounds = round;
  // 2. timed waits on an idle poller: never short, never much late.
  phase('timeouts');
  const idle = new Poller();
  for (const ms of [1, 10, 100, 500, 1000]) {
    const t = performance.now();
    try {
      const n = idle.wait(events, ms);
      out.timeouts.push({ ms, took: performance.now() - t, n });
    } catch (e) {
      out.errors.push('timeout ' + ms + ': ' + String(e && e.code || '') + ' ' + String(e && e.stack));
    }
    await sleep(1); // let the loop drain libuv's signal pipe
  }
  // 3. an unbounded wait woken by a notify from another thread (never lost).
  phase('notify');
  const shared = idle.share();
  const notifier = new Worker(\`
    const { workerData } = require('node:worker_threads');
    const p = require(workerData.module).Poller.fromShared(workerData.shared);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    p.notify();
    p.close();
  \`, { eval: true, workerData: { module: process.env.MODULE, shared } });
  const t = performance.now();
  try {
    out.notify = { n: idle.wait(events, null), took: performance.now() - t };
  } catch (e) {
    out.errors.push('notify: ' + String(e && e.code || '') + ' ' + String(e && e.stack));
  }
  phase('notifier exit');
  await new Promise((r) => notifier.once('exit', r));
  phase('echo exit');
  Atomics.store(ctl, 0, 1);
  backend.write(aW, Buffer.from('x'));
  await new Promise((r) => worker.once('exit', r));
  phase('done');
  p.close();
  idle.close();
  await sleep(5);
  out.received = received;
  console.log(JSON.stringify(out));
  process.exit(0);
}
main().catch((e) => { console.log(JSON.stringify({ errors: [String(e && e.stack)] })); process.exit(1); });
`;

// ---- the reference model for the property test ----------------------------------

const R = 0x01;
const W = 0x02;

type Op =
  | { t: 'add' | 'modify'; f: number; k: number; i: Interest; m: PollMode }
  | { t: 'delete'; f: number }
  | { t: 'write'; f: number; n: number }
  | { t: 'read'; f: number }
  | { t: 'wait'; ms: number }
  | { t: 'notify' }
  | { t: 'close' };

/** fds of one run: 0/1 and 2/3 pipes (read, write), 4/5 a socketpair. */
const NF = 6;
const PEER = [1, 0, 3, 2, 5, 4];
const WRITERS = [1, 3, 4, 5];
const READERS = [0, 2, 4, 5];

interface Reg {
  key: number;
  bits: number; // R|W interest (priority never becomes ready here)
  mode: PollMode;
  armed: boolean; // oneshot modes
  must: boolean; // edge modes: an edge is surely queued
  may: boolean; // edge modes: an edge may be queued (write-space wakeups)
}

function interestBits(i: Interest): number {
  return (i.readable ? R : 0) | (i.writable ? W : 0);
}

/**
 * Applies `ops` to a real poller and to the model, checking after each step.
 * The contract, as the model states it (backend.h, the README):
 * - add of a registered fd: EEXIST; modify/delete of an unregistered one: ENOENT.
 * - level: reported on every wait while ready, with flags = readiness & interest.
 * - oneshot: reported once while armed and ready, then silent until modify.
 * - edge: reported once per edge (data arriving, or add/modify while ready);
 *   write-space changes may add edges. edge-oneshot: the same, then disarmed.
 * - notify: never an event; the next wait (any) returns at once, coalesced;
 *   it may return before collecting ready registrations (poll does), which
 *   the wait after it then reports.
 * - no event for an unregistered fd; never a duplicate key; after close every
 *   call throws ERR_POLLER_CLOSED.
 */
function runModel(backend: BackendModule, ops: Op[]): void {
  const { Poller } = backend;
  const fds: number[] = [];
  const p = new Poller();
  try {
    for (let i = 0; i < 2; i++) fds.push(...backend.pipe());
    fds.push(...backend.socketpair());
    const buffered = new Array<number>(NF).fill(0);
    const regs = new Map<number, Reg>();
    let notified = false;
    let closed = false;
    const events = new Events(64);
    const scratch = Buffer.alloc(4096);
    const ready = (f: number) => (buffered[f]! > 0 ? R : 0) | (WRITERS.includes(f) ? W : 0);
    const code = (fn: () => unknown) => outcome(fn);

    for (const op of ops) {
      const where = `op ${JSON.stringify(op)}`;
      if (closed && op.t !== 'write' && op.t !== 'read') {
        let c: string;
        if (op.t === 'add' || op.t === 'modify') c = code(() => p[op.t](fds[op.f]!, op.k, op.i, op.m));
        else if (op.t === 'delete') c = code(() => p.delete(fds[op.f]!));
        else if (op.t === 'wait') c = code(() => p.wait(events, op.ms));
        else if (op.t === 'notify') c = code(() => p.notify());
        else c = code(() => p.close()); // idempotent
        expect(c, where).toBe(op.t === 'close' ? 'ok' : 'ERR_POLLER_CLOSED');
        continue;
      }
      switch (op.t) {
        case 'add': {
          const key = op.k * NF + op.f;
          const c = code(() => p.add(fds[op.f]!, key, op.i, op.m));
          if (regs.has(op.f)) {
            expect(c, where).toBe('EEXIST');
          } else {
            expect(c, where).toBe('ok');
            const bits = interestBits(op.i);
            regs.set(op.f, { key, bits, mode: op.m, armed: true, must: (ready(op.f) & bits) !== 0, may: false });
          }
          break;
        }
        case 'modify': {
          const key = op.k * NF + op.f;
          const c = code(() => p.modify(fds[op.f]!, key, op.i, op.m));
          const old = regs.get(op.f);
          if (!old) {
            expect(c, where).toBe('ENOENT');
          } else {
            expect(c, where).toBe('ok');
            const bits = interestBits(op.i);
            regs.set(op.f, { key, bits, mode: op.m, armed: true, must: (ready(op.f) & bits) !== 0, may: old.must || old.may });
          }
          break;
        }
        case 'delete': {
          const c = code(() => p.delete(fds[op.f]!));
          expect(c, where).toBe(regs.delete(op.f) ? 'ok' : 'ENOENT');
          break;
        }
        case 'write': {
          const n = backend.write(fds[op.f]!, Buffer.alloc(op.n, 0x61));
          expect(n, where).toBe(op.n);
          const to = PEER[op.f]!;
          buffered[to] = buffered[to]! + op.n;
          const r = regs.get(to);
          if (r && r.bits & R) r.must = true;
          for (const f of [op.f, to]) {
            const g = regs.get(f);
            if (g) g.may = true;
          }
          break;
        }
        case 'read': {
          let total = 0;
          for (;;) {
            const n = backend.read(fds[op.f]!, scratch);
            if (n === null) break;
            expect(n, where).toBeGreaterThan(0); // no EOF: nothing is closed
            total += n!;
          }
          expect(total, where).toBe(buffered[op.f]);
          buffered[op.f] = 0;
          for (const f of [op.f, PEER[op.f]!]) {
            const g = regs.get(f);
            if (g) g.may = true;
          }
          break;
        }
        case 'notify':
          p.notify();
          notified = true;
          break;
        case 'close':
          p.close();
          closed = true;
          break;
        case 'wait': {
          const must = new Map<number, number>(); // key -> flags
          const may = new Map<number, number>();
          for (const [f, r] of regs) {
            const flags = ready(f) & r.bits;
            if (flags === 0) continue;
            const edge = r.mode === 'edge' || r.mode === 'edge-oneshot';
            const oneshot = r.mode === 'oneshot' || r.mode === 'edge-oneshot';
            if (oneshot && !r.armed) continue;
            // A pending notify may end the wait before anything is collected
            // (the poll backend returns at once): then events may wait for the next one.
            if (!edge || r.must) (notified ? may : must).set(r.key, flags);
            else if (r.may) may.set(r.key, flags);
          }
          const quiet = !notified && must.size === 0 && may.size === 0;
          const t = performance.now();
          const n = p.wait(events, op.ms);
          const took = performance.now() - t;
          expect(n, where).toBe(events.length);
          const seen = new Set<number>();
          for (let i = 0; i < n; i++) {
            const key = events.keyAt(i);
            const flags = events.flagsAt(i);
            expect(seen.has(key), `${where}: key ${key} twice in one wait`).toBe(false);
            seen.add(key);
            const want = must.get(key) ?? may.get(key);
            expect(want, `${where}: unexpected event key ${key} flags ${flags}; regs ${JSON.stringify([...regs])}`).toBeDefined();
            expect(flags, `${where}: flags of key ${key}`).toBe(want);
          }
          for (const key of must.keys()) expect(seen.has(key), `${where}: missing event for key ${key}; regs ${JSON.stringify([...regs])}`).toBe(true);
          if (op.ms > 0) {
            if (quiet) expect(took, `${where}: an idle wait returned early`).toBeGreaterThanOrEqual(op.ms * 0.95);
            else expect(took, `${where}: a wait with something to report blocked`).toBeLessThan(op.ms + 1000);
          }
          // Update the model: oneshot disarms what it reported; edges are consumed.
          for (const r of regs.values()) {
            if (seen.has(r.key) && (r.mode === 'oneshot' || r.mode === 'edge-oneshot')) r.armed = false;
            if (seen.has(r.key) || !notified) {
              r.must = false;
              r.may = false;
            }
          }
          notified = false;
          break;
        }
      }
    }
  } finally {
    p.close();
    for (const fd of fds) backend.close(fd);
  }
}

function opsArbitrary(modes: PollMode[], priority: boolean): fc.Arbitrary<Op[]> {
  const f = fc.integer({ min: 0, max: NF - 1 });
  const interest = fc.record({ readable: fc.boolean(), writable: fc.boolean(), priority: priority ? fc.boolean() : fc.constant(false) });
  const mode = fc.constantFrom(...modes);
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 20, arbitrary: fc.record({ t: fc.constant('add' as const), f, k: fc.nat(20), i: interest, m: mode }) },
    { weight: 15, arbitrary: fc.record({ t: fc.constant('modify' as const), f, k: fc.nat(20), i: interest, m: mode }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('delete' as const), f }) },
    { weight: 20, arbitrary: fc.record({ t: fc.constant('write' as const), f: fc.constantFrom(...WRITERS), n: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 10, arbitrary: fc.record({ t: fc.constant('read' as const), f: fc.constantFrom(...READERS) }) },
    { weight: 25, arbitrary: fc.record({ t: fc.constant('wait' as const), ms: fc.constantFrom(0, 0, 0, 5) }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('notify' as const) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('close' as const) }) },
  );
  return fc.array(op, { minLength: 5, maxLength: 60, size: 'max' });
}

// ---- bad input: the case table (docs/errors.md is generated from it) ------------

interface BadContext {
  backend: BackendModule;
  p: Poller;
  closedPoller: Poller;
  r: number;
  w: number;
  closedFd: number;
  file: number;
  dir: number;
  events: Events;
}

interface BadCase {
  fn: string;
  input: string;
  expect: Expectation;
  run(c: BadContext): unknown;
}

type Any = (...a: unknown[]) => unknown;
const any = (o: unknown) => o as Record<string, Any> & { new (...a: unknown[]): unknown };
/** The native handle inside a Poller (its one own symbol property). */
const handleOf = (p: Poller) => (p as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(p)[0]!];
const NEVER_OPENED = 1_000_000; // above the fd limit: never a valid fd here

const TYPE = 'ERR_INVALID_ARG_TYPE';
const RANGE = 'ERR_OUT_OF_RANGE';
const VALUE = 'ERR_INVALID_ARG_VALUE';
const CLOSED = 'ERR_POLLER_CLOSED';

function fdCases(fn: string, call: (c: BadContext, fd: unknown) => unknown): BadCase[] {
  return [
    { fn, input: "fd `'3'` (string)", expect: TYPE, run: (c) => call(c, '3') },
    { fn, input: 'fd `3n` (bigint)', expect: TYPE, run: (c) => call(c, 3n) },
    { fn, input: 'fd `undefined`', expect: TYPE, run: (c) => call(c, undefined) },
    { fn, input: 'fd `NaN`', expect: RANGE, run: (c) => call(c, NaN) },
    { fn, input: 'fd `-1`', expect: RANGE, run: (c) => call(c, -1) },
    { fn, input: 'fd `1.5`', expect: RANGE, run: (c) => call(c, 1.5) },
    { fn, input: 'fd `2**31`', expect: RANGE, run: (c) => call(c, 2 ** 31) },
    { fn, input: 'fd `Infinity`', expect: RANGE, run: (c) => call(c, Infinity) },
  ];
}

/** Every public function of Poller, Events and the fd helpers, fed bad input. */
export const POLLER_BAD_INPUT: readonly BadCase[] = [
  // Poller construction and sharing
  { fn: 'new Poller', input: 'an argument `{}` (it takes none)', expect: TYPE, run: (c) => new (any(c.backend.Poller))({}) },
  { fn: 'Poller.fromShared', input: '`{}`', expect: TYPE, run: (c) => c.backend.Poller.fromShared({} as never) },
  { fn: 'Poller.fromShared', input: '`null`', expect: TYPE, run: (c) => c.backend.Poller.fromShared(null as never) },
  {
    fn: 'Poller.fromShared',
    input: 'a token of another backend',
    expect: VALUE,
    run: (c) => c.backend.Poller.fromShared({ kind: 'async-io.shared-poller', backend: c.p.backend === 'poll' ? 'epoll' : 'poll', id: 1 }),
  },
  { fn: 'Poller.fromShared', input: "id `'1'`", expect: TYPE, run: (c) => c.backend.Poller.fromShared({ kind: 'async-io.shared-poller', backend: c.p.backend, id: '1' } as never) },
  { fn: 'Poller.fromShared', input: 'id `-1`', expect: RANGE, run: (c) => c.backend.Poller.fromShared({ kind: 'async-io.shared-poller', backend: c.p.backend, id: -1 }) },
  { fn: 'Poller.fromShared', input: 'id `NaN`', expect: RANGE, run: (c) => c.backend.Poller.fromShared({ kind: 'async-io.shared-poller', backend: c.p.backend, id: NaN }) },
  { fn: 'Poller.fromShared', input: 'id `2**60`', expect: RANGE, run: (c) => c.backend.Poller.fromShared({ kind: 'async-io.shared-poller', backend: c.p.backend, id: 2 ** 60 }) },
  { fn: 'Poller.fromShared', input: 'a token of a poller every owner closed', expect: CLOSED, run: (c) => {
    const t = new c.backend.Poller();
    const s = t.share();
    t.close();
    return c.backend.Poller.fromShared(s);
  } },
  // add: fd
  ...fdCases('poller.add', (c, fd) => c.p.add(fd as number, 1, { readable: true })),
  { fn: 'poller.add', input: 'a closed fd', expect: 'EBADF', run: (c) => c.p.add(c.closedFd, 1, { readable: true }) },
  { fn: 'poller.add', input: 'a never-opened fd (1,000,000)', expect: 'EBADF', run: (c) => c.p.add(NEVER_OPENED, 1, { readable: true }) },
  { fn: 'poller.add', input: 'a regular file', expect: { default: 'ok', epoll: 'EPERM' }, run: (c) => c.p.add(c.file, 1, { readable: true }) },
  { fn: 'poller.add', input: 'a directory', expect: { default: 'ok', epoll: 'EPERM' }, run: (c) => c.p.add(c.dir, 1, { readable: true }) },
  { fn: 'poller.add', input: 'an fd already added', expect: 'EEXIST', run: (c) => {
    c.p.add(c.r, 1, { readable: true });
    return c.p.add(c.r, 2, { readable: true });
  } },
  { fn: 'poller.add', input: "the poller's own fd (or a poller fd of another poller)", expect: { default: 'ok', epoll: 'EINVAL', kqueue: 'EINVAL', 'event-ports': 'EINVAL' }, run: (c) => {
    const fd = c.p.fd;
    if (fd === null) return c.p.add(c.r, 1, { readable: true }); // poll has no fd: nothing to refuse
    return c.p.add(fd, 1, { readable: true });
  } },
  // add: key
  { fn: 'poller.add', input: 'key `2**32-1` (reserved)', expect: RANGE, run: (c) => c.p.add(c.r, 0xffffffff, { readable: true }) },
  { fn: 'poller.add', input: 'key `2**32`', expect: RANGE, run: (c) => c.p.add(c.r, 2 ** 32, { readable: true }) },
  { fn: 'poller.add', input: 'key `-1`', expect: RANGE, run: (c) => c.p.add(c.r, -1, { readable: true }) },
  { fn: 'poller.add', input: 'key `0.5`', expect: RANGE, run: (c) => c.p.add(c.r, 0.5, { readable: true }) },
  { fn: 'poller.add', input: 'key `NaN`', expect: RANGE, run: (c) => c.p.add(c.r, NaN, { readable: true }) },
  { fn: 'poller.add', input: "key `'1'`", expect: TYPE, run: (c) => any(c.p).add!(c.r, '1', { readable: true }) },
  { fn: 'poller.add', input: 'key `null`', expect: TYPE, run: (c) => any(c.p).add!(c.r, null, { readable: true }) },
  // add: interest and mode
  { fn: 'poller.add', input: 'interest `null`', expect: TYPE, run: (c) => any(c.p).add!(c.r, 1, null) },
  { fn: 'poller.add', input: "interest `'r'`", expect: TYPE, run: (c) => any(c.p).add!(c.r, 1, 'r') },
  { fn: 'poller.add', input: 'interest `{ readable: 1 }`', expect: TYPE, run: (c) => any(c.p).add!(c.r, 1, { readable: 1 }) },
  { fn: 'poller.add', input: "mode `'sometimes'`", expect: VALUE, run: (c) => any(c.p).add!(c.r, 1, { readable: true }, 'sometimes') },
  { fn: 'poller.add', input: "mode `''`", expect: VALUE, run: (c) => any(c.p).add!(c.r, 1, { readable: true }, '') },
  { fn: 'poller.add', input: 'mode `3`', expect: TYPE, run: (c) => any(c.p).add!(c.r, 1, { readable: true }, 3) },
  { fn: 'poller.add', input: 'mode `null`', expect: TYPE, run: (c) => any(c.p).add!(c.r, 1, { readable: true }, null) },
  { fn: 'poller.add', input: "mode `'edge'` where unsupported", expect: { default: 'ok', poll: 'ENOTSUP', 'event-ports': 'ENOTSUP' }, run: (c) => c.p.add(c.r, 1, { readable: true }, 'edge') },
  // modify / delete
  ...fdCases('poller.modify', (c, fd) => c.p.modify(fd as number, 1, { readable: true })),
  { fn: 'poller.modify', input: 'an fd never added', expect: 'ENOENT', run: (c) => c.p.modify(c.r, 1, { readable: true }) },
  { fn: 'poller.modify', input: 'key `2**32-1` (reserved)', expect: RANGE, run: (c) => {
    c.p.add(c.r, 1, { readable: true });
    return c.p.modify(c.r, 0xffffffff, { readable: true });
  } },
  { fn: 'poller.modify', input: 'interest `undefined`', expect: TYPE, run: (c) => any(c.p).modify!(c.r, 1, undefined) },
  { fn: 'poller.modify', input: 'a closed fd', expect: { default: 'ENOENT', epoll: 'EBADF' }, run: (c) => c.p.modify(c.closedFd, 1, { readable: true }) },
  ...fdCases('poller.delete', (c, fd) => c.p.delete(fd as number)),
  { fn: 'poller.delete', input: 'an fd never added', expect: 'ENOENT', run: (c) => c.p.delete(c.r) },
  { fn: 'poller.delete', input: 'a never-opened fd (1,000,000)', expect: { default: 'ENOENT', epoll: 'EBADF' }, run: (c) => c.p.delete(NEVER_OPENED) },
  { fn: 'poller.delete', input: 'twice', expect: 'ENOENT', run: (c) => {
    c.p.add(c.r, 1, { readable: true });
    c.p.delete(c.r);
    return c.p.delete(c.r);
  } },
  // wait / notify
  { fn: 'poller.wait', input: 'events `{}`', expect: TYPE, run: (c) => any(c.p).wait!({}, 0) },
  { fn: 'poller.wait', input: 'events `null`', expect: TYPE, run: (c) => any(c.p).wait!(null, 0) },
  { fn: 'poller.wait', input: 'events a bare `Uint32Array`', expect: TYPE, run: (c) => any(c.p).wait!(new Uint32Array(8), 0) },
  { fn: 'poller.wait', input: 'timeout `-1`', expect: RANGE, run: (c) => c.p.wait(c.events, -1) },
  { fn: 'poller.wait', input: 'timeout `-Infinity`', expect: RANGE, run: (c) => c.p.wait(c.events, -Infinity) },
  { fn: 'poller.wait', input: 'timeout `NaN`', expect: RANGE, run: (c) => c.p.wait(c.events, NaN) },
  { fn: 'poller.wait', input: "timeout `'10'`", expect: TYPE, run: (c) => any(c.p).wait!(c.events, '10') },
  { fn: 'poller.wait', input: 'timeout `10n`', expect: TYPE, run: (c) => any(c.p).wait!(c.events, 10n) },
  { fn: 'poller.wait', input: 'timeout `0.0001` (sub-microsecond)', expect: 'ok', run: (c) => c.p.wait(c.events, 0.0001) },
  // after close
  { fn: 'poller.add', input: 'after close', expect: CLOSED, run: (c) => c.closedPoller.add(c.r, 1, { readable: true }) },
  { fn: 'poller.modify', input: 'after close', expect: CLOSED, run: (c) => c.closedPoller.modify(c.r, 1, { readable: true }) },
  { fn: 'poller.delete', input: 'after close', expect: CLOSED, run: (c) => c.closedPoller.delete(c.r) },
  { fn: 'poller.wait', input: 'after close', expect: CLOSED, run: (c) => c.closedPoller.wait(c.events, 0) },
  { fn: 'poller.wait', input: 'after close, with a bad events argument too', expect: CLOSED, run: (c) => any(c.closedPoller).wait!(null, -1) },
  { fn: 'poller.notify', input: 'after close', expect: CLOSED, run: (c) => c.closedPoller.notify() },
  { fn: 'poller.share', input: 'after close', expect: CLOSED, run: (c) => c.closedPoller.share() },
  { fn: 'poller.fd', input: 'after close', expect: CLOSED, run: (c) => c.closedPoller.fd },
  { fn: 'poller.close', input: 'after close (idempotent)', expect: 'ok', run: (c) => c.closedPoller.close() },
  { fn: 'poller[Symbol.dispose]', input: 'after close (idempotent)', expect: 'ok', run: (c) => c.closedPoller[Symbol.dispose]() },
  { fn: 'poller.supportsEdge', input: 'after close (a constant of the backend)', expect: 'ok', run: (c) => c.closedPoller.supportsEdge() },
  // Events
  { fn: 'new Events', input: 'capacity `0`', expect: RANGE, run: () => new Events(0) },
  { fn: 'new Events', input: 'capacity `-1`', expect: RANGE, run: () => new Events(-1) },
  { fn: 'new Events', input: 'capacity `1.5`', expect: RANGE, run: () => new Events(1.5) },
  { fn: 'new Events', input: 'capacity `NaN`', expect: RANGE, run: () => new Events(NaN) },
  { fn: 'new Events', input: 'capacity `2**20 + 1`', expect: RANGE, run: () => new Events(2 ** 20 + 1) },
  { fn: 'new Events', input: "capacity `'8'`", expect: TYPE, run: () => new (Events as unknown as new (x: unknown) => Events)('8') },
  { fn: 'events.at', input: 'index `0` of an empty batch', expect: RANGE, run: (c) => c.events.at(0) },
  { fn: 'events.at', input: 'index `-1`', expect: RANGE, run: (c) => c.events.at(-1) },
  { fn: 'events.at', input: "index `'0'`", expect: TYPE, run: (c) => any(c.events).at!('0') },
  { fn: 'events.keyAt', input: 'index `1.5`', expect: RANGE, run: (c) => c.events.keyAt(1.5) },
  { fn: 'events.flagsAt', input: 'index `NaN`', expect: RANGE, run: (c) => c.events.flagsAt(NaN) },
  // fd helpers
  ...fdCases('read', (c, fd) => c.backend.read(fd as number, Buffer.alloc(1))),
  { fn: 'read', input: 'a closed fd', expect: 'EBADF', run: (c) => c.backend.read(c.closedFd, Buffer.alloc(1)) },
  { fn: 'read', input: 'a never-opened fd (1,000,000)', expect: 'EBADF', run: (c) => c.backend.read(NEVER_OPENED, Buffer.alloc(1)) },
  { fn: 'read', input: 'the write end of a pipe', expect: 'EBADF', run: (c) => c.backend.read(c.w, Buffer.alloc(1)) },
  { fn: 'read', input: 'a directory', expect: 'EISDIR', run: (c) => c.backend.read(c.dir, Buffer.alloc(1)) },
  { fn: 'read', input: "buffer `'x'`", expect: TYPE, run: (c) => c.backend.read(c.r, 'x' as never) },
  { fn: 'read', input: 'buffer `null`', expect: TYPE, run: (c) => c.backend.read(c.r, null as never) },
  { fn: 'read', input: 'buffer a bare `ArrayBuffer`', expect: TYPE, run: (c) => c.backend.read(c.r, new ArrayBuffer(4) as never) },
  { fn: 'read', input: 'an empty pipe (would block)', expect: 'ok', run: (c) => c.backend.read(c.r, Buffer.alloc(1)) },
  ...fdCases('write', (c, fd) => c.backend.write(fd as number, Buffer.alloc(1))),
  { fn: 'write', input: 'a closed fd', expect: 'EBADF', run: (c) => c.backend.write(c.closedFd, Buffer.alloc(1)) },
  { fn: 'write', input: 'the read end of a pipe', expect: 'EBADF', run: (c) => c.backend.write(c.r, Buffer.alloc(1)) },
  { fn: 'write', input: 'buffer `undefined`', expect: TYPE, run: (c) => c.backend.write(c.w, undefined as never) },
  { fn: 'write', input: 'a DataView', expect: 'ok', run: (c) => c.backend.write(c.w, new DataView(new ArrayBuffer(2))) },
  ...fdCases('close', (c, fd) => c.backend.close(fd as number)),
  { fn: 'close', input: 'a closed fd', expect: 'EBADF', run: (c) => c.backend.close(c.closedFd) },
  ...fdCases('setNonblocking', (c, fd) => c.backend.setNonblocking(fd as number)),
  { fn: 'setNonblocking', input: 'a closed fd', expect: 'EBADF', run: (c) => c.backend.setNonblocking(c.closedFd) },
  // the raw addon, misused from outside: coded errors, never a crash
  { fn: 'native.add', input: 'a junk handle `{}`', expect: TYPE, run: (c) => any(c.backend.native).add!({}, c.r, 1, 1, 0) },
  { fn: 'native.add', input: 'no arguments', expect: TYPE, run: (c) => any(c.backend.native).add!() },
  { fn: 'native.add', input: 'interest bits `8`', expect: RANGE, run: (c) => any(c.backend.native).add!(handleOf(c.p), c.r, 1, 8, 0) },
  { fn: 'native.add', input: 'mode `4`', expect: RANGE, run: (c) => any(c.backend.native).add!(handleOf(c.p), c.r, 1, 1, 4) },
  { fn: 'native.wait', input: 'a `Uint8Array` batch', expect: TYPE, run: (c) => any(c.backend.native).wait!(handleOf(c.p), new Uint8Array(16), 0) },
  { fn: 'native.wait', input: 'a batch of length 1', expect: TYPE, run: (c) => any(c.backend.native).wait!(handleOf(c.p), new Uint32Array(1), 0) },
  { fn: 'native.wait', input: 'timeout `NaN`', expect: RANGE, run: (c) => any(c.backend.native).wait!(handleOf(c.p), new Uint32Array(8), NaN) },
  { fn: 'native.fromShared', input: 'id `0`', expect: RANGE, run: (c) => any(c.backend.native).fromShared!(0) },
  { fn: 'native.fromShared', input: 'an id never handed out', expect: CLOSED, run: (c) => any(c.backend.native).fromShared!(2 ** 52) },
  { fn: 'native.close', input: '`undefined`', expect: TYPE, run: (c) => any(c.backend.native).close!(undefined) },
  { fn: 'native.read', input: 'no buffer', expect: TYPE, run: (c) => any(c.backend.native).read!(c.r) },
  { fn: 'native.fdReadiness', input: 'a closed fd', expect: 'EBADF', run: (c) => any(c.backend.native).fdReadiness!(c.closedFd) },
];

// ---- the suite ---------------------------------------------------------------------

export function describeHardening(options: HardeningOptions): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const backend = require(options.modulePath) as BackendModule;
  const { Poller } = backend;
  const probe = new Poller();
  const name = probe.backend;
  const modes: PollMode[] = ['oneshot', 'level', 'edge', 'edge-oneshot'].filter(
    (m) => m === 'oneshot' || (m === 'level' ? probe.supportsLevel() : probe.supportsEdge()),
  ) as PollMode[];
  // kqueue's EVFILT_EXCEPT exists for sockets only (pipes: EINVAL), and the
  // model's fds include pipes: leave priority to the conformance suite there.
  const priority = probe.supportsPriority() && name !== 'kqueue';
  probe.close();
  const log = (line: string) => {
    report.push(`[${options.label ?? name}] ${line}`);
  };

  describe(`hardening: ${options.label ?? name}`, () => {
    afterAll(() => {
      // One line per figure, printed at the end of the suite.
      if (report.length) console.log(report.splice(0).join('\n'));
    });

    it(`leaks: ${FIGURES.cycles} create/add/wait/delete/close cycles leave fds and RSS flat`, async () => {
      const events = new Events(16);
      const one = Buffer.from('x');
      const buf = Buffer.alloc(16);
      const cycle = () => {
        const p = new Poller();
        const [r, w] = backend.pipe();
        p.add(r, 1, { readable: true });
        backend.write(w, one);
        if (p.wait(events, 1000) !== 1) throw new Error('no event');
        backend.read(r, buf);
        p.modify(r, 2, { readable: true }, 'level');
        p.delete(r);
        const q = Poller.fromShared(p.share());
        p.notify();
        q.wait(new Events(4), 0);
        q.close();
        p.close();
        backend.close(r);
        backend.close(w);
      };
      for (let i = 0; i < FIGURES.warmup; i++) cycle();
      const fds0 = fdCount();
      const rss0 = await rssMiB();
      for (let i = 0; i < FIGURES.cycles; i++) {
        cycle();
        if (i % 1000 === 999) await settle();
      }
      const fds1 = fdCount();
      const rss1 = await rssMiB();
      log(`leaks: ${FIGURES.cycles} Poller cycles, fds ${fds0} -> ${fds1}, RSS ${rss0.toFixed(1)} -> ${rss1.toFixed(1)} MiB (tolerance +${FIGURES.rssToleranceMiB} MiB${LIGHT ? ', not checked in LIGHT mode' : ''})`);
      expect(fds1).toBeLessThanOrEqual(fds0); // a leak only ever adds fds (unrelated ones may close meanwhile)
      if (!LIGHT) expect(rss1 - rss0).toBeLessThan(FIGURES.rssToleranceMiB);
    });

    it('close-on-exec: a child spawned while pollers exist inherits none of their fds', async (ctx) => {
      if (process.platform !== 'linux') return ctx.skip('reads /proc/self/fd and /proc/self/fdinfo: Linux only');
      const before = fdTargets();
      const pollers = [new Poller(), new Poller(), new Poller()];
      const pipes = [backend.pipe(), backend.socketpair()];
      const shared = Poller.fromShared(pollers[0]!.share());
      try {
        const [r, w] = pipes[0]!;
        pollers[0]!.add(r, 1, { readable: true });
        pollers[1]!.add(w, 2, { writable: true }, 'level');
        backend.write(w, Buffer.from('x'));
        const mine = newFds(before);
        // The pollers own fds on every backend but poll (whose poller holds a
        // wake-up pipe or eventfd at most): at least the helpers' 4 are new.
        expect(mine.size).toBeGreaterThanOrEqual(4);
        for (const fd of mine.keys()) expect(isCloexec(fd), `fd ${fd} -> ${mine.get(fd)} lacks O_CLOEXEC`).toBe(true);
        // Spawned synchronously, and asynchronously while a Worker-less wait is pending.
        const sync = childFds();
        const later = await new Promise<Map<number, string>>((resolve, reject) => {
          const child = spawn('ls', ['-l', '/proc/self/fd/'], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
          child.on('error', reject);
          child.on('exit', () => resolve(parseLs(out)));
        });
        expect(sync.size).toBeGreaterThanOrEqual(3); // it did list something
        expect(inherited(mine, sync)).toEqual([]);
        expect(inherited(mine, later)).toEqual([]);
        log(`close-on-exec: ${mine.size} poller/helper fds, child saw ${sync.size} fds, inherited 0`);
      } finally {
        shared.close();
        for (const p of pollers) p.close();
        for (const [a, b] of pipes) {
          backend.close(a!);
          backend.close(b!);
        }
      }
    });

    it('fd reuse: an fd closed without delete and reopened under the same number never gets an old event', () => {
      const buf = Buffer.alloc(64);
      let checked = 0;
      for (const mode of modes) {
        for (const primed of [false, true]) {
          const p = new Poller();
          const events = new Events(16);
          const [r, w] = backend.pipe();
          const [s1, s2] = backend.socketpair();
          try {
            p.add(r, 100, { readable: true }, mode);
            p.add(s1, 101, { readable: true, writable: true }, mode);
            backend.write(w, Buffer.from('old'));
            backend.write(s2, Buffer.from('old'));
            if (primed) p.wait(events, 0); // the old events were delivered once (and sit on level lists)
            backend.close(r);
            backend.close(w);
            backend.close(s1);
            // Reopen: the lowest free numbers come back.
            const [r2, w2] = backend.pipe();
            expect(r2).toBe(r);
            const [s1b, s2b] = backend.socketpair();
            expect(s1b).toBe(s1);
            // An old key surfaces at most once, as gone (the front's rule on
            // every backend), never as readiness of the old or the new files.
            const gone = new Map<number, number>();
            const oldKey = (e: PollEvent): boolean => {
              if (e.key !== 100 && e.key !== 101) return false;
              expect(e.gone && e.error && !e.readable && !e.writable, `old key ${e.key} reported as ${JSON.stringify(e)} (${mode}, primed ${primed})`).toBe(true);
              gone.set(e.key, (gone.get(e.key) ?? 0) + 1);
              return true;
            };
            p.wait(events, 0);
            for (const e of events) oldKey(e);
            // The new files register under the old numbers on every backend.
            p.add(r2, 200, { readable: true }, mode);
            p.add(s1b, 201, { readable: true }, mode);
            backend.write(w2, Buffer.from('new'));
            backend.write(s2b, Buffer.from('new'));
            const seen = new Map<number, number>();
            for (let i = 0; i < 3; i++) {
              p.wait(events, i === 0 ? 1000 : 20);
              for (const e of events) if (!oldKey(e)) seen.set(e.key, (seen.get(e.key) ?? 0) + 1);
              if (seen.has(200) && seen.has(201)) break;
            }
            expect([...seen.keys()].sort()).toEqual([200, 201]);
            expect([...gone.values()].every((n) => n === 1)).toBe(true);
            expect(backend.read(r2, buf)).toBe(3);
            expect(buf.subarray(0, 3).toString()).toBe('new');
            backend.close(r2);
            backend.close(w2);
            backend.close(s1b);
            backend.close(s2b);
            checked++;
          } finally {
            p.close();
            try {
              backend.close(s2);
            } catch {}
          }
        }
      }
      log(`fd reuse: ${checked} mode/priming combinations (${modes.join(', ')})`);
    });

    it(`signals: a ${FIGURES.signalHz / 1000} kHz SIGUSR2 storm during waits and ping-pong: no EINTR, nothing lost, timeouts on time`, async () => {
      const stormMs = LIGHT ? 4_000 : 6_000;
      let storm: Promise<{ sent: number; seconds: number }> | null = null;
      const child = await runNode(SIGNAL_FIXTURE, { MODULE: options.modulePath, STORM_MS: String(stormMs) }, 60_000, (chunk, proc) => {
        if (storm === null && chunk.includes('ready')) storm = signalStorm(proc.pid!, FIGURES.signalHz, stormMs + 5_000);
      });
      expect(storm, `the fixture never said ready: ${child.stderr}\n${child.stdout}`).not.toBeNull();
      const { sent, seconds } = await storm!;
      expect(child.signal, `${child.stderr}\n${child.stdout}`).toBeNull();
      expect(child.code, child.stderr).toBe(0);
      const out = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
        errors: string[];
        bytesOut: number;
        bytesIn: number;
        rounds: number;
        timeouts: { ms: number; took: number; n: number }[];
        notify: { n: number; took: number } | null;
        received: number;
      };
      log(
        `signals: sent ${sent} SIGUSR2 in ${seconds.toFixed(2)} s (${Math.round(sent / seconds)} Hz), handler ran ${out.received} times; ` +
          `${out.rounds} ping-pong rounds, ${out.bytesOut} bytes out, ${out.bytesIn} in; ` +
          `timeouts ${out.timeouts.map((t) => `${t.ms}->${t.took.toFixed(1)}`).join(', ')} ms; notify woke after ${out.notify?.took.toFixed(0)} ms`,
      );
      expect(out.errors).toEqual([]);
      expect(out.rounds).toBeGreaterThan(10);
      expect(out.bytesIn).toBe(out.bytesOut);
      expect(sent).toBeGreaterThan(FIGURES.signalHz); // more than a second's worth reached it
      expect(out.received).toBeGreaterThan(0);
      expect(out.timeouts).toHaveLength(5);
      for (const t of out.timeouts) {
        expect(t.n).toBe(0);
        expect(t.took, `timeout ${t.ms} ms`).toBeGreaterThanOrEqual(t.ms);
        expect(t.took, `timeout ${t.ms} ms`).toBeLessThan(t.ms + 1000);
      }
      expect(out.notify).toMatchObject({ n: 0 });
      expect(out.notify!.took).toBeLessThan(5_000);
    }, 90_000);

    it(`scale: ${FIGURES.pipes * 2} fds on one poller all become ready; each delivered as often as its mode says`, () => {
      const pairs: [number, number][] = [];
      const buf = Buffer.alloc(16);
      const one = Buffer.from('x');
      // poll() takes no more fds than the host's limit (pollNfdsLimit()):
      // where that is below the figure, the poll backend registers what fits
      // and refuses the next with EMFILE (checked below), never a failing wait.
      const probe = new Poller();
      const isPoll = probe.backend === 'poll';
      probe.close();
      const limit = isPoll ? pollNfdsLimit() : Infinity;
      const n = Math.min(FIGURES.pipes, Math.floor((limit - 1) / 2));
      const figures: string[] = [];
      let levelDuplicates = 0;
      try {
        for (let i = 0; i < n; i++) pairs.push(backend.pipe());
        if (n < FIGURES.pipes) {
          const over = backend.pipe();
          pairs.push(over);
          const p = new Poller();
          try {
            pairs.slice(0, n).forEach(([r, w], i) => {
              p.add(r, 2 * i, { readable: true });
              p.add(w, 2 * i + 1, { writable: true });
            });
            const room = limit - 1 - 2 * n; // 0 or 1 slot left
            if (room > 0) p.add(over[0], 2 * n, { readable: true });
            expect(() => p.add(over[1], 2 * n + 1, { writable: true })).toThrow(expect.objectContaining({ code: 'EMFILE', syscall: 'poll' }));
            expect(p.wait(new Events(16), 0)).toBeGreaterThan(0); // waits go on
          } finally {
            p.close();
            pairs.pop();
            backend.close(over[0]);
            backend.close(over[1]);
          }
          log(`scale: poll() takes ${limit} fds here: ${2 * n} registered, the next refused with EMFILE`);
        }
        for (const mode of modes) {
          const p = new Poller();
          const events = new Events(mode === 'level' ? 2 * n + 16 : 1024);
          const t0 = performance.now();
          try {
            // keys: 2i = read end (readable), 2i+1 = write end (writable)
            pairs.forEach(([r, w], i) => {
              p.add(r, 2 * i, { readable: true }, mode);
              p.add(w, 2 * i + 1, { writable: true }, mode);
            });
            for (const [, w] of pairs) backend.write(w, one);
            const count = new Uint32Array(2 * n);
            const collect = (rounds: number) => {
              let got = 0;
              for (let round = 0; round < rounds; round++) {
                const k = p.wait(events, round === 0 ? 1000 : 0);
                for (let i = 0; i < k; i++) {
                  const key = events.keyAt(i);
                  const flags = events.flagsAt(i);
                  // Plain checks (15,000 events a round); bail out at the first duplicate.
                  if ((flags & (key % 2 === 0 ? R : W)) === 0) throw new Error(`${mode}: key ${key} flags ${flags}`);
                  if (++count[key]! > 1) throw new Error(`${mode}: key ${key} delivered twice`);
                }
                got += k;
                if (k === 0) break;
              }
              return got;
            };
            if (mode === 'level') {
              // Every wait reports every ready fd at least once; twice in a row.
              // (More than once in one batch is allowed by the contract but
              // wastes the batch: counted and reported.)
              for (let round = 0; round < 2; round++) {
                count.fill(0);
                const k = p.wait(events, 1000);
                expect(k).toBeGreaterThanOrEqual(2 * n);
                expect(k).toBeLessThanOrEqual(events.capacity);
                for (let i = 0; i < k; i++) count[events.keyAt(i)]!++;
                expect(count.every((c) => c >= 1), 'each key at least once per wait').toBe(true);
                levelDuplicates += k - 2 * n;
              }
            } else {
              expect(collect(2 * n)).toBe(2 * n);
              expect(count.every((c) => c === 1), 'each key exactly once').toBe(true);
              expect(p.wait(events, 0)).toBe(0); // and nothing more
              if (mode === 'oneshot' || mode === 'edge-oneshot') {
                // Re-armed by modify: exactly once more each (still ready).
                count.fill(0);
                pairs.forEach(([r, w], i) => {
                  p.modify(r, 2 * i, { readable: true }, mode);
                  p.modify(w, 2 * i + 1, { writable: true }, mode);
                });
                expect(collect(2 * n)).toBe(2 * n);
                expect(count.every((c) => c === 1), 'each key exactly once after re-arming').toBe(true);
                expect(p.wait(events, 0)).toBe(0);
              }
            }
          } finally {
            p.close();
            for (const [r] of pairs) while ((backend.read(r, buf) ?? 0) > 0) {}
          }
          figures.push(`${mode} ${(performance.now() - t0).toFixed(0)} ms`);
        }
      } finally {
        for (const [r, w] of pairs) {
          backend.close(r);
          backend.close(w);
        }
      }
      log(`scale: ${2 * n} fds registered at once; ${figures.join(', ')}; level: ${levelDuplicates} duplicate keys within single batches over 2 waits`);
    }, 120_000);

    it(`property: random add/modify/delete/write/read/wait/notify/close sequences match the reference model (seed ${FIGURES.fcSeed}, ${FIGURES.fcRuns} runs)`, () => {
      let runs = 0;
      let ops = 0;
      const t = performance.now();
      fc.assert(
        fc.property(opsArbitrary(modes, priority), (seq) => {
          runs++;
          ops += seq.length;
          runModel(backend, seq);
        }),
        { seed: FIGURES.fcSeed, numRuns: FIGURES.fcRuns },
      );
      log(`property: ${runs} runs, ${ops} operations, modes ${modes.join('/')}, seed ${FIGURES.fcSeed}, ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }, 60_000);

    it('bad input: every public function throws its documented coded error, never crashes or hangs', () => {
      const dir = mkdtempSync(join(tmpdir(), 'async-io-hardening-'));
      const failures: string[] = [];
      try {
        writeFileSync(join(dir, 'file'), 'regular');
        for (const c of POLLER_BAD_INPUT) {
          const p = new Poller();
          const closedPoller = new Poller();
          closedPoller.close();
          const [r, w] = backend.pipe();
          const file = openSync(join(dir, 'file'), 'r');
          const dirFd = openSync(dir, 'r');
          const [x, y] = backend.pipe();
          backend.close(x);
          backend.close(y);
          const ctx: BadContext = { backend, p, closedPoller, r, w, closedFd: x, file, dir: dirFd, events: new Events(8) };
          try {
            const got = outcome(() => c.run(ctx));
            const want = options.emulationDifferences?.[`${c.fn}(${c.input})`] ?? expectedFor(c.expect, name);
            if (got !== want) failures.push(`${c.fn}(${c.input}): expected ${want}, got ${got}`);
          } finally {
            ctx.p.close();
            backend.close(ctx.r);
            backend.close(ctx.w);
            closeSync(ctx.file);
            closeSync(ctx.dir);
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      log(`bad input: ${POLLER_BAD_INPUT.length} cases, ${failures.length} unexpected`);
      expect(failures).toEqual([]);
      checkDocSection('poller', casesTable(POLLER_BAD_INPUT, BACKENDS.map((b) => b.name)));
    });
  });
}

/** Shared with the facade's hardening test (the package exports describeHardening only). */
describeHardening.tools = { fdCount, fdTargets, newFds, isCloexec, childFds, parseLs, inherited, forceGc, settle, rssMiB, checkDocSection, casesTable, expectedFor, outcome, runNode, signalStorm, FIGURES };
