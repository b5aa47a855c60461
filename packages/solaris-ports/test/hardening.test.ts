import { join } from 'node:path';
import { backendTargets, describeHardening, describeUnserved } from '@async-io/conformance';

// The hardening suite against the real event ports, or the real port.c on the emulated kernel (Linux).
const targets = backendTargets('event-ports', join(__dirname, '..'));
for (const t of targets) {
  describeHardening({
    modulePath: t.modulePath,
    // The shim sits on epoll, which refuses regular files and directories;
    // illumos accepts them (always ready). See test/shim/port_shim.c.
    ...(t.kind === 'emulated' ? { emulationDifferences: { 'poller.add(a regular file)': 'EPERM', 'poller.add(a directory)': 'EPERM' } } : {}),
  });
}
describeUnserved('event-ports', targets);
