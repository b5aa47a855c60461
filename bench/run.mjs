#!/usr/bin/env node
// The benchmark runner: builds the C contenders, runs every program as a
// child process (each prints ONE JSON line), interleaves repetitions so that
// the contenders alternate within each one, and writes results.json,
// RESULTS.md and chart.svg. Ratios only: every number that matters is a cost
// divided by C epoll's cost in the same repetition.
//
//   node run.mjs             quick (~1 minute): 3 repetitions, short runs
//   node run.mjs --full      full (< 10 minutes): 5 repetitions, 10 M-event RSS check
//   node run.mjs --smoke     every program once, tiny sizes, no outputs; exit 1 on any failure
//   node run.mjs --build-only  compile the C programs and stop
//   node run.mjs --report    re-render RESULTS.md and chart.svg from results.json
// Also: BENCH_FULL=1, --reps=N, --only=w1,w2,w3,w4,w5,rss,serial, --contenders=a,b
// Last, serial.mjs: the serial-port benchmark (SERIAL.md), unless --only leaves it out.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = path.join(here, '.build');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

const MODES = {
  smoke: { reps: 1, ms: 10, warm: 5, P: [1, 8], N: [64], samples: 50, rssEvents: 4096, bytes: 4 << 20, timeout: 15_000 },
  quick: { reps: 3, ms: 150, warm: 40, P: [1, 64, 1024], N: [1000, 10000, 19000], samples: 1000, rssEvents: 1_000_000, bytes: 64 << 20, timeout: 60_000 },
  full: { reps: 5, ms: 700, warm: 150, P: [1, 64, 1024], N: [1000, 10000, 19000], samples: 5000, rssEvents: 10_000_000, bytes: 256 << 20, timeout: 180_000 },
};
const modeName = flag('smoke') ? 'smoke' : flag('full') || process.env.BENCH_FULL === '1' ? 'full' : 'quick';
const mode = { ...MODES[modeName] };
if (option('reps')) mode.reps = Number(option('reps'));
const only = option('only')?.split(',');

// ---- contenders ---------------------------------------------------------------

const node = (file, env = {}) => ({ cmd: process.execPath, pre: [path.join(here, 'programs', file)], env });
const c = (name) => ({ cmd: path.join(buildDir, name), pre: [], env: {} });

const W1 = ['w1'];
const W4 = ['w4'];
/** W1 and W5 (always ready): where the cooperative budget (reactor/lib/coop.ts) is measured. */
const COOP = ['w1', 'w5'];
/** The facade with its cooperative budget off (a bench/test-only knob of coop.ts). */
const NO_BUDGET = { ASYNC_IO_COOP_BUDGET: '0' };
/**
 * Every contender, in table order. `workloads`: the ones it runs (default
 * W1–W3). `base`: the baseline of a workload's ratios (C epoll for W1–W3,
 * the C read loop for W4).
 */
const BASE = { w1: 'c-epoll', w2: 'c-epoll', w3: 'c-epoll', w4: 'c-bulk', w5: 'c-epoll' };
const CONTENDERS = [
  { id: 'c-epoll', label: 'C epoll (baseline)', ...c('epoll'), workloads: ['w1', 'w2', 'w3', 'w5'] },
  { id: 'c-poll', label: 'C poll()', ...c('poll') },
  { id: 'poller-epoll', label: 'our Poller, epoll (sync wait)', ...node('poller.mjs'), args: ['backend=epoll'] },
  { id: 'reactor-epoll', label: 'our Reactor/Async, epoll (readWith)', ...node('reactor.mjs', { ASYNC_IO_BACKEND: 'epoll' }), workloads: ['w1', 'w2', 'w3', 'w5'] },
  { id: 'reactor-epoll-nobudget', label: 'our Reactor/Async, epoll (readWith), budget off', ...node('reactor.mjs', { ASYNC_IO_BACKEND: 'epoll', ...NO_BUDGET }), workloads: COOP },
  { id: 'reactor-epoll-read', label: 'our Reactor/Async, epoll (handle.read)', ...node('reactor.mjs', { ASYNC_IO_BACKEND: 'epoll' }), args: ['api=read'], workloads: ['w1', 'w2', 'w3', 'w5'] },
  { id: 'reactor-epoll-read-nobudget', label: 'our Reactor/Async, epoll (handle.read), budget off', ...node('reactor.mjs', { ASYNC_IO_BACKEND: 'epoll', ...NO_BUDGET }), args: ['api=read'], workloads: COOP },
  { id: 'poller-poll', label: 'our Poller, poll backend', ...node('poller.mjs'), args: ['backend=poll'] },
  { id: 'reactor-poll', label: 'our Reactor/Async, ASYNC_IO_BACKEND=poll', ...node('reactor.mjs', { ASYNC_IO_BACKEND: 'poll' }) },
  { id: 'reactor-epoll-nested-readable', label: 'our facade, epoll, nested driver (readable() loop)', ...node('reactor.mjs', { ASYNC_IO_BACKEND: 'epoll' }), args: ['api=readable', 'driver=nested'], workloads: COOP },
  { id: 'reactor-epoll-nested-readable-nobudget', label: 'our facade, epoll, nested driver (readable() loop), budget off', ...node('reactor.mjs', { ASYNC_IO_BACKEND: 'epoll', ...NO_BUDGET }), args: ['api=readable', 'driver=nested'], workloads: COOP },
  { id: 'reactor-epoll-thread-readable', label: 'our facade, epoll, thread driver (readable() loop)', ...node('reactor.mjs', { ASYNC_IO_BACKEND: 'epoll' }), args: ['api=readable', 'driver=thread'], workloads: W1 },
  { id: 'reactor-poll-readable', label: 'our facade, ASYNC_IO_BACKEND=poll (readable() loop)', ...node('reactor.mjs', { ASYNC_IO_BACKEND: 'poll' }), args: ['api=readable'], workloads: W1 },
  { id: 'watcher-epoll', label: 'our watch() callback watcher, epoll', ...node('watcher.mjs', { ASYNC_IO_BACKEND: 'epoll' }), workloads: W1 },
  // Request/response style (reqres.mjs): fs.readSync in the handler, and the handler that completes a round writes the next one.
  { id: 'watcher-epoll-reqres', label: 'watch() callback, epoll, request/response (fs.readSync; next round written from the callback)', ...node('reqres.mjs', { ASYNC_IO_BACKEND: 'epoll' }), args: ['kind=watch'], workloads: W1 },
  { id: 'reactor-epoll-readable-reqres', label: 'readable() loop, epoll, request/response (fs.readSync; next round written from the loop)', ...node('reqres.mjs', { ASYNC_IO_BACKEND: 'epoll' }), args: ['kind=readable'], workloads: W1 },
  { id: 'node-net-reqres', label: "net.Socket 'data', request/response (next round written from the handler)", ...node('reqres.mjs'), args: ['kind=net'], workloads: W1 },
  { id: 'npm-epoll', label: 'npm epoll 4.x', ...node('npm-epoll.mjs') },
  { id: 'node-net', label: 'Node core net.Socket on pipes', ...node('node-net.mjs') },
  { id: 'floor', label: 'no-poller floor (sync write+read; W2: Atomics)', ...node('floor.mjs') },
  { id: 'c-bulk', label: 'C blocking read() loop (W4 baseline)', ...c('bulk'), args: [], workloads: W4 },
  { id: 'bulk-read', label: 'our Async#read loop', ...node('bulk.mjs'), args: ['kind=read'], workloads: W4 },
  { id: 'bulk-stream', label: 'our createReadStream(fd)', ...node('bulk.mjs'), args: ['kind=stream'], workloads: W4 },
  { id: 'bulk-net', label: 'Node core net.Socket({ fd }) on the pipe', ...node('bulk.mjs'), args: ['kind=net'], workloads: W4 },
  { id: 'bulk-fs', label: 'node:fs createReadStream on a FIFO (thread pool)', ...node('bulk.mjs'), args: ['kind=fs'], workloads: W4 },
];
for (const k of CONTENDERS) k.workloads ??= ['w1', 'w2', 'w3'];
/** The contenders of one workload. */
const runsIn = (workload) => contenders.filter((k) => k.workloads.includes(workload));
const chosen = option('contenders')?.split(',');
const contenders = CONTENDERS.filter((k) => !chosen || Object.values(BASE).includes(k.id) || chosen.includes(k.id));

