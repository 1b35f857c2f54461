// Server-side printing: converts objects to a meta.k8s.io/v1 Table, the way kube-apiserver answers
// `kubectl get` (Accept: application/json;as=Table;v=v1;g=meta.k8s.io). Custom resources use
// their CRD's additionalPrinterColumns, evaluated with a JSONPath subset.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hack/local-apiserver/resource_types.h"

namespace cte::apiserver {

// Evaluates the JSONPath subset used by printer columns: `.a.b`, `[N]`, `[*]`,
// `[?(@.field=="value")]`. Returns every match.
std::vector<nlohmann::json> EvaluateJsonPath(const nlohmann::json& object, const std::string& path);

// Go's duration.HumanDuration: "45s", "3m20s", "5h", "2d3h", "400d".
std::string HumanDuration(std::chrono::seconds d);

// Seconds since an RFC 3339 timestamp, or nullopt when it does not parse.
std::optional<std::chrono::seconds> AgeOf(const std::string& rfc3339,
                                          std::chrono::system_clock::time_point now);

// The column definitions for a type.
nlohmann::json TableColumns(const ResourceType& type);

// One row; `include_object` is "None", "Metadata" (default) or "Object".
nlohmann::json TableRow(const ResourceType& type, const nlohmann::json& object,
                        const std::string& include_object,
                        std::chrono::system_clock::time_point now);

}  // namespace cte::apiserver
