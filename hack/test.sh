#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (CTest labels unit, integration, e2e).
# Extra arguments go to ctest, e.g. `hack/test.sh -L unit` or `hack/test.sh -R Watch`.
# `hack/test.sh asan [...]` does the same with the ASan+UBSan preset (build-asan/), leak checking
# on (suppressions: hack/lsan.supp), and fails when any sanitizer report was written.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=debug
if [[ ${1:-} == asan ]]; then
  preset=asan
  shift
fi
./hack/setup-deps.sh
./hack/build.sh "$preset"
if [[ $preset == asan ]]; then
  reports=build-asan/sanitizer-reports
  mkdir -p "$reports"
  rm -f "$reports"/report.*
fi
ctest --preset "$preset" --timeout 300 -j "$(nproc)" "$@"
if [[ $preset == asan ]] && compgen -G "$reports/report.*" >/dev/null; then
  echo "sanitizer reports in $reports:" >&2
  head -n 40 "$reports"/report.* >&2
  exit 1
fi
