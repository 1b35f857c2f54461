#!/usr/bin/env bash
# The real Prometheus (Debian's `prometheus`) scrapes cte-operator on loopback, and what a user
# would ask it through its HTTP API (/api/v1/query) is right: reconciles for the four controllers,
# and the entries of the two lists the examples converge.
#
# Starts the local API server, the tenant simulator and cte-operator like hack/run-local.sh, then
# Prometheus with a generated config (scrape every 1 s), a temporary storage directory and a free
# loopback port (Prometheus cannot listen on port 0: a port the kernel just handed out is tried,
# and another one if Prometheus cannot bind it).
source "$(dirname "$0")/lib.sh"

PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || true)}
[[ -x $PROMETHEUS ]] || fail "prometheus not found (Debian package prometheus; hack/setup-deps.sh installs it)"

start_apiserver
k apply -f "$SRC_DIR/crds/" >/dev/null

cat >"$WORK/simulator.yaml" <<'YAML'
fileHashLists:
  - {name: cte-malware-hashes, hashes: []}
YAML
"$BIN_DIR/tenant-simulator" --listen 127.0.0.1:0 --config "$WORK/simulator.yaml" \
  --v1-token REPLACE-WITH-V1-TOKEN --v2-token REPLACE-WITH-V2-TOKEN \
  >"$WORK/simulator.url" 2>"$WORK/simulator.log" &
PIDS+=($!)
wait_for "tenant-simulator to print its URL" test -s "$WORK/simulator.url"
SIM=$(head -n1 "$WORK/simulator.url")

# One Malware alert from yesterday: the Netskope plugin's first poll turns it into an md5 and a
# sha256 indicator for the file-hash list.
yesterday=$(($(date +%s) - 86400))
curl -sf -o /dev/null -H 'Content-Type: application/json' "$SIM/__sim/alerts" --data-binary @- <<JSON
{"type": "malware", "alerts": [{"timestamp": $yesterday,
  "md5": "44d88612fea8a8f36de82e1278abb02f", "local_md5": "44d88612fea8a8f36de82e1278abb02f",
  "sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
  "local_sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
  "object": "eicar.com", "malware_name": "EICAR-Test-File", "malware_type": "Virus"}]}
JSON

"$BIN_DIR/cte-operator" --kubeconfig "$KUBECONFIG" --store "sqlite://$WORK/indicators.db" \
  --ingest-bind-address 127.0.0.1:0 --ingest-insecure --metrics-bind-address 127.0.0.1:0 \
  --health-probe-bind-address 127.0.0.1:0 2>"$WORK/operator.log" &
PIDS+=($!)
wait_for "cte-operator to serve /metrics" grep -q '"server":"metrics"' "$WORK/operator.log"
wait_for "cte-operator to serve the ingest API" grep -q '"server":"ingest"' "$WORK/operator.log"
METRICS=$(jq -r 'select(.server=="metrics").address' "$WORK/operator.log" | tail -n1)
INGEST=$(jq -r 'select(.server=="ingest").address' "$WORK/operator.log" | tail -n1)

