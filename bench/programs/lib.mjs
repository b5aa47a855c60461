// Shared by the JS contenders: arguments, the timed loops, the one JSON line.
import { Worker } from 'node:worker_threads';

/** `node x.mjs w1 P=64 ms=300` -> { workload: 'w1', P: 64, ms: 300 } */
export function parseArgs(argv = process.argv.slice(2)) {
  const out = { workload: argv[0] ?? 'w1' };
  for (const kv of argv.slice(1)) {
    const [k, v] = kv.split('=');
    out[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  out.ms ??= 300;
  out.warm ??= 60;
  return out;
}

export function emit(obj) {
  process.stdout.write(JSON.stringify({ ok: true, ...obj, maxrss_kb: process.resourceUsage().maxRSS }) + '\n');
}

/** A contender that cannot run here says why, still as one JSON line. */
export function skip(contender, workload, reason) {
  process.stdout.write(JSON.stringify({ ok: true, contender, workload, skipped: reason }) + '\n');
  process.exit(0);
}

/** Runs `main`; any failure becomes one {"ok":false} line and exit code 1. */
export function run(main) {
  Promise.resolve()
    .then(main)
    .then(
      () => process.exit(0),
      (error) => {
        process.stdout.write(JSON.stringify({ ok: false, error: String(error?.stack ?? error) }) + '\n');
        process.exit(1);
      },
    );
}

const now = () => process.hrtime.bigint();

/**
 * The clock is read every `every` rounds; `every` doubles (up to 256) while
 * the rounds between two reads take under 50 us (as in the C programs).
 * Returns a function that gives the time when due, else 0n.
 */
function clockCheck() {
  let every = 1;
  let left = 1;
  let last = now();
  return () => {
    if (--left > 0) return 0n;
    const t = now();
    if (t - last < 50_000n && every < 256) every *= 2;
    last = t;
    left = every;
    return t;
  };
}

/** Calls `round()` (perRound events each) for `warm` ms, then measures `ms`. */
export function timedSync(round, perRound, ms, warm) {
  const due = clockCheck();
  let deadline = now() + BigInt(Math.round(warm * 1e6));
  let measuring = false;
  let t0 = 0n;
  let events = 0;
  for (;;) {
    round();
    if (measuring) events += perRound;
    const t = due();
    if (t !== 0n && t >= deadline) {
      if (measuring) return { events, ns: Number(t - t0) };
      measuring = true;
      t0 = t;
      deadline = t + BigInt(Math.round(ms * 1e6));
    }
  }
}

/** As timedSync for a `round` that returns a promise. */
export async function timedAsync(round, perRound, ms, warm) {
  const due = clockCheck();
  let deadline = now() + BigInt(Math.round(warm * 1e6));
  let measuring = false;
  let t0 = 0n;
  let events = 0;
  for (;;) {
    await round();
    if (measuring) events += perRound;
    const t = due();
    if (t !== 0n && t >= deadline) {
      if (measuring) return { events, ns: Number(t - t0) };
      measuring = true;
      t0 = t;
      deadline = t + BigInt(Math.round(ms * 1e6));
    }
  }
}

export function rate(contender, workload, params, { events, ns }, extra = {}) {
  emit({ contender, workload, params, events, ns, ns_per_event: ns / events, events_per_s: (events * 1e9) / ns, ...extra });
}

export function latency(contender, samples, extra = {}) {
  const s = Float64Array.from(samples).sort();
  emit({
    contender,
    workload: 'w2',
    params: { samples: s.length },
    samples: s.length,
    p50_ns: s[s.length >> 1],
    p99_ns: s[Math.floor((s.length * 99) / 100)],
    min_ns: s[0],
    ...extra,
  });
}

/**
 * W2's waker: a Worker that, each time the main thread arms it, waits 200 us
 * (so the main thread is really blocked), stamps CLOCK_MONOTONIC (hrtime is
 * the same clock in every thread) and wakes the main thread its way.
 *   kind 'notify' {pkg, shared}: Poller.fromShared(shared).notify()
 *   kind 'write'  {pkg, fd}:     write one byte into fd
 *   kind 'atomics':              Atomics.notify on the shared word
 */
export class Waker {
  constructor(kind, data = {}) {
    this.sab = new SharedArrayBuffer(32);
    this.flags = new Int32Array(this.sab, 0, 4); // [armed, stop, atomicsWord]
    this.t0 = new BigInt64Array(this.sab, 16, 1);
    this.worker = new Worker(new URL('./waker.cjs', import.meta.url), { workerData: { kind, sab: this.sab, ...data } });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
    });
  }
  /** Tells the waker the main thread is about to block. */
  arm() {
    Atomics.store(this.flags, 0, 1);
    Atomics.notify(this.flags, 0);
  }
  /** ns since the waker's stamp */
  elapsed() {
    return Number(process.hrtime.bigint() - this.t0[0]);
  }
  async stop() {
    Atomics.store(this.flags, 1, 1);
    this.arm();
    await new Promise((r) => this.worker.once('exit', r));
  }
}

/** Samples for W2: `once()` blocks (or awaits) until woken; warm-up is 10%. */
export async function sampleWakes(waker, samples, once) {
  await waker.ready;
  const lat = [];
  for (let i = -Math.floor(samples / 10); i < samples; i++) {
    waker.arm();
    await once();
    const dt = waker.elapsed();
    if (i >= 0) lat.push(dt);
  }
  await waker.stop();
  return lat;
}

/** Loads a backend package; null if its addon is not built here. */
export async function loadBackend(name) {
  const pkg = name === 'poll' ? '@async-io/poll-fallback' : '@async-io/linux-epoll';
  try {
    const mod = await import(pkg);
    new mod.Poller().close();
    return { mod, pkg };
  } catch (error) {
    return { mod: null, pkg, error };
  }
}
