/**
 * @async-io/poll-fallback — this backend's `Poller`.
 *
 * @example
 * import { Poller, Events, pipe, write } from '@async-io/poll-fallback';
 * const poller = new Poller();
 * const [r, w] = pipe();
 * poller.add(r, 7, { readable: true });
 * write(w, Buffer.from('x'));
 * const events = new Events();
 * poller.wait(events, 1000); // 1: events.at(0).key === 7
 */
import path from 'node:path';
import { defineBackend } from '@async-io/backend-core';

const backend = defineBackend(path.join(__dirname, '..'));

export const { Poller, native, binary, pipe, socketpair, read, write, close, setNonblocking } = backend;
export type Poller = import('@async-io/backend-core').Poller;
export { Events } from '@async-io/backend-core';
export type { Interest, PollEvent, PollMode, SharedPoller, BackendName } from '@async-io/backend-core';
