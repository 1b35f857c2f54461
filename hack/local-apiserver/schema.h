// Structural-schema processing the way kube-apiserver applies a CRD's openAPIV3Schema to a
// custom resource on every write: prune unknown fields, apply defaults, validate.
//
// Supported keywords: type, nullable, properties, additionalProperties, items, required, enum,
// minimum/maximum (and exclusive*), pattern, minLength/maxLength, minItems/maxItems,
// x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string, default, format date-time.
// x-kubernetes-validations (CEL) are not evaluated: a known difference from a real cluster,
// listed in docs/local-apiserver.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cte::apiserver {

// One validation failure, shaped like k8s.io/apimachinery field.Error.
struct FieldError {
  std::string reason;   // FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, ...
  std::string field;    // "spec.initialRangeDays"
  std::string message;  // the full text, "spec.x: Invalid value: 400: ..."
};

// Removes fields the schema does not declare, appending their paths ("spec.foo") to `unknown`.
// At the root, apiVersion, kind and metadata are always kept.
void PruneUnknownFields(nlohmann::json& object, const nlohmann::json& schema,
                        std::vector<std::string>& unknown);

// Fills in `default` values for absent fields, recursively, after pruning.
void ApplyDefaults(nlohmann::json& object, const nlohmann::json& schema);

// Validates `object` against `schema`; metadata is not validated here.
std::vector<FieldError> ValidateAgainstSchema(const nlohmann::json& object,
                                              const nlohmann::json& schema);

// Formats a value the way Kubernetes validation messages do: strings quoted, others as JSON.
std::string FormatValue(const nlohmann::json& value);

}  // namespace cte::apiserver
