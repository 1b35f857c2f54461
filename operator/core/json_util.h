// JSON helpers shared by every layer: YAML to JSON conversion (CRDs, examples and manifests are
// YAML; everything inside the process is nlohmann::json) and safe parsing that returns a Status
// instead of throwing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/status.h"

namespace cte {

// Parses JSON text; a syntax error becomes InvalidArgument with the parser's position.
StatusOr<nlohmann::json> ParseJson(std::string_view text);

// Parses every document of a YAML stream (documents separated by `---`) into JSON values,
// skipping empty documents. Plain scalars become null, bool, integer or float the way YAML 1.2
// core schema reads them; quoted scalars stay strings.
StatusOr<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text);

// Reads a whole file; NotFound when it cannot be opened.
StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace cte
