#!/usr/bin/env bash
# The hostile-client test: hostile_client.py (Debian's /usr/bin/python3, standard library only)
# attacks a running cte-operator's metrics, probe and ingest ports and a TLS listener (the tenant
# simulator serving HTTPS), on loopback only. Afterwards the operator must still be running and its /metrics
# must still pass promtool.
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"

# Thousands of connections: the processes started below inherit the raised descriptor limit.
ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= 12000)) || fail "the descriptor limit ($(ulimit -n)) is too low for 5,000 idle connections on each side"

start_apiserver
k apply -f "$SRC_DIR/crds/" >/dev/null

# A CA and a leaf for 127.0.0.1, for the TLS listener.
make_tls_cert
# No rate limit: the checks send bursts, and a 429 would hide what they look for.
printf 'limits:\n  v2RequestsPerSecond: 0\n' >"$WORK/sim.yaml"

"$BIN_DIR/tenant-simulator" --listen 127.0.0.1:0 --v2-token hostile-v2 --config "$WORK/sim.yaml" \
  --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" >"$WORK/sim.url" 2>"$WORK/sim.log" &
SIM_PID=$!
PIDS+=($SIM_PID)
wait_for "the simulator to print its URL" test -s "$WORK/sim.url"
TLS_ADDR=$(sed 's|^https://||' "$WORK/sim.url")

# The ingest API in plain HTTP: the framing, deadlines and caps are the same with TLS, which
# the TLS listener above covers.
cat >"$WORK/credentials.yaml" <<'YAML'
- {namespace: team-a, plugin: feed, clientId: hostile-client, clientSecret: hostile-secret-4c1d9e}
YAML
"$BIN_DIR/cte-operator" --kubeconfig "$KUBECONFIG" --metrics-bind-address 127.0.0.1:0 \
  --health-probe-bind-address 127.0.0.1:0 --store "sqlite://$WORK/indicators.db" \
  --ingest-bind-address 127.0.0.1:0 --ingest-insecure \
  --ingest-credentials-file "$WORK/credentials.yaml" 2>"$WORK/operator.log" &
OPERATOR_PID=$!
PIDS+=($OPERATOR_PID)
wait_for "the operator to serve probes" grep -q '"server":"probes"' "$WORK/operator.log"
METRICS=$(jq -r 'select(.server=="metrics").address' "$WORK/operator.log")
PROBES=$(jq -r 'select(.server=="probes").address' "$WORK/operator.log")
wait_for "the operator to serve the ingest API" grep -q '"server":"ingest"' "$WORK/operator.log"
INGEST=$(jq -r 'select(.server=="ingest").address' "$WORK/operator.log")
wait_for "the operator to answer /healthz" curl -sf "http://$PROBES/healthz"

timeout 150 /usr/bin/python3 "$SRC_DIR/tests/integration/hostile/hostile_client.py" \
  --metrics "$METRICS" --probes "$PROBES" --tls "$TLS_ADDR" --ca "$WORK/ca.crt" --token hostile-v2 \
  --ingest "$INGEST" --ingest-client hostile-client:hostile-secret-4c1d9e ||
  fail "hostile_client.py reported failures (above)"

kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator died: $(tail -5 "$WORK/operator.log")"
kill -0 "$SIM_PID" 2>/dev/null || fail "the simulator died: $(tail -5 "$WORK/sim.log")"
curl -sf "http://$METRICS/metrics" >"$WORK/scrape.txt" || fail "no /metrics after the attack"
promtool check metrics <"$WORK/scrape.txt" ||
  fail "promtool rejected the scrape: $(promtool check metrics <"$WORK/scrape.txt" 2>&1)"
! grep -q -e hostile-v2 -e hostile-secret "$WORK/sim.log" "$WORK/operator.log" ||
  fail "a token or secret reached a log"
echo "PASS hostile_client_test"
