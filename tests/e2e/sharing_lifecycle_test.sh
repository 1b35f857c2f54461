#!/usr/bin/env bash
# The list follows the declared state as it changes (issue 10 §4): an indicator that ages out
# leaves the list; narrowing the BusinessRule removes what no longer matches; under Shared
# ownership an entry an administrator added through the tenant API stays across drift checks,
# under Exclusive the next drift check (syncInterval) takes it off; deleting the
# SharingConfiguration (deletionPolicy Retract) takes its entries back and the object goes away
# once the finalizer is released. Between the two, the feed's Secret is rotated (old tokens are
# refused) and then made unusable (the credentials stop working).
source "$CTE_SOURCE_DIR/tests/e2e/sharing_lib.sh"

start_sharing_stack --aging-sweep-interval 1s
apply_sharing_objects 4s Shared
feed_token
push '[{"value":"keep.example.net","type":"domain","source":"threat-feed","severity":"high"},
       {"value":"low.example.net","type":"domain","source":"threat-feed","severity":"low"},
       {"value":"ages-out.example.net","type":"domain","source":"threat-feed","severity":"critical"}]'
wait_for "the three pushed indicators, deployed" \
  url_list_is "$URL_LIST" keep.example.net low.example.net ages-out.example.net

# Aging: the feed corrects the indicator's expiry to a minute ago (PATCH changes the fields given;
# a re-push would merge to the later expiry); the aging sweep (every second here) deactivates it
# and the list loses it.
printf '{"value":"ages-out.example.net","type":"domain","source":"threat-feed","expiresAt":%s}' \
  $(($(date +%s) - 60)) >"$WORK/patch.json"
out=$(api "$FEED_TOKEN" PATCH /api/cte/indicators "$WORK/patch.json")
[[ ${out%% *} == 201 ]] || fail "PATCH of expiresAt refused: $out"
wait_for "the aged-out indicator to leave the list" url_list_is "$URL_LIST" keep.example.net low.example.net

# An administrator adds an entry by hand, with the tenant's API
list_id=$(url_list_json "$URL_LIST" | jq '.[0].id')
# (retried until accepted: the tenant's rate limit counts these calls too; a refused call added nothing).
hand_add() {
  wait_for "the tenant to accept an append by hand" tenant_v2 PATCH \
    "/api/v2/policy/urllist/$list_id/append" "{\"data\":{\"urls\":[\"$1\"],\"type\":\"exact\"}}"
  wait_for "the tenant to accept a deploy by hand" tenant_v2 POST /api/v2/policy/urllist/deploy
}
hand_add by-hand.example.org
# The operator's reads of the list by id: each sync cycle (and so each drift check) makes one.
list_reads() {
  sim GET /__sim/requests | jq --arg p "/api/v2/policy/urllist/$list_id" \
    '[.requests[] | select(.method == "GET" and .path == $p)] | length'
}
reads_beyond() { (($(list_reads) >= $1)); }

# Narrowing the rule: the low-severity indicator goes, the hand-added entry stays (Shared).
k patch businessrule every-severity --type merge \
  -p '{"spec":{"filter":{"all":[{"field":"severity","operator":"In","values":["high","critical"]}]}}}' >/dev/null
wait_for "the entry the rule no longer matches to leave the list" \
  url_list_is "$URL_LIST" keep.example.net by-hand.example.org
# Two more reads of the list (a whole drift check after the one that replaced it): the hand-made
# entry is still there.
reads=$(list_reads)
wait_for "two drift checks (syncInterval 4s)" reads_beyond $((reads + 2))
url_list_is "$URL_LIST" keep.example.net by-hand.example.org ||
  fail "a drift check under Shared ownership removed the hand-added entry: $(url_list_json "$URL_LIST")"
wait_for "Ready=True Synced" sc_ready apisource-to-urllist True Synced

