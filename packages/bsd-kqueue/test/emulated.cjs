'use strict';
// The kqueue backend's real src/kqueue.c compiled against the Linux
// emulation in test/shim (test-only addon, built by `pnpm test`).
const path = require('node:path');
const { fromAddon } = require('@async-io/backend-core/internal');

const file = path.join(__dirname, 'shim', 'build', 'Release', 'kqueue_emulated.node');
module.exports = fromAddon({ addon: require(file), file, prebuilt: false });
