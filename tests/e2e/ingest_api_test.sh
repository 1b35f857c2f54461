#!/usr/bin/env bash
# The ingest API through the real cte-operator, driven by curl: auth, scopes, plugin binding and
# cross-namespace refusal, validation (422 naming every bad item), limits (413, 10,000 items),
# malformed input (always 4xx, never 5xx, the process stays up), PATCH and bulk delete, the login
# throttle, metrics with promtool, and no secret in the logs.
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"
source "$CTE_SOURCE_DIR/tests/e2e/ingest_lib.sh"
start_apiserver
write_ingest_credentials
start_operator op

expect_status() {  # WANT "<status> <body>"
  [[ ${2%% *} == "$1" ]] || fail "expected HTTP $1, got: ${2:0:400}"
}

# --- auth ------------------------------------------------------------------------------------
out=$(curl -s -d 'grant_type=client_credentials&client_id=client-a&client_secret=secret-a-7d1e' \
  "http://$INGEST/api/auth")
[[ $(jq -r .token_type <<<"$out") == bearer ]] || fail "no bearer token: $out"
[[ $(jq -r .expires_in <<<"$out") == 7200 ]] || fail "lifetime is not 120 min: $out"
code=$(curl -s -o "$WORK/resp" -w '%{http_code}' -d 'grant_type=client_credentials&client_id=client-a&client_secret=nope' "http://$INGEST/api/auth")
[[ $code == 401 && $(jq -r .detail "$WORK/resp") == "Invalid client_id/client_secret provided." ]] ||
  fail "wrong secret: $code $(cat "$WORK/resp")"
# A guesser of client_ids, each attempt on a new connection (a new source port): after 50
# failures with unknown ids the address is answered 429 with Retry-After. Pauses start at 1 s and
# double, so a slow machine still meets one within a dozen more attempts. Registered clients
# behind the same address are not slowed (the tokens below).
throttled=""
for attempt in $(seq 62); do
  code=$(curl -s -o "$WORK/resp" -D "$WORK/headers" -w '%{http_code}' \
    -d 'grant_type=client_credentials&client_id=guessed-id&client_secret=guess' "http://$INGEST/api/auth")
  if [[ $code == 429 ]]; then
    throttled=$attempt
    break
  fi
  [[ $code == 401 ]] || fail "guess $attempt answered $code"
done
[[ -n $throttled && $throttled -gt 50 ]] || fail "failed logins were not slowed down (429 at '${throttled}')"
grep -qi '^retry-after: [0-9]' "$WORK/headers" || fail "429 without Retry-After: $(cat "$WORK/headers")"
expect_contains "429 $(cat "$WORK/resp")" "Too many failed attempts"
A=$(token client-a secret-a-7d1e)
B=$(token client-b secret-b-93f0)
RO=$(token client-ro secret-ro-5c2a)

