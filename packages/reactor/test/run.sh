#!/bin/sh
# The facade's suite once per backend this machine can run: the platform's
# own, forced poll, and the kqueue and event-ports mechanism files on their
# Linux emulations (built here first). Fails if any run fails.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
status=0
vitest run || status=1
ASYNC_IO_BACKEND=poll vitest run || status=1
if [ "$(uname -s)" = Linux ]; then
  for emu in kqueue:bsd-kqueue event-ports:solaris-ports; do
    name=${emu%%:*} pkg=${emu#*:}
    pnpm exec node-gyp rebuild -C "$here/../$pkg/test/shim" >/dev/null || { status=1; continue; }
    ASYNC_IO_BACKEND=$name ASYNC_IO_EMULATE=$name NODE_OPTIONS="--require $here/test/emulate.cjs" vitest run || status=1
  done
fi
# The pty, stream, watcher and Async suites again with poll() answering
# POLLNVAL for character devices as macOS does (test/interpose/macos_poll.c,
# preloaded) and, on the kqueue emulation, kqueue refusing them with EINVAL
# (KQ_SHIM_QUIRKS=device-einval): see docs/platforms.md.
if [ "$(uname -s)" = Linux ]; then
  so=$(mktemp -d)/macos_poll.so
  if cc -shared -fPIC -O1 -o "$so" "$here/test/interpose/macos_poll.c" -ldl; then
    suites="test/stream.test.ts test/watch.test.ts test/async.test.ts test/devices.test.ts"
    LD_PRELOAD=$so vitest run $suites || status=1
    ASYNC_IO_BACKEND=poll LD_PRELOAD=$so vitest run $suites || status=1
    ASYNC_IO_BACKEND=kqueue ASYNC_IO_EMULATE=kqueue KQ_SHIM_QUIRKS=device-einval \
      NODE_OPTIONS="--require $here/test/emulate.cjs" LD_PRELOAD=$so vitest run $suites || status=1
  else
    status=1
  fi
  rm -rf "$(dirname "$so")"
fi
exit $status
