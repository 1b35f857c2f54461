// JSON mapping of the types shared by the four CRD kinds; see common.h.
#include "controllers/api/common.h"

#include <algorithm>

namespace cte::api {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

bool IsDns1123Subdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  // Each dot-separated label starts and ends with an alphanumeric; '-' only inside.
  size_t start = 0;
  while (true) {
    size_t end = name.find('.', start);
    std::string_view label =
        name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (label.empty() || !IsLowerAlnum(label.front()) || !IsLowerAlnum(label.back())) return false;
    for (char c : label) {
      if (!IsLowerAlnum(c) && c != '-') return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

bool IsSecretKey(std::string_view key) {
  if (key.empty() || key.size() > 253) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::string JoinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

Status FieldError(std::string_view path, std::string_view message) {
  if (path.empty()) return InvalidArgumentError(std::string(message));
  std::string text(path);
  text += ": ";
  text += message;
  return InvalidArgumentError(std::move(text));
}

FieldReader::FieldReader(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {
  if (!object_.is_object()) status_ = FieldError(path_, "must be an object");
}

const nlohmann::json* FieldReader::Find(std::string_view key) const {
  const nlohmann::json* at = &object_;
  for (;;) {
    const size_t dot = key.find('.');
    if (!at->is_object()) return nullptr;
    auto it = at->find(key.substr(0, dot));
    if (it == at->end() || it->is_null()) return nullptr;
    at = &*it;
    if (dot == std::string_view::npos) return at;
    key.remove_prefix(dot + 1);
  }
}

void FieldReader::Fail(std::string_view key, std::string_view message) {
  if (ok()) status_ = FieldError(PathOf(key), message);
}

void FieldReader::CheckRange(std::string_view key, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) {
    Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                  std::to_string(value));
  }
}

void FieldReader::Keep(Status status) {
  if (ok() && !status.ok()) status_ = std::move(status);
}

StatusOr<ObjectMeta> ObjectMeta::FromJson(const nlohmann::json& json, const std::string& path) {
  ObjectMeta m;
  FieldReader r(json, path);
  if (r.Has("name")) r.Required("name", &m.name);
  if (r.Has("namespace")) r.Required("namespace", &m.namespace_name);
  if (r.Has("uid")) r.Required("uid", &m.uid);
  if (r.Has("resourceVersion")) r.Required("resourceVersion", &m.resource_version);
  if (r.Has("generation")) r.Required("generation", &m.generation);
  r.OptionalList("labels", &m.labels);
  r.OptionalList("annotations", &m.annotations);
  r.OptionalList("finalizers", &m.finalizers);
  r.Optional("deletionTimestamp", &m.deletion_timestamp);
  if (!r.ok()) return r.status();
  return m;
}

nlohmann::json ObjectMeta::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  if (!name.empty()) j["name"] = name;
  if (!namespace_name.empty()) j["namespace"] = namespace_name;
  if (!uid.empty()) j["uid"] = uid;
  if (!resource_version.empty()) j["resourceVersion"] = resource_version;
  if (generation != 0) j["generation"] = generation;
  PutNonEmpty(j, "labels", labels);
  PutNonEmpty(j, "annotations", annotations);
  PutNonEmpty(j, "finalizers", finalizers);
  PutOptional(j, "deletionTimestamp", deletion_timestamp);
  return j;
}

StatusOr<LocalObjectReference> LocalObjectReference::FromJson(const nlohmann::json& json,
                                                              const std::string& path) {
  LocalObjectReference ref;
  FieldReader r(json, path);
  r.Required("name", &ref.name);
  if (r.ok()) {
    r.Check(IsDns1123Subdomain(ref.name), "name",
            "must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.'), got \"" +
                ref.name + "\"");
  }
  if (!r.ok()) return r.status();
  return ref;
}

nlohmann::json LocalObjectReference::ToJson() const { return {{"name", name}}; }

StatusOr<SecretKeyRef> SecretKeyRef::FromJson(const nlohmann::json& json, const std::string& path) {
  SecretKeyRef ref;
  FieldReader r(json, path);
  r.Required("name", &ref.name);
  r.Required("key", &ref.key);
  if (r.ok()) {
    r.Check(IsDns1123Subdomain(ref.name), "name",
            "must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.'), got \"" +
                ref.name + "\"");
    r.Check(IsSecretKey(ref.key), "key",
            "must consist of letters, digits, '-', '_' and '.', got \"" + ref.key + "\"");
  }
  if (!r.ok()) return r.status();
  return ref;
}

nlohmann::json SecretKeyRef::ToJson() const { return {{"name", name}, {"key", key}}; }

std::string IntOrString::AsString() const {
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  return std::get<std::string>(value);
}

StatusOr<IntOrString> IntOrString::FromJson(const nlohmann::json& json, const std::string& path) {
  if (json.is_string()) return IntOrString{json.get<std::string>()};
  if (json.is_number_integer()) {
    if (json.is_number_unsigned() &&
        json.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(path, "is out of range");
    }
    return IntOrString{json.get<int64_t>()};
  }
  return FieldError(path, "must be a string or an integer");
}

nlohmann::json IntOrString::ToJson() const {
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  return std::get<std::string>(value);
}

StatusOr<Condition> Condition::FromJson(const nlohmann::json& json, const std::string& path) {
  Condition c;
  FieldReader r(json, path);
  r.Required("type", &c.type);
  r.Required("status", &c.status);
  r.Optional("observedGeneration", &c.observed_generation);
  r.Required("lastTransitionTime", &c.last_transition_time);
  r.Required("reason", &c.reason);
  r.Required("message", &c.message);
  if (!r.ok()) return r.status();
  return c;
}

nlohmann::json Condition::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutField(j, "type", type);
  PutField(j, "status", status);
  PutOptional(j, "observedGeneration", observed_generation);
  PutField(j, "lastTransitionTime", last_transition_time);
  PutField(j, "reason", reason);
  PutField(j, "message", message);
  return j;
}

const Condition* StatusBase::FindCondition(std::string_view type) const {
  for (const Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

void StatusBase::ReadCommon(FieldReader& reader) {
  reader.Optional("observedGeneration", &observed_generation);
  reader.OptionalList("conditions", &conditions);
  if (!reader.ok()) return;
  // The schema makes conditions a map keyed by type; a duplicate would make FindCondition
  // ambiguous.
  for (size_t i = 0; i < conditions.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (conditions[k].type == conditions[i].type) {
        reader.Fail("conditions[" + std::to_string(i) + "].type",
                    "duplicate condition type \"" + conditions[i].type + "\"");
        return;
      }
    }
  }
}

void StatusBase::WriteCommon(nlohmann::json& object) const {
  PutOptional(object, "observedGeneration", observed_generation);
  PutNonEmpty(object, "conditions", conditions);
}

void ReadTypeMeta(FieldReader& reader, std::string_view kind, ObjectMeta* metadata) {
  std::optional<std::string> api_version;
  std::optional<std::string> actual_kind;
  reader.Optional("apiVersion", &api_version);
  reader.Optional("kind", &actual_kind);
  if (api_version) {
    reader.Check(*api_version == kApiVersion, "apiVersion",
                 "must be " + std::string(kApiVersion) + ", got \"" + *api_version + "\"");
  }
  if (actual_kind) {
    reader.Check(*actual_kind == kind, "kind",
                 "must be " + std::string(kind) + ", got \"" + *actual_kind + "\"");
  }
  if (reader.Has("metadata")) {
    reader.Required("metadata", metadata);
  } else {
    *metadata = ObjectMeta{};
  }
}

void WriteTypeMeta(nlohmann::json& object, std::string_view kind, const ObjectMeta& metadata) {
  object["apiVersion"] = kApiVersion;
  object["kind"] = kind;
  object["metadata"] = metadata.ToJson();
}

}  // namespace cte::api
