#!/usr/bin/env bash
# The whole product on one machine: the local API server, the tenant simulator (with the tokens
# of examples/00-tenant-secret.yaml, the file-hash list the examples push to, and a few Malware
# alerts), and cte-operator (SQLite under the run's data folder, ingest over plain HTTP on
# loopback). Applies crds/ and examples/ with kubectl, pushes sample indicators through the API
# Source with curl, waits until the tenant's lists hold them, and shows `kubectl get cte -A` and
# the lists as the simulator holds them.
#
# Usage: hack/run-local.sh [--check]
#   --check  verify convergence and exit 0 (converged) or 1 (not within the deadline); a test runs
#            it. Without it the stack keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
case ${1:-} in
  --check) check=true ;;
  "") ;;
  *) echo "usage: hack/run-local.sh [--check]" >&2; exit 2 ;;
esac

step() { echo "==> $*"; }

# CTE_BIN_DIR (set by the test that runs --check): use those binaries as they are. Building
# inside a running test suite would relink binaries other tests are starting.
if [[ -n ${CTE_BIN_DIR:-} ]]; then
  bin=$CTE_BIN_DIR
else
  step "installing what is missing and building (first run: a few minutes)"
  ./hack/setup-deps.sh >/dev/null
  ./hack/build.sh debug local-apiserver tenant-simulator cte-operator >/dev/null
  bin=./build/bin
fi

