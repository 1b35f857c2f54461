#include "operator/kube/secret_store.h"

#include "operator/core/base64.h"
#include "operator/kube/request.h"

namespace cte::kube {

using nlohmann::json;

const GroupVersionResource kSecretsResource{"", "v1", "secrets", true, "Secret"};

namespace {

std::string ResourceVersionOf(const json& object) {
  return object.value("/metadata/resourceVersion"_json_pointer, std::string());
}

// resourceVersions are etcd revisions on every server we talk to; compare numerically when both
// parse, and treat anything else as "not newer".
bool NewerOrEqual(const std::string& a, const std::string& b) {
  if (a == b) return true;
  char* end_a = nullptr;
  char* end_b = nullptr;
  unsigned long long x = std::strtoull(a.c_str(), &end_a, 10);
  unsigned long long y = std::strtoull(b.c_str(), &end_b, 10);
  if (a.empty() || b.empty() || *end_a != '\0' || *end_b != '\0') return false;
  return x >= y;
}

}  // namespace

const SecretString* Secret::Find(const std::string& key) const {
  auto it = data.find(key);
  return it == data.end() ? nullptr : &it->second;
}

SecretStore::SecretStore(KubeClient& client, Informer& informer)
    : client_(client), informer_(informer) {}

void SecretStore::AddReferrer(const Informer& referrer, std::string index) {
  referrers_.emplace_back(&referrer, std::move(index));
}

bool SecretStore::Referenced(const std::string& key) const {
  for (const auto& [informer, index] : referrers_) {
    if (!informer->cache().ByIndex(index, key).empty()) return true;
  }
  return false;
}

size_t SecretStore::HeldCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.size();
}

void SecretStore::PruneLocked() {
  for (auto it = held_.begin(); it != held_.end();) {
    bool keep = informer_.cache().Get(it->first) && Referenced(it->first);
    it = keep ? std::next(it) : held_.erase(it);
  }
}

StatusOr<SecretString> SecretStore::Value(const std::string& ns, const std::string& name,
                                          const std::string& key) {
  auto secret = Get(ns, name);
  if (!secret.ok()) return secret.status();
  const SecretString* value = (*secret)->Find(key);
  if (!value) return Status(StatusCode::kNotFound, "Secret " + name + " has no key " + key);
  return *value;
}

StatusOr<std::shared_ptr<const Secret>> SecretStore::Get(const std::string& ns,
                                                         const std::string& name) {
  const std::string key = ns + "/" + name;
  ObjectPtr meta = informer_.cache().Get(key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    PruneLocked();
    if (!meta) return Status(StatusCode::kNotFound, "Secret " + key + " not found");
    auto it = held_.find(key);
    if (it != held_.end() && NewerOrEqual(it->second->resource_version, ResourceVersionOf(*meta))) {
      return it->second;
    }
  }
  auto got = client_.Do(GetRequest(kSecretsResource, ns, name));
  if (!got.ok()) {
    if (got.status().code() == StatusCode::kNotFound) {
      return Status(StatusCode::kNotFound, "Secret " + key + " not found");
    }
    return got.status();
  }
  auto secret = std::make_shared<Secret>();
  secret->namespace_name = ns;
  secret->name = name;
  secret->resource_version = ResourceVersionOf(*got);
  const json data = got->value("data", json::object());
  if (data.is_object()) {
    for (auto it = data.begin(); it != data.end(); ++it) {
      if (it.value().is_string()) {
        secret->data[it.key()] = SecretString(Base64Decode(it.value().get<std::string>()));
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Hold it only while something references it; otherwise answer without keeping the data.
  if (!Referenced(key)) return std::shared_ptr<const Secret>(secret);
  auto& slot = held_[key];
  // Two workers may fetch at once; keep the newer answer.
  if (!slot || NewerOrEqual(secret->resource_version, slot->resource_version)) slot = secret;
  return slot;
}

}  // namespace cte::kube
