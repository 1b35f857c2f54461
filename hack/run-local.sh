#!/usr/bin/env bash
# Starts the local development stack and shows the example objects.
#
# Today: the local API server (build/bin/local-apiserver) with crds/ and examples/ applied, the
# tenant simulator (build/bin/tenant-simulator) and cte-operator (the controller runtime with warm
# caches, the indicator store and the ingest API, into which it pushes three sample indicators;
# the reconcilers join as they land, see the open issues).
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
./hack/build.sh debug local-apiserver tenant-simulator cte-operator >/dev/null

state=$(mktemp -d "${TMPDIR:-/tmp}/cte-local.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT INT TERM

# wait_for_output FILE LOG WHAT: waits (20 s at most) until FILE has content.
wait_for_output() {
  local deadline=$((SECONDS + 20))
  until [[ -s $1 ]]; do
    if ((SECONDS >= deadline)); then
      echo "$3 did not start:" >&2
      cat "$2" >&2
      exit 1
    fi
    sleep 0.05
  done
}

./build/bin/local-apiserver --listen 127.0.0.1:0 --kubeconfig-out "$state/kubeconfig" \
  >"$state/apiserver.url" 2>"$state/apiserver.log" &
pids+=($!)
wait_for_output "$state/apiserver.url" "$state/apiserver.log" local-apiserver

# Placeholder tokens, the same as examples/00-tenant-secret.yaml carries.
./build/bin/tenant-simulator --listen 127.0.0.1:0 --v1-token REPLACE-WITH-V1-TOKEN \
  --v2-token REPLACE-WITH-V2-TOKEN >"$state/simulator.url" 2>"$state/simulator.log" &
pids+=($!)
wait_for_output "$state/simulator.url" "$state/simulator.log" tenant-simulator
export KUBECONFIG=$state/kubeconfig
k() { kubectl --cache-dir "$state/kube-cache" "$@"; }

echo "==> local API server on $(head -n1 "$state/apiserver.url")"
echo "==> kubectl apply -f crds/"
k apply -f crds/
echo "==> kubectl apply -f examples/"
k apply -f examples/
echo "==> tenant simulator on $(head -n1 "$state/simulator.url")"

# The APISource plugin of examples/22-cteplugin-apisource.yaml with the placeholder credentials
# of examples/21-apisource-credentials.yaml (the CTEPlugin reconciler will read them from the
# Secret; until it lands, --ingest-credentials-file registers them).
cat >"$state/credentials.yaml" <<'YAML'
- {namespace: default, plugin: threat-feed, clientId: REPLACE-WITH-CLIENT-ID,
   clientSecret: REPLACE-WITH-CLIENT-SECRET, agingDays: 30}
YAML
./build/bin/cte-operator --kubeconfig "$KUBECONFIG" --metrics-bind-address 127.0.0.1:0 \
  --health-probe-bind-address 127.0.0.1:0 --log-format text \
  --store "sqlite://$state/indicators.db" --ingest-bind-address 127.0.0.1:0 --ingest-insecure \
  --ingest-credentials-file "$state/credentials.yaml" 2>"$state/operator.log" &
pids+=($!)
deadline=$((SECONDS + 20))
until grep -q "server=probes" "$state/operator.log" 2>/dev/null; do
  ((SECONDS < deadline)) || { cat "$state/operator.log" >&2; exit 1; }
  sleep 0.05
done
probes=$(grep -o "server=probes address=[0-9.:]*" "$state/operator.log" | cut -d= -f3)
until curl -sf "http://$probes/readyz" >/dev/null; do
  ((SECONDS < deadline)) || { echo "cte-operator did not become ready" >&2; cat "$state/operator.log" >&2; exit 1; }
  sleep 0.1
done
echo "==> cte-operator ready (caches synced): http://$probes/readyz"

# Push sample indicators through the API Source, as a threat feed would push to CE.
ingest=$(grep -o "server=ingest address=[0-9.:]*" "$state/operator.log" | cut -d= -f3)
token=$(curl -sf -d 'grant_type=client_credentials&client_id=REPLACE-WITH-CLIENT-ID&client_secret=REPLACE-WITH-CLIENT-SECRET' \
  "http://$ingest/api/auth" | jq -r .access_token)
curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data-binary '[{"value":"malware-drop.example.net","type":"domain","source":"threat-feed","severity":"high","tags":["sample"]},
                  {"value":"http://phish.example.org/login","type":"url","source":"threat-feed","severity":"critical"},
                  {"value":"44d88612fea8a8f36de82e1278abb02f","type":"md5","source":"threat-feed","comments":"EICAR"}]' \
  "http://$ingest/api/cte/indicators"
count=$(curl -sf -H "Authorization: Bearer $token" "http://$ingest/api/cte/indicators?aggregate=true" | jq .count)
echo "==> ingest API on http://$ingest (plain HTTP for this local run): $count indicators from threat-feed"

echo "==> kubectl get cte"
k get cte

if $exit_after_show; then
  exit 0
fi
cat <<MSG

The stack keeps running until you press Ctrl-C. From another shell:
  export KUBECONFIG=$KUBECONFIG
  kubectl get cte -A
Logs: $state/{apiserver,simulator,operator}.log
MSG
wait "${pids[0]}"
