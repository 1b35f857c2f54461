#!/usr/bin/env bash
# Controller-runtime benchmark (issue 3). Builds Release, then runs build-release/bin/runtime-bench.
# Usage: hack/bench/runtime_bench.sh [--objects N] [--idle-seconds S] [--workers W]
set -euo pipefail
cd "$(dirname "$0")/../.."
./hack/setup-deps.sh
./hack/build.sh release runtime-bench widget-operator >/dev/null
exec ./build-release/bin/runtime-bench "$@"