# --- write, read, aggregate --------------------------------------------------------------------
indicators_file "$WORK/a.json" 250 a
out=$(api "$A" POST /api/cte/indicators "$WORK/a.json")
expect_status 201 "$out"
[[ $(jq length <<<"${out#* }") == 250 ]] || fail "201 does not list the stored indicators"
out=$(api "$A" GET '/api/cte/indicators?aggregate=true')
[[ ${out#* } == '{"count":250}' ]] || fail "count after POST: $out"
out=$(api "$A" GET '/api/cte/indicators?limit=100&skip=200&sort=value')
expect_status 200 "$out"
[[ $(jq length <<<"${out#* }") == 50 ]] || fail "paging: $out"
out=$(api "$A" GET '/api/cte/indicators?limit=101')
expect_status 400 "$out"
expect_contains "$out" "Limit cannot be greater than 100. Provided limit: 101."
filters=$(jq -rn --arg f '{"sources.severity":{"$in":["high"]},"value":"a-7.example.net"}' '$f|@uri')
out=$(api "$A" GET "/api/cte/indicators?aggregate=true&filters=$filters")
[[ ${out#* } == '{"count":1}' ]] || fail "filters: $out"

# --- plugin binding, namespaces, scopes ----------------------------------------------------------
indicators_file "$WORK/b.json" 3 b
expect_status 201 "$(api "$B" POST /api/cte/indicators "$WORK/b.json")"
out=$(api "$B" GET '/api/cte/indicators?aggregate=true')
[[ ${out#* } == '{"count":3}' ]] || fail "team-b sees team-a's rows: $out"
indicators_file "$WORK/other.json" 2 x reader
out=$(api "$A" POST /api/cte/indicators "$WORK/other.json")
expect_status 403 "$out"
expect_contains "$out" "Not enough permissions."
out=$(api "$RO" POST /api/cte/indicators "$WORK/b.json")
expect_status 403 "$out"
expect_status 200 "$(api "$RO" GET /api/cte/indicators)"
out=$(api "not-a-token" GET /api/cte/indicators)
expect_status 401 "$out"
expect_contains "$out" "Could not validate credentials."

# --- validation: all or nothing, every bad item named ------------------------------------------
cat >"$WORK/bad.json" <<'JSON'
[{"value":"ok.example","type":"url","source":"feed"},
 {"value":"1.2.3.4.5","type":"ipv4","source":"feed"},
 {"value":"zz","type":"md5","source":"feed","reputation":42},
 {"value":"x.example","type":"nope","source":"feed","extendedInformation":"ftp://x"}]
JSON
out=$(api "$A" POST /api/cte/indicators "$WORK/bad.json")
expect_status 422 "$out"
[[ $(jq -c '[.detail[] | [.index, .field]]' <<<"${out#* }") == '[[1,"value"],[2,"reputation"],[2,"value"],[3,"type"],[3,"extendedInformation"]]' ]] ||
  fail "422 does not name every bad field: $out"
out=$(api "$A" GET "/api/cte/indicators?aggregate=true&filters=$(jq -rn '{"value":"ok.example"}|tojson|@uri')")
[[ ${out#* } == '{"count":0}' ]] || fail "a refused batch stored something: $out"

# --- limits -------------------------------------------------------------------------------------
indicators_file "$WORK/many.json" 10001 m
out=$(api "$A" POST /api/cte/indicators "$WORK/many.json")
expect_status 422 "$out"
expect_contains "$out" "at most 10000 indicators"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$WORK/huge.json"
out=$(api "$A" POST /api/cte/indicators "$WORK/huge.json")
expect_status 413 "$out"
[[ $(jq -r .detail <<<"${out#* }") == "Request body too large: at most 16777216 bytes." ]] ||
  fail "413 is not in CE's shape: ${out:0:300}"
# Chunked, the size is known only as the body arrives: 413 as soon as it passes the limit.
code=$(curl -s -o "$WORK/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $A" \
  -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
  --data-binary "@$WORK/huge.json" "http://$INGEST/api/cte/indicators")
[[ $code == 413 ]] || fail "a chunked body past the limit got $code: $(head -c 300 "$WORK/resp")"
# Without a valid token the size does not matter: 401 first, before a body byte is read.
expect_status 401 "$(api "not-a-token" POST /api/cte/indicators "$WORK/huge.json")"

# --- malformed input: 4xx, never 5xx, the process stays up ---------------------------------------
malformed=(
  '[{"value":'
  '{"value":"x"}'
  'null'
  '[1,2,3]'
  '[{"value":["a"],"type":{"x":1},"source":false,"tags":[1,2],"reputation":"5","firstSeen":[]}]'
  "[{\"value\":\"$(head -c 100000 /dev/zero | tr '\0' a)\",\"type\":\"url\",\"source\":\"feed\"}]"
  "$(printf '%.0s[' {1..5000})$(printf '%.0s]' {1..5000})"
  "$(printf '%.0s{"a":' {1..3000})1$(printf '%.0s}' {1..3000})"
  $'[{"value":"\xff\xfe","type":"url","source":"feed"}]'
  '[{"value":"a.example","type":"url","source":"feed","tags":["'"$(head -c 1000 /dev/zero | tr '\0' t)"'"]}]'
  '[{"value":"a.example","type":"url","source":"feed","expiresAt":"2026-13-45T99:99:99"}]'
  '[{"value":"1.2.3.4\u0000<script>","type":"ipv4","source":"feed"}]'
)
i=0
for body in "${malformed[@]}"; do
  printf '%s' "$body" >"$WORK/m$i.json"
  for path in /api/cte/indicators; do
    out=$(api "$A" POST "$path" "$WORK/m$i.json")
    [[ ${out%% *} =~ ^4[0-9][0-9]$ ]] || fail "malformed body $i answered ${out:0:300}"
    out=$(api "$A" PATCH "$path" "$WORK/m$i.json")
    [[ ${out%% *} =~ ^4[0-9][0-9]$ ]] || fail "malformed PATCH body $i answered ${out:0:300}"
    out=$(api "$A" DELETE /api/cte/indicators/bulk "$WORK/m$i.json")
    [[ ${out%% *} =~ ^4[0-9][0-9]$ ]] || fail "malformed DELETE body $i answered ${out:0:300}"
  done
  i=$((i + 1))
done
for q in 'filters=%7B' 'filters=%5B%5B%5B%5B%5B%5B%5B%5B%5B%5B1%5D%5D%5D%5D%5D%5D%5D%5D%5D%5D' \
  'skip=abc' 'limit=-1' 'sort=%00' 'ascending=maybe' "filters=$(jq -rn '{"$where":"1"}|tojson|@uri')"; do
  out=$(api "$A" GET "/api/cte/indicators?$q")
  [[ ${out%% *} =~ ^4[0-9][0-9]$ ]] || fail "malformed query $q answered ${out:0:300}"
done
kill -0 "$op_PID" || fail "cte-operator died on malformed input"

# --- PATCH and bulk delete ----------------------------------------------------------------------
echo '{"value":"a-1.example.net","type":"domain","source":"feed","severity":"critical","comments":"confirmed"}' >"$WORK/patch.json"
out=$(api "$A" PATCH /api/cte/indicators "$WORK/patch.json")
expect_status 201 "$out"
[[ $(jq -r '.severity + " " + .comments' <<<"${out#* }") == "critical confirmed" ]] || fail "PATCH: $out"
echo '{"value":"a-2.example.net","source":"feed","retracted":true}' >"$WORK/retract.json"
out=$(api "$A" PATCH /api/cte/indicators "$WORK/retract.json")
[[ $out == "201 true" ]] || fail "retraction: $out"
echo '{"value":"nope.example.net","source":"feed","retracted":true}' >"$WORK/retract404.json"
expect_status 404 "$(api "$A" PATCH /api/cte/indicators "$WORK/retract404.json")"
echo '{"values":["a-3.example.net","a-4.example.net"],"source":"feed"}' >"$WORK/del.json"
out=$(api "$A" DELETE /api/cte/indicators/bulk "$WORK/del.json")
[[ $out == '201 {"deleted":2}' ]] || fail "bulk delete: $out"
out=$(api "$B" DELETE /api/cte/indicators/bulk "$WORK/del.json")
[[ $out == '201 {"deleted":0}' ]] || fail "team-b deleted team-a's rows: $out"

# --- file credentials outlive the CTEPlugin reconciler --------------------------------------------
# A store change sends the plugin to the CTEPlugin reconciler (after its 5 s debounce), which finds
# no CTEPlugin team-a/feed in the cluster: that must not revoke the credentials the file gave.
feed_reconciled() {
  jq -e 'select(.msg == "reconciled" and .controller == "cteplugin" and .object == "team-a/feed")' \
    "$WORK/op.log" >/dev/null
}
WAIT_SECONDS=30 wait_for "the CTEPlugin reconciler to look at team-a/feed" feed_reconciled
indicators_file "$WORK/late.json" 1 late
expect_status 201 "$(api "$A" POST /api/cte/indicators "$WORK/late.json")"

# --- metrics and logs ----------------------------------------------------------------------------
curl -sf "http://$METRICS/metrics" >"$WORK/scrape.txt"
promtool check metrics <"$WORK/scrape.txt" || fail "promtool rejected the scrape"
grep -q 'cte_ingest_requests_total{code="201",namespace="team-a",source="feed"}' "$WORK/scrape.txt" ||
  fail "no cte_ingest_requests_total for team-a/feed: $(grep cte_ingest "$WORK/scrape.txt")"
grep -q 'cte_ingest_requests_total{code="401",namespace="",source=""}' "$WORK/scrape.txt" ||
  fail "unauthenticated requests are not counted"
# Refused from their headers, before the handler: the read-only token's POST and the oversize one.
grep -q 'cte_ingest_requests_total{code="403",namespace="team-a",source="reader"} 1$' "$WORK/scrape.txt" ||
  fail "a 403 at the head is not counted: $(grep cte_ingest_requests "$WORK/scrape.txt")"
grep -q 'cte_ingest_requests_total{code="413",namespace="team-a",source="feed"} 2$' "$WORK/scrape.txt" ||
  fail "the 413s (at the head, chunked) are not both counted: $(grep cte_ingest_requests "$WORK/scrape.txt")"
grep -q 'cte_ingest_requests_total{code="429",namespace="",source=""} 1$' "$WORK/scrape.txt" ||
  fail "the throttled login is not counted"
grep -q '^cte_ingest_indicators_total{result="created"} 254$' "$WORK/scrape.txt" ||
  fail "created count: $(grep cte_ingest_indicators "$WORK/scrape.txt")"
grep -q 'cte_ingest_indicators_total{result="rejected"}' "$WORK/scrape.txt" || fail "no rejected count"
grep -q 'cte_ingest_request_duration_seconds_bucket{route="create"' "$WORK/scrape.txt" ||
  fail "no duration histogram"
for secret in secret-a-7d1e secret-b-93f0 secret-ro-5c2a "$A" "$B" "$RO"; do
  ! grep -qF -- "$secret" "$WORK/op.log" "$WORK/scrape.txt" || fail "a secret or token leaked"
done
kill -0 "$op_PID" || fail "cte-operator is not running"
echo "PASS ingest_api_test"
