export * from './table.js';
export * from './errors.js';
export * from './validate.js';
export { Events, type PollEvent, FLAG_READABLE, FLAG_WRITABLE, FLAG_PRIORITY, FLAG_HANGUP, FLAG_ERROR, MAX_EVENTS_CAPACITY } from './events.js';
export * from './poller.js';
export * from './native.js';
export * from './fd.js';
export * from './load.js';
export * from './backend.js';
