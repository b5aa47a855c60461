/**
 * @async-io/backend-core/internal — for the backend packages, the facade and
 * the tests of this repository only; no semver promise. The raw addon's type,
 * the loaders that build a backend from it, the argument checks and the
 * Node-style error helpers.
 */
export * from './index.js';
export * from './errors.js';
export * from './validate.js';
export { FLAG_ERROR, FLAG_GONE, FLAG_HANGUP, FLAG_PRIORITY, FLAG_READABLE, FLAG_WRITABLE, MAX_EVENTS_CAPACITY } from './events.js';
export { definePoller, interestBits, modeNumber, POLL_MODES, type DefinedPoller } from './poller.js';
export * from './native.js';
export { defineFdHelpers } from './fd.js';
export * from './load.js';
export * from './backend.js';
