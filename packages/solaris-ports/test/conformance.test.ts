import { join } from 'node:path';
import { describeBackendPackage } from '@async-io/conformance';

// The real event ports where the table says this host is served (illumos,
// Solaris); on Linux the real port.c on an emulated kernel
// (test/shim/port_shim.c, see the README), with the C contract suite and
// port.c's own checks (kernel quirks, the shim's strictness).
describeBackendPackage({
  name: 'event-ports',
  packageDir: join(__dirname, '..'),
  harness: 'C contract suite + port.c checks',
  harnessOn: 'emulated',
});
