'use strict';
// The kqueue backend's real src/kqueue.c compiled against the Linux
// emulation in test/shim (test-only addon, built by `pnpm test`). With
// ASYNC_IO_EMULATE_PROFILE=minimal, the build against the minimal header
// profile: no EVFILT_EXCEPT (so no priority, as on FreeBSD 14 and NetBSD),
// nor EVFILT_USER, EV_DISPATCH, EV_RECEIPT (see shim/include/sys/event.h).
const path = require('node:path');
const { fromAddon } = require('@async-io/backend-core/internal');

const name = process.env.ASYNC_IO_EMULATE_PROFILE === 'minimal' ? 'kqueue_emulated_minimal' : 'kqueue_emulated';
const file = path.join(__dirname, 'shim', 'build', 'Release', `${name}.node`);
module.exports = fromAddon({ addon: require(file), file, prebuilt: false });
