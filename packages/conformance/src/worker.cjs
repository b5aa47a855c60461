'use strict';
// Runs a small script of poller operations in a Worker thread against a
// poller shared from the main thread. Used by the cross-thread tests.
const { workerData, parentPort } = require('node:worker_threads');

const backend = require(workerData.modulePath);
const poller = backend.Poller.fromShared(workerData.shared);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

try {
  for (const step of workerData.steps) {
    switch (step.op) {
      case 'sleep':
        Atomics.wait(sleeper, 0, 0, step.ms);
        break;
      case 'notify':
        poller.notify();
        break;
      case 'add':
        poller.add(step.fd, step.key, step.interest, step.mode);
        break;
      case 'modify':
        poller.modify(step.fd, step.key, step.interest, step.mode);
        break;
      case 'delete':
        poller.delete(step.fd);
        break;
      case 'write':
        backend.write(step.fd, Buffer.from(step.data));
        break;
      case 'waitLoop': {
        // Waits in a loop (as a pool of waiter threads would) until the main
        // thread sets stop[0].
        const stop = new Int32Array(step.stop);
        Atomics.add(stop, 1, 1); // started
        const events = new (backend.Events || require('@async-io/backend-core').Events)(64);
        while (Atomics.load(stop, 0) === 0) {
          poller.wait(events, step.timeoutMs);
        }
        break;
      }
      case 'repeat':
        // Hammer: modify interest on many fds, `rounds` times, then notify.
        for (let r = 0; r < step.rounds; r++) {
          for (const fd of step.fds) poller.modify(fd, fd, { readable: true }, 'oneshot');
        }
        break;
      default:
        throw new Error(`unknown step ${step.op}`);
    }
  }
  poller.close();
  parentPort.postMessage({ ok: true });
} catch (error) {
  parentPort.postMessage({ ok: false, message: String(error && error.stack), code: error && error.code });
}
