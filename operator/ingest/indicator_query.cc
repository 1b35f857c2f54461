#include "operator/ingest/indicator_query.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "operator/core/json_util.h"
#include "operator/ingest/indicator_json.h"

namespace cte::ingest {
namespace {

using nlohmann::json;

constexpr size_t kMaxFilterBytes = 64 * 1024;
constexpr size_t kMaxFilterDepth = 8;
constexpr size_t kMaxFilterValues = 1000;
constexpr size_t kMaxTagTerms = 100;

Status Invalid(const std::string& why) {
  return InvalidArgumentError("Invalid query provided. " + why);
}

// Strings from a literal, {"$eq": x} or {"$in": [...]}; `negated` is set for $ne/$nin.
Status Strings(const std::string& field, const json& v, std::vector<std::string>& out,
               bool* negated = nullptr) {
  auto take = [&](const json& s) -> Status {
    if (!s.is_string()) return Invalid(field + ": expected a string");
    if (out.size() >= kMaxFilterValues) return Invalid(field + ": too many values");
    out.push_back(s.get<std::string>());
    return Status::Ok();
  };
  if (v.is_string()) return take(v);
  if (!v.is_object() || v.size() != 1) {
    return Invalid(field + ": expected a string or one operator");
  }
  // The one member; the key and value live in `v` (not in a temporary iteration proxy).
  const auto member = v.begin();
  const std::string& op = member.key();
  const json& arg = member.value();
  const bool neg = op == "$ne" || op == "$nin";
  if (neg && !negated) return Invalid("Unsupported operator " + op + " on " + field + ".");
  if (negated) *negated = neg;
  if (op == "$eq" || op == "$ne") return take(arg);
  if (op == "$in" || op == "$nin") {
    if (!arg.is_array()) return Invalid(field + ": " + op + " expects a list");
    for (const auto& s : arg) {
      if (Status st = take(s); !st.ok()) return st;
    }
    return Status::Ok();
  }
  return Invalid("Unsupported operator " + op + " on " + field + ".");
}

Status Bool(const std::string& field, const json& v, std::optional<bool>& out) {
  if (v.is_boolean()) {
    out = v.get<bool>();
    return Status::Ok();
  }
  if (v.is_object() && v.size() == 1) {
    const auto member = v.begin();
    const std::string& op = member.key();
    const json& arg = member.value();
    if ((op == "$eq" || op == "$ne") && arg.is_boolean()) {
      out = op == "$eq" ? arg.get<bool>() : !arg.get<bool>();
      return Status::Ok();
    }
  }
  return Invalid(field + ": expected true, false, {\"$eq\": bool} or {\"$ne\": bool}");
}

// Enum names as in Strings; fills `in`, or `not_in` for $ne/$nin (when the field allows them).
template <typename E, typename Parse>
Status Enums(const std::string& field, const json& v, std::vector<E>& in, std::vector<E>* not_in,
             bool& negated, Parse parse) {
  std::vector<std::string> names;
  negated = false;
  if (Status s = Strings(field, v, names, not_in ? &negated : nullptr); !s.ok()) return s;
  for (const auto& n : names) {
    auto e = parse(n);
    if (!e) return Invalid(field + ": unknown value \"" + n + "\"");
    (negated ? *not_in : in).push_back(*e);
  }
  return Status::Ok();
}

// `dst` is "any of", empty while the field is unconstrained; a further "any of" narrows it to
// both (a field constrained twice, under $and, at the top and in $elemMatch, or in two
// `filters` parameters, must hold both times). An empty "any of" ($in: []) or an empty
// intersection matches nothing (and leaves `dst` as it was, as nothing can match anyway).
template <typename T>
void Narrow(std::vector<T>& dst, std::vector<T> more, bool& nothing) {
  if (more.empty()) nothing = true;
  if (dst.empty()) {
    dst = std::move(more);
    return;
  }
  std::vector<T> both;
  for (const auto& x : dst) {
    if (std::find(more.begin(), more.end(), x) != more.end() &&
        std::find(both.begin(), both.end(), x) == both.end()) {
      both.push_back(x);
    }
  }
  if (both.empty()) nothing = true;
  if (!both.empty()) dst = std::move(both);
}

// Reputation is an integer: a fractional bound rounds inwards ($gte 5.5 is $gte 6, $lt 5.5 is
// $lte 5), and equality with a fraction matches nothing.
Status Reputation(const json& v, store::IndicatorQuery& q) {
  auto number = [](const json& n) -> std::optional<double> {
    if (!n.is_number()) return std::nullopt;
    double d = n.get<double>();
    if (!(d >= -1000 && d <= 1000)) return std::nullopt;
    return d;
  };
  auto lower = [&](double x) {
    const int n = static_cast<int>(std::ceil(x));
    q.reputation_min = std::max(q.reputation_min.value_or(n), n);
  };
  auto upper = [&](double x) {
    const int n = static_cast<int>(std::floor(x));
    q.reputation_max = std::min(q.reputation_max.value_or(n), n);
  };
  auto equal = [&](double x) {
    if (x != std::floor(x)) q.match_nothing = true;
    lower(x);
    upper(x);
  };
  if (auto n = number(v)) {
    equal(*n);
    return Status::Ok();
  }
  if (!v.is_object() || v.empty()) return Invalid("reputation: expected a number or operators");
  for (const auto& [op, arg] : v.items()) {
    auto n = number(arg);
    if (!n) return Invalid("reputation: " + op + " expects a number");
    if (op == "$eq") {
      equal(*n);
    } else if (op == "$gte") {
      lower(*n);
    } else if (op == "$gt") {
      lower(std::floor(*n) + 1);
    } else if (op == "$lte") {
      upper(*n);
    } else if (op == "$lt") {
      upper(std::ceil(*n) - 1);
    } else {
      return Invalid("Unsupported operator " + op + " on reputation.");
    }
  }
  return Status::Ok();
}

// A boolean field given twice with different values matches nothing.
Status NarrowBool(const std::string& field, const json& v, std::optional<bool>& dst,
                  bool& nothing) {
  std::optional<bool> b;
  if (Status s = Bool(field, v, b); !s.ok()) return s;
  if (dst && *dst != *b) nothing = true;
  dst = b;
  return Status::Ok();
}

Status SourceField(const std::string& key, const json& v, store::IndicatorQuery& q) {
  if (key == "source") {
    std::vector<std::string> names;
    if (Status s = Strings("sources.source", v, names); !s.ok()) return s;
    Narrow(q.sources, std::move(names), q.match_nothing);
    return Status::Ok();
  }
  if (key == "severity") {
    std::vector<store::Severity> sev;
    bool negated = false;
    Status s =
        Enums<store::Severity>("sources.severity", v, sev, nullptr, negated, store::ParseSeverity);
    if (s.ok()) Narrow(q.severities, std::move(sev), q.match_nothing);
    return s;
  }
  if (key == "reputation") return Reputation(v, q);
  if (key == "tags") {
    std::vector<std::string> tags;
    bool negated = false;
    if (Status s = Strings("sources.tags", v, tags, &negated); !s.ok()) return s;
    if (negated) {
      q.tags_none.insert(q.tags_none.end(), tags.begin(), tags.end());
    } else if (tags.empty()) {
      q.match_nothing = true;
    } else {
      q.tags_any.push_back(std::move(tags));  // each group must match: tag a AND tag b
    }
    // Each tag is a term of its own in the store's query; SQLite limits how deep an expression
    // may nest, so the whole query carries a bounded number.
    size_t terms = q.tags_none.size();
    for (const auto& group : q.tags_any) terms += group.size();
    if (terms > kMaxTagTerms) {
      return Invalid("sources.tags: at most " + std::to_string(kMaxTagTerms) +
                     " tags in one query");
    }
    return Status::Ok();
  }
  if (key == "retracted") return NarrowBool("sources.retracted", v, q.retracted, q.match_nothing);
  return Invalid("Unsupported field sources." + key + ".");
}

Status Apply(const json& doc, store::IndicatorQuery& q) {
  if (!doc.is_object()) return Invalid("The query must be a JSON object.");
  for (const auto& [key, v] : doc.items()) {
    Status s;
    if (key == "value") {
      std::vector<std::string> values;
      s = Strings("value", v, values);
      if (s.ok()) Narrow(q.values, std::move(values), q.match_nothing);
    } else if (key == "type") {
      std::vector<store::IndicatorType> types;
      bool negated = false;
      s = Enums<store::IndicatorType>("type", v, types, &q.not_types, negated,
                                      store::ParseIndicatorType);
      if (s.ok() && !negated) Narrow(q.types, std::move(types), q.match_nothing);
    } else if (key == "active") {
      s = NarrowBool("active", v, q.active, q.match_nothing);
    } else if (key == "test") {
      s = NarrowBool("test", v, q.test, q.match_nothing);
    } else if (key == "sources") {
      if (!v.is_object() || v.size() != 1 || !v.contains("$elemMatch") ||
          !v["$elemMatch"].is_object()) {
        return Invalid("sources: expected {\"$elemMatch\": {...}}");
      }
      for (const auto& [k, sv] : v["$elemMatch"].items()) {
        if (s = SourceField(k, sv, q); !s.ok()) return s;
      }
    } else if (key.rfind("sources.", 0) == 0) {
      s = SourceField(key.substr(8), v, q);
    } else if (key == "$and") {
      if (!v.is_array()) return Invalid("$and expects a list");
      for (const auto& part : v) {
        if (s = Apply(part, q); !s.ok()) return s;
      }
    } else {
      return Invalid("Unsupported field or operator " + key + ".");
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

std::optional<store::SortField> SortFieldFrom(const std::string& s) {
  using store::SortField;
  static const std::pair<const char*, SortField> kNames[] = {
      {"value", SortField::kValue},
      {"type", SortField::kType},
      {"sources.source", SortField::kSource},
      {"source", SortField::kSource},
      {"sources.comments", SortField::kComments},
      {"comments", SortField::kComments},
      {"test", SortField::kTest},
      {"active", SortField::kActive},
      {"sources.reputation", SortField::kReputation},
      {"reputation", SortField::kReputation},
      {"sources.firstSeen", SortField::kFirstSeen},
      {"firstSeen", SortField::kFirstSeen},
      {"sources.severity", SortField::kSeverity},
      {"severity", SortField::kSeverity},
      {"sources.lastSeen", SortField::kLastSeen},
      {"lastSeen", SortField::kLastSeen},
      {"expiresAt", SortField::kExpiresAt},
  };
  for (const auto& [name, f] : kNames) {
    if (s == name) return f;
  }
  return std::nullopt;
}

StatusOr<int64_t> Integer(const std::string& name, const std::string& v) {
  if (v.empty() || v.size() > 12) return InvalidArgumentError(name + " must be an integer.");
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (*end != '\0') return InvalidArgumentError(name + " must be an integer.");
  return static_cast<int64_t>(n);
}

StatusOr<bool> Boolean(const std::string& name, const std::string& v) {
  if (v == "true" || v == "True" || v == "1") return true;
  if (v == "false" || v == "False" || v == "0") return false;
  return InvalidArgumentError(name + " must be true or false.");
}

}  // namespace

Status ApplyFilters(const std::string& filters, store::IndicatorQuery& query) {
  if (filters.size() > kMaxFilterBytes || JsonDepth(filters) > kMaxFilterDepth) {
    return Invalid("The query is too large or too deeply nested.");
  }
  auto doc = ParseJson(filters);
  if (!doc.ok()) return InvalidArgumentError("Invalid JSON query provided.");
  return Apply(*doc, query);
}

StatusOr<ListRequest> ParseListRequest(const http::QueryParams& params,
                                       const std::string& namespace_name) {
  ListRequest r;
  r.query.namespace_name = namespace_name;
  r.query.limit = 10;  // CE's default
  for (const auto& [name, value] : params) {
    if (name == "skip") {
      auto n = Integer("skip", value);
      if (!n.ok()) return n.status();
      if (*n < 0) return InvalidArgumentError("skip must not be negative.");
      r.query.skip = *n;
    } else if (name == "limit") {
      auto n = Integer("limit", value);
      if (!n.ok()) return n.status();
      if (*n > kMaxListLimit) {
        return InvalidArgumentError(
            "Limit cannot be greater than 100. Provided limit: " + std::to_string(*n) + ".");
      }
      if (*n < 1) return InvalidArgumentError("limit must be at least 1.");
      r.query.limit = *n;
    } else if (name == "sort") {
      auto f = SortFieldFrom(value);
      if (!f) return InvalidArgumentError("Invalid sort field " + value + ".");
      r.query.sort = *f;
    } else if (name == "ascending") {
      auto b = Boolean("ascending", value);
      if (!b.ok()) return b.status();
      r.query.ascending = *b;
    } else if (name == "aggregate") {
      auto b = Boolean("aggregate", value);
      if (!b.ok()) return b.status();
      r.aggregate = *b;
    } else if (name == "filters") {
      // Given twice, both hold (Narrow keeps what each constrains).
      if (Status s = ApplyFilters(value, r.query); !s.ok()) return s;
    }
  }
  return r;
}

}  // namespace cte::ingest
