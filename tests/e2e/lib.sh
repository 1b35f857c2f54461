# Shared helpers for the kubectl-driven end-to-end tests. Source it, then call start_apiserver.
# Every process a test starts is killed on exit; every wait has a deadline (no sleeps for
# correctness). KEEP_WORK=1 keeps the work directory (logs, kubeconfig) for a post-mortem.
set -euo pipefail

BIN_DIR=${CTE_BIN_DIR:?CTE_BIN_DIR must point at build/bin}
SRC_DIR=${CTE_SOURCE_DIR:?CTE_SOURCE_DIR must point at the repository}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cte-e2e.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n ${KEEP_WORK:-} ]]; then
    echo "kept the work directory $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Starts build/bin/local-apiserver on 127.0.0.1:0; sets APISERVER_URL and KUBECONFIG.
start_apiserver() {
  "$BIN_DIR/local-apiserver" --listen 127.0.0.1:0 --kubeconfig-out "$WORK/kubeconfig" \
    --bookmark-interval-ms "${BOOKMARK_MS:-500}" "$@" >"$WORK/apiserver.url" 2>"$WORK/apiserver.log" &
  PIDS+=($!)
  wait_for "local-apiserver to print its URL" test -s "$WORK/apiserver.url"
  APISERVER_URL=$(head -n1 "$WORK/apiserver.url")
  export KUBECONFIG="$WORK/kubeconfig"
}

# make_tls_cert: a throwaway CA ($WORK/ca.crt) and a leaf for 127.0.0.1 signed by it
# ($WORK/tls.crt, $WORK/tls.key), for TLS listeners under test.
make_tls_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca \
    -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
    -keyout "$WORK/tls.key" -out "$WORK/tls.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$WORK/san.ext"
  openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial \
    -days 1 -extfile "$WORK/san.ext" -out "$WORK/tls.crt" 2>/dev/null
}

# kubectl with a private discovery cache so runs never see each other's kinds.
k() {
  kubectl --cache-dir "$WORK/kube-cache" "$@"
}

# wait_for DESCRIPTION COMMAND...: retries COMMAND until it succeeds or 20 s pass.
wait_for() {
  local what=$1
  shift
  local deadline=$((SECONDS + ${WAIT_SECONDS:-20}))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      fail "timed out waiting for $what"
    fi
    sleep 0.05
  done
}

expect_contains() {
  local haystack=$1 needle=$2
  [[ $haystack == *"$needle"* ]] || fail "expected to find [$needle] in:
$haystack"
}

expect_not_contains() {
  local haystack=$1 needle=$2
  [[ $haystack != *"$needle"* ]] || fail "did not expect [$needle] in:
$haystack"
}

# Runs a command that must fail; prints its combined output.
expect_failure() {
  local out
  if out=$("$@" 2>&1); then
    fail "expected failure from: $* (got: $out)"
  fi
  printf '%s' "$out"
}

file_contains() {
  grep -qF -- "$2" "$1"
}

# admin POSTs a fault-injection action to the local API server.
admin() {
  curl -sf -X POST -H 'Content-Type: application/json' -d "$1" "$APISERVER_URL/__local/faults" >/dev/null
}
