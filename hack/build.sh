#!/usr/bin/env bash
# Configures (once) and builds cte-operator into build/; every executable lands in build/bin/.
# Usage: hack/build.sh [preset] [targets...]   (preset: debug (default), release, asan)
set -euo pipefail
cd "$(dirname "$0")/.."

# Paths relative to the checkout, so worktrees and fresh clones share ccache entries.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}

preset=${1:-debug}
shift || true
case $preset in
  debug) dir=build ;;
  *) dir=build-$preset ;;
esac

if [[ ! -f $dir/build.ninja ]]; then
  cmake --preset "$preset" >/dev/null
fi
jobs=$(nproc)
if (($# > 0)); then
  cmake --build "$dir" -j "$jobs" --target "$@"
else
  cmake --build "$dir" -j "$jobs"
fi
