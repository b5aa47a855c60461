#!/usr/bin/env node
// The serial-port benchmark: @async-io/serialport against
// @serialport/bindings-cpp (what serialport uses) and a C baseline
// (c/serial.c: poll() + read() on the same pty) in one run, repetitions
// interleaved (the order rotates), every figure a ratio of two contenders in
// the same repetition, then the median. Run by run.mjs after its workloads,
// or alone:
//   node serial.mjs [--smoke|--full] [--reps=N]
// Writes serial-results.json and SERIAL.md (not in smoke mode).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const MODES = {
  smoke: { reps: 1, bytes: 1 << 20, samples: 50 },
  quick: { reps: 5, bytes: 32 << 20, samples: 1000 },
  full: { reps: 9, bytes: 128 << 20, samples: 5000 },
};
const modeName = argv.includes('--smoke') ? 'smoke' : argv.includes('--full') || process.env.BENCH_FULL === '1' ? 'full' : 'quick';
const mode = { ...MODES[modeName] };
const reps = argv.find((x) => x.startsWith('--reps='));
if (reps) mode.reps = Number(reps.split('=')[1]);

const BINDINGS = [
  { id: 'ours', label: '@async-io/serialport' },
  { id: 'cpp', label: '@serialport/bindings-cpp 13.0.1' },
  { id: 'c', label: 'C poll() + read() (baseline)' },
];

// The pty device every contender talks to, and the C baseline: .build/serial.
const bin = path.join(here, '.build', 'serial');
const src = path.join(here, 'c', 'serial.c');
if (!existsSync(bin) || statSync(bin).mtimeMs < Math.max(statSync(src).mtimeMs, statSync(path.join(here, 'c', 'common.h')).mtimeMs)) {
  mkdirSync(path.dirname(bin), { recursive: true });
  execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Wextra', '-pthread', '-o', bin, src], { stdio: 'inherit' });
  console.log(`built .build/serial (${process.env.CC || 'cc'} -O2)`);
}
const WORKLOADS = [
  { id: 'throughput', args: [`bytes=${mode.bytes}`] },
  { id: 'latency', args: [`samples=${mode.samples}`] },
];

