#!/usr/bin/env bash
# Indicator store and ingest API benchmark (issue 9). Builds Release, makes a throwaway CA and a
# certificate for 127.0.0.1, then runs build-release/bin/ingest-bench.
# Usage: hack/bench/ingest_bench.sh [--rows N] [--dir DIR] [--clients C] [--batch B] [--perf FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
./hack/setup-deps.sh
./hack/build.sh release ingest-bench cte-operator >/dev/null
tls=$(mktemp -d "${TMPDIR:-/tmp}/ingest-bench-tls.XXXXXX")
trap 'rm -rf "$tls"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench-ca \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
  -keyout "$tls/tls.key" -out "$tls/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$tls/san.ext"
openssl x509 -req -in "$tls/tls.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
  -days 1 -extfile "$tls/san.ext" -out "$tls/tls.crt" 2>/dev/null
./build-release/bin/ingest-bench --tls-cert "$tls/tls.crt" --tls-key "$tls/tls.key" \
  --ca "$tls/ca.crt" "$@"
