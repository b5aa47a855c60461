// Serial ports: @async-io/serialport against @serialport/bindings-cpp (the
// binding serialport uses) over a pty pair, with each binding's own read and
// write (the calls @serialport/stream makes). The device on the pty's master
// is ../.build/serial (c/serial.c), the same for both and for the C
// baseline; CPU time is this process's, all its threads (the thread pool
// included: bindings-cpp reads there).
//   node serial.mjs throughput binding=ours|cpp bytes=67108864
//       the device writes `bytes` into the master once the port is open;
//       timed from the first chunk read to the last
//   node serial.mjs latency binding=ours|cpp samples=2000
//       1-byte request/response against the echo device
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit, parseArgs, run, skip } from './lib.mjs';

const a = parseArgs();
const name = a.binding ?? 'ours';
const contender = `serial-${name}`;
const require = createRequire(import.meta.url);
const deviceBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.build', 'serial');

function binding() {
  if (name === 'ours') return require('@async-io/serialport').ReactorBinding;
  if (name === 'cpp') return require('@serialport/bindings-cpp').autoDetect();
  throw new Error(`binding=${name}: ours or cpp`);
}

const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** Starts the device (`serial device|echo ...`); resolves with it and its pty's slave path. */
function device(args) {
  const child = spawn(deviceBin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`device exited ${code}: ${out}`)));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ child, path: out.split('\n')[0] });
    });
  });
}

async function throughput() {
  const bytes = a.bytes ?? 64 << 20;
  const dev = await device(['device', `bytes=${bytes}`]);
  const port = await binding().open({ path: dev.path, baudRate: 115200 });
  const chunk = 64 << 10;
  dev.child.stdin.write('go\n'); // the port is raw now: the device may write
  const buf = Buffer.alloc(chunk);
  let total = 0;
  let t0 = 0n;
  let c0 = 0;
  let reads = 0;
  while (total < bytes) {
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
  dev.child.removeAllListeners('exit');
  dev.child.stdin.end();
  const mib = total / 2 ** 20;
  emit({ contender, workload: 'throughput', bytes: total, reads, ns_per_event: ns / reads, events: reads, bytes_per_s: total / (ns / 1e9), cpu_ns_per_mib: cpu / mib });
}

async function latency() {
  const samples = a.samples ?? 2000;
  const warm = Math.max(20, samples >> 4);
  const dev = await device(['echo']);
  const port = await binding().open({ path: dev.path, baudRate: 115200 });
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
  await port.close(); // the echo device reads EIO and exits
  dev.child.removeAllListeners('exit');
  times.sort((x, y) => x - y);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  emit({ contender, workload: 'latency', samples, p50_ns: q(0.5), p99_ns: q(0.99), cpu_ns_per_rtt: cpu / samples });
}

run(async () => {
  if (!existsSync(deviceBin)) skip(contender, a.workload, 'the device is not built (node bench/serial.mjs builds .build/serial)');
  if (a.workload === 'throughput') await throughput();
  else if (a.workload === 'latency') await latency();
  else throw new Error(`unknown workload ${a.workload}`);
});
