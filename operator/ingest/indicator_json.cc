#include "operator/ingest/indicator_json.h"

#include <arpa/inet.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>

#include "operator/core/time_format.h"

namespace cte::ingest {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr size_t kRetainedParserBytes = 1 << 20;

std::string_view Trim(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool IsHex(std::string_view s, size_t len) {
  return s.size() == len &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

template <typename Names>
std::string Choices(const Names& names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// A JSON date-time as pydantic reads one: an ISO-8601 string, or a number of seconds since the
// epoch (milliseconds above 2e10, as pydantic v1 decides).
std::optional<std::string> ReadTime(const element& v, std::optional<WallTime>& out) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    auto t = ParseIso8601(Trim(s));
    if (!t.ok()) return t.status().message();
    out = *t;
    return std::nullopt;
  }
  double d;
  if (v.get_double().get(d) == simdjson::SUCCESS) {
    if (!(d >= 0) || d > 2e13) return "must be a date-time or a non-negative epoch timestamp";
    if (d > 2e10) d /= 1000;
    out =
        WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(d)));
    return std::nullopt;
  }
  return "must be an ISO-8601 date-time string";
}

class ItemReader {
 public:
  ItemReader(const IngestLimits& limits, ItemShape shape, std::optional<size_t> index,
             std::vector<FieldError>& errors)
      : limits_(limits), shape_(shape), index_(index), errors_(errors) {}

