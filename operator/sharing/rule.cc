#include "operator/sharing/rule.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstdlib>
#include <variant>

#include "operator/core/duration.h"
#include "operator/core/time_format.h"

namespace cte::sharing {

using api::FilterField;
using api::FilterOperator;

namespace {

enum class Kind { kString, kSeverity, kNumber, kTime, kTags };

Kind KindOf(FilterField f) {
  switch (f) {
    case FilterField::kSeverity:
      return Kind::kSeverity;
    case FilterField::kReputation:
      return Kind::kNumber;
    case FilterField::kFirstSeen:
    case FilterField::kLastSeen:
    case FilterField::kExpiresAt:
      return Kind::kTime;
    case FilterField::kTags:
      return Kind::kTags;
    default:
      return Kind::kString;
  }
}

bool IsOrdering(FilterOperator op) {
  return op == FilterOperator::kGreaterThan || op == FilterOperator::kGreaterOrEqual ||
         op == FilterOperator::kLessThan || op == FilterOperator::kLessOrEqual;
}

// Which operators a field accepts; a message for the rest.
std::string OperatorProblem(FilterField field, FilterOperator op) {
  const Kind kind = KindOf(field);
  const bool age = op == FilterOperator::kOlderThan || op == FilterOperator::kNewerThan;
  const bool text = op == FilterOperator::kContains || op == FilterOperator::kMatches;
  bool ok = true;
  switch (kind) {
    case Kind::kString:
    case Kind::kTags:
      ok = !IsOrdering(op) && !age;
      break;
    case Kind::kSeverity:
      ok = !age;
      break;
    case Kind::kNumber:
      ok = !age && !text;
      break;
    case Kind::kTime:
      ok = !text && op != FilterOperator::kIn && op != FilterOperator::kNotIn;
      break;
  }
  if (ok) return "";
  return std::string("operator ") + std::string(api::EnumToString(op)) +
         " does not apply to field " + std::string(api::EnumToString(field));
}

int64_t Millis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

// One compiled condition: the operands in the form the field compares them.
struct CompiledCondition {
  FilterField field = FilterField::kValue;
  FilterOperator op = FilterOperator::kEquals;
  std::vector<std::string> strings;  // sorted for In/NotIn on strings and tags
  std::vector<int64_t> numbers;      // reputation, severity rank, time in ms; sorted for In/NotIn
  std::shared_ptr<const RE2> regex;
  Duration age{0};  // OlderThan/NewerThan
};

struct CompiledRule::Group {
  bool all = true;
  bool negate = false;
  std::vector<std::variant<CompiledCondition, std::shared_ptr<const Group>>> items;
};

struct CompiledRule::Exception {
  std::shared_ptr<const Group> filter;
  std::vector<std::string> tags;  // sorted
};

namespace {

StatusOr<CompiledCondition> CompileCondition(const api::FilterCondition& c,
                                             const std::string& path) {
  CompiledCondition out;
  out.field = c.field;
  out.op = c.op;
  if (std::string problem = OperatorProblem(c.field, c.op); !problem.empty()) {
    return InvalidArgumentError(path + ".operator: " + problem);
  }
  const bool list = api::TakesValueList(c.op);
  std::vector<api::IntOrString> operands;
  if (list) {
    operands = c.values;
  } else if (c.value) {
    operands.push_back(*c.value);
  }
  const std::string operand_path = path + (list ? ".values" : ".value");
  if (operands.empty()) return InvalidArgumentError(operand_path + ": is required");
  for (size_t i = 0; i < operands.size(); ++i) {
    const std::string where = list ? operand_path + "[" + std::to_string(i) + "]" : operand_path;
    const api::IntOrString& v = operands[i];
    const std::string text = v.AsString();
    if (c.op == FilterOperator::kOlderThan || c.op == FilterOperator::kNewerThan) {
      auto d = ParseDuration(text);
      if (!d.ok()) return InvalidArgumentError(where + ": " + d.status().message());
      out.age = *d;
      continue;
    }
    if (c.op == FilterOperator::kMatches) {
      RE2::Options options;
      options.set_log_errors(false);
      options.set_max_mem(8 << 20);  // bounds the compiled program; patterns are short
      auto re = std::make_shared<const RE2>(text, options);
      if (!re->ok()) {
        return InvalidArgumentError(where + ": invalid regular expression: " + re->error());
      }
      out.regex = std::move(re);
      continue;
    }
    switch (KindOf(c.field)) {
      case Kind::kNumber: {
        char* end = nullptr;
        long n = std::strtol(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || n < store::kMinReputation ||
            n > store::kMaxReputation) {
          return InvalidArgumentError(where + ": reputation must be an integer from 1 to 10, got " +
                                      text);
        }
        out.numbers.push_back(n);
        break;
      }
      case Kind::kSeverity: {
        auto s = store::ParseSeverity(text);
        if (!s) {
          return InvalidArgumentError(
              where + ": must be one of unknown, low, medium, high, critical, got " + text);
        }
        out.numbers.push_back(static_cast<int64_t>(*s));
        break;
      }
      case Kind::kTime: {
        auto t = ParseRfc3339(text);
        if (!t) {
          return InvalidArgumentError(where +
                                      ": must be an RFC 3339 time such as 2026-01-31T00:00:00Z, "
                                      "got " +
                                      text);
        }
        out.numbers.push_back(Millis(*t));
        break;
      }
      case Kind::kString:
        if (c.field == FilterField::kType && c.op != FilterOperator::kContains &&
            !store::ParseIndicatorType(text)) {
          return InvalidArgumentError(
              where +
              ": must be one of md5, sha256, url, ipv4, ipv6, hostname, domain, fqdn, got " + text);
        }
        out.strings.push_back(text);
        break;
      case Kind::kTags:
        out.strings.push_back(text);
        break;
    }
  }
  std::sort(out.strings.begin(), out.strings.end());
  std::sort(out.numbers.begin(), out.numbers.end());
  return out;
}

StatusOr<std::shared_ptr<const CompiledRule::Group>> CompileGroup(const api::FilterGroup& g,
                                                                  const std::string& path) {
  auto out = std::make_shared<CompiledRule::Group>();
  out->all = g.any.empty();
  out->negate = g.negate.value_or(false);
  const auto& items = out->all ? g.all : g.any;
  const std::string base = path + (out->all ? ".all" : ".any");
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string where = base + "[" + std::to_string(i) + "]";
    if (const auto* c = items[i].AsCondition()) {
      auto compiled = CompileCondition(*c, where);
      if (!compiled.ok()) return compiled.status();
      out->items.emplace_back(std::move(compiled).value());
    } else if (const auto* sub = items[i].AsGroup()) {
      auto compiled = CompileGroup(*sub, where);
      if (!compiled.ok()) return compiled.status();
      out->items.emplace_back(std::move(compiled).value());
    }
  }
  return std::shared_ptr<const CompiledRule::Group>(std::move(out));
}

bool InSorted(const std::vector<std::string>& sorted, std::string_view s) {
  return std::binary_search(sorted.begin(), sorted.end(), s, std::less<>());
}

bool TextMatches(const CompiledCondition& c, std::string_view s) {
  switch (c.op) {
    case FilterOperator::kEquals:
      return s == c.strings.front();
    case FilterOperator::kNotEquals:
      return s != c.strings.front();
    case FilterOperator::kIn:
      return InSorted(c.strings, s);
    case FilterOperator::kNotIn:
      return !InSorted(c.strings, s);
    case FilterOperator::kContains:
      return s.find(c.strings.front()) != std::string_view::npos;
    case FilterOperator::kMatches:
      return RE2::PartialMatch(s, *c.regex);
    default:
      return false;
  }
}

bool NumberMatches(const CompiledCondition& c, int64_t n) {
  switch (c.op) {
    case FilterOperator::kEquals:
      return n == c.numbers.front();
    case FilterOperator::kNotEquals:
      return n != c.numbers.front();
    case FilterOperator::kIn:
      return std::binary_search(c.numbers.begin(), c.numbers.end(), n);
    case FilterOperator::kNotIn:
      return !std::binary_search(c.numbers.begin(), c.numbers.end(), n);
    case FilterOperator::kGreaterThan:
      return n > c.numbers.front();
    case FilterOperator::kGreaterOrEqual:
      return n >= c.numbers.front();
    case FilterOperator::kLessThan:
      return n < c.numbers.front();
    case FilterOperator::kLessOrEqual:
      return n <= c.numbers.front();
    default:
      return false;
  }
}

bool TimeMatches(const CompiledCondition& c, std::optional<WallTime> t, WallTime now) {
  if (!t) {
    // Never expires: later than any time, and never "older than" anything.
    switch (c.op) {
      case FilterOperator::kNotEquals:
      case FilterOperator::kGreaterThan:
      case FilterOperator::kGreaterOrEqual:
      case FilterOperator::kNewerThan:
        return true;
      default:
        return false;
    }
  }
  if (c.op == FilterOperator::kOlderThan) return *t < now - c.age;
  if (c.op == FilterOperator::kNewerThan) return *t > now - c.age;
  return NumberMatches(c, Millis(*t));
}

bool ConditionMatches(const CompiledCondition& c, const store::Indicator& ind, WallTime now) {
  switch (c.field) {
    case FilterField::kType:
      return TextMatches(c, store::IndicatorTypeName(ind.type));
    case FilterField::kValue:
      return TextMatches(c, ind.value);
    case FilterField::kComments:
      return TextMatches(c, ind.comments);
    case FilterField::kSource:
      return TextMatches(c, ind.source.name);
    case FilterField::kSeverity:
      if (c.op == FilterOperator::kContains || c.op == FilterOperator::kMatches) {
        return TextMatches(c, store::SeverityName(ind.severity));
      }
      return NumberMatches(c, static_cast<int64_t>(ind.severity));
    case FilterField::kReputation:
      return NumberMatches(c, ind.reputation);
    case FilterField::kFirstSeen:
      return TimeMatches(c, ind.first_seen, now);
    case FilterField::kLastSeen:
      return TimeMatches(c, ind.last_seen, now);
    case FilterField::kExpiresAt:
      return TimeMatches(c, ind.expires_at, now);
    case FilterField::kTags: {
      // The negative operators hold when no tag is a match for the positive one.
      CompiledCondition positive = c;
      bool negative = false;
      if (c.op == FilterOperator::kNotEquals) {
        negative = true;
        positive.op = FilterOperator::kEquals;
      } else if (c.op == FilterOperator::kNotIn) {
        negative = true;
        positive.op = FilterOperator::kIn;
      }
      bool any = std::any_of(ind.tags.begin(), ind.tags.end(),
                             [&](const std::string& tag) { return TextMatches(positive, tag); });
      return negative ? !any : any;
    }
  }
  return false;
}

bool GroupMatches(const CompiledRule::Group& g, const store::Indicator& ind, WallTime now);

bool ItemMatches(
    const std::variant<CompiledCondition, std::shared_ptr<const CompiledRule::Group>>& item,
    const store::Indicator& ind, WallTime now) {
  if (const auto* c = std::get_if<CompiledCondition>(&item)) return ConditionMatches(*c, ind, now);
  return GroupMatches(*std::get<std::shared_ptr<const CompiledRule::Group>>(item), ind, now);
}

bool GroupMatches(const CompiledRule::Group& g, const store::Indicator& ind, WallTime now) {
  bool result;
  if (g.all) {
    result = std::all_of(g.items.begin(), g.items.end(),
                         [&](const auto& item) { return ItemMatches(item, ind, now); });
  } else {
    result = std::any_of(g.items.begin(), g.items.end(),
                         [&](const auto& item) { return ItemMatches(item, ind, now); });
  }
  return g.negate ? !result : result;
}

}  // namespace

StatusOr<CompiledRule> CompiledRule::Compile(const api::BusinessRuleSpec& spec,
                                             const std::string& path) {
  CompiledRule rule;
  rule.muted_ = spec.MutedOrDefault();
  if (spec.filter) {
    auto filter = CompileGroup(*spec.filter, path + ".filter");
    if (!filter.ok()) return filter.status();
    rule.filter_ = std::move(filter).value();
  }
  for (size_t i = 0; i < spec.exceptions.size(); ++i) {
    const auto& e = spec.exceptions[i];
    const std::string where = path + ".exceptions[" + std::to_string(i) + "]";
    auto compiled = std::make_shared<Exception>();
    if (e.filter) {
      auto filter = CompileGroup(*e.filter, where + ".filter");
      if (!filter.ok()) return filter.status();
      compiled->filter = std::move(filter).value();
    }
    compiled->tags = e.tags;
    std::sort(compiled->tags.begin(), compiled->tags.end());
    rule.exceptions_.push_back(std::move(compiled));
  }
  return rule;
}

bool CompiledRule::Matches(const store::Indicator& indicator, WallTime now) const {
  if (filter_ && !GroupMatches(*filter_, indicator, now)) return false;
  for (const auto& e : exceptions_) {
    if (e->filter && GroupMatches(*e->filter, indicator, now)) return false;
    for (const auto& tag : indicator.tags) {
      if (InSorted(e->tags, tag)) return false;
    }
  }
  return true;
}

}  // namespace cte::sharing
