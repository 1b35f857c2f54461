#!/usr/bin/env bash
# The ingest API over HTTPS with a test certificate: curl verifies the chain against the test CA
# and talks to the API; plain HTTP and an unverified chain are refused; a request with a bad token
# is answered from its headers, before its body is read.
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"
source "$CTE_SOURCE_DIR/tests/e2e/ingest_lib.sh"
start_apiserver
write_ingest_credentials
make_tls_cert
start_operator op --ingest-tls-cert "$WORK/tls.crt" --ingest-tls-key "$WORK/tls.key"
[[ $(jq -r 'select(.server=="ingest").tls' "$WORK/op.log") == true ]] || fail "the ingest API is not TLS"
SCHEME=https
CURL_TLS="--cacert $WORK/ca.crt"

TOKEN=$(token client-a secret-a-7d1e)
[[ -n $TOKEN && $TOKEN != null ]] || fail "no token over HTTPS"
indicators_file "$WORK/a.json" 10 tls
out=$(api "$TOKEN" POST /api/cte/indicators "$WORK/a.json")
[[ ${out%% *} == 201 ]] || fail "POST over HTTPS: ${out:0:300}"
out=$(api "$TOKEN" GET '/api/cte/indicators?aggregate=true')
[[ ${out#* } == '{"count":10}' ]] || fail "GET over HTTPS: $out"

# Without the test CA the chain does not verify; plain HTTP gets no API answer.
expect_failure curl -sf -d 'grant_type=client_credentials' "https://$INGEST/api/auth" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d 'grant_type=client_credentials&client_id=client-a&client_secret=secret-a-7d1e' \
  "http://$INGEST/api/auth" || true)
[[ $code != 200 ]] || fail "plain HTTP was served on the TLS port"

# A bad token on a 16 MiB POST: refused from the headers; the body is never read.
head -c $((16 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$WORK/big.json"
read -r code uploaded < <(curl -s $CURL_TLS -o "$WORK/resp" -w '%{http_code} %{size_upload}\n' \
  -H 'Authorization: Bearer not-a-token' -H 'Content-Type: application/json' \
  -H 'Expect: 100-continue' --data-binary "@$WORK/big.json" "https://$INGEST/api/cte/indicators")
[[ $code == 401 ]] || fail "bad token on a large body answered $code"
((uploaded < 1024 * 1024)) || fail "the server read $uploaded body bytes before refusing the token"
[[ $(jq -r .detail "$WORK/resp") == "Could not validate credentials." ]] || fail "401 body: $(cat "$WORK/resp")"
# A good token but a body over the limit: 413 from Content-Length alone.
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$WORK/huge.json"
read -r code uploaded < <(curl -s $CURL_TLS -o /dev/null -w '%{http_code} %{size_upload}\n' \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H 'Expect: 100-continue' \
  --data-binary "@$WORK/huge.json" "https://$INGEST/api/cte/indicators")
[[ $code == 413 ]] || fail "an oversized body answered $code"
((uploaded < 1024 * 1024)) || fail "the server read $uploaded bytes of an oversized body"
kill -0 "$op_PID" || fail "cte-operator died"

# A certificate that does not load stops the operator at start, with a message saying so.
echo "not a certificate" >"$WORK/bad.crt"
code=0
timeout 20 "$BIN_DIR/cte-operator" --kubeconfig "$KUBECONFIG" --store "sqlite://$WORK/other.db" \
  --ingest-bind-address 127.0.0.1:0 --ingest-tls-cert "$WORK/bad.crt" --ingest-tls-key "$WORK/tls.key" \
  --metrics-bind-address 0 --health-probe-bind-address 0 2>"$WORK/bad.log" || code=$?
[[ $code == 1 ]] || fail "a bad certificate exited with $code (want 1)"
grep -q '"msg":"setup failed".*ingest API: TLS certificate' "$WORK/bad.log" ||
  fail "no clear message: $(cat "$WORK/bad.log")"
echo "PASS ingest_tls_test"
