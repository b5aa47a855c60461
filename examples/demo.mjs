// The demo (npm run demo): the facade doing real work.
//  1. picks the backend for this machine and prints what it chose;
//  2. moves 8 MB through pipes and socketpairs with Async handles
//     (writeWith/readWith), checking every byte with sha256;
//  3. shows the embedding contract: the reactor runs with driver 'external'
//     and a foreign loop -- here a Worker blocked in its own Poller on
//     reactorFd() -- tells the main thread when to dispatch().
// With ASYNC_IO_BACKEND=poll there is no reactor fd: the demo says so and
// uses the thread driver instead.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Async, backendInfo, configure, pipe, read, Reactor, reactorFd, socketpair } from '@async-io/reactor';

const require = createRequire(import.meta.url);
const embed = process.env.ASYNC_IO_BACKEND !== 'poll';
if (embed) configure({ driver: 'external' });

const info = backendInfo();
console.log(`backend   ${info.name} from ${info.package}@${info.version} (${info.reason})`);
console.log(`binary    ${info.file.replace(process.cwd() + '/', '')} (${info.prebuilt ? 'prebuilt' : 'compiled here'})`);
console.log(`reactor   fd ${info.fd}, driver ${info.driver}`);

// -- the foreign loop ---------------------------------------------------------
let wakes = 0;
let worker = null;
if (embed && reactorFd() !== null) {
  worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Poller, Events } = require(workerData.backend);
    const poller = new Poller();
    const events = new Events(1);
    let stopped = false;
    poller.add(workerData.fd, 0, { readable: true }, 'oneshot');
    parentPort.on('message', (m) => {
      if (m === 'stop') return (stopped = true), poller.close(), parentPort.close();
      poller.modify(workerData.fd, 0, { readable: true }, 'oneshot'); // re-arm after each dispatch
      wait();
    });
    function wait() {
      // Blocks this thread, never the main one; 100 ms slices so 'stop' is seen.
      if (stopped) return; // a re-arm queued before 'stop' must not wait on a closed poller
      if (poller.wait(events, 100) > 0) parentPort.postMessage('readable');
      else setImmediate(wait);
    }
    wait();
    `,
    { eval: true, workerData: { fd: reactorFd(), backend: require.resolve(info.package, { paths: [require.resolve('@async-io/reactor')] }) } },
  );
  worker.on('message', () => {
    wakes++;
    Reactor.get().dispatch();
    worker.postMessage('rearm');
  });
  // Not unref'd: with the external driver nothing of the reactor keeps the
  // loop alive, so the host loop must until the streams are done ('stop').
} else {
  console.log('embedding: reactorFd() is null on poll, so the reactor drives itself (thread driver)');
}

// -- moving data ---------------------------------------------------------------
// A producer Worker (with its own reactor: one per thread) writes into the
// write ends; the main thread reads the read ends. Both sides wait with Async.
const STREAMS = 10;
const PER_STREAM = 800 * 1024;
const ends = Array.from({ length: STREAMS }, (_, i) => (i < 8 ? pipe() : socketpair()));
const producer = new Worker(
  `
  const { workerData, parentPort } = require('node:worker_threads');
  const { createHash, randomFillSync } = require('node:crypto');
  const { Async, write } = require(workerData.reactor);
  Promise.all(workerData.fds.map(async (fd) => {
    const writer = new Async(fd, { ownsFd: true });
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(16384);
    for (let off = 0; off < workerData.per; off += chunk.length) {
      randomFillSync(chunk);
      hash.update(chunk);
      let done = 0;
      while (done < chunk.length) done += await writer.writeWith(() => write(fd, chunk.subarray(done)));
    }
    writer.close(); // EOF for the reader
    return hash.digest('hex');
  })).then((digests) => parentPort.postMessage(digests));
  `,
  { eval: true, workerData: { reactor: require.resolve('@async-io/reactor'), fds: ends.map(([, w]) => w), per: PER_STREAM } },
);
const sentDigests = new Promise((resolve) => producer.once('message', resolve));

async function consume(fd) {
  const reader = new Async(fd, { ownsFd: true });
  const hash = createHash('sha256');
  const buf = Buffer.alloc(65536);
  let bytes = 0;
  for (;;) {
    const n = await reader.readWith(() => read(fd, buf));
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    bytes += n;
  }
  reader.close();
  return { bytes, digest: hash.digest('hex') };
}

const t0 = performance.now();
const results = await Promise.all(ends.map(([r]) => consume(r)));
const digests = await sentDigests;
const ms = performance.now() - t0;
worker?.postMessage('stop');

const bytes = results.reduce((a, r) => a + r.bytes, 0);
const ok = results.every((r, i) => r.digest === digests[i]) && bytes === STREAMS * PER_STREAM;
console.log(`moved     ${(bytes / 1048576).toFixed(1)} MiB through 8 pipes + 2 socketpairs (Worker -> main) in ${ms.toFixed(0)} ms`);
if (worker) console.log(`embedding ${wakes} wake-ups from the Worker's poller on reactorFd(), each answered by dispatch()`);
console.log(`checked   sha256 of every stream matches: ${ok ? 'yes' : 'NO'}`);
process.exitCode = ok ? 0 : 1;
