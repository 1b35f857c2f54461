#!/usr/bin/env bash
# A tenant in trouble (issue 10 §4): the URL-list API answers 429 with Retry-After, then 500, for
# a while. Meanwhile the SharingConfiguration's status shows it (lastSyncResult Failed, Ready
# False with reason SyncFailed); once the tenant recovers the list converges without any change
# to the objects, although syncInterval is the default 10m (a failed cycle is retried with
# backoff, not at the next drift check). The simulator's request log shows the operator never
# exceeded the simulator's rate limit (the tenant's v2 limit is not published; the simulator
# uses a low one): every 429 it got was an injected one.
source "$CTE_SOURCE_DIR/tests/e2e/sharing_lib.sh"

start_sharing_stack
apply_sharing_objects 10m Shared
feed_token
push '[{"value":"before.example.net","type":"domain","source":"threat-feed","severity":"high"}]'
wait_for "the first indicator, deployed" url_list_is "$URL_LIST" before.example.net
wait_for "Ready=True Synced" sc_ready apisource-to-urllist True Synced

# 429 on every URL-list call, asking for a 1 s pause: the client waits it out a few times, then
# the cycle fails and the status says so.
sim POST /__sim/faults '{"path":"/api/v2/policy/urllist*","method":"*","count":-1,"kind":"429","retryAfter":1}' >/dev/null
push '[{"value":"during.example.net","type":"domain","source":"threat-feed","severity":"high"}]'
failed() {
  sc_json apisource-to-urllist | jq -e '.status.lastSyncResult == "Failed" and
    any(.status.conditions[]; .type == "Ready" and .status == "False" and .reason == "SyncFailed")'
}
wait_for "the status to show the failed sync (429)" failed
message=$(sc_json apisource-to-urllist | jq -r '.status.conditions[] | select(.type == "Ready") | .message')
expect_contains "$message" "429"
# (The scrape is read whole first: `curl | grep -q` fails under pipefail when grep stops early.)
scrape=$(curl -sf "http://$METRICS/metrics")
grep -qE '^cte_tenant_api_throttled_total\{[^}]*tenant="acme.goskope.com"[^}]*\} [1-9]' <<<"$scrape" ||
  fail "cte_tenant_api_throttled_total does not count the 429s"

# Then 500s for a while: still failing, now for another reason.
sim DELETE /__sim/faults >/dev/null
sim POST /__sim/faults '{"path":"/api/v2/policy/urllist*","method":"*","count":-1,"kind":"500"}' >/dev/null
failed_500() {
  sc_json apisource-to-urllist | jq -e '.status.lastSyncResult == "Failed" and
    any(.status.conditions[]; .type == "Ready" and .reason == "SyncFailed" and (.message | test("500")))'
}
wait_for "the status to show the failed sync (500)" failed_500
url_list_is "$URL_LIST" before.example.net || fail "the list changed while the tenant failed"

# Recovery: nothing changes on our side, the list converges and the status clears.
sim DELETE /__sim/faults >/dev/null
wait_for "the list to converge after the tenant recovered" \
  url_list_is "$URL_LIST" before.example.net during.example.net
wait_for "Ready=True Synced after the recovery" sc_ready apisource-to-urllist True Synced

# The simulator's rate limit was never exceeded: its limiter refused nothing, so every 429 in the
# log is one the test injected.
log=$(sim GET /__sim/requests)
injected=$(jq '[.requests[] | select(.status == 429 and .fault != null and .fault != "")] | length' <<<"$log")
limited=$(jq -c '[.requests[] | select(.status == 429 and (.fault == null or .fault == ""))]' <<<"$log")
((injected > 0)) || fail "no injected 429 reached the operator"
[[ $limited == "[]" ]] || fail "the simulator's own rate limiter refused the operator: $limited"
echo "PASS sharing_faults_test ($injected injected 429s)"
