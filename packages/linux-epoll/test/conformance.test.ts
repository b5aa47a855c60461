import { join } from 'node:path';
import { describeConformance, describeNativeHarness } from '@async-io/conformance';

describeConformance({ modulePath: require.resolve('@async-io/linux-epoll') });
// The C contract suite (packages/conformance/native) against src/epoll.c, through the front.
describeNativeHarness({ dir: join(__dirname, 'native'), label: 'C contract suite: epoll.c' });
