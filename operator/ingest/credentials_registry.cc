#include "operator/ingest/credentials_registry.h"

#include <cstring>

#include "operator/core/json_util.h"
#include "operator/ingest/crypto.h"

namespace cte::ingest {

uint64_t CredentialsVersion(const ApiSourceCredentials& c) {
  // Keyed with a random key of this process: the version says nothing about the secret to
  // whoever reads a token, yet is the same for the same credentials in every registry layer and
  // after a removal (tokens, like this key, do not outlive the process).
  static const std::string key = RandomBytes(32);
  std::string data = c.plugin.Key();
  for (const std::string& part : {c.client_id, c.client_secret.Reveal()}) {
    data += '\0' + std::to_string(part.size()) + ':' + part;
  }
  const std::string mac = HmacSha256(key, data);
  uint64_t v = 0;
  std::memcpy(&v, mac.data(), sizeof(v));
  return v | 1;  // never 0, the version of no credentials
}

Status StaticCredentialsRegistry::Put(ApiSourceCredentials c) {
  if (!c.plugin.Valid()) return InvalidArgumentError("credentials: plugin must be namespace/name");
  if (c.client_id.empty() || c.client_secret.empty()) {
    return InvalidArgumentError("credentials of " + c.plugin.Key() +
                                ": client_id and client_secret must not be empty");
  }
  if (c.client_id.size() > kMaxClientIdBytes) {
    return InvalidArgumentError("credentials of " + c.plugin.Key() + ": client_id is longer than " +
                                std::to_string(kMaxClientIdBytes) + " bytes");
  }
  if (underlying_) {
    auto below = underlying_->FindByClientId(c.client_id);
    if (below && below->plugin != c.plugin) {
      return AlreadyExistsError("credentials of " + c.plugin.Key() +
                                ": the client_id is already used by " + below->plugin.Key());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_client_id_.find(c.client_id);
  if (it != by_client_id_.end() && it->second.plugin != c.plugin) {
    return AlreadyExistsError("credentials of " + c.plugin.Key() +
                              ": the client_id is already used by " + it->second.plugin.Key());
  }
  c.version = CredentialsVersion(c);
  for (auto i = by_client_id_.begin(); i != by_client_id_.end();) {
    i = i->second.plugin == c.plugin ? by_client_id_.erase(i) : std::next(i);
  }
  std::string id = c.client_id;
  by_client_id_[id] = std::move(c);
  return Status::Ok();
}

void StaticCredentialsRegistry::Remove(const store::SourceRef& plugin) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto i = by_client_id_.begin(); i != by_client_id_.end();) {
    i = i->second.plugin == plugin ? by_client_id_.erase(i) : std::next(i);
  }
}

std::optional<ApiSourceCredentials> StaticCredentialsRegistry::FindByClientId(
    const std::string& client_id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_client_id_.find(client_id);
    if (it != by_client_id_.end()) return it->second;
  }
  if (!underlying_) return std::nullopt;
  auto below = underlying_->FindByClientId(client_id);
  if (!below) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, c] : by_client_id_) {
    if (c.plugin == below->plugin) return std::nullopt;  // this layer's entries replace it
  }
  return below;
}

StatusOr<std::vector<ApiSourceCredentials>> ParseCredentialsFile(const std::string& text) {
  auto docs = ParseYamlDocuments(text);  // YAML is a superset of JSON
  if (!docs.ok()) return docs.status();
  if (docs->size() != 1 || !(*docs)[0].is_array()) {
    return InvalidArgumentError("credentials file: must be one list of entries");
  }
  std::vector<ApiSourceCredentials> out;
  const auto& list = (*docs)[0];
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& e = list[i];
    const std::string where = "credentials file entry " + std::to_string(i);
    auto str = [&](const char* key, std::string& dst) -> Status {
      auto it = e.find(key);
      if (it == e.end() || !it->is_string() || it->get<std::string>().empty()) {
        return InvalidArgumentError(where + ": " + key + " must be a non-empty string");
      }
      dst = it->get<std::string>();
      return Status::Ok();
    };
    auto num = [&](const char* key, int lo, int hi, int& dst) -> Status {
      auto it = e.find(key);
      if (it == e.end()) return Status::Ok();
      if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi) {
        return InvalidArgumentError(where + ": " + key + " must be an integer from " +
                                    std::to_string(lo) + " to " + std::to_string(hi));
      }
      dst = it->get<int>();
      return Status::Ok();
    };
    if (!e.is_object()) return InvalidArgumentError(where + ": must be an object");
    ApiSourceCredentials c;
    std::string secret;
    for (Status s : {str("namespace", c.plugin.namespace_name), str("plugin", c.plugin.name),
                     str("clientId", c.client_id), str("clientSecret", secret),
                     num("agingDays", 0, 365, c.policy.aging_days),
                     num("overrideReputation", 0, 10, c.policy.override_reputation)}) {
      if (!s.ok()) return s;
    }
    if (!c.plugin.Valid()) {
      return InvalidArgumentError(where + ": namespace and plugin must be DNS-1123 names");
    }
    if (auto it = e.find("scopes"); it != e.end()) {
      if (!it->is_array()) return InvalidArgumentError(where + ": scopes must be a list");
      c.scopes.clear();
      for (const auto& s : *it) {
        if (!s.is_string() || (s != "cte_read" && s != "cte_write")) {
          return InvalidArgumentError(where + ": scopes may hold cte_read and cte_write only");
        }
        c.scopes.push_back(s.get<std::string>());
      }
    }
    c.client_secret = SecretString(std::move(secret));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace cte::ingest
