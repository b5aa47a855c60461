import { describeConformance, describeNativeHarness } from '@async-io/conformance';
import { join } from 'node:path';

// Real port.c, emulated kernel: see test/shim/port_shim.c and the README.
describeConformance({ modulePath: require.resolve('./emulated.cjs'), label: 'event-ports (emulated on Linux)' });
// The C contract suite and port.c's own checks (kernel quirks, the shim's strictness).
describeNativeHarness({ dir: join(__dirname, 'native'), label: 'C contract suite + port.c checks' });
