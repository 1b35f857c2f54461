#!/usr/bin/env bash
# The local API server's list/watch semantics and fault injection, judged by curl: paging,
# selectors, bookmarks, resuming a dropped watch, silenced watches, compaction (410) and injected
# 409/429/500 answers.
source "$(dirname "$0")/lib.sh"
start_apiserver
CM="$APISERVER_URL/api/v1/namespaces/default/configmaps"

create_cm() {  # name [label]
  curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$1\",\"labels\":{\"tier\":\"${2:-a}\"}},\"data\":{\"k\":\"v\"}}" \
    "$CM" >/dev/null
}
list_rv() {
  curl -sf "$CM" | jq -r .metadata.resourceVersion
}

# --- paging and selectors -----------------------------------------------------------------
create_cm cm1 a
create_cm cm2 b
create_cm cm3 a
page1=$(curl -sf "$CM?limit=2")
[[ $(jq '.items | length' <<<"$page1") == 2 ]] || fail "first page should hold 2 items: $page1"
token=$(jq -r .metadata.continue <<<"$page1")
page2=$(curl -sfG --data-urlencode "continue=$token" --data-urlencode limit=2 "$CM")
expect_contains "$page2" '"name":"cm3"'
expect_not_contains "$page2" '"continue"'
out=$(curl -sfG --data-urlencode 'labelSelector=tier in (b)' "$CM")
expect_contains "$out" '"cm2"'
expect_not_contains "$out" '"cm1"'
out=$(curl -sfG --data-urlencode 'fieldSelector=metadata.name=cm3' "$CM")
expect_contains "$out" '"cm3"'
expect_not_contains "$out" '"cm1"'

# generateName gives a unique name.
out=$(curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"gen-"}}' "$CM")
expect_contains "$out" '"name":"gen-'

# Errors are metav1.Status with reason and code.
out=$(curl -s "$CM/nope")
expect_contains "$out" '"reason":"NotFound"'
expect_contains "$out" '"code":404'
out=$(curl -s -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1"}}' "$CM")
expect_contains "$out" '"reason":"AlreadyExists"'

# --- bookmarks and resuming a dropped watch ---------------------------------------------------
rv=$(list_rv)
curl -sN "$CM?watch=true&allowWatchBookmarks=true&resourceVersion=$rv" >"$WORK/w1" &
w1=$!
PIDS+=($w1)
wait_for "a bookmark" file_contains "$WORK/w1" '"type":"BOOKMARK"'
create_cm after-1
wait_for "the ADDED event" file_contains "$WORK/w1" '"name":"after-1"'
admin '{"action":"closeWatches"}'
wait_for "the watch to be dropped" bash -c "! kill -0 $w1"
last_rv=$(grep '"after-1"' "$WORK/w1" | head -n1 | jq -r .object.metadata.resourceVersion)
create_cm after-2
# Resuming from the last seen resourceVersion replays only what was missed: no relist.
curl -sN "$CM?watch=true&resourceVersion=$last_rv&timeoutSeconds=1" >"$WORK/w2"
expect_contains "$(cat "$WORK/w2")" '"name":"after-2"'
expect_not_contains "$(cat "$WORK/w2")" '"name":"after-1"'
expect_not_contains "$(cat "$WORK/w2")" '"name":"cm1"'

# --- a silenced watch stays open but sends nothing, not even bookmarks -------------------------
rv=$(list_rv)
curl -sN "$CM?watch=true&allowWatchBookmarks=true&resourceVersion=$rv" >"$WORK/w3" &
w3=$!
PIDS+=($w3)
wait_for "a bookmark before silencing" file_contains "$WORK/w3" '"type":"BOOKMARK"'
admin '{"action":"silenceWatches"}'
bytes_before=$(wc -c <"$WORK/w3")
create_cm during-silence
# A fresh watch sees the change and two bookmark intervals pass; the silenced one got nothing.
curl -sN "$CM?watch=true&allowWatchBookmarks=true&resourceVersion=$rv" >"$WORK/w4" &
PIDS+=($!)
wait_for "a fresh watch to see the change" file_contains "$WORK/w4" '"name":"during-silence"'
wait_for "two bookmarks on the fresh watch" bash -c "[[ \$(grep -c BOOKMARK '$WORK/w4') -ge 2 ]]"
[[ $(wc -c <"$WORK/w3") == "$bytes_before" ]] || fail "silenced watch still sent data"
kill -0 "$w3" || fail "silenced watch was closed instead of silenced"

# --- compaction: an old resourceVersion gets 410 Gone ------------------------------------------
old_rv=$rv
admin '{"action":"compact"}'
out=$(curl -sN "$CM?watch=true&resourceVersion=$old_rv")
expect_contains "$out" '"type":"ERROR"'
expect_contains "$out" '"code":410'
expect_contains "$out" '"reason":"Expired"'

# --- injected answers ---------------------------------------------------------------------------
admin "{\"action\":\"respond\",\"pathPrefix\":\"/api/v1/namespaces/default/configmaps/cm1\",\"method\":\"PUT\",\"code\":409,\"count\":1}"
body=$(curl -sf "$CM/cm1")
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d "$body" "$CM/cm1")
[[ $code == 409 ]] || fail "injected 409: got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d "$body" "$CM/cm1")
[[ $code == 200 ]] || fail "after the injected 409 the write should pass: got $code"