function runOne(binding, workload) {
  const cmd = binding.id === 'c' ? [bin, workload.id, ...workload.args] : [process.execPath, path.join(here, 'programs', 'serial.mjs'), workload.id, `binding=${binding.id}`, ...workload.args];
  const r = spawnSync(cmd[0], cmd.slice(1), {
    encoding: 'utf8',
    timeout: 300_000,
  });
  const line = (r.stdout ?? '').trim().split('\n').filter(Boolean);
  try {
    if (line.length !== 1) throw new Error(`expected one JSON line, got ${line.length}`);
    return JSON.parse(line[0]);
  } catch (error) {
    return { ok: false, error: `${error.message}; exit ${r.status ?? r.signal}; ${(r.stderr ?? '').slice(-500)}` };
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : null);

const runs = [];
console.log(`serial bench: ${modeName} mode, ${mode.reps} repetition(s), ${mode.bytes >> 20} MiB, ${mode.samples} round trips; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (let rep = 0; rep < mode.reps; rep++) {
  for (const workload of WORKLOADS) {
    const order = BINDINGS.map((_, i) => BINDINGS[(i + rep) % BINDINGS.length]);
    const line = [];
    for (const binding of order) {
      const r = runOne(binding, workload);
      runs.push({ ...r, binding: binding.id, workload: workload.id, rep });
      if (!r.ok) console.error(`  ${binding.id} ${workload.id}: ${r.error}`);
      line.push(`${binding.id} ${!r.ok ? 'FAILED' : r.skipped ? 'skipped' : workload.id === 'throughput' ? `${(r.bytes_per_s / 2 ** 20).toFixed(1)} MiB/s, ${(r.cpu_ns_per_mib / 1e6).toFixed(1)} ms CPU/MiB` : `p50 ${(r.p50_ns / 1e3).toFixed(0)} µs`}`);
    }
    console.log(`rep ${rep + 1}/${mode.reps} ${workload.id.padEnd(10)} ${line.join(' · ')}`);
  }
}
const failed = runs.filter((r) => !r.ok);
const skipped = runs.filter((r) => r.skipped);
if (modeName === 'smoke') {
  console.log(`serial smoke: ${runs.length} runs, ${failed.length} failed, ${skipped.length} skipped`);
  process.exit(failed.length ? 1 : 0);
}

/** a's `field` ÷ b's (default: ours ÷ bindings-cpp), per repetition, then the spread. */
function ratio(workload, field, a = 'ours', b = 'cpp') {
  const xs = [];
  for (let rep = 0; rep < mode.reps; rep++) {
    const [x, y] = [a, b].map((id) => runs.find((r) => r.binding === id && r.workload === workload && r.rep === rep && r.ok && !r.skipped));
    if (x && y) xs.push(x[field] / y[field]);
  }
  return spread(xs);
}
const of = (b, workload, field) => spread(runs.filter((r) => r.binding === b && r.workload === workload && r.ok && !r.skipped).map((r) => r[field]));
const targets = [
  { target: 'throughput: ours ÷ bindings-cpp, bytes/s', dir: '>=', limit: 1.0, r: ratio('throughput', 'bytes_per_s') },
  { target: 'CPU per MiB read: ours ÷ bindings-cpp', dir: '<=', limit: 0.8, r: ratio('throughput', 'cpu_ns_per_mib') },
  { target: '1-byte round trip p50: ours ÷ bindings-cpp', dir: '<=', limit: 0.8, r: ratio('latency', 'p50_ns') },
  { target: 'CPU per round trip: ours ÷ bindings-cpp (informational)', dir: '<=', limit: 0.8, r: ratio('latency', 'cpu_ns_per_rtt') },
];
/** Against the C baseline (no limits: where each binding stands). */
const baseline = ['ours', 'cpp'].map((id) => ({
  id,
  throughput: ratio('throughput', 'bytes_per_s', id, 'c'),
  cpu: ratio('throughput', 'cpu_ns_per_mib', id, 'c'),
  p50: ratio('latency', 'p50_ns', id, 'c'),
}));
for (const t of targets) t.status = !t.r ? 'not measured' : (t.dir === '<=' ? t.r.median <= t.limit : t.r.median >= t.limit) ? 'met' : 'missed';

const meta = { date: new Date().toISOString(), mode: modeName, ...mode, node: process.version, kernel: `${os.type()} ${os.release()}`, nproc: os.availableParallelism?.() ?? os.cpus().length, cpu: os.cpus()[0]?.model, loadavg: os.loadavg().map((x) => +x.toFixed(2)) };
writeFileSync(path.join(here, 'serial-results.json'), JSON.stringify({ meta, targets, baseline, runs }, null, 2) + '\n');

const f2 = (x) => x.toFixed(2);
const rng = (s, f) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const L = [];
L.push('# Serial port benchmark', '');
L.push(`Generated by \`node bench/serial.mjs${modeName === 'quick' ? '' : ` --${modeName}`}\` (also the last step of \`pnpm bench\`) on ${meta.date}. Do not edit by hand.`, '');
L.push(`- ${mode.reps} interleaved repetitions (the order rotates); ${mode.bytes >> 20} MiB per throughput run; ${mode.samples} round trips per latency run`);
L.push(`- machine: ${meta.nproc} CPUs, ${meta.cpu}; ${meta.kernel}; Node ${meta.node}; **shared**, load average ${meta.loadavg.join(' ')} at the end: read the ratios (per repetition, then the median; min–max in brackets)`);
L.push('- the device: `.build/serial` (c/serial.c) on the master of a pty pair; each contender opens the slave by path, raw, 115200 baud, as a program opens `/dev/ttyUSB0`');
L.push('- throughput: once the port is open the device writes the bytes into the master; the contender reads them in 64 KiB `read()` calls; timed from the first chunk to the last. CPU is the reading process, every thread (bindings-cpp reads on the thread pool)');
L.push('- latency: one byte written and read back through the echo device; the read is pending before the write, as in `@serialport/stream`');
L.push('- baseline: the same two workloads in C (`.build/serial throughput|latency`: a forked device, `poll()` + `read()`)', '');
L.push('| target | limit | measured | status |', '| --- | ---: | ---: | --- |');
for (const t of targets) L.push(`| ${t.target} | ${t.dir === '>=' ? '≥' : '≤'} ${t.limit} | ${t.r ? rng(t.r, f2) : '—'} | ${t.status === 'met' ? '**met**' : t.status === 'missed' ? '**MISSED**' : t.status} |`);
L.push('', '| binding | throughput MiB/s | CPU ms per MiB | round trip p50 µs | p99 µs | CPU µs per round trip |', '| --- | ---: | ---: | ---: | ---: | ---: |');
for (const b of BINDINGS) {
  const cell = (w, field, scale) => {
    const s = of(b.id, w, field);
    return s ? rng({ median: s.median / scale, min: s.min / scale, max: s.max / scale }, (x) => x.toFixed(x >= 100 ? 0 : 1)) : '—';
  };
  L.push(`| ${b.label} | ${cell('throughput', 'bytes_per_s', 2 ** 20)} | ${cell('throughput', 'cpu_ns_per_mib', 1e6)} | ${cell('latency', 'p50_ns', 1e3)} | ${cell('latency', 'p99_ns', 1e3)} | ${cell('latency', 'cpu_ns_per_rtt', 1e3)} |`);
}
L.push('', 'Against the C baseline (per repetition, median (min–max)):', '', '| binding | throughput ÷ C | CPU per MiB ÷ C | round trip p50 ÷ C |', '| --- | ---: | ---: | ---: |');
for (const b of baseline) L.push(`| ${BINDINGS.find((x) => x.id === b.id).label} | ${b.throughput ? rng(b.throughput, f2) : '—'} | ${b.cpu ? rng(b.cpu, f2) : '—'} | ${b.p50 ? rng(b.p50, f2) : '—'} |`);
if (failed.length) L.push('', '## Failed runs', '', ...failed.map((r) => `- rep ${r.rep} ${r.binding} ${r.workload}: ${String(r.error).split('\n')[0]}`));
writeFileSync(path.join(here, 'SERIAL.md'), L.join('\n') + '\n');
console.log('\nserial targets:');
for (const t of targets) console.log(`  ${t.status === 'met' ? 'met   ' : t.status === 'missed' ? 'MISSED' : 'n/a   '} ${t.target}: ${t.r ? `${f2(t.r.median)}× (${f2(t.r.min)}–${f2(t.r.max)})` : '—'} (limit ${t.dir === '>=' ? '≥' : '≤'} ${t.limit})`);
console.log('wrote bench/serial-results.json, bench/SERIAL.md');
process.exit(failed.length ? 1 : 0);
