// The facade's behaviours, as one plain script that Node, Bun and Deno can
// all run (no test framework): one line per check, "ok <name>",
// "not ok <name> -- <why>" or "skip <name> -- <why>", then a count. Exits 1
// when a check failed. run.mjs runs it under each runtime.
//
// Only the library's own fd helpers touch raw fds: Deno's node:fs rejects
// them (EBADF).
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  AbortError,
  Async,
  backendInfo,
  close,
  configure,
  pipe,
  read,
  Reactor,
  socketpair,
  write,
} from '@async-io/reactor';

const require = createRequire(import.meta.url);
const reactorEntry = require.resolve('@async-io/reactor');
const childScript = fileURLToPath(new URL('./child.mjs', import.meta.url));
// How to start this runtime again (run.mjs passes Deno's flags).
const [runtimeCmd, ...runtimeArgs] = process.env.ASYNC_IO_SUITE_CMD
  ? JSON.parse(process.env.ASYNC_IO_SUITE_CMD)
  : [process.execPath];
const runtime = process.versions.bun ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';
// Real libuv: Node, unless ASYNC_IO_NO_LIBUV=1 gives it the Bun/Deno drivers.
const libuv = runtime === 'node' && process.env.ASYNC_IO_NO_LIBUV !== '1';
// A check that takes longer is reported as hung (longer under qemu-user, ~10x slower).
const HANG = Number(process.env.ASYNC_IO_SUITE_HANG_MS ?? 20_000);
// Workers started by the Worker checks (fewer under qemu-user, where each start takes seconds).
const WORKERS = Number(process.env.ASYNC_IO_SUITE_WORKERS ?? 20);

const checks = [];
const check = (name, fn) => checks.push({ name, fn });
// Handles a check opened, closed after it (plain scripts: no `using` in Node 20).
let opened = [];
const track = (handle) => (opened.push(handle), handle);
class Skip extends Error {}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function expectCode(fn, code) {
  try {
    fn();
  } catch (error) {
    assert(error.code === code, `expected ${code}, got ${error.code ?? 'no code'}: ${error.message}`);
    return error;
  }
  throw new Error(`expected ${code}, nothing thrown`);
}

async function expectReject(promise, code) {
  try {
    await promise;
  } catch (error) {
    assert(error.code === code, `expected ${code}, got ${error.code ?? 'no code'}: ${error.message}`);
    return error;
  }
  throw new Error(`expected a rejection with ${code}`);
}

const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function runChild(mode, { stdinByteAfterMs } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(runtimeCmd, [...runtimeArgs, childScript, mode], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let exited = false;
    let wrote = false;
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', () => child.stdin.destroy());
    child.on('close', (code, signal) => {
      exited = true;
      const exitedEarly = stdinByteAfterMs !== undefined && !wrote;
      resolve({ code, signal, out: out.trim(), err: err.trim(), exitedEarly });
    });
    if (stdinByteAfterMs !== undefined) {
      // Still alive with nothing written: the pending ref'd wait holds it.
      setTimeout(() => {
        if (exited) return;
        wrote = true;
        child.stdin.write('x');
        child.stdin.end();
      }, stdinByteAfterMs);
    }
  });
}

