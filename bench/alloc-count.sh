#!/bin/sh
# Heap allocations per wait, counted (not timed): packages/conformance/native/
# allocs.c (this tree's) built against the backend sources of a commit, on
# epoll, poll and the Linux emulations of kqueue and event ports. Linux only.
#   sh bench/alloc-count.sh            this tree
#   sh bench/alloc-count.sh 7e98a00^   the sources before the per-poller scratch
# Prints each backend's "allocs ..." line (see allocs.c). The same program runs
# as a check in every backend's C harness (make -C packages/<pkg>/test/native run).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "$rev" ]; then
  git -C "$root" archive "$rev" packages | tar -x -C "$tmp"
  src=$tmp
  label=$(git -C "$root" rev-parse --short "$rev")
else
  src=$root
  label="working tree"
fi
native=$root/packages/conformance/native
core=$src/packages/backend-core
select=
[ -f "$core/src/select.c" ] && select=$core/src/select.c # not in older trees
build() { # name, then the mechanism's sources and flags
  name=$1
  shift
  ${CC:-cc} -O1 -std=gnu11 -pthread -w -I"$core/include" -I"$core/src" -I"$native" \
    -o "$tmp/allocs-$name" "$native/allocs.c" "$@" \
    "$core/src/front.c" "$core/src/fd.c" $select \
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
  "$tmp/allocs-$name" | grep -E '^(allocs|FAIL)' || true
}
echo "allocations per aio_front_wait, sources of $label:"
build epoll "$src/packages/linux-epoll/src/epoll.c"
build poll "$src/packages/poll-fallback/src/poll.c"
build kqueue -I"$src/packages/bsd-kqueue/test/shim/include" \
  "$src/packages/bsd-kqueue/src/kqueue.c" "$src/packages/bsd-kqueue/test/shim/kqueue_shim.c"
build ports -I"$src/packages/solaris-ports/test/shim/include" -I"$src/packages/solaris-ports/test/shim" \
  "$src/packages/solaris-ports/src/port.c" "$src/packages/solaris-ports/test/shim/port_shim.c"