# Exclusive: the list is made equal to the desired set, and a later hand edit is reverted by the
# next drift check, without any change to the objects.
k patch sharingconfiguration apisource-to-urllist --type merge -p '{"spec":{"ownership":"Exclusive"}}' >/dev/null
wait_for "Exclusive ownership to remove the hand-added entry" url_list_is "$URL_LIST" keep.example.net
hand_add another-by-hand.example.org
wait_for "the drift check to revert the hand edit under Exclusive" url_list_is "$URL_LIST" keep.example.net

# The Secret changes and the API server fails to return it: what it holds now is unknown (it may
# be a rotation away from a leaked secret), so the feed's token is refused meanwhile; once the
# Secret reads back unchanged, the same token works again.
admin '{"action":"respond","pathPrefix":"/api/v1/namespaces/default/secrets/threat-feed-credentials","method":"GET","code":503,"count":100000}'
# (kubectl would read the Secret first and meet the fault: a merge patch straight to the server)
curl -sf -X PATCH -H 'Content-Type: application/merge-patch+json' \
  -d '{"metadata":{"annotations":{"cte-e2e/touched":"1"}}}' \
  "$APISERVER_URL/api/v1/namespaces/default/secrets/threat-feed-credentials" >/dev/null ||
  fail "could not touch the Secret"
plugin_ready() {
  k get cteplugin "$1" -o json | jq -e --arg s "$2" --arg r "$3" \
    '.status.conditions[]? | select(.type == "Ready") | .status == $s and .reason == $r'
}
wait_for "the plugin to report SecretUnavailable" plugin_ready threat-feed False SecretUnavailable
refused() { [[ $(api "$1" GET "/api/cte/indicators?aggregate=true") == 401* ]]; }
refused "$FEED_TOKEN" || fail "credentials from a Secret that could not be read stayed in force"
admin '{"action":"clear"}'
wait_for "the plugin to be Receiving again" plugin_ready threat-feed True Receiving
! refused "$FEED_TOKEN" || fail "the unchanged Secret, read again, did not bring the token back"

# Rotating the feed's Secret (a leaked secret, say): the token issued with the old secret is
# refused as soon as the reconciler has read the new one, and only the new secret signs in.
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: threat-feed-credentials}
stringData: {client_id: $CLIENT_ID, client_secret: $CLIENT_SECRET-rotated}
YAML
wait_for "the old token to be refused after the rotation" refused "$FEED_TOKEN"
ROTATED=$(token "$CLIENT_ID" "$CLIENT_SECRET-rotated")
[[ $(api "$ROTATED" GET "/api/cte/indicators?aggregate=true") == 200* ]] ||
  fail "the rotated secret's token does not work"
[[ $(curl -s -o /dev/null -w '%{http_code}' -d "grant_type=client_credentials&client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET" \
  "http://$INGEST/api/auth") == 401 ]] || fail "the old secret still signs in"
# Rotated to something unusable (a client_id over 256 bytes): the plugin is not Ready and the
# credentials it replaced stop working too, rather than staying in force.
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: threat-feed-credentials}
stringData: {client_id: $(printf 'x%.0s' {1..300}), client_secret: $CLIENT_SECRET-rotated}
YAML
wait_for "the last usable token to be refused" refused "$ROTATED"

# Delete with deletionPolicy Retract: the entries go (the placeholder keeps the list non-empty),
# the change is deployed, and the object goes away.
k delete sharingconfiguration apisource-to-urllist --wait=false >/dev/null
gone() { ! k get sharingconfiguration apisource-to-urllist >/dev/null 2>&1; }
wait_for "the SharingConfiguration to go away (finalizer released)" gone
url_list_is "$URL_LIST" cedefaultpush.io ||
  fail "the retracted entries are still on the list: $(url_list_json "$URL_LIST")"
# The other configuration is untouched by the deletion.
wait_for "the file-hash configuration to stay Ready" sc_ready netskope-to-filehashlist True Synced
echo "PASS sharing_lifecycle_test"
