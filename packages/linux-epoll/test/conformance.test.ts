import { join } from 'node:path';
import { describeBackendPackage } from '@async-io/conformance';

// The C contract suite (packages/conformance/native) against src/epoll.c, through the front.
describeBackendPackage({ name: 'epoll', packageDir: join(__dirname, '..'), harness: 'C contract suite: epoll.c' });
