/**
 * @async-io/bsd-kqueue — this backend's `Poller`.
 *
 * @example
 * import { Poller, Events, pipe, write } from '@async-io/bsd-kqueue';
 * const poller = new Poller();
 * const [r, w] = pipe();
 * poller.add(r, 7, { readable: true });
 * write(w, Buffer.from('x'));
 * const events = new Events();
 * poller.wait(events, 1000); // 1: events.at(0).key === 7
 */
import backend = require('./internal.js');

export const { Poller, pipe, socketpair, read, write, close, setNonblocking } = backend;
export type Poller = import('@async-io/backend-core').Poller;
export { Events } from '@async-io/backend-core';
export type { Interest, PollEvent, PollMode, SharedPoller, BackendName } from '@async-io/backend-core';