for f in "$SRC_DIR"/examples/*.yaml; do
  sed "s|^  # apiBaseURL: .*|  apiBaseURL: $SIM|" "$f" | k apply -f - >/dev/null
done

auth() {
  curl -sf -d 'grant_type=client_credentials&client_id=REPLACE-WITH-CLIENT-ID&client_secret=REPLACE-WITH-CLIENT-SECRET' \
    "http://$INGEST/api/auth"
}
WAIT_SECONDS=30 wait_for "the APISource credentials to be registered" auth
TOKEN=$(auth | jq -r .access_token)
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data-binary '[{"value":"malware-drop.example.net","type":"domain","source":"threat-feed","severity":"high"},
                  {"value":"203.0.113.7","type":"ipv4","source":"threat-feed","severity":"medium"}]' \
  "http://$INGEST/api/cte/indicators"

url_list_deployed() {
  curl -sf "$SIM/__sim/urllists" | jq -e '.urlLists[] | select(.name == "cte-threat-feed") |
    .pending == false and ((.applied.urls // []) | sort) == ["203.0.113.7", "malware-drop.example.net"]'
}
hash_list_written() {
  curl -sf "$SIM/__sim/filehashlists" | jq -e '.fileHashLists[] | select(.name == "cte-malware-hashes") |
    (.hashes | length) == 2'
}
WAIT_SECONDS=60 wait_for "the URL list to hold the two pushed indicators" url_list_deployed
WAIT_SECONDS=60 wait_for "the file-hash list to hold the alert's two hashes" hash_list_written

# Prometheus on a free loopback port. The kernel hands out a port that is free now; if another
# process takes it before Prometheus binds, Prometheus exits and the next attempt picks another.
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cte-operator
    static_configs:
      - targets: ["$METRICS"]
YAML
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
prometheus_ready() { curl -sf "http://$PROM/-/ready"; }
for attempt in 1 2 3 4 5; do
  PROM=127.0.0.1:$(free_port)
  mkdir -p "$WORK/tsdb-$attempt"
  "$PROMETHEUS" --config.file "$WORK/prometheus.yml" --storage.tsdb.path "$WORK/tsdb-$attempt" \
    --web.listen-address "$PROM" >"$WORK/prometheus-$attempt.log" 2>&1 &
  prom_pid=$!
  PIDS+=("$prom_pid")
  deadline=$((SECONDS + 30))
  until prometheus_ready >/dev/null 2>&1 || ! kill -0 "$prom_pid" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "Prometheus on $PROM did not become ready: $(tail -n 5 "$WORK/prometheus-$attempt.log")"
    sleep 0.1
  done
  if prometheus_ready >/dev/null 2>&1; then break; fi
  grep -q "address already in use" "$WORK/prometheus-$attempt.log" ||
    fail "Prometheus exited: $(tail -n 5 "$WORK/prometheus-$attempt.log")"
  ((attempt < 5)) || fail "no free port for Prometheus after 5 attempts"
done

# query PROMQL: the result vector of an instant query, as JSON.
query() {
  local body
  body=$(curl -sf --get --data-urlencode "query=$1" "http://$PROM/api/v1/query") || return 1
  jq -e '.status == "success"' <<<"$body" >/dev/null || return 1
  jq -c '.data.result' <<<"$body"
}

# The scrape target is up (Prometheus parsed the exposition) once the first scrapes are in.
target_up() { query 'up{job="cte-operator"} == 1' | jq -e 'length == 1'; }
WAIT_SECONDS=30 wait_for "Prometheus to scrape cte-operator" target_up

# Each of the four kinds' controllers has reconciled its objects without error (result success,
# requeue or requeue_after: a NetskopeTenant asks to be checked again later); the tenant sync
# controller, "tenantsync", reports too.
four_controllers_reconciled() {
  query 'sum by (controller) (controller_runtime_reconcile_total{job="cte-operator",result!="error"}) > 0' |
    jq -e '["businessrule", "cteplugin", "netskopetenant", "sharingconfiguration"] -
      [.[].metric.controller] | length == 0'
}
WAIT_SECONDS=30 wait_for "controller_runtime_reconcile_total for the four controllers" \
  four_controllers_reconciled
# The converged lists' entry counts: 2 URL-list entries and 2 hashes, labelled by tenant and list.
list_entries() {
  query "cte_list_entries{job=\"cte-operator\",list=\"$1\"}" | jq -e --arg n "$2" \
    'length == 1 and .[0].value[1] == $n and (.[0].metric.tenant | test("acme"))'
}
WAIT_SECONDS=30 wait_for "cte_list_entries of url:cte-threat-feed to be 2" list_entries url:cte-threat-feed 2
WAIT_SECONDS=30 wait_for "cte_list_entries of hash:cte-malware-hashes to be 2" list_entries hash:cte-malware-hashes 2

echo "PASS: Prometheus scraped cte-operator on $METRICS and answered the queries"
