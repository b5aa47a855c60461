#!/bin/sh
# The pty, stream, watcher and Async suites again with poll() answering
# POLLNVAL for character devices as macOS does (test/interpose/macos_poll.c,
# preloaded) on epoll and poll, on the kqueue emulation with kqueue refusing
# them with EINVAL (KQ_SHIM_QUIRKS=device-einval), and on the event-ports
# emulation (event ports take devices, as illumos does; its recheck of queued
# events asks poll(), which goes to select() on POLLNVAL): see
# docs/platforms.md.
# Linux only (LD_PRELOAD of a glibc interposer). Reports go to
# .test-results/macos-poll/, beside the suites' own.
set -u
[ "$(uname -s)" = Linux ] || exit 0
here=$(cd "$(dirname "$0")/.." && pwd)
status=0
dir=$(mktemp -d)
so=$dir/macos_poll.so
if cc -shared -fPIC -O1 -o "$so" "$here/test/interpose/macos_poll.c" -ldl; then
  suites="test/stream.test.ts test/watch.test.ts test/async.test.ts test/devices.test.ts"
  export ASYNC_IO_TEST_RESULTS="$here/../../.test-results/macos-poll"
  ASYNC_IO_BACKEND=epoll LD_PRELOAD=$so vitest run $suites || status=1
  ASYNC_IO_BACKEND=poll LD_PRELOAD=$so vitest run $suites || status=1
  ASYNC_IO_BACKEND=kqueue KQ_SHIM_QUIRKS=device-einval LD_PRELOAD=$so vitest run $suites || status=1
  ASYNC_IO_BACKEND=event-ports LD_PRELOAD=$so vitest run $suites || status=1
else
  status=1
fi
rm -rf "$dir"
exit $status
