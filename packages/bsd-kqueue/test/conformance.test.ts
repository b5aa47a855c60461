import { join } from 'node:path';
import { backendTargets, describeConformance, describeNativeHarness, describeSeam, describeUnserved } from '@async-io/conformance';

// The real kqueue where the table says this host is served (macOS, the BSDs);
// on Linux the real kqueue.c on an emulated kernel: see test/shim/kqueue_shim.c
// and the README.
const targets = backendTargets('kqueue', join(__dirname, '..'));
for (const t of targets) {
  describeSeam(t);
  describeConformance(t);
  // The C contract suite and kqueue.c's own checks, built against four header
  // profiles of the shim (FreeBSD-like, macOS without kqueue1, OpenBSD without
  // EVFILT_USER, minimal), each run.
  if (t.kind === 'emulated') describeNativeHarness({ dir: join(__dirname, 'native'), label: 'C contract suite + kqueue.c checks, 4 profiles' });
}
describeUnserved('kqueue', targets);