  // Reads one item object into `out`; returns false when it had any error.
  bool Read(const element& item, IndicatorIn& out) {
    const size_t before = errors_.size();
    simdjson::dom::object obj;
    if (item.get_object().get(obj) != simdjson::SUCCESS) {
      Error("item", "must be an object");
      return false;
    }
    bool has_value = false, has_source = false;
    // Later duplicates win, as Python's json module decides.
    for (const auto& field : obj) {
      std::string_view key = field.key;
      const element& v = field.value;
      if (key == "value") {
        has_value = true;
        if (auto s = String(key, v)) {
          std::string_view t = Trim(*s);
          if (t.empty()) {
            Error(key, "must not be empty");
          } else if (t.size() > limits_.max_value_bytes) {
            Error(key, "longer than " + std::to_string(limits_.max_value_bytes) + " bytes");
          } else {
            out.value.assign(t.data(), t.size());
          }
        }
      } else if (key == "type") {
        if (auto s = String(key, v)) {
          out.type = store::ParseIndicatorType(*s);
          if (!out.type) Error(key, "must be one of " + Choices(store::kIndicatorTypeNames));
        }
      } else if (key == "source") {
        has_source = true;
        if (auto s = String(key, v)) {
          if (s->empty()) {
            Error(key, "must not be empty");
          } else {
            out.source.assign(s->data(), s->size());
          }
        }
      } else if (key == "test") {
        Bool(key, v, out.test);
      } else if (key == "active") {
        Bool(key, v, out.active);
      } else if (key == "safe") {
        std::optional<bool> ignored;  // accepted as CE does; not kept (nothing uses it)
        Bool(key, v, ignored);
      } else if (key == "retracted") {
        Bool(key, v, out.retracted);
      } else if (key == "firstSeen" || key == "lastSeen") {
        auto& dst = key == "firstSeen" ? out.first_seen : out.last_seen;
        if (!v.is_null()) {
          if (auto err = ReadTime(v, dst)) Error(key, *err);
        }
      } else if (key == "expiresAt") {
        std::optional<WallTime> t;
        if (v.is_null()) {
          out.expires_at = std::optional<WallTime>();
        } else if (auto err = ReadTime(v, t)) {
          Error(key, *err);
        } else {
          out.expires_at = t;
        }
      } else if (key == "tags") {
        Tags(key, v, out);
      } else if (key == "reputation") {
        int64_t n;
        if (v.get_int64().get(n) != simdjson::SUCCESS || n < store::kMinReputation ||
            n > store::kMaxReputation) {
          Error(key, "must be an integer from 1 to 10");
        } else {
          out.reputation = static_cast<int>(n);
        }
      } else if (key == "severity") {
        if (auto s = String(key, v)) {
          out.severity = store::ParseSeverity(*s);
          if (!out.severity) Error(key, "must be one of " + Choices(store::kSeverityNames));
        }
      } else if (key == "comments") {
        if (auto s = String(key, v)) {
          std::string_view t = Trim(*s);
          if (t.size() > limits_.max_comment_bytes) {
            Error(key, "longer than " + std::to_string(limits_.max_comment_bytes) + " bytes");
          } else {
            out.comments = std::string(t);
          }
        }
      } else if (key == "extendedInformation") {
        if (v.is_null()) continue;
        if (auto s = String(key, v)) Link(key, Trim(*s), out);
      }
      // Other keys are ignored, as CE's models ignore them.
    }
    if (!has_value) Error("value", "field required");
    if (!has_source) Error("source", "field required");
    if (shape_ == ItemShape::kFull && !out.type && !HasError("type"))
      Error("type", "field required");
    if (out.type && !out.value.empty()) {
      if (*out.type == store::IndicatorType::kMd5 || *out.type == store::IndicatorType::kSha256) {
        std::transform(out.value.begin(), out.value.end(), out.value.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      }
      if (std::string why = ValueError(out.value, *out.type); !why.empty()) Error("value", why);
    }
    return errors_.size() == before;
  }

 private:
  void Error(std::string_view field, std::string reason) {
    errors_.push_back({index_, std::string(field), std::move(reason)});
  }
  bool HasError(std::string_view field) const {
    return std::any_of(errors_.begin(), errors_.end(),
                       [&](const FieldError& e) { return e.index == index_ && e.field == field; });
  }
  std::optional<std::string_view> String(std::string_view key, const element& v) {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) {
      Error(key, "must be a string");
      return std::nullopt;
    }
    return s;
  }
  void Bool(std::string_view key, const element& v, std::optional<bool>& out) {
    bool b;
    if (v.get_bool().get(b) != simdjson::SUCCESS) {
      Error(key, "must be a boolean");
      return;
    }
    out = b;
  }
  void Tags(std::string_view key, const element& v, IndicatorIn& out) {
    simdjson::dom::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) {
      Error(key, "must be a list of strings");
      return;
    }
    std::vector<std::string> tags;
    for (const element& t : arr) {
      std::string_view s;
      if (t.get_string().get(s) != simdjson::SUCCESS) {
        Error(key, "must be a list of strings");
        return;
      }
      s = Trim(s);
      if (s.empty() || s.size() > limits_.max_tag_bytes || HasControl(s)) {
        Error(key, "each tag must be 1 to " + std::to_string(limits_.max_tag_bytes) +
                       " bytes without control characters");
        return;
      }
      tags.emplace_back(s);
    }
    if (tags.size() > limits_.max_tags) {
      Error(key, "at most " + std::to_string(limits_.max_tags) + " tags");
      return;
    }
    out.tags = std::move(tags);
  }
  void Link(std::string_view key, std::string_view s, IndicatorIn& out) {
    if (s.empty()) {
      out.extended_information = "";
      return;
    }
    size_t scheme = s.rfind("https://", 0) == 0 ? 8 : s.rfind("http://", 0) == 0 ? 7 : 0;
    if (scheme == 0 || s.size() <= scheme || s[scheme] == '/' || HasControl(s) ||
        s.find(' ') != std::string_view::npos) {
      Error(key, "must be an http or https URL");
    } else if (s.size() > limits_.max_link_bytes) {
      Error(key, "longer than " + std::to_string(limits_.max_link_bytes) + " bytes");
    } else {
      out.extended_information = std::string(s);
    }
  }

  const IngestLimits& limits_;
  ItemShape shape_;
  std::optional<size_t> index_;
  std::vector<FieldError>& errors_;
};

