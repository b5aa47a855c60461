// The demo: a producer Worker pushes data through 16 pipes and a socketpair
// while the main thread waits on one epoll/kqueue/ports/poll `Poller`, reads
// everything that arrives and checks it byte for byte. Run: npm run demo
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const backendName = process.env.ASYNC_IO_BACKEND ?? (process.platform === 'linux' ? 'epoll' : 'poll');
const pkg = { epoll: '@async-io/linux-epoll', poll: '@async-io/poll-fallback' }[backendName];
const { Poller, Events, pipe, socketpair, read, close } = require(pkg);

const PIPES = 16;
const CHUNKS = 200;
const poller = new Poller();
console.log(`backend: ${poller.backend}   poller fd: ${poller.fd}`);

const pipes = Array.from({ length: PIPES }, () => pipe());
const [sockA, sockB] = socketpair();
const hashes = pipes.map(() => createHash('sha256'));
const received = new Array(PIPES + 1).fill(0);
pipes.forEach(([r], i) => poller.add(r, i, { readable: true }, 'level'));
poller.add(sockA, PIPES, { readable: true }, 'level');

// The producer writes pseudo-random chunks into every pipe, then a message on
// the socketpair, then notifies the poller from its own thread.
const producer = new Worker(
  `
  const { workerData } = require('node:worker_threads');
  const { createHash, randomFillSync } = require('node:crypto');
  const backend = require(workerData.pkg);
  const poller = backend.Poller.fromShared(workerData.shared);
  const hashes = workerData.fds.map(() => createHash('sha256'));
  const sleep = new Int32Array(new SharedArrayBuffer(4));
  for (let c = 0; c < ${CHUNKS}; c++) {
    workerData.fds.forEach((fd, i) => {
      const chunk = randomFillSync(Buffer.alloc(1 + ((c * 131 + i * 17) % 4000)));
      let off = 0;
      while (off < chunk.length) {
        const n = backend.write(fd, chunk.subarray(off));
        if (n === null) Atomics.wait(sleep, 0, 0, 1); else off += n;
      }
      hashes[i].update(chunk);
    });
  }
  backend.write(workerData.sock, Buffer.from('done'));
  poller.notify();
  poller.close();
  require('node:worker_threads').parentPort.postMessage(hashes.map((h) => h.digest('hex')));
  `,
  { eval: true, workerData: { pkg: require.resolve(pkg), shared: poller.share(), fds: pipes.map(([, w]) => w), sock: sockB } },
);
const expected = new Promise((resolve) => producer.once('message', resolve));

const events = new Events(64);
const buf = Buffer.alloc(65536);
let waits = 0;
let eventCount = 0;
let notified = 0;
let done = false;
const started = performance.now();
while (!done) {
  const n = poller.wait(events, 5000);
  waits++;
  if (n === 0) notified++;
  for (let i = 0; i < n; i++) {
    const key = events.keyAt(i);
    eventCount++;
    const fd = key === PIPES ? sockA : pipes[key][0];
    let got;
    while ((got = read(fd, buf)) !== null && got > 0) {
      received[key] += got;
      if (key === PIPES) done = buf.subarray(0, got).toString() === 'done';
      else hashes[key].update(buf.subarray(0, got));
    }
  }
}
// Anything still in flight after "done" arrived:
while (poller.wait(events, 0) > 0) {
  for (let i = 0; i < events.length; i++) {
    const key = events.keyAt(i);
    if (key === PIPES) continue;
    let got;
    while ((got = read(pipes[key][0], buf)) !== null && got > 0) {
      received[key] += got;
      hashes[key].update(buf.subarray(0, got));
    }
  }
}
const ms = performance.now() - started;
const want = await expected;
const ok = hashes.every((h, i) => h.digest('hex') === want[i]);
const bytes = received.slice(0, PIPES).reduce((a, b) => a + b, 0);

console.log(`moved ${(bytes / 1e6).toFixed(2)} MB through ${PIPES} pipes + 1 socketpair in ${ms.toFixed(0)} ms`);
console.log(`${waits} waits, ${eventCount} readiness events, ${notified} wake-up(s) by notify() from the Worker`);
console.log(`sha256 of every pipe's stream matches the producer's: ${ok ? 'yes' : 'NO'}`);
for (const [r, w] of pipes) close(r), close(w);
close(sockA), close(sockB);
poller.close();
process.exit(ok ? 0 : 1);
