# Helpers for the sharing end-to-end tests (issue 10 §4): the local API server, the tenant
# simulator and cte-operator with a store, the objects of examples/ (tenant, Netskope and
# APISource plugins, a rule, a URL-list and a file-hash-list SharingConfiguration) pointed at the
# simulator, and readers of the simulator's lists and the objects' status. Sources lib.sh and
# ingest_lib.sh; on a failure the simulator's lists and the objects' status are printed.
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"
source "$CTE_SOURCE_DIR/tests/e2e/ingest_lib.sh"
trap 'rc=$?; ((rc == 0)) || show_state; cleanup' EXIT

V1_TOKEN=sim-v1-token-4c1d
V2_TOKEN=sim-v2-token-9e2b
CLIENT_ID=feed-client
CLIENT_SECRET=feed-secret-71a3
URL_LIST=cte-threat-feed
HASH_LIST=cte-malware-hashes
# Every convergence wait: generous, since the tests share two busy cores with others.
export WAIT_SECONDS=${WAIT_SECONDS:-60}

# start_simulator: the tenant simulator with the file-hash list the examples push to (the v1 API
# cannot create one) and $SIM_CONFIG (YAML) appended to its config; sets SIM.
start_simulator() {
  {
    printf 'fileHashLists:\n  - {name: %s, hashes: []}\n' "$HASH_LIST"
    printf '%s\n' "${SIM_CONFIG:-}"
  } >"$WORK/simulator.yaml"
  "$BIN_DIR/tenant-simulator" --listen 127.0.0.1:0 --config "$WORK/simulator.yaml" \
    --v1-token "$V1_TOKEN" --v2-token "$V2_TOKEN" >"$WORK/simulator.url" 2>"$WORK/simulator.log" &
  PIDS+=($!)
  wait_for "tenant-simulator to print its URL" test -s "$WORK/simulator.url"
  SIM=$(head -n1 "$WORK/simulator.url")
}

