#!/bin/sh
# Builds and runs the native harness for src/poll.c.
#   run.sh              all checks, stress test included
#   run.sh --valgrind   also the short checks under valgrind (if installed)
#   run.sh --tsan       also everything under ThreadSanitizer
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(cd "$here/../.." && pwd)
inc=$(cd "$pkg/../backend-core/include" && pwd)
out=${TMPDIR:-/tmp}/aio-poll-harness.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT INT TERM
CC=${CC:-cc}
flags="-Wall -Wextra -Werror -pthread -g -I$inc -I$inc/../src"

# shellcheck disable=SC2086
$CC $flags -O2 -o "$out/harness" "$here/harness.c" "$pkg/src/poll.c" "$pkg/../backend-core/src/fd.c" "$pkg/../backend-core/src/front.c"
"$out/harness"

for opt in "$@"; do
  case $opt in
    --valgrind)
      echo "# valgrind, short checks"
      # shellcheck disable=SC2086
      $CC $flags -O0 -o "$out/harness-vg" "$here/harness.c" "$pkg/src/poll.c" "$pkg/../backend-core/src/fd.c" "$pkg/../backend-core/src/front.c"
      valgrind -q --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite "$out/harness-vg" --short
      ;;
    --tsan)
      echo "# ThreadSanitizer"
      # shellcheck disable=SC2086
      $CC $flags -O1 -fsanitize=thread -o "$out/harness-tsan" \
        "$here/harness.c" "$pkg/src/poll.c" "$pkg/../backend-core/src/fd.c" "$pkg/../backend-core/src/front.c"
      "$out/harness-tsan"
      ;;
    *) echo "unknown option: $opt" >&2; exit 2 ;;
  esac
done
