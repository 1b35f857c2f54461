#!/usr/bin/env bash
# Two replicas with --leader-elect on one store file (issue 10 §4): exactly one writes to the
# tenant. The simulator's request log tells them apart by User-Agent, which carries each
# replica's identity (`cte-operator/<version> (<identity>)`, the Lease's holderIdentity). Then
# the leader is killed: the other takes the Lease over and writes the next change.
source "$CTE_SOURCE_DIR/tests/e2e/sharing_lib.sh"

start_apiserver
start_simulator
k apply -f "$SRC_DIR/crds/" >/dev/null
start_sharing_operator a --leader-elect --leader-election-namespace default
a_INGEST=$INGEST
start_sharing_operator b --leader-elect --leader-election-namespace default
b_INGEST=$INGEST
apply_sharing_objects 10m Shared

holder() { k get lease cte-operator.cte.netskope.io -o jsonpath='{.spec.holderIdentity}'; }
holder_is() { [[ $(holder) == "$1" ]]; }
has_holder() { [[ -n $(holder) ]]; }
wait_for "a replica to hold the Lease" has_holder
leader_id=$(holder)
identity_of() { jq -r 'select(.msg == "waiting to acquire the lease") | .identity' "$WORK/$1.log" | head -n1; }
both_waited() { [[ -n $(identity_of a) && -n $(identity_of b) ]]; }
wait_for "both replicas to try for the Lease" both_waited
a_id=$(identity_of a)
b_id=$(identity_of b)
[[ -n $a_id && -n $b_id && $a_id != "$b_id" ]] || fail "replica identities: [$a_id] [$b_id]"
if [[ $leader_id == "$a_id" ]]; then
  leader=a follower=b follower_id=$b_id
else
  [[ $leader_id == "$b_id" ]] || fail "the Lease holder $leader_id is neither replica"
  leader=b follower=a follower_id=$a_id
fi
# The leader registers the APISource credentials (its CTEPlugin reconciler), so push there.
INGEST_VAR=${leader}_INGEST
INGEST=${!INGEST_VAR}
feed_token
push '[{"value":"while-a-leads.example.net","type":"domain","source":"threat-feed","severity":"high"}]'
wait_for "the first indicator, deployed" url_list_is "$URL_LIST" while-a-leads.example.net

# Every request the tenant saw came from the leader; none from the standby replica.
agents() { sim GET /__sim/requests | jq -r '[.requests[].userAgent] | unique | .[]'; }
seen=$(agents)
[[ $seen != *$'\n'* && $seen == "cte-operator/"*" ($leader_id)" ]] ||
  fail "the tenant saw other clients than the leader ($leader_id): $seen"

# The leader dies; the standby takes the Lease over (after it expires) and writes.
kill -9 "$(eval echo "\$${leader}_PID")"
wait_for "the standby to take the Lease over" holder_is "$follower_id"
INGEST_VAR=${follower}_INGEST
INGEST=${!INGEST_VAR}
sim DELETE /__sim/requests >/dev/null
feed_token
push '[{"value":"after-failover.example.net","type":"domain","source":"threat-feed","severity":"high"}]'
wait_for "the new leader to converge the list" \
  url_list_is "$URL_LIST" while-a-leads.example.net after-failover.example.net
seen=$(agents)
[[ $seen != *$'\n'* && $seen == "cte-operator/"*" ($follower_id)" ]] ||
  fail "after the failover the tenant saw other clients than the new leader ($follower_id): $seen"
writes=$(sim GET /__sim/requests | jq '[.requests[] | select(.method != "GET")] | length')
((writes > 0)) || fail "the new leader wrote nothing"
echo "PASS sharing_leader_test (leader $leader, then $follower)"
