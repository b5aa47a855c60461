import { join } from 'node:path';
import { backendTargets, describeConformance, describeNativeHarness, describeSeam, describeUnserved } from '@async-io/conformance';

const targets = backendTargets('epoll', join(__dirname, '..'));
for (const t of targets) {
  describeSeam(t);
  describeConformance(t);
  // The C contract suite (packages/conformance/native) against src/epoll.c, through the front.
  describeNativeHarness({ dir: join(__dirname, 'native'), label: 'C contract suite: epoll.c' });
}
describeUnserved('epoll', targets);
