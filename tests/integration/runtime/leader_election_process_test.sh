#!/usr/bin/env bash
# Never two leaders, proven on real processes: two cte-operator replicas with --leader-elect
# against local-apiserver, while a sampler reads leader_election_master_status from both every
# 100 ms. Faults: lease requests delayed past the renew deadline, lease writes answering 500,
# SIGTERM of the leader (takeover under 5 s) and SIGKILL of the leader (takeover under 20 s).
# At no sample may both replicas report 1.
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"
start_apiserver
k apply -f "$SRC_DIR/crds/" >/dev/null
LEASES=/apis/coordination.k8s.io/v1/namespaces/default/leases

start_replica() {  # slot
  local log="$WORK/$1.$SECONDS.log"
  "$BIN_DIR/cte-operator" --kubeconfig "$KUBECONFIG" --leader-elect \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
    --graceful-shutdown-timeout 5s --store "sqlite://$WORK/$1.db" --ingest-bind-address 0 \
    2>"$log" &
  local pid=$!
  PIDS+=($pid)
  eval "${1}_PID=$pid"
  eval "${1}_LOG=$log"
  wait_for "$1 to serve metrics" grep -q '"server":"metrics"' "$log"
  jq -r 'select(.server=="metrics").address' "$log" >"$WORK/addr.$1.tmp"
  mv "$WORK/addr.$1.tmp" "$WORK/addr.$1"
}
status_of() {  # slot -> 1, 0, or - when it does not answer
  local addr scrape
  addr=$(cat "$WORK/addr.$1" 2>/dev/null) || { echo -; return; }
  scrape=$(curl -s -m 1 "http://$addr/metrics" 2>/dev/null) || { echo -; return; }
  awk '/^leader_election_master_status/ {print $2; found=1} END {if (!found) print "-"}' <<<"$scrape"
}
leader_slot() {
  for slot in a b; do [[ $(status_of $slot) == 1 ]] && { echo $slot; return 0; }; done
  return 1
}
other() { [[ $1 == a ]] && echo b || echo a; }
sampler() {
  while [[ ! -e $WORK/stop-sampling ]]; do
    echo "$(date +%s.%N) $(status_of a) $(status_of b)" >>"$WORK/samples"
    sleep 0.1
  done
}
check_samples() {  # scenario
  local both
  both=$(awk '$2 == 1 && $3 == 1' "$WORK/samples" | head -3)
  [[ -z $both ]] || fail "$1: both replicas reported leadership at once:
$both"
  echo "ok: $1 ($(wc -l <"$WORK/samples") samples, never two leaders)"
}
lead_standby() { [[ $(leader_slot) == "$standby" ]]; }
since() { awk -v s="$1" -v n="$(date +%s.%N)" 'BEGIN { printf "%.2f", n - s }'; }
wait_exit() {  # pid: sets CODE (not in a $(...) subshell, which cannot wait for our children)
  CODE=0
  wait "$1" || CODE=$?
}

start_replica a
start_replica b
sampler &
PIDS+=($!)
WAIT_SECONDS=25 wait_for "a leader" leader_slot

# --- lease requests delayed past the renew deadline (10 s) -----------------------------------------
leader=$(leader_slot)
standby=$(other "$leader")
admin "{\"action\":\"delay\",\"pathPrefix\":\"$LEASES\",\"delayMs\":12000,\"count\":1000000}"
leader_pid_var=${leader}_PID
start=$SECONDS
wait_exit "${!leader_pid_var}"
[[ $CODE == 1 ]] || fail "a leader whose renewals hang must exit 1, got $CODE"
((SECONDS - start <= 13)) || fail "the leader stepped down only after $((SECONDS - start)) s"
rm -f "$WORK/addr.$leader"
admin '{"action":"clear"}'
WAIT_SECONDS=40 wait_for "$standby to take over after the delays" lead_standby
check_samples "lease requests delayed past the renew deadline"
start_replica "$leader"

# --- lease writes answer 500 ---------------------------------------------------------------------
leader=$(leader_slot)
standby=$(other "$leader")
admin "{\"action\":\"respond\",\"pathPrefix\":\"$LEASES\",\"method\":\"PUT\",\"code\":500,\"count\":1000000}"
leader_pid_var=${leader}_PID
wait_exit "${!leader_pid_var}"
[[ $CODE == 1 ]] || fail "a leader that cannot write its lease must exit 1, got $CODE"
rm -f "$WORK/addr.$leader"
admin '{"action":"clear"}'
WAIT_SECONDS=30 wait_for "$standby to take over after the 500s" lead_standby
check_samples "lease writes answering 500"
start_replica "$leader"

# --- SIGTERM of the leader: it releases the lease; takeover within 5 s --------------------------
leader=$(leader_slot)
standby=$(other "$leader")
leader_pid_var=${leader}_PID
start=$(date +%s.%N)
kill -TERM "${!leader_pid_var}"
wait_exit "${!leader_pid_var}"
[[ $CODE == 0 ]] || fail "SIGTERM must end the leader with 0, got $CODE"
rm -f "$WORK/addr.$leader"
WAIT_SECONDS=10 wait_for "$standby to take over after SIGTERM" lead_standby
took=$(since "$start")
awk -v t="$took" 'BEGIN { exit !(t < 5) }' || fail "takeover after SIGTERM took $took s"
echo "ok: takeover after SIGTERM in $took s"
check_samples "SIGTERM of the leader"
start_replica "$leader"

# --- SIGKILL of the leader: the lease expires; takeover within 20 s --------------------------------
leader=$(leader_slot)
standby=$(other "$leader")
leader_pid_var=${leader}_PID
start=$(date +%s.%N)
kill -KILL "${!leader_pid_var}"
rm -f "$WORK/addr.$leader"
WAIT_SECONDS=25 wait_for "$standby to take over after SIGKILL" lead_standby
took=$(since "$start")
awk -v t="$took" 'BEGIN { exit !(t < 20) }' || fail "takeover after SIGKILL took $took s"
echo "ok: takeover after SIGKILL in $took s"
check_samples "SIGKILL of the leader"
touch "$WORK/stop-sampling"
echo "PASS leader_election_process_test"
