/**
 * A Worker of `doctor --selftest`'s shared-Poller check (selftest.ts): waits
 * on the shared poller until told to stop, counting what it is given and
 * marking the registration the main thread leaves in place once seen.
 */
import { workerData } from 'node:worker_threads';
import { Events, type SharedPoller } from '@async-io/backend-core';
import { backendModule } from './reactor.js';

const FINAL = 0x7fff0001;
const { shared, ctl } = workerData as { shared: SharedPoller; ctl: Int32Array };
const p = backendModule().Poller.fromShared(shared);
const events = new Events(4);
const pause = new Int32Array(new SharedArrayBuffer(4));
try {
  while (Atomics.load(ctl, 0) === 0) {
    const n = p.wait(events, 50);
    for (const ev of events) {
      Atomics.add(ctl, 1, 1);
      if (ev.key === FINAL) Atomics.store(ctl, 2, 1);
    }
    // Another thread's wait is in (one at a time): ours returned at once.
    if (n === 0) Atomics.wait(pause, 0, 0, 1);
  }
} finally {
  p.close();
}
