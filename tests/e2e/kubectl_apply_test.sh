#!/usr/bin/env bash
# kubectl applies crds/ and examples/ with default (strict) validation; the example objects show up
# under the `cte` category with their printer columns; explain teaches the API; bad input is
# rejected naming the field.
source "$(dirname "$0")/lib.sh"
start_apiserver

out=$(k apply -f "$SRC_DIR/crds/")
expect_contains "$out" "customresourcedefinition.apiextensions.k8s.io/sharingconfigurations.cte.netskope.io created"
out=$(k apply -f "$SRC_DIR/examples/")
expect_contains "$out" "netskopetenant.cte.netskope.io/acme created"
expect_contains "$out" "businessrule.cte.netskope.io/every-severity created"

# Re-applying unchanged custom resources changes nothing.
out=$(k apply -f "$SRC_DIR/examples/")
expect_contains "$out" "netskopetenant.cte.netskope.io/acme unchanged"

out=$(k get cte -A)
for column in NAMESPACE READY TENANT TYPE SOURCE RULE DESTINATION LIST SHARED "LAST SYNC" AGE MUTED; do
  expect_contains "$out" "$column"
done
expect_contains "$out" "netskopetenant.cte.netskope.io/acme"
expect_contains "$out" "acme.goskope.com"
expect_contains "$out" "businessrule.cte.netskope.io/every-severity"
expect_contains "$out" "sharingconfiguration.cte.netskope.io/apisource-to-urllist"
expect_contains "$out" "cteplugin.cte.netskope.io/threat-feed"

# Short names resolve through discovery.
out=$(k get nst acme -o jsonpath='{.spec.initialRangeDays}')
[[ $out == 7 ]] || fail "initialRangeDays default: want 7, got $out"

out=$(k explain sharingconfiguration.spec.target)
expect_contains "$out" "KIND:       SharingConfiguration"
expect_contains "$out" "listName"
expect_contains "$out" "enum: URLList, FileHashList"

# Out-of-range value: rejected, message names the field and the bound.
cat >"$WORK/bad-range.yaml" <<'YAML'
apiVersion: cte.netskope.io/v1alpha1
kind: NetskopeTenant
metadata:
  name: bad-range
spec:
  tenantName: acme.goskope.com
  initialRangeDays: 400
  v1TokenSecretRef: {name: acme-tenant-tokens, key: v1-token}
YAML
out=$(expect_failure k apply -f "$WORK/bad-range.yaml")
expect_contains "$out" "spec.initialRangeDays: Invalid value: 400"
expect_contains "$out" "less than or equal to 365"

# Unknown field: strict validation rejects it by name.
sed 's/initialRangeDays: 400/initialRangeDays: 30\n  tenantNmae: typo.goskope.com/' \
  "$WORK/bad-range.yaml" >"$WORK/bad-field.yaml"
out=$(expect_failure k apply -f "$WORK/bad-field.yaml")
expect_contains "$out" 'unknown field "spec.tenantNmae"'

# Enum violation on an existing object is rejected and the stored object is unchanged.
out=$(expect_failure k patch ctep threat-feed --type=merge -p '{"spec":{"type":"Elsewhere"}}')
expect_contains "$out" 'spec.type: Unsupported value: "Elsewhere"'
[[ $(k get ctep threat-feed -o jsonpath='{.spec.type}') == APISource ]] || fail "rejected patch changed the object"

# Server-side apply creates and updates, recording the field manager.
cat >"$WORK/ssa.yaml" <<'YAML'
apiVersion: cte.netskope.io/v1alpha1
kind: BusinessRule
metadata:
  name: high-only
spec:
  filter:
    all:
    - {field: severity, operator: In, values: [high, critical]}
YAML
k apply --server-side --field-manager=e2e -f "$WORK/ssa.yaml" >/dev/null
sed -i 's/muted: true//; $a\  muted: true' "$WORK/ssa.yaml"
k apply --server-side --field-manager=e2e -f "$WORK/ssa.yaml" >/dev/null
[[ $(k get businessrule high-only -o jsonpath='{.spec.muted}') == true ]] || fail "server-side apply update lost"
out=$(k get businessrule high-only -o jsonpath='{.metadata.managedFields[*].manager}' --show-managed-fields)
expect_contains "$out" "e2e"

# Status subresource: a main-resource write cannot change status; spec changes bump generation.
gen=$(k get nst acme -o jsonpath='{.metadata.generation}')
k patch nst acme --type=merge -p '{"spec":{"initialRangeDays":9},"status":{"observedGeneration":99}}' >/dev/null
[[ $(k get nst acme -o jsonpath='{.metadata.generation}') == $((gen + 1)) ]] || fail "generation did not move"
[[ -z $(k get nst acme -o jsonpath='{.status.observedGeneration}') ]] || fail "main resource wrote status"
k patch nst acme --subresource=status --type=merge -p '{"status":{"observedGeneration":2}}' >/dev/null
[[ $(k get nst acme -o jsonpath='{.status.observedGeneration}') == 2 ]] || fail "status write lost"
[[ $(k get nst acme -o jsonpath='{.metadata.generation}') == $((gen + 1)) ]] || fail "status write moved generation"

# Deleting a CRD removes its kind (kubectl may still know the name from its discovery cache, so
# the answer is either "no such resource type" or a 404 for the resource).
k delete -f "$SRC_DIR/crds/businessrule.yaml" >/dev/null
out=$(expect_failure k get businessrules)
[[ $out == *"doesn't have a resource type"* || $out == *NotFound* ]] || fail "businessrules still served: $out"
out=$(k api-resources --api-group=cte.netskope.io)
expect_not_contains "$out" "businessrules"
echo "PASS kubectl_apply_test"
