# Helpers for the ingest API's shell tests: start cte-operator with a store and the ingest API
# against the local API server, get tokens, and call the API with curl. Source after lib.sh.

# Two APISource plugins named "feed" in two namespaces, and a read-only client in team-a. Also
# applies the CRDs, so the operator's informers sync (it waits for them before it runs).
write_ingest_credentials() {
  k apply -f "$SRC_DIR/crds/" >/dev/null
  cat >"$WORK/credentials.yaml" <<'YAML'
- {namespace: team-a, plugin: feed, clientId: client-a, clientSecret: secret-a-7d1e, agingDays: 30}
- {namespace: team-b, plugin: feed, clientId: client-b, clientSecret: secret-b-93f0}
- {namespace: team-a, plugin: reader, clientId: client-ro, clientSecret: secret-ro-5c2a, scopes: [cte_read]}
YAML
}

# start_operator NAME [extra flags...]: runs build/bin/cte-operator with the store in
# $STORE (default $WORK/indicators.db) and the ingest API on 127.0.0.1:0 (plain HTTP unless the extra flags give
# TLS); sets INGEST (host:port), METRICS and NAME_PID.
start_operator() {
  local name=$1
  shift
  local tls=(--ingest-insecure)
  if [[ " $* " == *" --ingest-tls-cert "* ]]; then tls=(); fi
  "$BIN_DIR/cte-operator" --kubeconfig "$KUBECONFIG" --store "sqlite://${STORE:-$WORK/indicators.db}" \
    --ingest-bind-address 127.0.0.1:0 "${tls[@]}" \
    --ingest-credentials-file "$WORK/credentials.yaml" --metrics-bind-address 127.0.0.1:0 \
    --health-probe-bind-address 127.0.0.1:0 --log-level debug "$@" 2>"$WORK/$name.log" &
  local pid=$!
  PIDS+=($pid)
  eval "${name}_PID=$pid"
  wait_for "$name to serve the ingest API" grep -q '"server":"ingest"' "$WORK/$name.log"
  # The metrics server starts after the operator's setup (which starts the ingest API).
  wait_for "$name to serve metrics" grep -q '"server":"metrics"' "$WORK/$name.log"
  INGEST=$(jq -r 'select(.server=="ingest").address' "$WORK/$name.log" | tail -n1)
  METRICS=$(jq -r 'select(.server=="metrics").address' "$WORK/$name.log" | tail -n1)
}

# token CLIENT_ID SECRET [SCOPE]: prints a bearer token.
token() {
  local scope=${3:+&scope=$3}
  curl -sf ${CURL_TLS:-} -d "grant_type=client_credentials&client_id=$1&client_secret=$2$scope" \
    "${SCHEME:-http}://$INGEST/api/auth" | jq -r .access_token
}

# api TOKEN METHOD PATH [BODY-FILE]: prints "<status> <body>".
api() {
  local args=(-s ${CURL_TLS:-} -o "$WORK/resp" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1")
  if [[ -n ${4:-} ]]; then args+=(-H 'Content-Type: application/json' --data-binary "@$4"); fi
  local code
  code=$(curl "${args[@]}" "${SCHEME:-http}://$INGEST$3")
  printf '%s %s' "$code" "$(cat "$WORK/resp")"
}

# indicators_file FILE COUNT PREFIX [SOURCE] [TAG]: a POST body of COUNT domains.
indicators_file() {
  local source=${4:-feed} tag=${5:-e2e}
  jq -n --argjson n "$2" --arg p "$3" --arg s "$source" --arg t "$tag" \
    '[range($n) | {value: "\($p)-\(.).example.net", type: "domain", source: $s, severity: "high", tags: [$t]}]' >"$1"
}
