#!/usr/bin/env bash
# Installs every system package cte-operator needs to build, test and run locally (Debian 12).
# Idempotent: when everything is present it only runs dpkg queries and returns in well under a
# second. Run as root (or with sudo available); CI and the development machines run as root.
set -euo pipefail

# prometheus-cpp-dev (1.0.1, bookworm main) is the metrics library (core only is linked). The
# `prometheus` package brings promtool for the metrics tests and the Prometheus server that
# tests/e2e/prometheus_test.sh scrapes the operator with; python3 (Debian's, /usr/bin/python3)
# and the openssl command run the hostile-client test, python3 also hack/bench/sharing_bench.py.
packages=(
  build-essential cmake ninja-build ccache pkg-config git curl jq ca-certificates
  clang-format clang-tidy
  libcpprest-dev libboost-dev libssl-dev
  libyaml-cpp-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  libsqlite3-dev libre2-dev libsimdjson-dev
  prometheus-cpp-dev
  prometheus
  python3 openssl
  # The official Python client (for /usr/bin/python3): a second real client of the local API
  # server besides kubectl (tests/e2e/python_client_test.py); its models also check the field
  # names of the chart's built-in objects (tests/deploy/).
  python3-kubernetes python3-yaml
  # hack/render-chart (Helm's template engine: text/template + sprig, no helm binary in Debian)
  # and hack/crd-docs, built offline in GOPATH mode from Debian's Go libraries.
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev golang-gopkg-yaml.v3-dev
  golang-github-xeipuuv-gojsonschema-dev
  # Runs the Argo CD health check (Lua 5.1, as Argo CD's gopher-lua) in tests/deploy/.
  lua5.1
  # Test certificates for the chart's ingest TLS Secret.
  openssl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# kubectl v1.32 ships with the development machines; Debian's kubernetes-client is the fallback.
if ! command -v kubectl >/dev/null 2>&1; then
  missing+=(kubernetes-client)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-deps: done" >&2
