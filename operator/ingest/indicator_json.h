// Reading Cloud Exchange's IndicatorIn (reference/netskope-api.md §7.3) from request bodies, with
// CE's validation: md5/sha256 patterns, IPv4/IPv6 that parse, url/hostname/domain/fqdn longer than
// 3 characters, reputation 1-10, the type and severity enums, an http(s) extendedInformation.
// Every bad field of every item is reported, so a client can fix a whole batch at once.
//
// Bodies are parsed with simdjson (strict JSON, UTF-8 checked, a depth limit) into a tape, then
// walked; no parser recursion depends on the input. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/clock.h"
#include "operator/store/indicator.h"

namespace cte::ingest {

struct IngestLimits {
  size_t max_body_bytes = 16 * 1024 * 1024;
  size_t max_items = 10000;
  size_t max_depth = 16;
  size_t max_value_bytes = 8192;
  size_t max_comment_bytes = 16384;
  size_t max_link_bytes = 2048;
  size_t max_tags = 100;
  size_t max_tag_bytes = 500;  // CE's tag name limit
};

// One entry of the 422 `detail` list.
struct FieldError {
  std::optional<size_t> index;  // the item; nullopt for the body as a whole
  std::string field;
  std::string reason;
};

// An IndicatorIn as received; optional fields are set only when the body had them.
struct IndicatorIn {
  std::string value;  // trimmed (md5/sha256 also lower-cased)
  std::optional<store::IndicatorType> type;
  std::string source;
  std::optional<bool> test;
  std::optional<bool> active;
  std::optional<WallTime> first_seen;
  std::optional<WallTime> last_seen;
  // Absent: not given. {nullopt}: given as null.
  std::optional<std::optional<WallTime>> expires_at;
  std::optional<std::vector<std::string>> tags;
  std::optional<int> reputation;
  std::optional<store::Severity> severity;
  std::optional<std::string> comments;  // trimmed
  std::optional<std::string> extended_information;
  std::optional<bool> retracted;  // PATCH's retraction form only
};

struct ParsedIndicators {
  std::vector<IndicatorIn> items;
  std::vector<FieldError> errors;  // empty when every item is valid
};

enum class ItemShape {
  kFull,     // value, type and source required (POST, PATCH update)
  kRetract,  // {value, source, retracted}: type optional
};

// A POST body: a JSON array of IndicatorIn. Errors about the body itself (not JSON, too deep,
// not an array, too many items) come alone, with field "body".
ParsedIndicators ParseIndicatorArray(std::string_view body, const IngestLimits& limits);
// A PATCH body: one object.
ParsedIndicators ParseIndicatorObject(std::string_view body, const IngestLimits& limits,
                                      ItemShape shape);

// The store row for an item (before the source policy), with CE's defaults: active true, test
// false, reputation 5, severity unknown, no tags, empty comments.
store::Indicator ToIndicator(const IndicatorIn& in, const store::SourceRef& plugin);

// Checks a value against its type as CE's validate_iocs does; the reason, or empty when valid.
std::string ValueError(std::string_view value, store::IndicatorType type);

// The deepest nesting of arrays and objects in `text` (strings skipped); for bodies parsed with
// nlohmann::json, which has no depth limit of its own.
size_t JsonDepth(std::string_view text);

}  // namespace cte::ingest
