'use strict';
// Preloaded (NODE_OPTIONS=--require) to run the facade on a backend this
// kernel lacks: with ASYNC_IO_EMULATE=kqueue or event-ports, the backend's
// package (and its /internal subpath) resolves to its real mechanism file compiled against the Linux
// emulation in that package's test/shim. Children inherit it through
// NODE_OPTIONS, so fixtures and Workers see the same backend.
const Module = require('node:module');
const path = require('node:path');

const EMULATED = {
  kqueue: ['@async-io/bsd-kqueue', path.join(__dirname, '..', '..', 'bsd-kqueue', 'test', 'emulated.cjs')],
  'event-ports': ['@async-io/solaris-ports', path.join(__dirname, '..', '..', 'solaris-ports', 'test', 'emulated.cjs')],
};
const entry = EMULATED[process.env.ASYNC_IO_EMULATE];
if (entry === undefined) throw new Error(`ASYNC_IO_EMULATE must be one of ${Object.keys(EMULATED).join(', ')}`);
const [pkg, file] = entry;
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === pkg || request === `${pkg}/internal` ? file : resolve.call(this, request, ...rest);
};
