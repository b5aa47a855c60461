// W4 bulk throughput: `bytes` through a pipe (or a FIFO) in 64 KiB chunks
// from a writer process (../.build/bulk write), read here one of four ways:
//   kind=read    our Async#read loop into one 64 KiB buffer
//   kind=stream  our createReadStream(fd) ('data' events)
//   kind=net     Node core new net.Socket({ fd }) on the pipe's read end
//   kind=fs      node:fs createReadStream(fifoPath): the thread-pool path
// Timed from the first chunk to EOF; CPU time is this process's
// (process.cpuUsage: user + system, all its threads), not the writer's.
//   node bulk.mjs w4 kind=read bytes=268435456
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit, parseArgs, run, skip } from './lib.mjs';

const a = parseArgs();
const kind = a.kind ?? 'read';
const bytes = a.bytes ?? 256 * 1024 * 1024;
const contender = `bulk-${kind}`;
const writerBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.build', 'bulk');

const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** Counts bytes; the first chunk starts the clocks. */
function meter() {
  const m = { total: 0, first: 0, t0: 0n, c0: 0 };
  m.add = (n) => {
    if (m.total === 0) {
      m.t0 = process.hrtime.bigint();
      m.c0 = cpuNs();
      m.first = n;
    }
    m.total += n;
  };
  m.finish = () => {
    const ns = Number(process.hrtime.bigint() - m.t0);
    const cpu = cpuNs() - m.c0;
    if (m.total !== bytes) throw new Error(`read ${m.total} of ${bytes} bytes`);
    const timed = m.total - m.first;
    return { events: timed, ns, ns_per_event: ns / timed, bytes_per_s: (timed * 1e9) / ns, cpu_ns: cpu, cpu_ns_per_gib: (cpu * 2 ** 30) / timed };
  };
  return m;
}

function writer(args, stdout) {
  const child = spawn(writerBin, ['write', `bytes=${bytes}`, ...args], { stdio: ['ignore', stdout, 'inherit'] });
  const exited = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code ?? signal}`))));
  });
  return exited;
}

const ended = (stream, m) =>
  new Promise((resolve, reject) => {
    stream.on('data', (chunk) => m.add(chunk.length));
    stream.once('end', resolve);
    stream.once('error', reject);
  });

run(async () => {
  if (a.workload !== 'w4') throw new Error(`unknown workload ${a.workload}`);
  const m = meter();
  if (kind === 'fs') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-w4-'));
    const fifo = path.join(dir, 'fifo');
    try {
      await new Promise((resolve, reject) =>
        spawn('mkfifo', [fifo], { stdio: 'inherit' }).once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`mkfifo exited ${c}`)))),
      );
      const done = writer([`path=${fifo}`], 'ignore');
      await ended(fs.createReadStream(fifo, { highWaterMark: 65536 }), m);
      await done;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    const reactor = await import('@async-io/reactor');
    if (kind === 'stream' && typeof reactor.createReadStream !== 'function') skip(contender, 'w4', 'createReadStream not available');
    const [r, w] = reactor.pipe();
    const done = writer([], w);
    reactor.close(w);
    if (kind === 'read') {
      const h = new reactor.Async(r, { ownsFd: true });
      const buf = Buffer.allocUnsafe(65536);
      for (let n; (n = await h.read(buf)) > 0; ) m.add(n);
      h.close();
    } else if (kind === 'stream') {
      await ended(reactor.createReadStream(r, { ownsFd: true }), m);
    } else if (kind === 'net') {
      const sock = new net.Socket({ fd: r, readable: true, writable: false });
      await ended(sock, m);
      sock.destroy();
    } else throw new Error(`unknown kind ${kind}`);
    await done;
  }
  emit({ contender, workload: 'w4', params: { bytes }, ...m.finish() });
});
