'use strict';
// The event-ports backend's real src/port.c compiled against the Linux
// emulation in test/shim (test-only addon, built by `pnpm test`).
const path = require('node:path');
const { fromAddon } = require('@async-io/backend-core/internal');

const file = path.join(__dirname, 'shim', 'build', 'Release', 'ports_emulated.node');
module.exports = fromAddon({ addon: require(file), file, prebuilt: false });
