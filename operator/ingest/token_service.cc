#include "operator/ingest/token_service.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "operator/core/base64.h"
#include "operator/core/json_util.h"
#include "operator/ingest/crypto.h"

namespace cte::ingest {
namespace {

std::string Base64Url(std::string_view in) {
  std::string s = Base64Encode(in);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

bool IsBase64Url(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

int64_t Seconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Status Invalid(std::string why) { return {StatusCode::kUnauthenticated, "bearer token: " + why}; }

}  // namespace

bool TokenClaims::HasScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

TokenService::TokenService(Clock& clock, TokenServiceOptions options)
    : clock_(clock), options_(options) {
  std::lock_guard<std::mutex> lock(mu_);
  RotateLocked(clock_.WallNow());
}

void TokenService::Rotate() {
  std::lock_guard<std::mutex> lock(mu_);
  RotateLocked(clock_.WallNow());
}

void TokenService::RotateLocked(WallTime now) {
  if (!keys_.empty()) keys_.back().retired = now;
  std::string id = "k";
  id.append(std::to_string(next_key_++));  // not "k" + ...: a GCC 12 -O3 -Wrestrict false positive
  keys_.push_back(Key{std::move(id), RandomBytes(32), now, WallTime{}});
  // A retired key verifies until every token it signed has expired.
  while (keys_.size() > 1 && keys_.front().retired != WallTime{} &&
         keys_.front().retired + options_.lifetime <= now) {
    keys_.pop_front();
  }
}

const TokenService::Key* TokenService::FindLocked(std::string_view id) const {
  for (const auto& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

SecretString TokenService::Issue(const store::SourceRef& plugin, const std::string& client_id,
                                 const std::vector<std::string>& scopes,
                                 uint64_t credentials_version) {
  const WallTime now = clock_.WallNow();
  std::string key_id, secret;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (now - keys_.back().created >= options_.rotation_interval) RotateLocked(now);
    key_id = keys_.back().id;
    secret = keys_.back().secret;
  }
  const int64_t iat = Seconds(now);
  const int64_t exp =
      iat + std::chrono::duration_cast<std::chrono::seconds>(options_.lifetime).count();
  nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", key_id}};
  nlohmann::json payload = {{"iss", "cte-operator"},
                            {"sub", client_id},
                            {"ns", plugin.namespace_name},
                            {"plugin", plugin.name},
                            {"scopes", scopes},
                            {"cv", credentials_version},
                            {"iat", iat},
                            {"exp", exp},
                            {"jti", Base64Url(RandomBytes(12))}};
  std::string signing_input = Base64Url(header.dump()) + "." + Base64Url(payload.dump());
  std::string token = signing_input + "." + Base64Url(HmacSha256(secret, signing_input));
  return SecretString(std::move(token));
}

StatusOr<TokenClaims> TokenService::Verify(std::string_view token) const {
  if (token.empty()) return Invalid("missing");
  if (token.size() > options_.max_token_bytes) return Invalid("too long");
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return Invalid("not a JWT");
  }
  std::string_view h64 = token.substr(0, d1), p64 = token.substr(d1 + 1, d2 - d1 - 1),
                   s64 = token.substr(d2 + 1);
  if (!IsBase64Url(h64) || !IsBase64Url(p64) || !IsBase64Url(s64)) {
    return Invalid("not base64url");
  }
  auto header = ParseJson(Base64Decode(h64));
  if (!header.ok() || !header->is_object()) return Invalid("bad header");
  // Only HS256: "none" or an asymmetric algorithm must never be accepted for our keys.
  if (header->value("alg", "") != "HS256") return Invalid("unsupported alg");
  const auto kid = header->find("kid");
  if (kid == header->end() || !kid->is_string()) return Invalid("no key id");
  std::string secret;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Key* key = FindLocked(kid->get<std::string>());
    if (!key) return Invalid("unknown or expired signing key");
    secret = key->secret;
  }
  const std::string expected =
      HmacSha256(secret, token.substr(0, d2));  // over "header.payload" exactly as sent
  const std::string got = Base64Decode(s64);
  if (got.size() != expected.size() || CRYPTO_memcmp(got.data(), expected.data(), got.size())) {
    return Invalid("bad signature");
  }
  // Only the canonical encoding: the last character's unused bits could otherwise vary, and a
  // token would have several spellings.
  if (Base64Url(got) != s64) return Invalid("non-canonical signature encoding");
  auto payload = ParseJson(Base64Decode(p64));
  if (!payload.ok() || !payload->is_object()) return Invalid("bad payload");
  TokenClaims c;
  try {
    c.plugin.namespace_name = payload->at("ns").get<std::string>();
    c.plugin.name = payload->at("plugin").get<std::string>();
    c.client_id = payload->at("sub").get<std::string>();
    c.scopes = payload->at("scopes").get<std::vector<std::string>>();
    c.issued_at = WallTime(std::chrono::seconds(payload->at("iat").get<int64_t>()));
    c.expires_at = WallTime(std::chrono::seconds(payload->at("exp").get<int64_t>()));
    c.credentials_version = payload->at("cv").get<uint64_t>();
  } catch (const nlohmann::json::exception&) {
    return Invalid("bad claims");
  }
  const WallTime now = clock_.WallNow();
  if (now >= c.expires_at) return Invalid("expired");
  if (c.issued_at > now + std::chrono::minutes(1)) return Invalid("issued in the future");
  return c;
}

}  // namespace cte::ingest
