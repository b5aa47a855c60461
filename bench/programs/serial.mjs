// Serial ports: @async-io/serialport against @serialport/bindings-cpp (the
// binding serialport uses), through socat ptys, with each binding's own read
// and write (the calls @serialport/stream makes). socat and the writer are
// the same for both; CPU time is this process's, all its threads (the
// thread pool included: bindings-cpp reads there).
//   node serial.mjs throughput binding=ours|cpp bytes=67108864
//       `dd` writes `bytes` into one end of a socat pty pair; timed from the
//       first chunk read at the other end to the last
//   node serial.mjs latency binding=ours|cpp samples=2000
//       1-byte request/response against echo firmware (socat pty <-> cat)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { emit, parseArgs, run, skip } from './lib.mjs';

const a = parseArgs();
const name = a.binding ?? 'ours';
const contender = `serial-${name}`;
const require = createRequire(import.meta.url);

function binding() {
  if (name === 'ours') return require('@async-io/serialport').ReactorBinding;
  if (name === 'cpp') return require('@serialport/bindings-cpp').autoDetect();
  throw new Error(`binding=${name}: ours or cpp`);
}

const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** socat with the given addresses; resolves once its pty links exist. */
async function socat(dir, addresses, links) {
  const child = spawn('socat', addresses, { stdio: 'ignore' });
  let failed = null;
  child.on('error', (e) => (failed = e));
  child.on('exit', (code) => (failed ??= new Error(`socat exited ${code}`)));
  while (!links.every((l) => existsSync(l))) {
    if (failed) throw failed;
    await new Promise((r) => setTimeout(r, 5));
  }
  return child;
}

async function throughput(dir) {
  const bytes = a.bytes ?? 64 << 20;
  const [A, B] = [path.join(dir, 'A'), path.join(dir, 'B')];
  const relay = await socat(dir, [`pty,raw,echo=0,link=${A}`, `pty,raw,echo=0,link=${B}`], [A, B]);
  const port = await binding().open({ path: A, baudRate: 115200 });
  const chunk = 64 << 10;
  const writer = spawn('dd', ['if=/dev/zero', `of=${B}`, `bs=${chunk}`, `count=${Math.ceil(bytes / chunk)}`, 'status=none'], { stdio: 'ignore' });
  const buf = Buffer.alloc(chunk);
  let total = 0;
  let t0 = 0n;
  let c0 = 0;
  let reads = 0;
  const want = Math.ceil(bytes / chunk) * chunk;
  while (total < want) {
    const { bytesRead } = await port.read(buf, 0, chunk);
    if (total === 0) {
      t0 = process.hrtime.bigint();
      c0 = cpuNs();
    }
    total += bytesRead;
    reads++;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = cpuNs() - c0;
  await port.close();
  writer.kill();
  relay.kill();
  const mib = total / 2 ** 20;
  emit({ contender, workload: 'throughput', bytes: total, reads, ns_per_event: ns / reads, events: reads, bytes_per_s: total / (ns / 1e9), cpu_ns_per_mib: cpu / mib });
}

async function latency(dir) {
  const samples = a.samples ?? 2000;
  const warm = Math.max(20, samples >> 4);
  const P = path.join(dir, 'port');
  const relay = await socat(dir, [`pty,raw,echo=0,link=${P}`, 'exec:cat'], [P]);
  const port = await binding().open({ path: P, baudRate: 115200 });
  const out = Buffer.from('?');
  const inb = Buffer.alloc(1);
  const times = [];
  let c0 = 0;
  for (let i = 0; i < warm + samples; i++) {
    if (i === warm) c0 = cpuNs();
    const t = process.hrtime.bigint();
    const reading = port.read(inb, 0, 1);
    await port.write(out);
    await reading;
    if (i >= warm) times.push(Number(process.hrtime.bigint() - t));
  }
  const cpu = cpuNs() - c0;
  await port.close();
  relay.kill();
  times.sort((x, y) => x - y);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  emit({ contender, workload: 'latency', samples, p50_ns: q(0.5), p99_ns: q(0.99), cpu_ns_per_rtt: cpu / samples });
}

run(async () => {
  for (const tool of ['socat', 'dd']) {
    if (!process.env.PATH.split(':').some((d) => existsSync(path.join(d, tool)))) skip(contender, a.workload, `${tool} is not installed`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aio-serial-bench-'));
  try {
    if (a.workload === 'throughput') await throughput(dir);
    else if (a.workload === 'latency') await latency(dir);
    else throw new Error(`unknown workload ${a.workload}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
