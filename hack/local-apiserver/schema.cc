#include "hack/local-apiserver/schema.h"

#include <re2/re2.h>

#include <map>
#include <memory>
#include <mutex>

namespace cte::apiserver {
namespace {

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

bool PreservesUnknown(const nlohmann::json& schema) {
  return schema.value("x-kubernetes-preserve-unknown-fields", false);
}

void Prune(nlohmann::json& value, const nlohmann::json& schema, const std::string& path,
           std::vector<std::string>& unknown, bool root) {
  if (!schema.is_object()) return;
  if (value.is_object()) {
    if (schema.contains("properties")) {
      const auto& props = schema["properties"];
      for (auto it = value.begin(); it != value.end();) {
        const std::string key = it.key();
        if (root && (key == "apiVersion" || key == "kind" || key == "metadata")) {
          ++it;
          continue;
        }
        if (props.contains(key)) {
          Prune(it.value(), props[key], Join(path, key), unknown, false);
          ++it;
        } else if (PreservesUnknown(schema)) {
          ++it;
        } else {
          unknown.push_back(Join(path, key));
          it = value.erase(it);
        }
      }
    } else if (schema.contains("additionalProperties") &&
               schema["additionalProperties"].is_object()) {
      for (auto it = value.begin(); it != value.end(); ++it) {
        Prune(it.value(), schema["additionalProperties"], Join(path, it.key()), unknown, false);
      }
    } else if (!PreservesUnknown(schema) && !(schema.contains("additionalProperties") &&
                                              schema["additionalProperties"] == true)) {
      for (auto it = value.begin(); it != value.end();) {
        if (root && (it.key() == "apiVersion" || it.key() == "kind" || it.key() == "metadata")) {
          ++it;
          continue;
        }
        unknown.push_back(Join(path, it.key()));
        it = value.erase(it);
      }
    }
  } else if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      Prune(value[i], schema["items"], path + "[" + std::to_string(i) + "]", unknown, false);
    }
  }
}

void Default(nlohmann::json& value, const nlohmann::json& schema) {
  if (!schema.is_object()) return;
  if (value.is_object()) {
    if (schema.contains("properties")) {
      for (const auto& [key, prop] : schema["properties"].items()) {
        if (!value.contains(key) && prop.is_object() && prop.contains("default")) {
          value[key] = prop["default"];
        }
        if (value.contains(key)) Default(value[key], prop);
      }
    } else if (schema.contains("additionalProperties") &&
               schema["additionalProperties"].is_object()) {
      for (auto it = value.begin(); it != value.end(); ++it) {
        Default(it.value(), schema["additionalProperties"]);
      }
    }
  } else if (value.is_array() && schema.contains("items")) {
    for (auto& item : value) Default(item, schema["items"]);
  }
}

// RE2 objects are costly to build; cache them by pattern (patterns come from a few CRDs).
const RE2& CachedRegex(const std::string& pattern) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<RE2>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[pattern];
  if (!slot) {
    RE2::Options options;
    options.set_log_errors(false);
    slot = std::make_unique<RE2>(pattern, options);
  }
  return *slot;
}

std::string JsonTypeName(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

bool TypeMatches(const std::string& type, const nlohmann::json& v) {
  if (type.empty()) return true;
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") {
    if (v.is_number_integer() || v.is_number_unsigned()) return true;
    if (v.is_number_float()) {
      double d = v.get<double>();
      return d == static_cast<double>(static_cast<int64_t>(d));
    }
    return false;
  }
  if (type == "number") return v.is_number();
  return true;
}

bool ValidDateTime(const std::string& s) {
  static const RE2 re(R"(^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$)");
  return RE2::FullMatch(s, re);
}

bool IsTypeMeta(const std::string& key) {
  return key == "apiVersion" || key == "kind" || key == "metadata";
}

class Validator {
 public:
  std::vector<FieldError> errors;