# sim METHOD PATH [JSON]: a call to the simulator's /__sim/ test API; prints the answer.
sim() {
  local args=(-sf -X "$1")
  if [[ -n ${3:-} ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
  curl "${args[@]}" "$SIM$2"
}

# tenant_v2 METHOD PATH [JSON]: a call to the tenant's v2 API with its token, as an
# administrator's script would make it; prints the answer.
tenant_v2() {
  local args=(-sf -X "$1" -H "Netskope-Api-Token: $V2_TOKEN")
  if [[ -n ${3:-} ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
  curl "${args[@]}" "$SIM$2"
}

# seed_malware_alerts: two Malware alerts from yesterday (three distinct hashes), which the
# Netskope plugin's first poll (initialRangeDays 7) turns into md5 and sha256 indicators.
HASH_A_MD5=44d88612fea8a8f36de82e1278abb02f
HASH_A_SHA256=275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f
HASH_B_MD5=e1112134b6dcc8bed54e0e34d8ac272d
seed_malware_alerts() {
  local t=$(($(date +%s) - 86400))
  sim POST /__sim/alerts "{\"type\": \"malware\", \"alerts\": [
    {\"timestamp\": $t, \"md5\": \"$HASH_A_MD5\", \"local_md5\": \"$HASH_A_MD5\",
     \"sha256\": \"$HASH_A_SHA256\", \"local_sha256\": \"$HASH_A_SHA256\", \"object\": \"eicar.com\",
     \"malware_name\": \"EICAR-Test-File\", \"malware_type\": \"Virus\", \"severity\": \"High\"},
    {\"timestamp\": $((t + 60)), \"md5\": \"$HASH_B_MD5\", \"local_md5\": \"$HASH_B_MD5\",
     \"object\": \"invoice.xlsm\", \"malware_name\": \"Generic.Macro\", \"malware_type\": \"Trojan\",
     \"severity\": \"Medium\"}]}" >/dev/null
}

# start_sharing_operator NAME [flags...]: cte-operator with the store $STORE (default
# $WORK/indicators.db), no static credentials (the APISource plugin's Secret registers them) and
# a short debounce; sets INGEST, METRICS and NAME_PID (ingest_lib.sh's start_operator).
start_sharing_operator() {
  [[ -f $WORK/credentials.yaml ]] || echo '[]' >"$WORK/credentials.yaml"
  local name=$1
  shift
  start_operator "$name" --sync-debounce 0s "$@"
}

# start_sharing_stack [operator flags...]: the local API server with the CRDs, the simulator and
# one operator named op.
start_sharing_stack() {
  start_apiserver
  start_simulator
  k apply -f "$SRC_DIR/crds/" >/dev/null
  start_sharing_operator op "$@"
}

# apply_sharing_objects [SYNC_INTERVAL] [OWNERSHIP]: the CRDs and the examples' objects, with
# the tenant's apiBaseURL on the simulator, the simulator's tokens and client credentials of our
# own; both SharingConfigurations get SYNC_INTERVAL (default 10m) and the URL-list one OWNERSHIP
# (default Shared).
apply_sharing_objects() {
  local interval=${1:-10m} ownership=${2:-Shared}
  k apply -f "$SRC_DIR/crds/" >/dev/null
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: acme-tenant-tokens}
stringData: {v1-token: $V1_TOKEN, v2-token: $V2_TOKEN}
---
apiVersion: cte.netskope.io/v1alpha1
kind: NetskopeTenant
metadata: {name: acme}
spec:
  tenantName: acme.goskope.com
  apiBaseURL: $SIM
  v1TokenSecretRef: {name: acme-tenant-tokens, key: v1-token}
  v2TokenSecretRef: {name: acme-tenant-tokens, key: v2-token}
---
apiVersion: cte.netskope.io/v1alpha1
kind: CTEPlugin
metadata: {name: acme-netskope}
spec:
  type: Netskope
  tenantRef: {name: acme}
  netskope: {enablePolling: true, threatDataType: Malware, pollInterval: 5m}
---
apiVersion: v1
kind: Secret
metadata: {name: threat-feed-credentials}
stringData: {client_id: $CLIENT_ID, client_secret: $CLIENT_SECRET}
---
apiVersion: cte.netskope.io/v1alpha1
kind: CTEPlugin
metadata: {name: threat-feed}
spec:
  type: APISource
  agingDays: 30
  apiSource:
    credentialsSecretRef: {name: threat-feed-credentials}
---
apiVersion: cte.netskope.io/v1alpha1
kind: BusinessRule
metadata: {name: every-severity}
spec:
  filter:
    all:
      - {field: severity, operator: In, values: [unknown, low, medium, high, critical]}
---
apiVersion: cte.netskope.io/v1alpha1
kind: SharingConfiguration
metadata: {name: apisource-to-urllist}
spec:
  sourcePluginRef: {name: threat-feed}
  businessRuleRef: {name: every-severity}
  destinationPluginRef: {name: acme-netskope}
  target: {type: URLList, listName: $URL_LIST, urlListType: exact}
  syncInterval: $interval
  ownership: $ownership
  deletionPolicy: Retract
---
apiVersion: cte.netskope.io/v1alpha1
kind: SharingConfiguration
metadata: {name: netskope-to-filehashlist}
spec:
  sourcePluginRef: {name: acme-netskope}
  businessRuleRef: {name: every-severity}
  destinationPluginRef: {name: acme-netskope}
  target: {type: FileHashList, listName: $HASH_LIST}
  ownership: Exclusive
  syncInterval: $interval
YAML
}

# feed_token: a bearer token of the APISource plugin threat-feed, once its credentials are
# registered (the CTEPlugin reconciler reads the Secret); sets FEED_TOKEN.
feed_token() {
  wait_for "the APISource credentials to be registered" token "$CLIENT_ID" "$CLIENT_SECRET"
  FEED_TOKEN=$(token "$CLIENT_ID" "$CLIENT_SECRET")
  [[ -n $FEED_TOKEN && $FEED_TOKEN != null ]] || fail "no token for $CLIENT_ID"
}
# push JSON_ARRAY: POSTs indicators of source threat-feed (the token's plugin); fails unless 201.
push() {
  printf '%s' "$1" >"$WORK/push.json"
  local out
  out=$(api "$FEED_TOKEN" POST /api/cte/indicators "$WORK/push.json")
  [[ ${out%% *} == 201 ]] || fail "push refused: $out"
}

# url_list_json NAME: the simulator's record of URL list NAME (staged urls, applied, pending).
url_list_json() {
  sim GET /__sim/urllists | jq -c --arg n "$1" '[.urlLists[] | select(.name == $n and (.deleted | not))]'
}
# deployed_urls NAME: the deployed entries of the one live list NAME, one per line (fails when
# there is no such list, more than one, or it has undeployed changes).
deployed_urls() {
  url_list_json "$1" | jq -er 'if length == 1 and (.[0].pending | not) then .[0].applied.urls[]
                               else error("not one deployed list") end'
}
# url_list_is NAME VALUE...: the deployed list NAME holds exactly these entries (any order).
url_list_is() {
  local name=$1
  shift
  local want got
  want=$(printf '%s\n' "$@" | sort)
  got=$(deployed_urls "$name" | sort) || return 1
  [[ $got == "$want" ]]
}
# hash_list_is NAME HASH...: the file-hash list NAME holds exactly these hashes.
hash_list_is() {
  local name=$1
  shift
  local want got
  want=$(printf '%s\n' "$@" | sort)
  got=$(sim GET /__sim/filehashlists | jq -r --arg n "$name" '.fileHashLists[] | select(.name == $n) | .hashes[]' | sort)
  [[ $got == "$want" ]]
}

# sc_json NAME: the SharingConfiguration as JSON.
sc_json() { k get sharingconfiguration "$1" -o json; }
# sc_ready NAME STATUS REASON: its Ready condition has this status and reason.
sc_ready() {
  sc_json "$1" | jq -e --arg s "$2" --arg r "$3" \
    '.status.conditions[]? | select(.type == "Ready") | .status == $s and .reason == $r'
}

# show_state: what the simulator holds and the objects' status, for a failure's post-mortem.
show_state() {
  echo "--- simulator URL lists" >&2
  sim GET /__sim/urllists | jq -c '.urlLists[]' >&2 || true
  echo "--- simulator file-hash lists" >&2
  sim GET /__sim/filehashlists | jq -c '.fileHashLists[]' >&2 || true
  echo "--- SharingConfigurations" >&2
  k get sharingconfigurations -o json | jq -c '.items[] | {name: .metadata.name, status}' >&2 || true
}
