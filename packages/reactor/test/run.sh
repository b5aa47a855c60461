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
exit $status
