#!/usr/bin/env bash
# Starts the local development stack and shows the example objects.
#
# Today: the local API server (build/bin/local-apiserver) with crds/ and examples/ applied. The
# tenant simulator and the operator join this script as they land (see the open issues).
#
# Usage: hack/run-local.sh [--exit]
#   --exit   apply, show, then stop everything (used by the smoke test)
# Otherwise it keeps running until Ctrl-C and prints the KUBECONFIG to use from another shell.
set -euo pipefail
cd "$(dirname "$0")/.."

exit_after_show=false
if [[ ${1:-} == --exit ]]; then
  exit_after_show=true
fi

./hack/setup-deps.sh
./hack/build.sh debug local-apiserver >/dev/null

state=$(mktemp -d "${TMPDIR:-/tmp}/cte-local.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT INT TERM

./build/bin/local-apiserver --listen 127.0.0.1:0 --kubeconfig-out "$state/kubeconfig" \
  >"$state/apiserver.url" 2>"$state/apiserver.log" &
pids+=($!)
deadline=$((SECONDS + 20))
until [[ -s $state/apiserver.url ]]; do
  if ((SECONDS >= deadline)); then
    echo "local-apiserver did not start:" >&2
    cat "$state/apiserver.log" >&2
    exit 1
  fi
  sleep 0.05
done
export KUBECONFIG=$state/kubeconfig
k() { kubectl --cache-dir "$state/kube-cache" "$@"; }

echo "==> local API server on $(head -n1 "$state/apiserver.url")"
echo "==> kubectl apply -f crds/"
k apply -f crds/
echo "==> kubectl apply -f examples/"
k apply -f examples/
echo "==> kubectl get cte"
k get cte

if $exit_after_show; then
  exit 0
fi
cat <<MSG

The stack keeps running until you press Ctrl-C. From another shell:
  export KUBECONFIG=$KUBECONFIG
  kubectl get cte -A
MSG
wait "${pids[0]}"
