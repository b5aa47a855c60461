import { join } from 'node:path';
import { describeConformance, describeNativeHarness } from '@async-io/conformance';

describeConformance({ modulePath: require.resolve('@async-io/poll-fallback') });
// The C harness includes the stress test: 4 threads modifying
// interest on 1,000 fds while one waits, counting every event and notify.
describeNativeHarness({ dir: join(__dirname, 'native'), label: 'poll.c', command: ['sh', 'run.sh'] });