/** The cases: one workload at one size, each run by every contender. */
function cases() {
  const out = [];
  for (const P of mode.P) out.push({ workload: 'w1', key: `w1 P=${P}`, args: [`P=${P}`, `ms=${mode.ms}`, `warm=${mode.warm}`] });
  out.push({ workload: 'w2', key: 'w2', args: [`samples=${mode.samples}`] });
  for (const N of mode.N) out.push({ workload: 'w3', key: `w3 N=${N}`, args: [`N=${N}`, `ms=${mode.ms}`, `warm=${mode.warm}`] });
  out.push({ workload: 'w4', key: `w4 ${mode.bytes >> 20}MiB`, args: [`bytes=${mode.bytes}`] });
  out.push({ workload: 'w5', key: 'w5 always-ready', args: [`ms=${mode.ms}`, `warm=${mode.warm}`] });
  return out.filter((k) => !only || only.includes(k.workload));
}

// ---- building the C programs ---------------------------------------------------

function buildC() {
  mkdirSync(buildDir, { recursive: true });
  const srcDir = path.join(here, 'c');
  const header = statSync(path.join(srcDir, 'common.h')).mtimeMs;
  for (const name of ['epoll', 'poll', 'bulk']) {
    const src = path.join(srcDir, `${name}.c`);
    const out = path.join(buildDir, name);
    if (existsSync(out) && statSync(out).mtimeMs > Math.max(header, statSync(src).mtimeMs)) continue;
    const cc = process.env.CC || 'cc';
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-pthread', '-o', out, src], { stdio: 'inherit' });
    console.log(`built .build/${name} (${cc} -O2)`);
  }
}

// ---- running -----------------------------------------------------------------

/** Runs one program; returns its parsed JSON line (or an {ok:false} record). */
function runOne(k, workload, args) {
  const full = [...k.pre, workload, ...(k.args ?? []), ...args];
  const cmd = workload === 'rss' && k.cmd === process.execPath ? [process.execPath, '--expose-gc', ...full] : [k.cmd, ...full];
  const env = { ...process.env, ...k.env };
  if (!k.env.ASYNC_IO_BACKEND) delete env.ASYNC_IO_BACKEND;
  const r = spawnSync(cmd[0], cmd.slice(1), { env, encoding: 'utf8', timeout: mode.timeout, maxBuffer: 1 << 24 });
  const lines = (r.stdout ?? '').trim().split('\n').filter(Boolean);
  const base = { contender: k.id, workload, command: cmd.map((a) => path.relative(here, a) || a).join(' ') };
  let parsed = null;
  let problem = null;
  if (lines.length !== 1) problem = `expected one JSON line, got ${lines.length}`;
  else {
    try {
      parsed = JSON.parse(lines[0]);
    } catch {
      problem = `invalid JSON: ${lines[0].slice(0, 200)}`;
    }
  }
  if (r.error) problem = `${r.error.code ?? r.error.message}${r.signal ? ` (${r.signal})` : ''}`;
  else if (r.status !== 0) problem ??= `exit ${r.status ?? r.signal}`;
  if (parsed && parsed.ok === false) problem = parsed.error;
  if (!problem && parsed && !parsed.skipped) {
    const need = workload === 'w2' ? ['p50_ns', 'p99_ns'] : workload === 'w4' ? ['ns_per_event', 'events', 'bytes_per_s', 'cpu_ns_per_gib'] : ['ns_per_event', 'events'];
    for (const f of need) if (!(typeof parsed[f] === 'number' && parsed[f] > 0)) problem = `missing or bad field ${f}`;
  }
  if (problem) return { ...base, ok: false, error: problem, stderr: (r.stderr ?? '').slice(-2000) };
  return { ...base, ...parsed, contender: k.id };
}

