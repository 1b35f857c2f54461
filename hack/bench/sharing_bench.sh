#!/usr/bin/env bash
# Sharing benchmarks (issue 10 §5). Builds the Release binaries, then runs
# hack/bench/sharing_bench.py against build-release/bin (the real cte-operator, local API server
# and tenant simulators on loopback).
# Usage: hack/bench/sharing_bench.sh [--scenario all|latency|idle|append|scale] [--samples N]
#          [--entries N] [--tenants N] [--configs N] [--workers N] [--keep] ...
#        (hack/bench/sharing_bench.py --help lists every option)
set -euo pipefail
cd "$(dirname "$0")/../.."
./hack/setup-deps.sh
./hack/build.sh release cte-operator local-apiserver tenant-simulator >/dev/null
exec /usr/bin/python3 hack/bench/sharing_bench.py --bin build-release/bin "$@"