admin '{"action":"respond","pathPrefix":"/api/v1/namespaces/default/configmaps","code":429,"count":2,"retryAfterSeconds":3}'
headers=$(curl -s -D - -o "$WORK/429.json" "$CM")
expect_contains "$headers" "429"
expect_contains "$headers" "Retry-After: 3"
expect_contains "$(cat "$WORK/429.json")" '"reason":"TooManyRequests"'
code=$(curl -s -o /dev/null -w '%{http_code}' "$CM")
[[ $code == 429 ]] || fail "second injected 429: got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$CM")
[[ $code == 200 ]] || fail "faults should be used up: got $code"

admin '{"action":"respond","pathPrefix":"/api/v1/namespaces/default/configmaps","code":500}'
out=$(curl -s "$CM")
expect_contains "$out" '"reason":"InternalError"'

# --- delay: answered normally, but late ----------------------------------------------------------
admin '{"action":"delay","pathPrefix":"/api/v1/namespaces/default/configmaps/cm1","method":"GET","delayMs":700,"count":1}'
slow=$(curl -s -o "$WORK/slow.json" -w '%{http_code} %{time_total}' "$CM/cm1")
[[ ${slow% *} == 200 ]] || fail "a delayed request must still succeed: $slow"
awk -v t="${slow#* }" 'BEGIN { exit !(t >= 0.7) }' || fail "the delayed GET came back after ${slow#* } s"
expect_contains "$(cat "$WORK/slow.json")" '"name":"cm1"'
fast=$(curl -s -o /dev/null -w '%{time_total}' "$CM/cm1")
awk -v t="$fast" 'BEGIN { exit !(t < 0.7) }' || fail "count 1 must delay only one request (took $fast s)"
out=$(curl -s -X POST -d '{"action":"delay","pathPrefix":"/api"}' "$APISERVER_URL/__local/faults")
expect_contains "$out" "delayMs"

# --- metadata-only reads, as controller-runtime's metadata informers ask for them -----------------
meta='application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json'
out=$(curl -sf -H "Accept: $meta" "$CM")
[[ $(jq -r .kind <<<"$out") == PartialObjectMetadataList ]] || fail "list kind: $out"
[[ $(jq -r '.items[0].kind' <<<"$out") == PartialObjectMetadata ]] || fail "item kind: $out"
[[ $(jq '[.items[] | select(has("data"))] | length' <<<"$out") == 0 ]] || fail "data leaked: $out"
rv=$(list_rv)
curl -sN -H "Accept: ${meta/List/}" "$CM?watch=1&resourceVersion=$rv" >"$WORK/w5" &
PIDS+=($!)
create_cm meta-watched
wait_for "a metadata-only watch event" file_contains "$WORK/w5" '"name":"meta-watched"'
expect_contains "$(cat "$WORK/w5")" '"kind":"PartialObjectMetadata"'
expect_not_contains "$(cat "$WORK/w5")" '"data"'

# Unknown admin actions are refused with the list of valid ones.
out=$(curl -s -X POST -d '{"action":"explode"}' "$APISERVER_URL/__local/faults")
expect_contains "$out" "closeWatches"
echo "PASS apiserver_faults_test"
