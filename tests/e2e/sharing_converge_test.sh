#!/usr/bin/env bash
# The seed scenario (issue 10 §4): indicators pushed through the API Source appear, deployed, in
# the URL list; Malware alerts seeded in the tenant simulator appear as hashes in the file-hash
# list; every object is Ready. Then the scrape: the reconcile and workqueue metrics of the five
# controllers, the tenant API metrics with the tenant label, and the sharing metrics.
source "$CTE_SOURCE_DIR/tests/e2e/sharing_lib.sh"

start_sharing_stack
seed_malware_alerts
apply_sharing_objects
feed_token
push '[{"value":"malware-drop.example.net","type":"domain","source":"threat-feed","severity":"high"},
       {"value":"http://phish.example.org/login","type":"url","source":"threat-feed","severity":"critical"},
       {"value":"203.0.113.7","type":"ipv4","source":"threat-feed","severity":"medium"},
       {"value":"44d88612fea8a8f36de82e1278abb02f","type":"md5","source":"threat-feed"}]'

# The URL list holds exactly the three URL-type indicators, deployed (the md5 does not fit a URL
# list); the file-hash list exactly the three hashes of the alerts.
wait_for "URL list $URL_LIST to hold the pushed indicators, deployed" \
  url_list_is "$URL_LIST" malware-drop.example.net http://phish.example.org/login 203.0.113.7
wait_for "file-hash list $HASH_LIST to hold the alerts' hashes" \
  hash_list_is "$HASH_LIST" "$HASH_A_MD5" "$HASH_A_SHA256" "$HASH_B_MD5"
all_ready() {
  k get netskopetenants,cteplugins,businessrules,sharingconfigurations -o json |
    jq -e '[.items[] | (.status.conditions // [])[] | select(.type == "Ready") | .status] as $r |
      ($r | length) == 6 and all($r[]; . == "True")'
}
wait_for "every object to be Ready" all_ready
# The status is written after the cycle that deployed: wait for it to say what the list holds.
url_status_complete() {
  sc_json apisource-to-urllist | jq -e '.status | .lastSyncResult != "Failed" and
    .sharedCount == 3 and .matchedCount == 3 and .listEntries == 3 and (.listId | type) == "number"'
}
WAIT_SECONDS=10 wait_for "the URL-list status to say what the list holds" url_status_complete
status=$(sc_json apisource-to-urllist | jq -c .status)
[[ $(url_list_json "$URL_LIST" | jq '.[0].id') == $(jq .listId <<<"$status") ]] ||
  fail "status.listId is not the simulator's id of $URL_LIST"
hash_status_complete() {
  sc_json netskope-to-filehashlist |
    jq -e '.status | .sharedCount == 3 and .listEntries == 3 and (.listId == null)'
}
WAIT_SECONDS=10 wait_for "the file-hash-list status to say what the list holds" hash_status_complete

# Metrics after a sync. cte_indicators is computed at most every 15 s, so it may take one
# refresh to show the pushed indicators.
scrape() { curl -sf "http://$METRICS/metrics" >"$WORK/scrape.txt"; }
has_metric() { scrape && grep -qE "$1" "$WORK/scrape.txt"; }
for c in netskopetenant cteplugin businessrule sharingconfiguration tenantsync; do
  wait_for "controller_runtime_reconcile_total of $c" \
    has_metric "^controller_runtime_reconcile_total\{controller=\"$c\",result=\"[a-z_]*\"\} [1-9]"
  for m in workqueue_adds_total workqueue_depth workqueue_retries_total \
    workqueue_queue_duration_seconds_count workqueue_work_duration_seconds_count \
    workqueue_unfinished_work_seconds workqueue_longest_running_processor_seconds; do
    grep -qE "^$m\{[^}]*name=\"$c\"" "$WORK/scrape.txt" || fail "no $m for the $c controller"
  done
done
scrape
# The tenant API metrics carry the tenant's host and the endpoint: the sharing writes are there.
tenant='tenant="acme.goskope.com"'
for e in urllist_list urllist_deploy filehashlist_update alerts_malware; do
  for m in cte_tenant_api_requests_total cte_tenant_api_request_duration_seconds_count; do
    grep -E "^$m\{" "$WORK/scrape.txt" | grep -F "$tenant" | grep -F "endpoint=\"$e\"" | grep -qE '\} [1-9]' ||
      fail "no $m of endpoint $e with $tenant after a sync"
  done
done
grep -E '^cte_list_entries\{' "$WORK/scrape.txt" | grep -F "list=\"url:$URL_LIST\"" | grep -qE '\} 3$' ||
  fail "cte_list_entries does not show the URL list's 3 entries"
grep -E '^cte_list_entries\{' "$WORK/scrape.txt" | grep -F "list=\"hash:$HASH_LIST\"" | grep -qE '\} 3$' ||
  fail "cte_list_entries does not show the file-hash list's 3 entries"
grep -qE '^cte_sync_total\{[^}]*result="success"[^}]*\} [1-9]' "$WORK/scrape.txt" || fail "no successful cte_sync_total"
grep -qE '^cte_deploy_total\{[^}]*\} [1-9]' "$WORK/scrape.txt" || fail "no cte_deploy_total"
wait_for "cte_indicators to count the pushed domain" \
  has_metric '^cte_indicators\{[^}]*source="threat-feed"[^}]*type="domain"[^}]*\} 1$|^cte_indicators\{[^}]*type="domain"[^}]*source="threat-feed"[^}]*\} 1$'
grep -E '^cte_indicators\{' "$WORK/scrape.txt" | grep -F 'source="acme-netskope"' | grep -F 'type="md5"' |
  grep -F 'state="active"' | grep -qE '\} 2$' || fail "cte_indicators does not count the alerts' 2 md5 hashes"
! grep -qF -- "$V2_TOKEN" "$WORK/op.log" "$WORK/scrape.txt" || fail "a tenant token leaked"
! grep -qF -- "$V1_TOKEN" "$WORK/op.log" "$WORK/scrape.txt" || fail "a tenant token leaked"
echo "PASS sharing_converge_test"
