import { join } from 'node:path';
import { describeBackendPackage } from '@async-io/conformance';

// The C contract suite against src/poll.c, then poll.c's own checks, among them
// the stress test: 4 threads modifying interest on 1,000 fds while one waits.
describeBackendPackage({ name: 'poll', packageDir: join(__dirname, '..'), harness: 'C contract suite + poll.c checks' });
