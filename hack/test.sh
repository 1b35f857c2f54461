#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (CTest labels unit, integration, e2e).
# Extra arguments go to ctest, e.g. `hack/test.sh -L unit` or `hack/test.sh -R Watch`.
set -euo pipefail
cd "$(dirname "$0")/.."

./hack/setup-deps.sh
./hack/build.sh debug
cd build
ctest --output-on-failure --timeout 300 -j "$(nproc)" "$@"
