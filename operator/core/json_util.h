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

// How deep JSON from the network may nest. nlohmann/json copies and dumps values recursively, so
// a body like 65,000 nested arrays would overflow the stack long after it was parsed; the limit
// is checked while parsing. Far above what the project's documents use (the deepest CRD nests 25
// levels; Kubernetes objects with managedFields stay well under 100).
inline constexpr int kMaxJsonDepth = 256;

// Parses JSON text. A syntax error becomes InvalidArgument with the parser's position; nesting
// deeper than `max_depth` levels becomes InvalidArgument before the parse goes further.
StatusOr<nlohmann::json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);

// Parses every document of a YAML stream (documents separated by `---`) into JSON values,
// skipping empty documents; nesting deeper than kMaxJsonDepth is InvalidArgument. Plain scalars
// become null, bool, integer or float the way YAML 1.2 core schema reads them; quoted scalars stay
// strings.
StatusOr<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text);

// Reads a whole file; NotFound when it cannot be opened.
StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace cte
