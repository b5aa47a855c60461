// The W2 waker thread (see lib.mjs Waker).
const { workerData, parentPort } = require('node:worker_threads');

const flags = new Int32Array(workerData.sab, 0, 4);
const t0 = new BigInt64Array(workerData.sab, 16, 1);
const gap = new Int32Array(new SharedArrayBuffer(4));
let wake;
if (workerData.kind === 'notify') {
  const { Poller } = require(workerData.pkg);
  const poller = Poller.fromShared(workerData.shared);
  wake = () => poller.notify();
} else if (workerData.kind === 'write') {
  const { write } = require(workerData.pkg);
  const one = Buffer.from('x');
  wake = () => write(workerData.fd, one);
} else {
  wake = () => {
    Atomics.store(flags, 2, 1);
    Atomics.notify(flags, 2);
  };
}
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(flags, 0, 0);
  if (Atomics.load(flags, 1)) break;
  Atomics.store(flags, 0, 0);
  Atomics.wait(gap, 0, 0, 0.2); // 200 us: let the main thread block
  t0[0] = process.hrtime.bigint();
  wake();
}
