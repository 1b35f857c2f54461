#!/usr/bin/env bash
# Finalizers hold a deleted object in Terminating until removed; `kubectl get -w` streams changes;
# Secrets created by kubectl's typed generators work.
source "$(dirname "$0")/lib.sh"
start_apiserver
k apply -f "$SRC_DIR/crds/" >/dev/null
k apply -f "$SRC_DIR/examples/" >/dev/null

# kubectl create secret sends protobuf; the server must understand it.
k create secret generic extra-token --from-literal=v2-token=sekret >/dev/null
[[ $(k get secret extra-token -o jsonpath='{.data.v2-token}' | base64 -d) == sekret ]] || fail "secret data"

# --- get -w streams a change -------------------------------------------------------------
k get sharingconfigurations -w --output-watch-events >"$WORK/watch.out" 2>&1 &
PIDS+=($!)
wait_for "the watch to print its header" file_contains "$WORK/watch.out" "EVENT"
k label sharingconfiguration apisource-to-urllist e2e=watched >/dev/null
wait_for "the watch to stream the label change" file_contains "$WORK/watch.out" "MODIFIED"
expect_contains "$(cat "$WORK/watch.out")" "apisource-to-urllist"

# --- finalizer holds deletion ------------------------------------------------------------
k patch sharingconfiguration apisource-to-urllist --type=merge \
  -p '{"metadata":{"finalizers":["cte.netskope.io/retract"]}}' >/dev/null
k delete sharingconfiguration apisource-to-urllist --wait=false >/dev/null
ts=$(k get sharingconfiguration apisource-to-urllist -o jsonpath='{.metadata.deletionTimestamp}')
[[ -n $ts ]] || fail "deleted object with a finalizer has no deletionTimestamp"
# A terminating object accepts no new finalizers.
out=$(expect_failure k patch sharingconfiguration apisource-to-urllist --type=json \
  -p '[{"op":"add","path":"/metadata/finalizers/-","value":"other"}]')
expect_contains "$out" "no new finalizers can be added"
# A blocking delete waits; it must finish once the finalizer goes.
k delete sharingconfiguration apisource-to-urllist --timeout=20s >"$WORK/delete.out" 2>&1 &
delete_pid=$!
PIDS+=($delete_pid)
# Remove the finalizer with a JSON patch guarded by `test`, as the operator does.
out=$(expect_failure k patch sharingconfiguration apisource-to-urllist --type=json \
  -p '[{"op":"test","path":"/metadata/finalizers/0","value":"someone-else"},{"op":"remove","path":"/metadata/finalizers/0"}]')
expect_contains "$out" "test"
k patch sharingconfiguration apisource-to-urllist --type=json \
  -p '[{"op":"test","path":"/metadata/finalizers/0","value":"cte.netskope.io/retract"},{"op":"remove","path":"/metadata/finalizers/0"}]' >/dev/null
wait "$delete_pid" || fail "kubectl delete did not finish after the finalizer was removed: $(cat "$WORK/delete.out")"
out=$(expect_failure k get sharingconfiguration apisource-to-urllist)
expect_contains "$out" "NotFound"
wait_for "the watch to stream the deletion" file_contains "$WORK/watch.out" "DELETED"

# --- optimistic concurrency --------------------------------------------------------------
k get nst acme -o json >"$WORK/acme.json"
k label nst acme bump=1 >/dev/null
out=$(expect_failure k replace -f "$WORK/acme.json")
expect_contains "$out" "the object has been modified"
# A custom resource cannot be updated without a resourceVersion (kubectl replace fills one in,
# so this goes straight to the API).
k get nst acme -o json | jq 'del(.metadata.resourceVersion)' >"$WORK/acme-no-rv.json"
out=$(curl -s -X PUT -H 'Content-Type: application/json' --data-binary @"$WORK/acme-no-rv.json" \
  "$APISERVER_URL/apis/cte.netskope.io/v1alpha1/namespaces/default/netskopetenants/acme")
expect_contains "$out" '"code":422'
expect_contains "$out" "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
echo "PASS kubectl_lifecycle_test"