// One parser per thread (a connection's handler thread), grown on demand and shrunk after an
// unusually large body so idle threads do not hold megabytes.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Parses `body` into `doc`; a "body" error otherwise.
bool ParseBody(std::string_view body, const IngestLimits& limits, simdjson::dom::parser& parser,
               element& doc, std::vector<FieldError>& errors) {
  auto fail = [&](std::string reason) {
    errors.push_back({std::nullopt, "body", std::move(reason)});
    return false;
  };
  if (body.size() > limits.max_body_bytes) {
    return fail("larger than " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  if (parser.capacity() < body.size() || parser.max_depth() != limits.max_depth) {
    if (parser.allocate(std::max(body.size(), size_t{64 * 1024}), limits.max_depth) !=
        simdjson::SUCCESS) {
      return fail("cannot allocate a parser for this body");
    }
  }
  auto err = parser.parse(body.data(), body.size()).get(doc);
  if (err == simdjson::DEPTH_ERROR) {
    return fail("JSON nested deeper than " + std::to_string(limits.max_depth) + " levels");
  }
  if (err != simdjson::SUCCESS) {
    return fail(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  return true;
}

void ShrinkAfter(simdjson::dom::parser& parser) {
  if (parser.capacity() > kRetainedParserBytes) {
    // On failure the parser keeps its larger buffers, which is still correct.
    if (parser.allocate(kRetainedParserBytes, parser.max_depth()) != simdjson::SUCCESS) return;
  }
}

}  // namespace

std::string ValueError(std::string_view value, store::IndicatorType type) {
  using store::IndicatorType;
  switch (type) {
    case IndicatorType::kMd5:
      return IsHex(value, 32) ? "" : "not a valid md5 (32 hexadecimal characters)";
    case IndicatorType::kSha256:
      return IsHex(value, 64) ? "" : "not a valid sha256 (64 hexadecimal characters)";
    case IndicatorType::kIpv4:
    case IndicatorType::kIpv6: {
      const bool v4 = type == IndicatorType::kIpv4;
      unsigned char buf[sizeof(in6_addr)];
      std::string s(value);
      // inet_pton stops at a NUL: "1.2.3.4\0<script>" must not pass as 1.2.3.4.
      if (s.size() > 64 || s.find('\0') != std::string::npos ||
          inet_pton(v4 ? AF_INET : AF_INET6, s.c_str(), buf) != 1) {
        return v4 ? "not a valid IPv4 address" : "not a valid IPv6 address";
      }
      return "";
    }
    default:
      // url, hostname, domain, fqdn: CE only asks for more than 3 characters; control characters
      // would break every list format downstream.
      if (value.size() <= 3) return "must be longer than 3 characters";
      if (HasControl(value)) return "must not contain control characters";
      return "";
  }
}

ParsedIndicators ParseIndicatorArray(std::string_view body, const IngestLimits& limits) {
  ParsedIndicators out;
  auto& parser = ThreadParser();
  element doc;
  if (!ParseBody(body, limits, parser, doc, out.errors)) return out;
  simdjson::dom::array arr;
  if (doc.get_array().get(arr) != simdjson::SUCCESS) {
    out.errors.push_back({std::nullopt, "body", "must be a JSON array of indicators"});
    ShrinkAfter(parser);
    return out;
  }
  if (arr.size() > limits.max_items) {
    out.errors.push_back({std::nullopt, "body",
                          "at most " + std::to_string(limits.max_items) +
                              " indicators per request, got " + std::to_string(arr.size())});
    ShrinkAfter(parser);
    return out;
  }
  out.items.reserve(arr.size());
  size_t i = 0;
  for (const element& item : arr) {
    ItemReader reader(limits, ItemShape::kFull, i++, out.errors);
    IndicatorIn in;
    if (reader.Read(item, in)) out.items.push_back(std::move(in));
  }
  ShrinkAfter(parser);
  return out;
}

ParsedIndicators ParseIndicatorObject(std::string_view body, const IngestLimits& limits,
                                      ItemShape shape) {
  ParsedIndicators out;
  auto& parser = ThreadParser();
  element doc;
  if (!ParseBody(body, limits, parser, doc, out.errors)) return out;
  if (doc.type() != element_type::OBJECT) {
    out.errors.push_back({std::nullopt, "body", "must be a JSON object"});
    return out;
  }
  ItemReader reader(limits, shape, std::nullopt, out.errors);
  IndicatorIn in;
  if (reader.Read(doc, in)) out.items.push_back(std::move(in));
  ShrinkAfter(parser);
  return out;
}

store::Indicator ToIndicator(const IndicatorIn& in, const store::SourceRef& plugin) {
  store::Indicator ind;
  ind.source = plugin;
  ind.value = in.value;
  ind.type = in.type.value_or(store::IndicatorType::kUrl);
  ind.severity = in.severity.value_or(store::Severity::kUnknown);
  ind.reputation = in.reputation.value_or(store::kDefaultReputation);
  if (in.tags) ind.tags = *in.tags;
  if (in.comments) ind.comments = *in.comments;
  if (in.extended_information) ind.extended_information = *in.extended_information;
  if (in.first_seen) ind.first_seen = *in.first_seen;
  if (in.last_seen) ind.last_seen = *in.last_seen;
  if (in.expires_at) ind.expires_at = *in.expires_at;
  ind.active = in.active.value_or(true);
  ind.test = in.test.value_or(false);
  return ind;
}

size_t JsonDepth(std::string_view text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace cte::ingest
