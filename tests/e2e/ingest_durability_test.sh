#!/usr/bin/env bash
# Acknowledged means on disk: four clients push batches to the real cte-operator, each recording a
# batch only once it got 201; the operator is killed with SIGKILL while they push. After a
# restart on the same store, every acknowledged batch is there, whole. Then an online backup
# (`cte-operator store backup`) taken while a client pushes opens as a store with all of it.
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"
source "$CTE_SOURCE_DIR/tests/e2e/ingest_lib.sh"
start_apiserver
write_ingest_credentials
start_operator op1
TOKEN=$(token client-a secret-a-7d1e)
BATCH=100

# client K: posts batch after batch, tagged "cK-N", until the server goes away.
client() {
  local k=$1 n=0 code
  while :; do
    n=$((n + 1))
    indicators_file "$WORK/body.$k" "$BATCH" "c$k-$n" feed "c$k-$n"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' --data-binary "@$WORK/body.$k" \
      "http://$INGEST/api/cte/indicators") || code=000
    if [[ $code == 201 ]]; then
      echo "c$k-$n" >>"$WORK/acked.$k"
    elif [[ $code == 000 ]]; then
      return 0  # the server is gone
    fi
  done
}
clients=()
for k in 1 2 3 4; do
  client "$k" &
  clients+=($!)
  PIDS+=($!)
done
acked() { cat "$WORK"/acked.* 2>/dev/null | wc -l; }
WAIT_SECONDS=60 wait_for "40 acknowledged batches" bash -c "(( \$(cat '$WORK'/acked.* 2>/dev/null | wc -l) >= 40 ))"
kill -9 "$op1_PID"
for pid in "${clients[@]}"; do wait "$pid" || true; done
total=$(acked)
echo "acknowledged $total batches of $BATCH before SIGKILL"

start_operator op2
out=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://$INGEST/api/cte/indicators")
[[ $out == 401 ]] || fail "a token from before the restart was accepted ($out); keys live in memory"
TOKEN=$(token client-a secret-a-7d1e)
missing=0
while read -r tag; do
  filters=$(jq -rn --arg t "$tag" '{"sources.tags":$t}|tojson|@uri')
  out=$(api "$TOKEN" GET "/api/cte/indicators?aggregate=true&filters=$filters")
  if [[ ${out#* } != "{\"count\":$BATCH}" ]]; then
    echo "batch $tag: ${out}" >&2
    missing=$((missing + 1))
  fi
done < <(cat "$WORK"/acked.*)
((missing == 0)) || fail "$missing of $total acknowledged batches are missing or partial after SIGKILL"
out=$(api "$TOKEN" GET '/api/cte/indicators?aggregate=true')
count=${out#* }
count=$(jq .count <<<"$count")
((count >= total * BATCH)) || fail "store holds $count indicators, fewer than the $((total * BATCH)) acknowledged"

# Online backup while a client keeps pushing; the copy serves everything acknowledged so far.
TOKEN=$(token client-a secret-a-7d1e)
client 9 &
PIDS+=($!)
WAIT_SECONDS=30 wait_for "the client to push again" test -s "$WORK/acked.9"
"$BIN_DIR/cte-operator" store backup --store "sqlite://$WORK/indicators.db" --to "$WORK/backup.db" ||
  fail "store backup failed"
expect_failure "$BIN_DIR/cte-operator" store backup --store "sqlite://$WORK/indicators.db" \
  --to "$WORK/backup.db" | grep -q "never overwrites" || fail "backup overwrote a file"
kill -TERM "$op2_PID"
wait "$op2_PID" || fail "cte-operator did not exit cleanly on SIGTERM"
STORE=$WORK/backup.db start_operator op3
TOKEN=$(token client-a secret-a-7d1e)
out=$(api "$TOKEN" GET '/api/cte/indicators?aggregate=true')
backup_count=$(jq .count <<<"${out#* }")
((backup_count >= total * BATCH)) || fail "the backup holds $backup_count indicators"
echo "PASS ingest_durability_test ($total batches, $count indicators after restart, $backup_count in the backup)"
