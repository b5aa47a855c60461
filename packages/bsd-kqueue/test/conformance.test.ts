import { join } from 'node:path';
import { describeBackendPackage } from '@async-io/conformance';

// The real kqueue where the table says this host is served (macOS, the BSDs);
// on Linux the real kqueue.c on an emulated kernel (test/shim/kqueue_shim.c,
// see the README), with the C contract suite and kqueue.c's own checks built
// against four header profiles of the shim (FreeBSD-like, macOS without
// kqueue1, OpenBSD without EVFILT_USER, minimal).
describeBackendPackage({
  name: 'kqueue',
  packageDir: join(__dirname, '..'),
  harness: 'C contract suite + kqueue.c checks, 4 profiles',
  harnessOn: 'emulated',
});
