#!/usr/bin/env bash
# The runtime as real processes against build/bin/local-apiserver: widget-operator reconciles,
# keeps caches warm on standby, elects exactly one leader, hands over within the lease duration
# after SIGKILL and within seconds after SIGTERM, passes promtool on its scrape, and never logs a
# token (neither its kubeconfig bearer token nor a token read from a Secret).
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"
start_apiserver
TESTDATA="$SRC_DIR/tests/integration/runtime/testdata"
SECRET_TOKEN="s3cr3t-token-value-7f1c"
BEARER="kube-bearer-token-b41d"

k apply -f "$TESTDATA/widget-crd.yaml" >/dev/null
k create secret generic widget-token --from-literal=token="$SECRET_TOKEN" >/dev/null
for i in 1 2 3; do
  cat <<YAML | k apply -f - >/dev/null
apiVersion: test.cte.netskope.io/v1
kind: Widget
metadata: {name: w$i}
spec: {size: $i, secretRef: {name: widget-token, key: token}}
YAML
done

# The operators authenticate with a bearer token (the local API server accepts any).
sed "s/user: {}/user: {token: $BEARER}/" "$KUBECONFIG" >"$WORK/operator-kubeconfig"

start_operator() {  # name
  "$BIN_DIR/widget-operator" --kubeconfig "$WORK/operator-kubeconfig" --leader-elect \
    --leader-election-id widget-operator --metrics-bind-address 127.0.0.1:0 \
    --health-probe-bind-address 127.0.0.1:0 --log-level debug --graceful-shutdown-timeout 5s \
    2>"$WORK/$1.log" &
  local pid=$!
  PIDS+=($pid)
  eval "${1}_PID=$pid"
  wait_for "$1 to serve probes" grep -q '"server":"probes"' "$WORK/$1.log"
  eval "${1}_PROBES=$(jq -r 'select(.server=="probes").address' "$WORK/$1.log")"
  eval "${1}_METRICS=$(jq -r 'select(.server=="metrics").address' "$WORK/$1.log")"
}
holder() { k get lease widget-operator -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
is_leader_metric() {  # metrics-address expected(0|1)
  # Read the whole scrape first: `curl | grep -q` can fail under pipefail when grep exits early.
  local scrape
  scrape=$(curl -sf "http://$1/metrics") || return 1
  grep -q "^leader_election_master_status{name=\"widget-operator\"} $2\$" <<<"$scrape"
}
reconciled() {  # widget
  [[ $(k get widget "$1" -o jsonpath='{.status.observedGeneration}') == $(k get widget "$1" -o jsonpath='{.metadata.generation}') ]]
}

start_operator a
wait_for "a to lead" is_leader_metric "$a_METRICS" 1
for i in 1 2 3; do wait_for "w$i to be reconciled" reconciled "w$i"; done
[[ $(k get widget w1 -o jsonpath='{.status.conditions[0].type}={.status.conditions[0].status}') == Ready=True ]] ||
  fail "w1 is not Ready"
[[ $(k get widget w1 -o jsonpath='{.metadata.finalizers[0]}') == test.cte.netskope.io/cleanup ]] || fail "no finalizer"
out=$(k get events.events.k8s.io -o json)
expect_contains "$out" '"reason": "Reconciled"'

# A second replica: caches warm (ready) but not leading.
start_operator b
wait_for "b to be ready while standby" curl -sf "http://$b_PROBES/readyz"
is_leader_metric "$b_METRICS" 0 || fail "b claims leadership while a leads: $(curl -s "http://$b_METRICS/metrics" | grep leader_election)"
is_leader_metric "$a_METRICS" 1 || fail "a lost leadership"
out=$(curl -s "http://$a_PROBES/healthz?verbose")
expect_contains "$out" "[+]workers ok"
expect_contains "$out" "healthz check passed"

# Metrics: controller-runtime names, accepted by promtool.
curl -sf "http://$a_METRICS/metrics" >"$WORK/scrape.txt"
promtool check metrics <"$WORK/scrape.txt" || fail "promtool rejected the scrape: $(promtool check metrics <"$WORK/scrape.txt" 2>&1)"
for metric in 'controller_runtime_reconcile_total{controller="widget",result="success"}' \
  'controller_runtime_reconcile_total{controller="widget",result="requeue_after"} 0' \
  'workqueue_adds_total{controller="widget",name="widget"}' rest_client_requests_total \
  process_resident_memory_bytes process_start_time_seconds cte_build_info; do
  grep -qF "$metric" "$WORK/scrape.txt" || fail "missing metric $metric"
done

# On-demand reconcile through the annotation; a status-only write does not loop.
k annotate widget w2 cte.netskope.io/reconcile-requested-at=run-1 >/dev/null
wait_for "lastHandledReconcileAt" bash -c "[[ \$(kubectl --cache-dir '$WORK/kube-cache' get widget w2 -o jsonpath='{.status.lastHandledReconcileAt}') == run-1 ]]"

# Changing the referenced Secret reconciles the widgets that use it (Secret -> widget index).
k delete secret widget-token >/dev/null
wait_for "w3 to report the missing secret" bash -c "[[ \$(kubectl --cache-dir '$WORK/kube-cache' get widget w3 -o jsonpath='{.status.conditions[0].reason}') == SecretMissing ]]"

# Deleting a widget runs its finalizer.
k delete widget w1 --timeout=20s >/dev/null || fail "widget deletion did not complete"

# SIGKILL the leader: b takes over within the lease duration (15 s) plus one retry period.
start=$SECONDS
kill -9 "$a_PID"
WAIT_SECONDS=20 wait_for "b to take over after SIGKILL" is_leader_metric "$b_METRICS" 1
((SECONDS - start <= 18)) || fail "takeover after SIGKILL took $((SECONDS - start)) s"

# SIGTERM while the leader is inside a slow reconcile: it stops taking work, lets the reconcile
# finish, and only then releases the lease, so c's first reconcile of that widget starts after
# b's has ended (never two replicas writing at once). Takeover: the 3 s reconcile plus a retry.
start_operator c
wait_for "c to be ready" curl -sf "http://$c_PROBES/readyz"
k apply -f - >/dev/null <<YAML
apiVersion: test.cte.netskope.io/v1
kind: Widget
metadata: {name: slow}
spec: {size: 1, reconcileMillis: 3000}
YAML
slow_log() {  # log message -> timestamps of that message for default/slow
  jq -r --arg m "$2" 'select(.msg == $m and .object == "default/slow") | .ts' "$1" 2>/dev/null
}
wait_for "b to be inside the slow reconcile" bash -c "grep -q 'slow reconcile started' '$WORK/b.log'"
start=$SECONDS
kill -TERM "$b_PID"
wait "$b_PID" && b_code=0 || b_code=$?
[[ $b_code == 0 ]] || fail "b exited with $b_code after SIGTERM"
expect_contains "$(cat "$WORK/b.log")" "released the lease"
WAIT_SECONDS=8 wait_for "c to take over after SIGTERM" is_leader_metric "$c_METRICS" 1
((SECONDS - start <= 6)) || fail "takeover after SIGTERM took $((SECONDS - start)) s"
c_started() { [[ -n $(slow_log "$WORK/c.log" "slow reconcile started") ]]; }
wait_for "c to reconcile the slow widget" c_started
b_end=$(slow_log "$WORK/b.log" "slow reconcile finished" | tail -n1)
c_begin=$(slow_log "$WORK/c.log" "slow reconcile started" | head -n1)
[[ -n $b_end ]] || fail "b did not finish its reconcile before exiting"
[[ $c_begin > $b_end ]] || fail "c began reconciling default/slow at $c_begin, before b ended at $b_end"

# A leader that cannot renew within the renew deadline (10 s) exits with status 1 at once.
admin '{"action":"respond","pathPrefix":"/apis/coordination.k8s.io/v1/namespaces/default/leases","code":503,"count":100000}'
start=$SECONDS
wait "$c_PID" && c_code=0 || c_code=$?
[[ $c_code == 1 ]] || fail "c exited with $c_code after losing the lease (want 1)"
((SECONDS - start <= 15)) || fail "c noticed the lost lease only after $((SECONDS - start)) s"
expect_contains "$(cat "$WORK/c.log")" "lost the lease"
admin '{"action":"clear"}'

# Tokens never reach the logs.
for f in "$WORK"/a.log "$WORK"/b.log "$WORK"/c.log; do
  ! grep -q "$SECRET_TOKEN" "$f" || fail "secret token leaked into $f"
  ! grep -q "$BEARER" "$f" || fail "bearer token leaked into $f"
done
grep -q '"token":"\[redacted\]"' "$WORK/a.log" || fail "the debug line about the token is missing"
echo "PASS operator_process_test"
