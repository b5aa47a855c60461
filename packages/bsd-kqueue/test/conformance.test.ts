import { describeConformance, describeNativeHarness } from '@async-io/conformance';
import { join } from 'node:path';

// Real kqueue.c, emulated kernel: see test/shim/kqueue_shim.c and the README.
describeConformance({ modulePath: require.resolve('./emulated.cjs'), label: 'kqueue (emulated on Linux)' });
// The harness builds kqueue.c against four header profiles (FreeBSD-like,
// macOS without kqueue1, OpenBSD without EVFILT_USER, minimal) and runs each.
describeNativeHarness({ dir: join(__dirname, 'native'), label: 'kqueue.c on the shim, 4 profiles' });
