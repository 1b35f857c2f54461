// Pieces shared by the four CRD types of group cte.netskope.io/v1alpha1 (see crds/*.yaml): the
// subset of ObjectMeta the reconcilers use, references to Secrets and to other custom resources,
// metav1.Condition and the status fields every kind has, plus the small JSON reading and writing
// helpers each kind's FromJson/ToJson is built from.
//
// FromJson never throws: an input that does not fit the schema yields InvalidArgument naming the
// field path ("spec.target.type: must be one of URLList, FileHashList"). The API server already
// validates against the CRD schema, but the operator also reads objects from the local development
// API server and from test fixtures, so the types check again rather than trusting the source.
//
// ToJson emits only the modelled fields. Because of that, write spec-side changes (finalizers,
// annotations) with a patch, never by PUTting ToJson() over the stored object: that would drop
// ownerReferences, managedFields and anything else not modelled here. PUT to the status
// subresource is safe, since the API server takes only status from it.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "operator/core/status.h"

namespace cte::api {

inline constexpr std::string_view kGroup = "cte.netskope.io";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "cte.netskope.io/v1alpha1";

// Condition types used by every kind (ARCHITECTURE §2; kstatus and Argo CD understand them).
inline constexpr std::string_view kConditionReady = "Ready";
inline constexpr std::string_view kConditionReconciling = "Reconciling";
inline constexpr std::string_view kConditionStalled = "Stalled";

// An RFC 3339 timestamp as the API server writes metav1.Time ("2026-05-19T13:03:32Z"). Kept as
// text: the reconcilers copy and compare these, and parsing would change their spelling on a round
// trip, which would make a status write look like a change when it is not.
using Time = std::string;

// ---------------------------------------------------------------------------------------------
// Enums. Each enum used on the wire specialises EnumNames with its spellings, in declaration order,
// so that parsing, printing and error messages come from one table.

template <typename E>
struct EnumNames;

template <typename E>
concept WireEnum = std::is_enum_v<E> && requires {
  EnumNames<E>::kValues;
};

template <WireEnum E>
std::string_view EnumToString(E value) {
  return EnumNames<E>::kValues[static_cast<size_t>(value)];
}

template <WireEnum E>
std::optional<E> EnumFromString(std::string_view text) {
  const auto& names = EnumNames<E>::kValues;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

// "URLList, FileHashList": the allowed spellings, for error messages.
template <WireEnum E>
std::string EnumChoices() {
  std::string out;
  for (std::string_view name : EnumNames<E>::kValues) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation helpers shared by several kinds; each mirrors a pattern in crds/*.yaml.

// DNS-1123 subdomain (the rule for object and Secret names): lower-case alphanumerics, '-' and
// '.', starting and ending with an alphanumeric, at most 253 characters.
bool IsDns1123Subdomain(std::string_view name);

// A Secret data key: alphanumerics, '-', '_' and '.', at most 253 characters.
bool IsSecretKey(std::string_view key);

// ---------------------------------------------------------------------------------------------
// Reading JSON into the types.

// Joins a parent path and a key: ("spec", "target") -> "spec.target"; ("", "spec") -> "spec".
std::string JoinPath(std::string_view parent, std::string_view key);

// Formats an InvalidArgument for a field: "<path>: <message>", or "<message>" at the root.
Status FieldError(std::string_view path, std::string_view message);

// A type that can be read from JSON at a path (the path prefixes its error messages).
template <typename T>
concept JsonReadable = requires(const nlohmann::json& j, const std::string& path) {
  { T::FromJson(j, path) } -> std::same_as<StatusOr<T>>;
};

namespace internal {

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

// Decodes one JSON value into *out. Supports strings, booleans, integers (range-checked for the
// target type), wire enums, string maps, vectors of any of these and JsonReadable structs.
template <typename T>
Status Decode(const nlohmann::json& value, const std::string& path, T* out) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) return FieldError(path, "must be a string");
    *out = value.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) return FieldError(path, "must be a boolean");
    *out = value.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!value.is_number_integer()) return FieldError(path, "must be an integer");
    if (value.is_number_unsigned()) {
      auto u = value.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return FieldError(path, "is out of range");
      }
      *out = static_cast<T>(u);
    } else {
      auto i = value.get<int64_t>();
      if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          i > static_cast<int64_t>(std::numeric_limits<T>::max())) {
        return FieldError(path, "is out of range");
      }
      *out = static_cast<T>(i);
    }
  } else if constexpr (WireEnum<T>) {
    std::optional<T> parsed;
    if (value.is_string()) parsed = EnumFromString<T>(value.get<std::string>());
    if (!parsed) {
      return FieldError(path, "must be one of " + EnumChoices<T>() + ", got " + value.dump());
    }
    *out = *parsed;
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
    if (!value.is_object()) return FieldError(path, "must be an object of strings");
    out->clear();
    for (auto it = value.begin(); it != value.end(); ++it) {
      const nlohmann::json& v = it.value();
      if (!v.is_string()) return FieldError(JoinPath(path, it.key()), "must be a string");
      (*out)[it.key()] = v.get<std::string>();
    }
  } else if constexpr (IsVector<T>::value) {
    if (!value.is_array()) return FieldError(path, "must be a list");
    out->clear();
    out->reserve(value.size());
    for (size_t i = 0; i < value.size(); ++i) {
      typename T::value_type item{};
      Status s = Decode(value[i], path + "[" + std::to_string(i) + "]", &item);
      if (!s.ok()) return s;
      out->push_back(std::move(item));
    }
  } else if constexpr (JsonReadable<T>) {
    StatusOr<T> parsed = T::FromJson(value, path);
    if (!parsed.ok()) return parsed.status();
    *out = std::move(parsed).value();
  } else {
    static_assert(sizeof(T) == 0, "no JSON decoding for this type");
  }
  return Status::Ok();
}

}  // namespace internal

// Reads the fields of one JSON object, keeping the first error so that FromJson bodies read as a
// flat list of fields instead of a ladder of early returns:
//
//   FieldReader r(json, path);
//   r.Required("tenantName", &spec.tenant_name);
//   r.Optional("initialRangeDays", &spec.initial_range_days);
//   r.CheckRange("initialRangeDays", spec.initial_range_days, 0, 365);
//   if (!r.ok()) return r.status();
//
// A null value counts as absent, as it does for the API server, which prunes nulls from fields
// that are not nullable. Unknown keys are ignored (the API server prunes them). After the first
// error, further calls do nothing.
class FieldReader {
 public:
  // `object` must outlive the reader. `path` is the object's own path ("spec.target"; empty for a
  // whole resource).
  FieldReader(const nlohmann::json& object, std::string path);

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const { return JoinPath(path_, key); }

  // Whether the object has `key` with a non-null value. Every method taking a key also takes a
  // dotted path to a nested field, "spec.secretRef.name", for fields whose parents the CRD schema
  // types as objects; a missing, null or non-object step makes the field absent.
  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  // The value at `key`; only valid when Has(key).
  const nlohmann::json& Get(std::string_view key) const { return *Find(key); }

  template <typename T>
  void Required(std::string_view key, T* out) {
    if (!ok()) return;
    if (!Has(key)) {
      Fail(key, "is required");
      return;
    }
    Keep(internal::Decode(Get(key), PathOf(key), out));
  }

  template <typename T>
  void Optional(std::string_view key, std::optional<T>* out) {
    if (!ok()) return;
    if (!Has(key)) {
      out->reset();
      return;
    }
    T value{};
    Status s = internal::Decode(Get(key), PathOf(key), &value);
    if (s.ok()) *out = std::move(value);
    Keep(std::move(s));
  }

  // Reads an optional list or map; absent leaves it empty.
  template <typename T>
  void OptionalList(std::string_view key, T* out) {
    if (!ok()) return;
    out->clear();
    if (!Has(key)) return;
    Keep(internal::Decode(Get(key), PathOf(key), out));
  }

  // Records "<path>.<key>: <message>" unless an error is already recorded.
  void Fail(std::string_view key, std::string_view message);

  // Fail(key, message) when `condition` is false.
  void Check(bool condition, std::string_view key, std::string_view message) {
    if (!condition) Fail(key, message);
  }

  // Range checks for integer fields, with the bounds in the message.
  void CheckRange(std::string_view key, int64_t value, int64_t min, int64_t max);
  template <std::integral I>
  void CheckRange(std::string_view key, const std::optional<I>& value, int64_t min, int64_t max) {
    if (value) CheckRange(key, static_cast<int64_t>(*value), min, max);
  }

  // Records an error produced elsewhere (a nested FromJson) unless one is already recorded.
  void Keep(Status status);

 private:
  const nlohmann::json* Find(std::string_view key) const;

  const nlohmann::json& object_;
  std::string path_;
  Status status_;
};

// ---------------------------------------------------------------------------------------------
// Writing JSON from the types.

namespace internal {

template <typename T>
nlohmann::json Encode(const T& value) {
  if constexpr (WireEnum<T>) {
    return std::string(EnumToString(value));
  } else if constexpr (IsVector<T>::value) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& item : value) arr.push_back(Encode(item));
    return arr;
  } else if constexpr (requires { value.ToJson(); }) {
    return value.ToJson();
  } else {
    return value;  // strings, numbers, booleans, string maps
  }
}

}  // namespace internal

template <typename T>
void PutField(nlohmann::json& object, std::string_view key, const T& value) {
  object[std::string(key)] = internal::Encode(value);
}

// Writes the field only when it is set, so that ToJson(FromJson(x)) == x for valid input.
template <typename T>
void PutOptional(nlohmann::json& object, std::string_view key, const std::optional<T>& value) {
  if (value) PutField(object, key, *value);
}

// Writes a list or map only when it is non-empty. The schemas give every optional list a
// minItems of 1, so an empty one never comes from valid input.
template <typename T>
void PutNonEmpty(nlohmann::json& object, std::string_view key, const T& value) {
  if (!value.empty()) PutField(object, key, value);
}

// ---------------------------------------------------------------------------------------------
// Shared API types.

// The parts of metav1.ObjectMeta the operator reads or writes.
struct ObjectMeta {
  std::string name;
  std::string namespace_name;  // "namespace" on the wire
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;  // 0 until the API server has stored the object
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;
  std::optional<Time> deletion_timestamp;

  static StatusOr<ObjectMeta> FromJson(const nlohmann::json& json,
                                       const std::string& path = "metadata");
  nlohmann::json ToJson() const;
};

// A reference by name to another object in the same namespace; the namespace is the security
// boundary, so references never carry one.
struct LocalObjectReference {
  std::string name;

  static StatusOr<LocalObjectReference> FromJson(const nlohmann::json& json,
                                                 const std::string& path);
  nlohmann::json ToJson() const;
  friend bool operator==(const LocalObjectReference&, const LocalObjectReference&) = default;
};

// One key of a Secret in the same namespace.
struct SecretKeyRef {
  std::string name;
  std::string key;

  static StatusOr<SecretKeyRef> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
  friend bool operator==(const SecretKeyRef&, const SecretKeyRef&) = default;
};

// An integer or a string, as x-kubernetes-int-or-string allows; BusinessRule operands use it so
// that `value: 5` (reputation) and `value: "30d"` both read naturally in YAML.
struct IntOrString {
  std::variant<int64_t, std::string> value;

  bool IsInt() const { return std::holds_alternative<int64_t>(value); }
  // The operand as text: integers in decimal.
  std::string AsString() const;

  static StatusOr<IntOrString> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
  friend bool operator==(const IntOrString&, const IntOrString&) = default;
};

enum class ConditionStatus { kTrue, kFalse, kUnknown };
template <>
struct EnumNames<ConditionStatus> {
  static constexpr std::array<std::string_view, 3> kValues = {"True", "False", "Unknown"};
};

// metav1.Condition.
struct Condition {
  std::string type;
  ConditionStatus status = ConditionStatus::kUnknown;
  std::optional<int64_t> observed_generation;
  Time last_transition_time;
  std::string reason;
  std::string message;

  static StatusOr<Condition> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
  friend bool operator==(const Condition&, const Condition&) = default;
};

// The status fields every kind has. Each kind's status derives from it and adds its own.
struct StatusBase {
  std::optional<int64_t> observed_generation;
  std::vector<Condition> conditions;  // at most one per type

  // The condition of `type`, or nullptr.
  const Condition* FindCondition(std::string_view type) const;

  // Reads and writes the shared fields; the kinds call these from their own status mapping.
  void ReadCommon(FieldReader& reader);
  void WriteCommon(nlohmann::json& object) const;
  bool HasCommon() const { return observed_generation.has_value() || !conditions.empty(); }
};

// Reads the apiVersion, kind and metadata of a resource and checks that apiVersion and kind, when
// present, are the expected ones. List items and watch events always carry them; a missing one is
// tolerated so that a bare object built in a test still parses.
void ReadTypeMeta(FieldReader& reader, std::string_view kind, ObjectMeta* metadata);

// Writes apiVersion, kind and metadata.
void WriteTypeMeta(nlohmann::json& object, std::string_view kind, const ObjectMeta& metadata);

// The top level every kind shares: apiVersion/kind/metadata, a required spec and an optional
// status. `Object` has members metadata, spec and status whose types provide FromJson/ToJson.
template <typename Object>
StatusOr<Object> ReadObject(const nlohmann::json& json, std::string_view kind) {
  Object o;
  FieldReader r(json, "");
  ReadTypeMeta(r, kind, &o.metadata);
  r.Required("spec", &o.spec);
  if (r.Has("status")) r.Required("status", &o.status);
  if (!r.ok()) return r.status();
  return o;
}

template <typename Object>
nlohmann::json WriteObject(const Object& o, std::string_view kind) {
  nlohmann::json j = nlohmann::json::object();
  WriteTypeMeta(j, kind, o.metadata);
  j["spec"] = o.spec.ToJson();
  if (!o.status.IsEmpty()) j["status"] = o.status.ToJson();
  return j;
}

}  // namespace cte::api
