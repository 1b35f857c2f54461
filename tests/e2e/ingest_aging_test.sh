#!/usr/bin/env bash
# Aging through the operator's flags: with --aging-sweep-interval 1s and --purge-inactive-after 3s,
# an indicator pushed with an expiresAt in the past is deactivated by the next sweep and deleted
# once it has been inactive for 3 s; one that expires tomorrow stays active throughout, and one
# pushed again after its purge comes back as a new row.
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"
source "$CTE_SOURCE_DIR/tests/e2e/ingest_lib.sh"
start_apiserver
write_ingest_credentials
start_operator op --aging-sweep-interval 1s --purge-inactive-after 3s
TOKEN=$(token client-a secret-a-7d1e)

past=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
tomorrow=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
jq -n --arg past "$past" --arg tomorrow "$tomorrow" '[
  {value: "expired.example.net", type: "domain", source: "feed", expiresAt: $past},
  {value: "current.example.net", type: "domain", source: "feed", expiresAt: $tomorrow}]' \
  >"$WORK/body.json"
out=$(api "$TOKEN" POST /api/cte/indicators "$WORK/body.json")
[[ ${out%% *} == 201 ]] || fail "push: $out"

# count FILTER-JSON: how many rows of team-a match.
count() {
  local out
  out=$(api "$TOKEN" GET "/api/cte/indicators?aggregate=true&filters=$(jq -rn --argjson f "$1" '$f|tojson|@uri')")
  [[ ${out%% *} == 200 ]] || fail "count $1: $out"
  jq -r .count <<<"${out#* }"
}
is_count() { [[ $(count "$1") == "$2" ]]; }

wait_for "the sweep to deactivate the expired indicator" \
  is_count '{"value":"expired.example.net","active":false}' 1
is_count '{"value":"current.example.net","active":true}' 1 ||
  fail "the sweep deactivated an indicator that expires tomorrow"
wait_for "the purge to delete the indicator inactive for 3 s" \
  is_count '{"value":"expired.example.net"}' 0
is_count '{"value":"current.example.net","active":true}' 1 || fail "the purge took a live row"

# Pushed again (without an expiry), a purged value is a new row, active for the plugin's 30
# agingDays.
jq -n '[{value: "expired.example.net", type: "domain", source: "feed"}]' >"$WORK/again.json"
out=$(api "$TOKEN" POST /api/cte/indicators "$WORK/again.json")
[[ ${out%% *} == 201 ]] || fail "push again: $out"
is_count '{"value":"expired.example.net","active":true}' 1 || fail "the value did not come back"
kill -0 "$op_PID" || fail "the operator died: $(tail -5 "$WORK/op.log")"
echo "PASS ingest_aging_test"
