import { describeConformance, describeNativeHarness } from '@async-io/conformance';
import { join } from 'node:path';

// Real port.c, emulated kernel: see test/shim/port_shim.c and the README.
describeConformance({ modulePath: require.resolve('./emulated.cjs'), label: 'event-ports (emulated on Linux)' });
describeNativeHarness({ dir: join(__dirname, 'native'), label: 'event-ports port.c on the shim' });
