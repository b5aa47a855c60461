import { join } from 'node:path';
import { describeConformance, describeNativeHarness } from '@async-io/conformance';

describeConformance({ modulePath: require.resolve('@async-io/poll-fallback') });
// The C contract suite against src/poll.c, then poll.c's own checks, among them
// the stress test: 4 threads modifying interest on 1,000 fds while one waits.
describeNativeHarness({ dir: join(__dirname, 'native'), label: 'C contract suite + poll.c checks' });
