// Embedding: the reactor driven by another event loop.
//
//   node embedding.mjs
//
// configure({ driver: 'external' }) makes the reactor drive nothing itself.
// The host loop watches reactorFd() for readability and calls
// Reactor.get().dispatch() whenever it fires: dispatch() takes the ready
// events without blocking and resolves the waits they were for. Here the
// host loop is a Worker blocked in its own Poller (the backend's, same API on
// every backend) on reactorFd(); it tells the main thread, which dispatches
// and asks it to re-arm. GLib's g_unix_fd_add or a libuv uv_poll_t plays the
// same part: see docs/embedding.md. On the poll backend (ASYNC_IO_BACKEND=poll)
// there is no reactor fd and so nothing to embed: the program says so.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Async, backendInfo, configure, Reactor, reactorFd } from '@async-io/reactor';

configure({ driver: 'external' }); // before anything else uses the reactor
if (reactorFd() === null) {
  console.log(`the ${backendInfo().name} backend has no reactor fd: nothing to embed`);
  process.exit(0);
}

// The host loop. A Worker may block; the main thread never does.
const require = createRequire(import.meta.url);
const backend = require.resolve(backendInfo().package, { paths: [require.resolve('@async-io/reactor')] });
const host = new Worker(
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
    // 100 ms slices, so that 'stop' is seen.
    if (stopped) return; // a re-arm queued before 'stop' must not wait on a closed poller
    if (poller.wait(events, 100) > 0) parentPort.postMessage('readable');
    else setImmediate(wait);
  }
  wait();
  `,
  { eval: true, workerData: { fd: reactorFd(), backend } },
);
let wakes = 0;
let events = 0;
host.on('message', () => {
  wakes++;
  events += Reactor.get().dispatch();
  host.postMessage('rearm');
});

// Ordinary Async code, unaware of who drives the reactor: an echo over a socketpair.
const [client, server] = Async.socketpair();
const echo = (async () => {
  const buf = Buffer.alloc(256);
  for (let n; (n = await server.read(buf)) > 0; ) await server.write(Buffer.from(buf.subarray(0, n).toString().replace('ping', 'pong')));
})();
const buf = Buffer.alloc(256);
for (let i = 1; i <= 5; i++) {
  await client.write(Buffer.from(`ping ${i}`));
  const n = await client.read(buf);
  console.log(`sent "ping ${i}", got "${buf.subarray(0, n)}"`);
}
client.close(); // EOF for the echo side
await echo;
server.close();
host.postMessage('stop');
console.log(`${wakes} wake-ups from the host loop; dispatch() delivered ${events} events`);
