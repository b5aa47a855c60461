import { join } from 'node:path';
import { backendTargets, describeConformance, describeNativeHarness, describeSeam, describeUnserved } from '@async-io/conformance';

const targets = backendTargets('poll', join(__dirname, '..'));
for (const t of targets) {
  describeSeam(t);
  describeConformance(t);
  // The C contract suite against src/poll.c, then poll.c's own checks, among them
  // the stress test: 4 threads modifying interest on 1,000 fds while one waits.
  describeNativeHarness({ dir: join(__dirname, 'native'), label: 'C contract suite + poll.c checks' });
}
describeUnserved('poll', targets);
