import { describeConformance, describeNativeHarness } from '@async-io/conformance';
import { join } from 'node:path';

// Real kqueue.c, emulated kernel: see test/shim/kqueue_shim.c and the README.
describeConformance({ modulePath: require.resolve('./emulated.cjs'), label: 'kqueue (emulated on Linux)' });
// The C contract suite and kqueue.c's own checks, built against four header
// profiles of the shim (FreeBSD-like, macOS without kqueue1, OpenBSD without
// EVFILT_USER, minimal), each run.
describeNativeHarness({ dir: join(__dirname, 'native'), label: 'C contract suite + kqueue.c checks, 4 profiles' });