function fdKinds() {
  const kinds = {};
  for (const f of readdirSync('/proc/self/fd')) {
    let kind;
    try {
      kind = readlinkSync(`/proc/self/fd/${f}`).replace(/\d+/g, 'N');
    } catch {
      continue;
    }
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

function workerDone(worker) {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
}

// ---- the checks --------------------------------------------------------------

check('driver selection: the default driver works in this runtime', () => {
  const info = backendInfo();
  // Nested needs libuv and a poller fd that the start-up probe sees nest (it does on Linux).
  const expected = libuv && info.fd !== null ? 'nested' : 'thread';
  assert(info.driver === expected, `driver ${info.driver}, expected ${expected} (backend ${info.name})`);
  return `backend ${info.name}, driver ${info.driver}`;
});

check('readable(): waits for data, then resolves', async () => {
  const [r, w] = pipe();
  const reader = track(new Async(r, { ownsFd: true }));
  let resolved = false;
  const wait = reader.readable().then(() => (resolved = true));
  await tick(20);
  assert(!resolved, 'resolved before any data was written');
  write(w, new Uint8Array([1, 2, 3]));
  await wait;
  assert(read(r, new Uint8Array(8)) === 3, 'the data is not there');
  close(w);
});

check('writable(): waits while the pipe is full, resolves once drained', async () => {
  const [r, w] = pipe();
  const writer = track(new Async(w, { ownsFd: true }));
  const chunk = new Uint8Array(65536);
  while (write(w, chunk) !== null);
  let resolved = false;
  const wait = writer.writable().then(() => (resolved = true));
  await tick(20);
  assert(!resolved, 'resolved on a full pipe');
  const sink = new Uint8Array(65536);
  while (read(r, sink) !== null);
  await wait;
  assert(write(w, new Uint8Array(1)) === 1, 'still full');
  close(r);
});

check('read()/write(): bytes through a socketpair, 0 at EOF', async () => {
  const [a, b] = socketpair();
  const left = track(new Async(a, { ownsFd: true }));
  const right = new Async(b, { ownsFd: true });
  const message = new TextEncoder().encode('hello from ' + runtime);
  assert((await right.write(message)) === message.length, 'short write');
  const buf = new Uint8Array(64);
  const n = await left.read(buf);
  assert(new TextDecoder().decode(buf.subarray(0, n)) === 'hello from ' + runtime, 'wrong bytes');
  right.close();
  assert((await left.read(buf)) === 0, 'no EOF after the peer closed');
});

check('read(): EOF after the last bytes when the peer wrote and closed at once', async () => {
  const [r, w] = pipe();
  const reader = track(new Async(r, { ownsFd: true }));
  const buf = new Uint8Array(64);
  const first = reader.read(buf); // waiting: nothing written yet
  await tick(10);
  write(w, new Uint8Array([1, 2, 3]));
  close(w); // data and hangup reach the reactor as one event
  assert((await first) === 3, 'lost the bytes');
  assert((await reader.read(buf)) === 0, 'no EOF');
});

check('readWith(): retries the op until it stops returning null', async () => {
  const [r, w] = pipe();
  const reader = track(new Async(r, { ownsFd: true }));
  let calls = 0;
  const buf = new Uint8Array(16);
  const result = reader.readWith(() => {
    calls++;
    return read(r, buf);
  });
  setTimeout(() => write(w, new Uint8Array([9, 9])), 10);
  assert((await result) === 2, 'wrong count');
  assert(calls >= 2, `op ran ${calls} time(s): it should have seen "would block" first`);
  close(w);
});

check('abort: an AbortSignal rejects a pending wait with ABORT_ERR', async () => {
  const [r, w] = pipe();
  const reader = track(new Async(r, { ownsFd: true }));
  const controller = new AbortController();
  const wait = reader.readable({ signal: controller.signal });
  setTimeout(() => controller.abort(), 10);
  const error = await expectReject(wait, 'ABORT_ERR');
  assert(error instanceof AbortError && error.name === 'AbortError', 'not an AbortError');
  await expectReject(reader.readable({ signal: AbortSignal.abort() }), 'ABORT_ERR');
  // The handle still works after an abort.
  write(w, new Uint8Array([1]));
  await reader.readable();
  close(w);
});

check('close(): pending waits reject with ERR_ASYNC_CLOSED; ownsFd closes the fd', async () => {
  const [r, w] = pipe();
  const reader = new Async(r, { ownsFd: true });
  const wait = reader.readable();
  reader.close();
  reader.close(); // idempotent
  await expectReject(wait, 'ERR_ASYNC_CLOSED');
  await expectReject(reader.readable(), 'ERR_ASYNC_CLOSED');
  expectCode(() => read(r, new Uint8Array(1)), 'EBADF');
  close(w);
});

check('errors: SystemError shape from native code, Node codes for bad arguments', () => {
  const e = expectCode(() => read(2 ** 30, new Uint8Array(1)), 'EBADF');
  assert(e.errno === -9 && e.syscall === 'read' && /^EBADF: .+, read$/.test(e.message), `shape: ${e.errno} ${e.syscall} ${e.message}`);
  expectCode(() => new Async('3'), 'ERR_INVALID_ARG_TYPE');
  expectCode(() => new Async(-1), 'ERR_OUT_OF_RANGE');
  expectCode(() => configure({ driver: 'external' }), 'ERR_ASYNC_IO_ALREADY_STARTED');
  expectCode(() => configure({ driver: 'sometimes' }), 'ERR_INVALID_ARG_VALUE');
});

check('Poller: the backend package directly (add, wait, delete)', () => {
  const { Poller, Events } = createRequire(reactorEntry)(backendInfo().package);
  const poller = new Poller();
  const events = new Events(4);
  const [r, w] = pipe();
  try {
    poller.add(r, 5, { readable: true }, 'level');
    assert(poller.wait(events, 0) === 0, 'ready before any write');
    write(w, new Uint8Array([1]));
    assert(poller.wait(events, 10_000) === 1 && events.at(0).key === 5 && events.at(0).readable, 'no readable event');
    poller.delete(r);
    expectCode(() => poller.delete(r), 'ENOENT');
  } finally {
    poller.close();
    close(r);
    close(w);
  }
});

check('liveness: a pending wait on a ref\'d handle keeps the process alive', async () => {
  const res = await runChild('ref', { stdinByteAfterMs: 500 });
  assert(!res.exitedEarly, `exited before the wait was satisfied: ${res.out} ${res.err}`);
  assert(res.code === 0 && res.out === 'woke', `exit ${res.code}, out "${res.out}", err "${res.err}"`);
});

check('liveness: the same wait unref\'d does not', async () => {
  const res = await runChild('unref');
  assert(res.code === 0 && res.out === 'exited', `exit ${res.code}, out "${res.out}", err "${res.err}"`);
});

check('liveness: an idle reactor with a handle keeps nothing alive', async () => {
  const res = await runChild('idle');
  assert(res.code === 0 && res.out === 'exited', `exit ${res.code}, out "${res.out}", err "${res.err}"`);
});

check('external driver: a foreign poller on reactorFd() + dispatch()', async () => {
  const res = await runChild('external');
  if (res.out.startsWith('skip')) throw new Skip(res.out.slice(5));
  assert(res.code === 0 && res.out.startsWith('ok'), `exit ${res.code}, out "${res.out}", err "${res.err}"`);
  return res.out.slice(3);
});

check('thread driver, asked for explicitly', async () => {
  const res = await runChild('thread');
  assert(res.code === 0 && res.out === 'ok driver thread', `exit ${res.code}, out "${res.out}", err "${res.err}"`);
});

check('nested driver: works with libuv (Node), a coded ERR_ASYNC_IO_DRIVER (no crash) without', async () => {
  if (!backendInfo().fd) throw new Skip('the poll backend has no fd to nest');
  const res = await runChild('nested');
  const expected = libuv ? 'ok driver nested' : 'error ERR_ASYNC_IO_DRIVER';
  assert(res.code === 0 && res.out.startsWith(expected), `exit ${res.code}, out "${res.out}", err "${res.err}"`);
  return res.out.split(' ').slice(0, 3).join(' ');
});

const WORKER_WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
const { Async, write } = require(workerData.reactor);
(async () => {
  const writer = new Async(workerData.fd, { ownsFd: true });
  for (let i = 0; i < workerData.count; i++) await writer.write(new Uint8Array([i & 0xff]));
  writer.close();
  parentPort.postMessage('done');
})();
`;

check('Workers: a Worker with its own reactor writes, the main thread reads', async () => {
  const [r, w] = pipe();
  const reader = track(new Async(r, { ownsFd: true }));
  const count = 2000;
  const worker = new Worker(WORKER_WRITER, { eval: true, workerData: { reactor: reactorEntry, fd: w, count } });
  const done = workerDone(worker);
  const buf = new Uint8Array(4096);
  let total = 0;
  for (;;) {
    const n = await reader.read(buf);
    if (n === 0) break;
    for (let i = 0; i < n; i++) assert(buf[i] === ((total + i) & 0xff), `byte ${total + i} out of order`);
    total += n;
  }
  await done;
  assert(total === count, `read ${total} of ${count} bytes`);
});

const WORKER_WAITER = `
const { workerData, parentPort } = require('node:worker_threads');
const { Async } = require(workerData.reactor);
// Both ends owned by the reactor from birth: closed when the Worker ends.
const [handle] = Async.pipe();
handle.readable().then(() => parentPort.postMessage('woke (unexpected)'));
// Stay busy on the event loop (not in a microtask loop, which Deno cannot
// terminate), with the wait pending.
setInterval(() => {}, 5);
parentPort.postMessage('waiting');
`;

check(`Workers: terminated with a wait pending, ${WORKERS} times: no crash, no fd left behind`, async () => {
  const linux = (() => {
    try {
      readdirSync('/proc/self/fd');
      return true;
    } catch {
      return false;
    }
  })();
  const before = linux ? fdKinds() : null;
  for (let i = 0; i < WORKERS; i++) {
    const worker = new Worker(WORKER_WAITER, { eval: true, workerData: { reactor: reactorEntry } });
    const exited = workerDone(worker);
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    await exited;
  }
  // The main thread's reactor is unharmed.
  const [r, w] = pipe();
  const reader = new Async(r, { ownsFd: true });
  setTimeout(() => write(w, new Uint8Array([1])), 5);
  await reader.readable();
  reader.close();
  close(w);
  if (!linux) return 'fd count not checked (no /proc/self/fd)';
  await tick(100);
  const after = fdKinds();
  const ours = /pipe|eventpoll|eventfd/;
  const grown = Object.keys(after).filter((k) => ours.test(k) && (after[k] ?? 0) > (before[k] ?? 0));
  assert(grown.length === 0, `left behind: ${grown.map((k) => `${k} ${before[k] ?? 0} -> ${after[k]}`).join(', ')}`);
});

for (const [mode, how] of [
  ['worker-exit', 'default driver'],
  ['worker-exit-thread', 'thread driver'],
]) {
  check(`Workers: process.exit() in a Worker with a live hand-off (nodejs/node#65100), ${WORKERS} Workers, ${how}`, async () => {
    const res = await runChild(mode);
    assert(res.code === 0 && res.signal === null && /^ok /.test(res.out), `exit ${res.code ?? res.signal}: ${res.out} ${res.err.split('\n').slice(-4).join(' | ')}`);
    return res.out.replace(/^ok /, '');
  });
}

// ---- runner ------------------------------------------------------------------

let passed = 0;
let failed = 0;
let skipped = 0;
console.log(`# ${runtime} ${runtime === 'node' ? process.version : runtime === 'bun' ? process.versions.bun : Deno.version.deno}${libuv || runtime !== 'node' ? '' : ' (ASYNC_IO_NO_LIBUV=1)'}, backend ${backendInfo().name}`);
for (const { name, fn } of checks) {
  let timer;
  try {
    const note = await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no result after ${HANG / 1000} s (hung)`)), HANG))),
    ]);
    passed++;
    console.log(`ok ${name}${note ? ` (${note})` : ''}`);
  } catch (error) {
    if (error instanceof Skip) {
      skipped++;
      console.log(`skip ${name} -- ${error.message}`);
    } else {
      failed++;
      console.log(`not ok ${name} -- ${String(error?.message ?? error).split('\n')[0]}`);
    }
  } finally {
    clearTimeout(timer);
    for (const handle of opened) handle.close();
    opened = [];
  }
}
console.log(`# ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed === 0 ? 0 : 1;