state=$(mktemp -d "${TMPDIR:-/tmp}/cte-local.XXXXXX")
mkdir -p "$state/data"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "run-local: $*" >&2
  for log in "$state"/*.log; do
    echo "--- last lines of $log" >&2
    tail -n 30 "$log" >&2
  done
  exit 1
}

# wait_until SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds; fails after the
# deadline.
wait_until() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "$what: not within the deadline"
    sleep 0.2
  done
}
first_line_of() { [[ -s $1 ]] && head -n1 "$1"; }

"$bin"/local-apiserver --listen 127.0.0.1:0 --kubeconfig-out "$state/kubeconfig" \
  >"$state/apiserver.url" 2>"$state/apiserver.log" &
pids+=($!)
wait_until 20 "local-apiserver start" first_line_of "$state/apiserver.url"
step "local API server on $(head -n1 "$state/apiserver.url")"

# The examples' placeholder tokens; the file-hash list 41-sharing-netskope-to-filehashlist.yaml
# pushes to (the v1 API cannot create one, an administrator does on a real tenant).
cat >"$state/simulator.yaml" <<'YAML'
fileHashLists:
  - {name: cte-malware-hashes, hashes: []}
YAML
"$bin"/tenant-simulator --listen 127.0.0.1:0 --config "$state/simulator.yaml" \
  --v1-token REPLACE-WITH-V1-TOKEN --v2-token REPLACE-WITH-V2-TOKEN \
  >"$state/simulator.url" 2>"$state/simulator.log" &
pids+=($!)
wait_until 20 "tenant-simulator start" first_line_of "$state/simulator.url"
sim=$(head -n1 "$state/simulator.url")
step "tenant simulator on $sim"

# Two Malware alerts from yesterday, as the acme tenant would report them; the Netskope plugin's
# first poll reaches back initialRangeDays (7) and turns them into md5 and sha256 indicators.
yesterday=$(($(date +%s) - 86400))
curl -sf -o /dev/null -H 'Content-Type: application/json' "$sim/__sim/alerts" --data-binary @- <<JSON
{"type": "malware", "alerts": [
  {"timestamp": $yesterday, "md5": "44d88612fea8a8f36de82e1278abb02f", "local_md5": "44d88612fea8a8f36de82e1278abb02f",
   "sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
   "local_sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
   "object": "eicar.com", "malware_name": "EICAR-Test-File", "malware_type": "Virus", "severity": "High"},
  {"timestamp": $((yesterday + 60)), "md5": "e1112134b6dcc8bed54e0e34d8ac272d",
   "local_md5": "e1112134b6dcc8bed54e0e34d8ac272d", "object": "invoice.xlsm",
   "malware_name": "Generic.Macro", "malware_type": "Trojan", "severity": "Medium"}]}
JSON
step "seeded 2 Malware alerts on the simulated tenant"

export KUBECONFIG=$state/kubeconfig
k() { kubectl --cache-dir "$state/kube-cache" "$@"; }

step "kubectl apply -f crds/"
k apply -f crds/ >/dev/null
"$bin"/cte-operator --kubeconfig "$KUBECONFIG" --metrics-bind-address 127.0.0.1:0 \
  --health-probe-bind-address 127.0.0.1:0 --log-format text \
  --store "sqlite://$state/data/indicators.db" --ingest-bind-address 127.0.0.1:0 \
  --ingest-insecure 2>"$state/operator.log" &
pids+=($!)
operator_address() { grep -o "server=$1 address=[0-9.:]*" "$state/operator.log" | head -n1 | cut -d= -f3; }
wait_until 20 "cte-operator start" grep -q "server=probes" "$state/operator.log"
probes=$(operator_address probes)
metrics=$(operator_address metrics)
ingest=$(operator_address ingest)
wait_until 30 "cte-operator readiness" curl -sf "http://$probes/readyz"
step "cte-operator ready: metrics http://$metrics/metrics, ingest http://$ingest (plain HTTP)"

step "kubectl apply -f examples/ (the tenant's apiBaseURL pointed at the simulator)"
for f in examples/*.yaml; do
  sed "s|^  # apiBaseURL: .*|  apiBaseURL: $sim|" "$f" | k apply -f - >/dev/null
done

step "waiting for the APISource credentials to be registered (CTEPlugin threat-feed)"
auth() {
  curl -sf -d 'grant_type=client_credentials&client_id=REPLACE-WITH-CLIENT-ID&client_secret=REPLACE-WITH-CLIENT-SECRET' \
    "http://$ingest/api/auth"
}
wait_until 30 "APISource credentials" auth
token=$(auth | jq -r .access_token)

step "pushing 4 sample indicators through the API Source, as a threat feed would"
curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data-binary '[{"value":"malware-drop.example.net","type":"domain","source":"threat-feed","severity":"high","tags":["sample"]},
                  {"value":"http://phish.example.org/login","type":"url","source":"threat-feed","severity":"critical"},
                  {"value":"203.0.113.7","type":"ipv4","source":"threat-feed","severity":"medium"},
                  {"value":"44d88612fea8a8f36de82e1278abb02f","type":"md5","source":"threat-feed","comments":"EICAR"}]' \
  "http://$ingest/api/cte/indicators"

# Converged: the URL list holds (deployed) exactly the three URL-type indicators, the file-hash
# list exactly the three hashes of the alerts, and every resource is Ready.
url_list_converged() {
  curl -sf "$sim/__sim/urllists" | jq -e '.urlLists[] | select(.name == "cte-threat-feed") |
    (.applied.urls // []) as $u | (.pending == false) and
    ($u | sort) == ([ "malware-drop.example.net", "http://phish.example.org/login", "203.0.113.7" ] | sort)'
}
hash_list_converged() {
  curl -sf "$sim/__sim/filehashlists" | jq -e '.fileHashLists[] | select(.name == "cte-malware-hashes") |
    (.hashes | sort) == ([ "44d88612fea8a8f36de82e1278abb02f", "e1112134b6dcc8bed54e0e34d8ac272d",
       "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f" ] | sort)'
}
all_ready() {
  k get netskopetenants,cteplugins,businessrules,sharingconfigurations -A -o json |
    jq -e '[.items[] | (.status.conditions // [])[] | select(.type == "Ready") | .status] as $r |
      ($r | length) == 6 and all($r[]; . == "True")'
}
step "waiting for the URL list cte-threat-feed to hold and deploy the pushed URL indicators"
wait_until 60 "URL list cte-threat-feed" url_list_converged
step "waiting for the file-hash list cte-malware-hashes to hold the alerts' hashes"
wait_until 60 "file-hash list cte-malware-hashes" hash_list_converged
step "waiting for every resource to be Ready"
wait_until 30 "Ready conditions" all_ready

step "kubectl get cte -A"
k get cte -A
echo
step "URL lists on the simulated tenant (deployed content)"
curl -sf "$sim/__sim/urllists" | jq -r '.urlLists[] | "\(.name) (id \(.id // "?")): \(.applied.urls // [] | join(", "))"'
step "file-hash lists on the simulated tenant"
curl -sf "$sim/__sim/filehashlists" | jq -r '.fileHashLists[] | "\(.name): \(.hashes | join(", "))"'
step "converged"

if $check; then
  exit 0
fi
cat <<MSG

The stack keeps running until you press Ctrl-C. From another shell:
  export KUBECONFIG=$KUBECONFIG
  kubectl get cte -A
  curl -s http://$metrics/metrics | grep ^cte_
  curl -s $sim/__sim/urllists | jq .
Ingest API (plain HTTP, local only): http://$ingest  (client_id REPLACE-WITH-CLIENT-ID)
Logs: $state/{apiserver,simulator,operator}.log
MSG
wait "${pids[0]}"
