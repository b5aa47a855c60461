import { describeHardening } from '@async-io/conformance';

// The hardening suite against the real port.c on the emulated kernel.
describeHardening({
  modulePath: require.resolve('./emulated.cjs'),
  // The shim sits on epoll, which refuses regular files and directories;
  // illumos accepts them (always ready). See test/shim/port_shim.c.
  emulationDifferences: { 'poller.add(a regular file)': 'EPERM', 'poller.add(a directory)': 'EPERM' },
});
