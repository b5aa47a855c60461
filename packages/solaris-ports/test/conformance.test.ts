import { join } from 'node:path';
import { backendTargets, describeConformance, describeNativeHarness, describeSeam, describeUnserved } from '@async-io/conformance';

// The real event ports where the table says this host is served (illumos,
// Solaris); on Linux the real port.c on an emulated kernel: see
// test/shim/port_shim.c and the README.
const targets = backendTargets('event-ports', join(__dirname, '..'));
for (const t of targets) {
  describeSeam(t);
  describeConformance(t);
  // The C contract suite and port.c's own checks (kernel quirks, the shim's strictness).
  if (t.kind === 'emulated') describeNativeHarness({ dir: join(__dirname, 'native'), label: 'C contract suite + port.c checks' });
}
describeUnserved('event-ports', targets);