function rotate(list, by) {
  const n = list.length;
  return list.map((_, i) => list[(i + by) % n]);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : null);

// ---- machine -------------------------------------------------------------------

function machine() {
  let cpu = 'unknown';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {}
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {}
  let epollVersion = null;
  try {
    epollVersion = JSON.parse(readFileSync(path.join(here, 'node_modules/epoll/package.json'), 'utf8')).version;
  } catch {}
  return {
    nproc,
    cpu,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    npm_epoll: epollVersion,
    fd_limit: (() => {
      try {
        return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
      } catch {
        return null;
      }
    })(),
    loadavg_start: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

// ---- summary, targets ------------------------------------------------------------

function summarize(runs, caseList) {
  const out = [];
  for (const k of caseList) {
    const row = { key: k.key, workload: k.workload, contenders: {} };
    const base = runs.filter((r) => r.case === k.key && r.contender === BASE[k.workload] && r.ok && !r.skipped);
    const metric = k.workload === 'w2' ? 'p50_ns' : 'ns_per_event';
    for (const cont of runsIn(k.workload)) {
      const mine = runs.filter((r) => r.case === k.key && r.contender === cont.id);
      const good = mine.filter((r) => r.ok && !r.skipped);
      const s = { label: cont.label };
      if (mine.some((r) => r.skipped)) s.skipped = mine.find((r) => r.skipped).skipped;
      if (mine.some((r) => !r.ok)) s.failed = mine.find((r) => !r.ok).error;
      if (good.length) {
        if (k.workload === 'w2') {
          s.p50_ns = spread(good.map((r) => r.p50_ns));
          s.p99_ns = spread(good.map((r) => r.p99_ns));
        } else {
          s.ns_per_event = spread(good.map((r) => r.ns_per_event));
          s.events_per_s = spread(good.map((r) => r.events_per_s));
          if (k.workload === 'w4') {
            s.bytes_per_s = spread(good.map((r) => r.bytes_per_s));
            s.cpu_ns_per_gib = spread(good.map((r) => r.cpu_ns_per_gib));
          }
        }
        // Ratio per repetition (same rep, same machine state), then median.
        const ratios = [];
        for (const r of good) {
          const b = base.find((x) => x.rep === r.rep);
          if (b) ratios.push(r[metric] / b[metric]);
        }
        s.ratio = spread(ratios);
      }
      row.contenders[cont.id] = s;
    }
    out.push(row);
  }
  return out;
}

/** W3: cost at the largest N ÷ cost at the smallest, per repetition. */
function idleScale(runs, caseList) {
  const w3 = caseList.filter((k) => k.workload === 'w3');
  if (w3.length < 2) return {};
  const lo = w3[0].key;
  const hi = w3.at(-1).key;
  const out = { from: lo, to: hi, contenders: {} };
  for (const cont of contenders) {
    const ratios = [];
    for (let rep = 0; rep < mode.reps; rep++) {
      const a = runs.find((r) => r.case === lo && r.contender === cont.id && r.rep === rep && r.ok && !r.skipped);
      const b = runs.find((r) => r.case === hi && r.contender === cont.id && r.rep === rep && r.ok && !r.skipped);
      if (a && b) ratios.push(b.ns_per_event / a.ns_per_event);
    }
    if (ratios.length) out.contenders[cont.id] = spread(ratios);
  }
  return out;
}

/** a's `field` ÷ b's, per repetition (same rep: same machine state), then the spread. */
function pairRatio(runs, key, a, b, field) {
  const ratios = [];
  for (const ra of runs.filter((r) => r.case === key && r.contender === a && r.ok && !r.skipped)) {
    const rb = runs.find((r) => r.case === key && r.contender === b && r.rep === ra.rep && r.ok && !r.skipped);
    if (rb) ratios.push(ra[field] / rb[field]);
  }
  return spread(ratios);
}

/** The facade contenders that have a budget-off twin (`<id>-nobudget`), and what they call. */
const COOP_API = { 'reactor-epoll': 'readWith', 'reactor-epoll-read': 'handle.read', 'reactor-epoll-nested-readable': 'readable() loop' };

function targets(summary, scale, rss, runs = []) {
  const t = [];
  const ratioOf = (key, id) => summary.find((s) => s.key === key)?.contenders[id]?.ratio ?? null;
  /** `dir` '<=': lower is better (a cost); '>=': higher is better (a throughput). */
  const add = (name, measured, limit, note = '', dir = '<=') => {
    const value = measured?.median ?? null;
    t.push({
      target: name,
      limit,
      dir,
      measured: value,
      range: measured ? [measured.min, measured.max] : null,
      status: value === null ? 'not measured' : (dir === '<=' ? value <= limit : value >= limit) ? 'met' : 'missed',
      note,
    });
  };
  const skipNote = (key, id) => {
    const s = summary.find((x) => x.key === key)?.contenders[id];
    return s?.skipped ? `skipped: ${s.skipped}` : s?.failed ? `failed: ${String(s.failed).split('\n')[0]}` : '';
  };
  for (const P of [64, 1024]) add(`W1 P=${P}: Reactor/Async (readWith) ÷ C epoll`, ratioOf(`w1 P=${P}`, 'reactor-epoll'), 2.3);
  for (const P of [64, 1024]) add(`W1 P=${P}: Reactor/Async (handle.read) ÷ C epoll`, ratioOf(`w1 P=${P}`, 'reactor-epoll-read'), 2.3);
  for (const P of [1, 64, 1024]) add(`W1 P=${P}: Poller (sync wait) ÷ C epoll`, ratioOf(`w1 P=${P}`, 'poller-epoll'), 1.8);
  if (scale.from) {
    for (const id of ['poller-epoll', 'reactor-epoll'])
      add(`W3 ${id}: cost at ${scale.to.split(' ')[1]} idle ÷ at ${scale.from.split(' ')[1]}`, scale.contenders[id] ?? null, 1.1,
        scale.contenders['c-epoll'] ? `C epoll itself: ${scale.contenders['c-epoll'].median.toFixed(3)}` : '');
  }
  for (const P of [64, 1024])
    add(`W1 P=${P}: thread driver ÷ nested driver (readable() loop, epoll)`, pairRatio(runs, `w1 P=${P}`, 'reactor-epoll-thread-readable', 'reactor-epoll-nested-readable', 'ns_per_event'), 1.15,
      'per repetition, the two facade runs of the same repetition');
  for (const [P, limit] of [[1, 10], [64, 3], [1024, 4]])
    add(`W1 P=${P}: facade on poll (readable() loop) ÷ C epoll`, ratioOf(`w1 P=${P}`, 'reactor-poll-readable'), limit, skipNote(`w1 P=${P}`, 'reactor-poll-readable'));
  for (const P of [64, 1024]) add(`W1 P=${P}: watch() callback watcher ÷ C epoll`, ratioOf(`w1 P=${P}`, 'watcher-epoll'), 1.6, skipNote(`w1 P=${P}`, 'watcher-epoll'));
  for (const [key, id] of [['w1 P=64', 'reactor-epoll'], ['w1 P=1024', 'reactor-epoll'], ['w1 P=1024', 'reactor-epoll-nested-readable'], ['w5 always-ready', 'reactor-epoll'], ['w5 always-ready', 'reactor-epoll-read']]) {
    const m = pairRatio(runs, key, id, `${id}-nobudget`, 'ns_per_event');
    if (m)
      add(`${key.replace('w1', 'W1').replace('w5', 'W5')}: cooperative budget as shipped ÷ off (${COOP_API[id]})`, m, 1.05,
        'per repetition, the two runs of the same repetition; informational: the budget buys fairness (see analysis)');
  }
  const w4 = summary.find((s) => s.workload === 'w4')?.key;
  if (w4) {
    add(`W4 ${w4.split(' ')[1]}: our stream ÷ net.Socket, bytes/s`, pairRatio(runs, w4, 'bulk-stream', 'bulk-net', 'bytes_per_s'), 1.0, skipNote(w4, 'bulk-stream'), '>=');
    add(`W4 ${w4.split(' ')[1]}: our stream ÷ fs.createReadStream (FIFO), bytes/s`, pairRatio(runs, w4, 'bulk-stream', 'bulk-fs', 'bytes_per_s'), 2.0, skipNote(w4, 'bulk-stream'), '>=');
    add(`W4 ${w4.split(' ')[1]}: Async#read loop ÷ C read loop, bytes/s`, pairRatio(runs, w4, 'bulk-read', 'c-bulk', 'bytes_per_s'), 0.8, '', '>=');
  }
  add('W2 p50: Poller notify() ÷ C epoll (eventfd)', ratioOf('w2', 'poller-epoll'), 1.2);
  add('W2 p50: Reactor/Async (pipe byte from a Worker) ÷ C epoll', ratioOf('w2', 'reactor-epoll'), 1.2, 'informational: the facade has no notify(); its wake is a pipe byte');
  if (rss) {
    const g = rss.ok && !rss.skipped ? { median: rss.rss_growth, min: rss.rss_growth, max: rss.rss_growth } : null;
    add(`RSS growth over ${(rss.events ?? mode.rssEvents).toLocaleString('en')} reactor events`, g, 0.05,
      modeName === 'full' || rss.events >= 10_000_000 ? '' : `${modeName} mode: ${mode.rssEvents.toLocaleString('en')} events; the 10 M target is checked by --full`);
  }
  return t;
}

// ---- outputs ------------------------------------------------------------------------

const fmtNs = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const fmtRate = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k/s` : `${x.toFixed(0)}/s`);
const fmtX = (r) => (r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`);
const rangeOf = (s, f) => `${f(s.min)}–${f(s.max)}`;

function markdown(result) {
  const { meta, summary, scale, targets: tg, rss } = result;
  const L = [];
  L.push('# Benchmark results', '');
  L.push(`Generated by \`node bench/run.mjs${meta.mode === 'quick' ? '' : ` --${meta.mode}`}\` on ${meta.date}. Do not edit by hand: the`);
  L.push('analysis at the end comes from `bench/analysis.md`.', '');
  L.push(`- mode: **${meta.mode}** — ${meta.reps} repetitions; each W1/W3/W5 run measures ${meta.ms} ms after ${meta.warm} ms of warm-up; W2 takes ${meta.samples} samples per run`);
  L.push(`- machine: ${meta.machine.nproc} CPUs (\`nproc\`), ${meta.machine.cpu}; ${meta.machine.kernel}; Node ${meta.machine.node}; fd limit ${meta.machine.fd_limit}; load average ${meta.machine.loadavg_start.join(' ')} at start`);
  L.push(`- **the machine is shared** (other jobs run on its ${meta.machine.nproc} CPUs during the run; load average ${meta.machine.loadavg_start.join(' ')} at start${meta.machine.loadavg_end ? `, ${meta.machine.loadavg_end.join(' ')} at the end` : ''}): absolute figures are noisy; read the ratios, which are medians of interleaved repetitions`);
  L.push(`- contenders alternate within each repetition (rotated order); every ratio is computed per repetition against C epoll in the same repetition, then the median is taken; ranges are min–max over repetitions`);
  L.push(`- npm \`epoll\` ${meta.machine.npm_epoll ?? '(not installed)'}; JS contenders all do their I/O with the same native \`read\`/\`write\` helpers, so only the readiness path differs`, '');

  L.push('## Targets', '');
  L.push('| target | limit | measured (median) | range | status | note |', '| --- | ---: | ---: | --- | --- | --- |');
  for (const t of tg) {
    const isRss = t.target.startsWith('RSS');
    const f = isRss ? (x) => `${(x * 100).toFixed(1)}%` : (x) => x.toFixed(2);
    L.push(`| ${t.target} | ${isRss ? '≤ 5%' : `${t.dir === '>=' ? '≥' : '≤'} ${t.limit}`} | ${t.measured === null ? '—' : f(t.measured)} | ${t.range ? `${f(t.range[0])}–${f(t.range[1])}` : ''} | ${t.status === 'met' ? '**met**' : t.status === 'missed' ? '**MISSED**' : t.status} | ${t.note} |`);
  }
  L.push('');

  const rateTable = (title, workload, desc) => {
    const rows = summary.filter((s) => s.workload === workload);
    if (!rows.length) return;
    L.push(`## ${title}`, '', desc, '');
    L.push(`| contender | ${rows.map((r) => r.key.split(' ')[1]).join(' | ')} |`);
    L.push(`| --- | ${rows.map(() => '---:').join(' | ')} |`);
    // (a contender absent from every row: added after the run that --report renders)
    for (const cont of runsIn(workload).filter((k) => rows.some((r) => r.contenders[k.id]))) {
      const cells = rows.map((r) => {
        const s = r.contenders[cont.id];
        if (s.skipped) return `skipped: ${s.skipped.split('(')[0].trim()}`;
        if (!s.ns_per_event) return `failed: ${String(s.failed ?? '?').split('\n')[0].slice(0, 80)}`;
        return `${fmtNs(s.ns_per_event.median)}/event (${rangeOf(s.ns_per_event, fmtNs)}), ${fmtRate(s.events_per_s.median)}, **${fmtX(s.ratio.median)}**`;
      });
      L.push(`| ${cont.label} | ${cells.join(' | ')} |`);
    }
    L.push('');
  };
  rateTable('W1 ping-pong', 'w1', 'P pipe pairs; each round writes one byte into every pipe, waits for readiness and reads every byte. Cell: median ns per event (min–max), events/s, **cost ÷ C epoll**.');
  rateTable('W5 always-ready tight loop', 'w5', 'One pipe that holds 4 KiB at every await; each step awaits a 64-byte read (`readWith(op)`, `handle.read(buf)`, or `readable()` then `read`) and writes the 64 bytes back, so every await can complete at once: the loop the cooperative budget (128 completions per loop turn, then a `setImmediate`) is for. C epoll: the same reads and writes with edge-triggered readiness, `epoll_wait` only after a would-block (never). Cell as in W1, per step.');
  const coopRows = summary.filter((s) => s.workload === 'w1' || s.workload === 'w5');
  if (coopRows.some((r) => Object.keys(COOP_API).some((id) => r.contenders[`${id}-nobudget`]?.ns_per_event))) {
    L.push('## Cost of the cooperative budget', '');
    L.push('Each facade contender with its budget as shipped ÷ the same program with `ASYNC_IO_COOP_BUDGET=0` (no budget), per repetition (the two runs of one repetition), median (min–max); for W5 also the CPU time per step (\`process.cpuUsage()\`, warm-up included), which other jobs\' preemption moves less than wall time. Above 1: the budget costs time.', '');
    L.push(`| facade call | ${coopRows.map((r) => r.key.replace('w1 ', 'W1 ').replace('w5 ', 'W5 ')).join(' | ')} |`, `| --- | ${coopRows.map(() => '---:').join(' | ')} |`);
    for (const [id, api] of Object.entries(COOP_API)) {
      const cells = coopRows.map((r) => {
        const x = pairRatio(result.runs, r.key, id, `${id}-nobudget`, 'ns_per_event');
        const cpu = r.workload === 'w5' ? pairRatio(result.runs, r.key, id, `${id}-nobudget`, 'cpu_ns_per_step') : null;
        const f = (s) => `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
        return x ? `${f(x)}${cpu ? `; CPU ${f(cpu)}` : ''}` : '—';
      });
      L.push(`| ${api} | ${cells.join(' | ')} |`);
    }
    L.push('');
  }
  rateTable('W3 idle-scale', 'w3', 'N idle registered fds (both ends of N/2 AF_UNIX socket pairs, readable interest) plus one active pipe doing W1 with P = 1. Cell as in W1.');
  if (scale.from) {
    L.push(`Idle-scale factor, cost at ${scale.to.split(' ')[1]} ÷ cost at ${scale.from.split(' ')[1]} (per repetition, median, min–max):`, '');
    L.push('| contender | factor |', '| --- | ---: |');
    for (const cont of contenders) {
      const s = scale.contenders[cont.id];
      if (s) L.push(`| ${cont.label} | ${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)}) |`);
    }
    L.push('');
  }
  const w4 = summary.find((s) => s.workload === 'w4');
  if (w4) {
    L.push(`## W4 bulk throughput (${w4.key.split(' ')[1]})`, '');
    L.push('A writer process (`.build/bulk write`) pushes the bytes through a pipe (a FIFO for `node:fs`) in 64 KiB chunks; the reader is timed from its first chunk to EOF. CPU is the reading process only (`process.cpuUsage()`, all its threads; `getrusage` for C). The C reader forks its writer and loops on a blocking `read()`.', '');
    L.push('| contender | throughput (min–max) | CPU per GiB read (min–max) | bytes/s ÷ C | CPU ÷ C |', '| --- | ---: | ---: | ---: | ---: |');
    const gib = (x) => `${(x / 2 ** 30).toFixed(2)} GiB/s`;
    const cpu = (x) => `${(x / 1e6).toFixed(0)} ms`;
    const base = w4.contenders['c-bulk'];
    for (const cont of runsIn('w4')) {
      const s = w4.contenders[cont.id];
      if (s.skipped) L.push(`| ${cont.label} | skipped: ${s.skipped} | | | |`);
      else if (!s.bytes_per_s) L.push(`| ${cont.label} | failed: ${String(s.failed ?? '?').split('\n')[0].slice(0, 80)} | | | |`);
      else L.push(`| ${cont.label} | ${gib(s.bytes_per_s.median)} (${rangeOf(s.bytes_per_s, gib)}) | ${cpu(s.cpu_ns_per_gib.median)} (${rangeOf(s.cpu_ns_per_gib, cpu)}) | ${base?.bytes_per_s ? fmtX(s.bytes_per_s.median / base.bytes_per_s.median) : '—'} | ${base?.cpu_ns_per_gib ? fmtX(s.cpu_ns_per_gib.median / base.cpu_ns_per_gib.median) : '—'} |`);
    }
    L.push('', 'The ratio columns are of medians; the targets above take the ratio per repetition, then the median.', '');
  }
  const w2 = summary.find((s) => s.workload === 'w2');
  if (w2) {
    L.push('## W2 wake-up latency', '');
    L.push('A waker thread (a Worker for JS, a pthread for C) waits 200 µs after the main thread says it is about to block, stamps CLOCK_MONOTONIC and wakes it: C and Poller through an eventfd / `notify()`; the Reactor, npm epoll and net.Socket through one byte in a pipe; the floor with `Atomics.notify`. Latency is stamp → main thread running again.', '');
    L.push('| contender | p50 (min–max) | p99 (min–max) | p50 ÷ C epoll |', '| --- | ---: | ---: | ---: |');
    for (const cont of runsIn('w2')) {
      const s = w2.contenders[cont.id];
      if (s.skipped) L.push(`| ${cont.label} | skipped: ${s.skipped.split('(')[0].trim()} | | |`);
      else if (!s.p50_ns) L.push(`| ${cont.label} | failed | | |`);
      else L.push(`| ${cont.label} | ${fmtNs(s.p50_ns.median)} (${rangeOf(s.p50_ns, fmtNs)}) | ${fmtNs(s.p99_ns.median)} (${rangeOf(s.p99_ns, fmtNs)}) | **${fmtX(s.ratio.median)}** |`);
    }
    L.push('');
  }
  if (rss) {
    L.push('## RSS over reactor events', '');
    if (!rss.ok || rss.skipped) L.push(`not measured: ${rss.error ?? rss.skipped}`, '');
    else {
      L.push(`Reactor W1 at P = ${rss.P ?? 64} for ${rss.events.toLocaleString('en')} events (${fmtNs(rss.ns_per_event)}/event), RSS sampled after a GC every tenth; the first 30% is warm-up (V8 sizes its heap to the allocation rate in that time).`, '');
      L.push(`RSS ${(rss.rss_start_kb / 1024).toFixed(1)} MiB after warm-up → ${(rss.rss_end_kb / 1024).toFixed(1)} MiB at the end: **${(rss.rss_growth * 100).toFixed(1)}%** growth` + (rss.rss_growth_from_first_tenth !== undefined ? ` (from the first tenth: ${(rss.rss_growth_from_first_tenth * 100).toFixed(1)}%, the one-off heap step visible in heapTotal below).` : '.'), '');
      L.push(`JS heap in use (after GC) ${(rss.rss_samples[0].heap_used_kb / 1024).toFixed(1)} → ${(rss.rss_samples.at(-1).heap_used_kb / 1024).toFixed(1)} MiB (${(rss.heap_used_growth * 100).toFixed(1)}%): RSS growth that the heap in use does not show is V8 sizing its heap (heapTotal), not live objects.`, '');
      L.push(`Samples (events: RSS / heapTotal / heapUsed MiB): ${rss.rss_samples.map((s) => `${(s.events / 1e6).toFixed(2)}M: ${(s.rss_kb / 1024).toFixed(1)} / ${(s.heap_total_kb / 1024).toFixed(1)} / ${(s.heap_used_kb / 1024).toFixed(1)}`).join(', ')}`, '');
    }
  }
  L.push('![cost per event relative to C epoll](chart.svg)', '');
  const failures = result.runs.filter((r) => !r.ok);
  if (failures.length) {
    L.push('## Failed runs', '');
    for (const f of failures) L.push(`- ${f.case} rep ${f.rep} ${f.contender}: ${String(f.error).split('\n')[0]}`);
    L.push('');
  }
  L.push('## How to run', '');
  L.push('```sh', 'pnpm bench                                   # quick, ~1 minute (turbo runs bench/ "bench")', 'pnpm --filter @async-io/bench bench:full     # full, < 10 minutes (or: node bench/run.mjs --full)', 'node bench/run.mjs --smoke                    # CI: every program once, tiny sizes, exit 1 on failure', '```', '');
  const analysis = path.join(here, 'analysis.md');
  if (existsSync(analysis)) L.push(readFileSync(analysis, 'utf8').trim(), '');
  return L.join('\n');
}

const COLORS = {
  'c-epoll': '#333333', 'c-poll': '#888888', 'poller-epoll': '#1f77b4', 'reactor-epoll': '#2ca02c', 'reactor-epoll-read': '#17becf',
  'poller-poll': '#9ecae1', 'reactor-poll': '#a1d99b', 'npm-epoll': '#d62728', 'node-net': '#ff7f0e', floor: '#9467bd',
  'reactor-epoll-nested-readable': '#006d2c', 'reactor-epoll-nobudget': '#98df8a', 'reactor-epoll-read-nobudget': '#9edae5', 'reactor-epoll-nested-readable-nobudget': '#41ab5d', 'reactor-epoll-thread-readable': '#74c476', 'reactor-poll-readable': '#c7e9c0', 'watcher-epoll': '#08519c', 'watcher-epoll-reqres': '#6baed6', 'reactor-epoll-readable-reqres': '#005a32', 'node-net-reqres': '#fdae6b',
  'c-bulk': '#333333', 'bulk-read': '#2ca02c', 'bulk-stream': '#08519c', 'bulk-net': '#ff7f0e', 'bulk-fs': '#8c564b',
};

/** Grouped horizontal bars, log scale: cost per event ÷ C epoll. Hand-written SVG. */
function chart(summary, meta) {
  const groups = summary.map((s) => ({
    name: s.workload === 'w2' ? 'W2 wake p50' : s.workload === 'w4' ? 'W4 ÷ C read' : s.workload === 'w5' ? 'W5 always ready' : s.key.toUpperCase().replace('W1 ', 'W1 ').replace('W3 ', 'W3 '),
    bars: runsIn(s.workload)
      .map((k) => ({ id: k.id, label: k.label, r: s.contenders[k.id]?.ratio }))
      .filter((b) => b.r),
  }));
  const all = groups.flatMap((g) => g.bars.flatMap((b) => [b.r.min, b.r.max]));
  const lo = Math.min(0.5, ...all) ;
  const hi = Math.max(10, ...all);
  const lmin = Math.floor(Math.log10(lo));
  const lmax = Math.ceil(Math.log10(hi));
  const W = 900, left = 130, right = 70, barH = 11, gap = 14, top = 60;
  const plotW = W - left - right;
  const x = (r) => left + ((Math.log10(r) - lmin) / (lmax - lmin)) * plotW;
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out = [];
  let y = top;
  const body = [];
  for (const g of groups) {
    const h = g.bars.length * barH;
    body.push(`<text x="${left - 8}" y="${y + h / 2 + 4}" text-anchor="end" font-weight="bold">${esc(g.name)}</text>`);
    for (const b of g.bars) {
      const x0 = x(10 ** lmin);
      body.push(`<rect x="${x0}" y="${y}" width="${Math.max(1, x(b.r.median) - x0).toFixed(1)}" height="${barH - 2}" fill="${COLORS[b.id]}"><title>${esc(b.label)}: ${b.r.median.toFixed(2)}× (${b.r.min.toFixed(2)}–${b.r.max.toFixed(2)})</title></rect>`);
      body.push(`<line x1="${x(b.r.min).toFixed(1)}" x2="${x(b.r.max).toFixed(1)}" y1="${y + barH / 2 - 1}" y2="${y + barH / 2 - 1}" stroke="#000" stroke-width="1"/>`);
      body.push(`<text x="${(x(Math.max(b.r.median, b.r.max)) + 4).toFixed(1)}" y="${y + barH - 3}" font-size="9">${fmtX(b.r.median)}</text>`);
      y += barH;
    }
    y += gap;
  }
  const shown = contenders.filter((k) => groups.some((g) => g.bars.some((b) => b.id === k.id))); // the legend: what has a bar
  const H = y + 30 + Math.ceil(shown.length / 3) * 16;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${left}" y="22" font-size="14" font-weight="bold">Cost per event relative to C epoll (log scale, lower is better)</text>`);
  out.push(`<text x="${left}" y="40" fill="#555">${esc(`${meta.mode} run ${meta.date.slice(0, 10)}, ${meta.machine.nproc} CPUs ${meta.machine.cpu}, ${meta.machine.kernel}, Node ${meta.machine.node}; bar = median, line = min–max over ${meta.reps} repetitions`)}</text>`);
  for (let e = lmin; e <= lmax; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v < 10 ** lmin || v > 10 ** lmax) continue;
      const xx = x(v).toFixed(1);
      out.push(`<line x1="${xx}" x2="${xx}" y1="${top - 6}" y2="${y - gap}" stroke="${m === 1 ? '#bbb' : '#eee'}"/>`);
      out.push(`<text x="${xx}" y="${top - 9}" text-anchor="middle" fill="#555" font-size="9">${v >= 1 ? v : v.toFixed(1)}×</text>`);
    }
  }
  out.push(`<line x1="${x(1)}" x2="${x(1)}" y1="${top - 6}" y2="${y - gap}" stroke="#333" stroke-dasharray="3,2"/>`);
  out.push(...body);
  shown.forEach((k, i) => {
    const lx = left + (i % 3) * 250;
    const ly = y + 10 + Math.floor(i / 3) * 16;
    out.push(`<rect x="${lx}" y="${ly}" width="10" height="10" fill="${COLORS[k.id]}"/><text x="${lx + 14}" y="${ly + 9}">${esc(k.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ---- main ------------------------------------------------------------------------------

/** --report: re-renders RESULTS.md and chart.svg from results.json (e.g. after editing analysis.md). */
function report() {
  const r = JSON.parse(readFileSync(path.join(here, 'results.json'), 'utf8'));
  const rss = r.rss?.ok ? { ...r.rss, P: 64 } : r.rss;
  r.targets = targets(r.summary, r.idle_scale, r.rss, r.runs); // the rules may have changed since the run
  writeFileSync(path.join(here, 'results.json'), JSON.stringify(r, null, 2) + '\n');
  writeFileSync(path.join(here, 'RESULTS.md'), markdown({ meta: r.meta, summary: r.summary, scale: r.idle_scale, targets: r.targets, rss, runs: r.runs }));
  writeFileSync(path.join(here, 'chart.svg'), chart(r.summary, r.meta));
  console.log('re-rendered bench/RESULTS.md and bench/chart.svg from bench/results.json');
  return 0;
}

function main() {
  if (flag('report')) return report();
  buildC();
  if (flag('build-only')) return 0;
  const caseList = cases();
  const t0 = Date.now();
  const meta = { date: new Date().toISOString(), mode: modeName, reps: mode.reps, ms: mode.ms, warm: mode.warm, samples: mode.samples, machine: machine() };
  console.log(`bench: ${modeName} mode, ${mode.reps} repetition(s), ${caseList.length} cases × ${contenders.length} contenders; ${meta.machine.nproc} CPUs, ${meta.machine.cpu}, Node ${meta.machine.node}`);
  const runs = [];
  for (let rep = 0; rep < mode.reps; rep++) {
    for (const [ci, k] of caseList.entries()) {
      const order = rotate(runsIn(k.workload), rep + ci);
      const line = [];
      for (const cont of order) {
        const r = runOne(cont, k.workload, k.args);
        runs.push({ ...r, case: k.key, rep });
        line.push(`${cont.id} ${r.skipped ? 'skipped' : !r.ok ? 'FAILED' : k.workload === 'w2' ? fmtNs(r.p50_ns) : k.workload === 'w4' ? `${(r.bytes_per_s / 2 ** 30).toFixed(2)} GiB/s` : fmtNs(r.ns_per_event)}`);
        if (!r.ok) console.error(`  ${cont.id} ${k.key}: ${r.error}\n${r.stderr ?? ''}`);
      }
      console.log(`rep ${rep + 1}/${mode.reps} ${k.key.padEnd(10)} ${line.join(' · ')}`);
    }
  }
  let rss = null;
  if (!only || only.includes('rss')) {
    const reactor = CONTENDERS.find((k) => k.id === 'reactor-epoll');
    rss = runOne(reactor, 'rss', [`events=${mode.rssEvents}`, 'P=64']);
    runs.push({ ...rss, case: 'rss', rep: 0 });
    console.log(rss.ok ? `rss: ${rss.events} reactor events, RSS ${(rss.rss_start_kb / 1024).toFixed(1)} → ${(rss.rss_end_kb / 1024).toFixed(1)} MiB (${(rss.rss_growth * 100).toFixed(1)}%)` : `rss: FAILED ${rss.error}`);
  }
  const failed = runs.filter((r) => !r.ok);
  const skipped = [...new Set(runs.filter((r) => r.skipped).map((r) => `${r.contender}: ${r.skipped}`))];
  for (const s of skipped) console.log(`note: skipped ${s}`);
  if (modeName === 'smoke') {
    console.log(`smoke: ${runs.length} program runs, ${failed.length} failed, ${runs.filter((r) => r.skipped).length} skipped, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return failed.length ? 1 : 0;
  }
  meta.seconds = Math.round((Date.now() - t0) / 1000);
  meta.machine.loadavg_end = os.loadavg().map((x) => +x.toFixed(2));
  const summary = summarize(runs, caseList);
  const scale = idleScale(runs, caseList);
  const tg = targets(summary, scale, rss && { ...rss, events: rss.events ?? mode.rssEvents }, runs);
  const result = { meta, targets: tg, summary, idle_scale: scale, rss, runs };
  writeFileSync(path.join(here, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(path.join(here, 'RESULTS.md'), markdown({ meta, summary, scale, targets: tg, rss: rss?.ok ? { ...rss, P: 64 } : rss, runs }));
  writeFileSync(path.join(here, 'chart.svg'), chart(summary, meta));
  console.log('\ntargets:');
  for (const t of tg) {
    const v = t.measured === null ? '—' : t.target.startsWith('RSS') ? `${(t.measured * 100).toFixed(1)}%` : `${t.measured.toFixed(2)}×`;
    console.log(`  ${t.status === 'met' ? 'met   ' : t.status === 'missed' ? 'MISSED' : 'n/a   '} ${t.target}: ${v} (limit ${t.target.startsWith('RSS') ? '5%' : `${t.limit}×`})${t.note ? ` — ${t.note}` : ''}`);
  }
  console.log(`\nwrote bench/results.json, bench/RESULTS.md, bench/chart.svg in ${meta.seconds} s${failed.length ? `; ${failed.length} run(s) FAILED` : ''}`);
  return failed.length ? 1 : 0;
}

/** The serial-port benchmark (serial.mjs: @async-io/serialport vs bindings-cpp), after the workloads above. */
function serial() {
  if (flag('report') || flag('build-only') || (only && !only.includes('serial'))) return 0;
  return spawnSync(process.execPath, [path.join(here, 'serial.mjs'), `--${modeName}`], { stdio: 'inherit' }).status ?? 1;
}

process.exitCode = main() || serial();