  void Validate(const nlohmann::json& v, const nlohmann::json& schema, const std::string& path) {
    if (!schema.is_object()) return;
    const std::string field = path.empty() ? "<root>" : path;
    if (v.is_null()) {
      if (schema.value("nullable", false)) return;
      // A null for a typed field is a type error, as in kube-apiserver.
    }
    if (schema.value("x-kubernetes-int-or-string", false)) {
      if (!v.is_string() && !TypeMatches("integer", v)) {
        Add("FieldValueTypeInvalid", field,
            "Invalid value: " + FormatValue(v) + ": " + field +
                " in body must be of type integer-or-string: \"" + JsonTypeName(v) + "\"");
      }
      return;
    }
    std::string type = schema.value("type", "");
    if (!TypeMatches(type, v)) {
      Add("FieldValueTypeInvalid", field,
          "Invalid value: \"" + JsonTypeName(v) + "\": " + field + " in body must be of type " +
              type + ": \"" + JsonTypeName(v) + "\"");
      return;
    }
    if (schema.contains("enum") && schema["enum"].is_array()) {
      bool found = false;
      for (const auto& e : schema["enum"]) found = found || e == v;
      if (!found) {
        std::string supported;
        for (const auto& e : schema["enum"]) {
          supported += (supported.empty() ? "" : ", ") + FormatValue(e);
        }
        Add("FieldValueNotSupported", field,
            "Unsupported value: " + FormatValue(v) + ": supported values: " + supported);
      }
    }
    if (v.is_number()) ValidateNumber(v, schema, field);
    if (v.is_string()) ValidateString(v.get<std::string>(), schema, field);
    if (v.is_array()) {
      if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) {
        Add("FieldValueTooMany", field,
            "Too many: " + std::to_string(v.size()) + ": must have at most " +
                std::to_string(schema["maxItems"].get<size_t>()) + " items");
      }
      if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) {
        Add("FieldValueInvalid", field,
            "Invalid value: " + std::to_string(v.size()) + ": " + field +
                " in body should have at least " +
                std::to_string(schema["minItems"].get<size_t>()) + " items");
      }
      if (schema.contains("items")) {
        for (size_t i = 0; i < v.size(); ++i) {
          Validate(v[i], schema["items"], path + "[" + std::to_string(i) + "]");
        }
      }
    }
    if (v.is_object()) {
      if (schema.contains("required")) {
        for (const auto& r : schema["required"]) {
          if (path.empty() && IsTypeMeta(r.get<std::string>())) continue;
          if (!v.contains(r.get<std::string>())) {
            Add("FieldValueRequired", Join(path, r.get<std::string>()), "Required value");
          }
        }
      }
      if (schema.contains("properties")) {
        for (const auto& [key, prop] : schema["properties"].items()) {
          // apiVersion, kind and metadata are the server's business, not the schema's.
          if (path.empty() && IsTypeMeta(key)) continue;
          if (v.contains(key)) Validate(v[key], prop, Join(path, key));
        }
      } else if (schema.contains("additionalProperties") &&
                 schema["additionalProperties"].is_object()) {
        for (const auto& [key, item] : v.items()) {
          Validate(item, schema["additionalProperties"], Join(path, key));
        }
      }
      if (schema.contains("maxProperties") && v.size() > schema["maxProperties"].get<size_t>()) {
        Add("FieldValueTooMany", field,
            "Too many: " + std::to_string(v.size()) + ": must have at most " +
                std::to_string(schema["maxProperties"].get<size_t>()) + " items");
      }
    }
  }

 private:
  void Add(const std::string& reason, const std::string& field, const std::string& detail) {
    errors.push_back({reason, field, field + ": " + detail});
  }

  void ValidateNumber(const nlohmann::json& v, const nlohmann::json& schema,
                      const std::string& field) {
    double d = v.get<double>();
    if (schema.contains("maximum")) {
      double max = schema["maximum"].get<double>();
      bool exclusive = schema.value("exclusiveMaximum", false);
      if (exclusive ? d >= max : d > max) {
        Add("FieldValueInvalid", field,
            "Invalid value: " + FormatValue(v) + ": " + field + " in body should be less than " +
                (exclusive ? "" : "or equal to ") + FormatValue(schema["maximum"]));
      }
    }
    if (schema.contains("minimum")) {
      double min = schema["minimum"].get<double>();
      bool exclusive = schema.value("exclusiveMinimum", false);
      if (exclusive ? d <= min : d < min) {
        Add("FieldValueInvalid", field,
            "Invalid value: " + FormatValue(v) + ": " + field + " in body should be greater than " +
                (exclusive ? "" : "or equal to ") + FormatValue(schema["minimum"]));
      }
    }
  }

  void ValidateString(const std::string& s, const nlohmann::json& schema,
                      const std::string& field) {
    if (schema.contains("maxLength") && s.size() > schema["maxLength"].get<size_t>()) {
      Add("FieldValueTooLong", field,
          "Too long: may not be more than " + std::to_string(schema["maxLength"].get<size_t>()) +
              " bytes");
    }
    if (schema.contains("minLength") && s.size() < schema["minLength"].get<size_t>()) {
      Add("FieldValueInvalid", field,
          "Invalid value: \"" + s + "\": " + field + " in body should be at least " +
              std::to_string(schema["minLength"].get<size_t>()) + " chars long");
    }
    if (schema.contains("pattern")) {
      const std::string pattern = schema["pattern"];
      const RE2& re = CachedRegex(pattern);
      if (re.ok() && !RE2::PartialMatch(s, re)) {
        Add("FieldValueInvalid", field,
            "Invalid value: \"" + s + "\": " + field + " in body should match '" + pattern + "'");
      }
    }
    if (schema.value("format", "") == "date-time" && !ValidDateTime(s)) {
      Add("FieldValueInvalid", field,
          "Invalid value: \"" + s + "\": " + field + " in body must be of type date-time: \"" + s +
              "\"");
    }
  }
};

}  // namespace

std::string FormatValue(const nlohmann::json& value) {
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d)))
      return std::to_string(static_cast<int64_t>(d));
  }
  return value.dump();
}

void PruneUnknownFields(nlohmann::json& object, const nlohmann::json& schema,
                        std::vector<std::string>& unknown) {
  Prune(object, schema, "", unknown, true);
}

void ApplyDefaults(nlohmann::json& object, const nlohmann::json& schema) {
  Default(object, schema);
}

std::vector<FieldError> ValidateAgainstSchema(const nlohmann::json& object,
                                              const nlohmann::json& schema) {
  Validator v;
  v.Validate(object, schema, "");
  return v.errors;
}

}  // namespace cte::apiserver
