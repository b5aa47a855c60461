#!/bin/sh
# The suite on the platform's backend, then again with the poll backend forced
# (the one-shot path the event-ports and poll backends take). Fails if either does.
set -u
status=0
vitest run || status=1
ASYNC_IO_BACKEND=poll vitest run || status=1
exit $status
