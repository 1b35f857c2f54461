#!/usr/bin/env bash
# SIGKILL in the middle of a sync (issue 10 §4). The tenant holds a list write (a `latency`
# fault) so the kill lands while it is in flight; the tenant still applies it afterwards, as a
# real one would. Twice: during the URL list's create (on a tenant that does not refuse a second
# list of the same name, so a blind re-create would leave two) and during a later PATCH. After
# each restart on the same store the list converges: exactly the pushed indicators, none lost,
# none twice, one list of the name.
source "$CTE_SOURCE_DIR/tests/e2e/sharing_lib.sh"

# A tenant on the other reading of reference §3.5: list names are not unique.
SIM_CONFIG='uniqueUrlListNames: false' start_sharing_stack

batch() {  # batch PREFIX COUNT: a JSON array of COUNT domains
  jq -nc --arg p "$1" --argjson n "$2" \
    '[range($n) | {value: "\($p)-\(.).example.net", type: "domain", source: "threat-feed", severity: "high"}]'
}
expected() {  # expected PREFIX COUNT...: the domains of those batches
  while (($#)); do
    for ((i = 0; i < $2; i++)); do echo "$1-$i.example.net"; done
    shift 2
  done
}
# fault_taken: the held request has reached the tenant (its one-shot fault is taken).
fault_taken() { [[ $(sim GET /__sim/faults) == "[]" ]]; }
# served METHOD PATH-PREFIX: the tenant finished the held request (it applied it).
served() {
  sim GET /__sim/requests | jq -e --arg m "$1" --arg p "$2" \
    'any(.requests[]; .method == $m and (.path | startswith($p)) and (.fault // "") != "")'
}
kill_mid_write() {  # kill_mid_write METHOD PATH-PREFIX
  wait_for "the $1 to be held by the tenant" fault_taken
  local pid=${op_PID:?}
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  wait_for "the tenant to apply the held $1" served "$1" "$2"
}
one_list_holding() {  # one_list_holding DOMAIN...: one live list of the name, deployed, exactly these
  url_list_is "$URL_LIST" "$@" &&
    [[ $(url_list_json "$URL_LIST" | jq '.[0].urls | (length == (unique | length))') == true ]]
}

# 1. Killed while the create is held (the list is created at the configuration's first sync).
sim POST /__sim/faults '{"path":"/api/v2/policy/urllist","method":"POST","kind":"latency","latencyMs":3000}' >/dev/null
apply_sharing_objects 10m Shared
feed_token
push "$(batch first 20)"
kill_mid_write POST /api/v2/policy/urllist
mv "$WORK/op.log" "$WORK/op-killed-1.log"
start_sharing_operator op
mapfile -t want < <(expected first 20)
wait_for "the list to converge after the restart (create)" one_list_holding "${want[@]}"
lists=$(sim GET /__sim/urllists | jq --arg n "$URL_LIST" '[.urlLists[] | select(.name == $n and (.deleted | not))] | length')
((lists == 1)) || fail "$lists live lists named $URL_LIST"

# 2. Killed while a change to the list is held; more indicators arrive after the restart.
list_id=$(url_list_json "$URL_LIST" | jq '.[0].id')
sim DELETE /__sim/requests >/dev/null
sim POST /__sim/faults '{"path":"/api/v2/policy/urllist/*","method":"PATCH","kind":"latency","latencyMs":3000}' >/dev/null
feed_token
push "$(batch second 20)"
kill_mid_write PATCH "/api/v2/policy/urllist/$list_id/"
mv "$WORK/op.log" "$WORK/op-killed-2.log"
start_sharing_operator op
feed_token
push "$(batch third 5)"
mapfile -t want < <(expected first 20 second 20 third 5)
wait_for "the list to converge after the restart (write)" one_list_holding "${want[@]}"
[[ $(url_list_json "$URL_LIST" | jq '.[0].id') == "$list_id" ]] || fail "the list was re-created"
wait_for "Ready=True Synced" sc_ready apisource-to-urllist True Synced
shared_all() { [[ $(sc_json apisource-to-urllist | jq .status.sharedCount) == 45 ]]; }
WAIT_SECONDS=10 wait_for "status.sharedCount to be 45" shared_all
echo "PASS sharing_crash_test"
