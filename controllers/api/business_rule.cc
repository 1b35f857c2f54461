// JSON mapping and validation of BusinessRule; the checks mirror crds/businessrule.yaml,
// including its x-kubernetes-validations rules and the nesting depth it spells out.
#include "controllers/api/business_rule.h"

#include <set>

#include "operator/core/duration.h"

namespace cte::api {
namespace {

std::string Index(std::string_view key, size_t i) {
  return std::string(key) + "[" + std::to_string(i) + "]";
}

// Reads the all/any list `key` of a group at `depth`; its items sit at depth + 1.
void ReadGroupItems(FieldReader& r, std::string_view key, int depth, std::vector<FilterNode>* out) {
  out->clear();
  if (!r.ok() || !r.Has(key)) return;
  const nlohmann::json& list = r.Get(key);
  if (!list.is_array()) {
    r.Fail(key, "must be a list");
    return;
  }
  if (list.empty()) {
    r.Fail(key, "must not be empty");
    return;
  }
  if (list.size() > kMaxGroupItems) {
    r.Fail(key, "must have at most " + std::to_string(kMaxGroupItems) +
                    " items; nest a group to combine more");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    StatusOr<FilterNode> node = FilterNode::FromJson(list[i], r.PathOf(Index(key, i)), depth + 1);
    if (!node.ok()) {
      r.Keep(node.status());
      return;
    }
    out->push_back(std::move(node).value());
  }
}

StatusOr<FilterCondition> ReadCondition(FieldReader& r) {
  FilterCondition c;
  r.Required("field", &c.field);
  r.Required("operator", &c.op);
  r.Optional("value", &c.value);
  r.OptionalList("values", &c.values);
  for (std::string_view key : {"all", "any", "not"}) {
    r.Check(!r.Has(key), key, "is not allowed in a condition (an item with field)");
  }
  if (!r.ok()) return r.status();
  if (TakesValueList(c.op)) {
    r.Check(!c.values.empty(), "values",
            "is required for operator " + std::string(EnumToString(c.op)) + " (a list)");
    r.Check(!c.value, "value",
            "is not allowed for operator " + std::string(EnumToString(c.op)) + "; use values");
    r.Check(c.values.size() <= kMaxConditionValues, "values",
            "must have at most " + std::to_string(kMaxConditionValues) + " items");
  } else {
    r.Check(c.value.has_value(), "value",
            "is required for operator " + std::string(EnumToString(c.op)));
    r.Check(!r.Has("values"), "values", "is allowed only for operators In and NotIn; use value");
  }
  if (r.ok() && (c.op == FilterOperator::kOlderThan || c.op == FilterOperator::kNewerThan)) {
    StatusOr<std::chrono::seconds> d = ParseDuration(c.value->AsString());
    if (!d.ok()) r.Fail("value", d.status().message());
  }
  if (!r.ok()) return r.status();
  return c;
}

}  // namespace

bool TakesValueList(FilterOperator op) {
  return op == FilterOperator::kIn || op == FilterOperator::kNotIn;
}

StatusOr<FilterGroup> FilterGroup::FromJson(const nlohmann::json& json, const std::string& path,
                                            int depth) {
  FilterGroup g;
  FieldReader r(json, path);
  if (r.ok() && depth > kMaxFilterDepth) {
    return FieldError(path, "groups nest at most " + std::to_string(kMaxFilterDepth) +
                                " levels deep; use a condition here");
  }
  r.Check(!(r.Has("all") && r.Has("any")), "any",
          "a group has either all or any, not both; nest a group to combine them");
  ReadGroupItems(r, "all", depth, &g.all);
  ReadGroupItems(r, "any", depth, &g.any);
  r.Optional("not", &g.negate);
  r.Check(!g.negate || !g.all.empty() || !g.any.empty(), "not", "needs all or any to negate");
  if (!r.ok()) return r.status();
  return g;
}

nlohmann::json FilterGroup::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutNonEmpty(j, "all", all);
  PutNonEmpty(j, "any", any);
  PutOptional(j, "not", negate);
  return j;
}

StatusOr<FilterNode> FilterNode::FromJson(const nlohmann::json& json, const std::string& path,
                                          int depth) {
  FieldReader r(json, path);
  if (!r.ok()) return r.status();
  if (r.Has("field")) {
    StatusOr<FilterCondition> c = ReadCondition(r);
    if (!c.ok()) return c.status();
    return FilterNode{std::move(c).value()};
  }
  for (std::string_view key : {"operator", "value", "values"}) {
    r.Check(!r.Has(key), key, "belongs to a condition, which needs field");
  }
  if (!r.ok()) return r.status();
  // Only the top-level filter may be empty; an empty nested group would be a no-op that hides a
  // mistake.
  if (!r.Has("all") && !r.Has("any")) {
    return FieldError(path,
                      "must be a condition (field, operator, value or values) or a group with "
                      "exactly one of all or any");
  }
  StatusOr<FilterGroup> g = FilterGroup::FromJson(json, path, depth);
  if (!g.ok()) return g.status();
  return FilterNode{std::move(g).value()};
}

nlohmann::json FilterNode::ToJson() const {
  if (const FilterGroup* g = AsGroup()) return g->ToJson();
  const auto& c = std::get<FilterCondition>(item);
  nlohmann::json j = nlohmann::json::object();
  PutField(j, "field", c.field);
  PutField(j, "operator", c.op);
  PutOptional(j, "value", c.value);
  PutNonEmpty(j, "values", c.values);
  return j;
}

StatusOr<RuleException> RuleException::FromJson(const nlohmann::json& json,
                                                const std::string& path) {
  RuleException e;
  FieldReader r(json, path);
  r.Required("name", &e.name);
  r.Check(!e.name.empty() && e.name.size() <= 63, "name", "must be 1 to 63 characters");
  if (r.ok() && r.Has("filter")) {
    StatusOr<FilterGroup> g = FilterGroup::FromJson(r.Get("filter"), r.PathOf("filter"));
    if (g.ok()) {
      e.filter = std::move(g).value();
    } else {
      r.Keep(g.status());
    }
  }
  r.OptionalList("tags", &e.tags);
  if (!r.ok()) return r.status();
  r.Check(e.filter.has_value() != r.Has("tags"), "filter",
          "an exception has either filter or tags, not both");
  r.Check(!r.Has("tags") || !e.tags.empty(), "tags", "must not be empty");
  r.Check(e.tags.size() <= kMaxExceptionTags, "tags",
          "must have at most " + std::to_string(kMaxExceptionTags) + " items");
  for (size_t i = 0; i < e.tags.size() && r.ok(); ++i) {
    r.Check(!e.tags[i].empty() && e.tags[i].size() <= 256, Index("tags", i),
            "must be 1 to 256 characters");
  }
  if (!r.ok()) return r.status();
  return e;
}

nlohmann::json RuleException::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutField(j, "name", name);
  PutOptional(j, "filter", filter);
  PutNonEmpty(j, "tags", tags);
  return j;
}

StatusOr<BusinessRuleSpec> BusinessRuleSpec::FromJson(const nlohmann::json& json,
                                                      const std::string& path) {
  BusinessRuleSpec s;
  FieldReader r(json, path);
  r.Optional("filter", &s.filter);
  r.OptionalList("exceptions", &s.exceptions);
  r.Optional("muted", &s.muted);
  if (!r.ok()) return r.status();
  r.Check(s.exceptions.size() <= kMaxExceptions, "exceptions",
          "must have at most " + std::to_string(kMaxExceptions) + " items");
  // The schema makes exceptions a map keyed by name.
  std::set<std::string_view> names;
  for (size_t i = 0; i < s.exceptions.size() && r.ok(); ++i) {
    r.Check(names.insert(s.exceptions[i].name).second, Index("exceptions", i) + ".name",
            "duplicate exception name \"" + s.exceptions[i].name + "\"");
  }
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json BusinessRuleSpec::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutOptional(j, "filter", filter);
  PutNonEmpty(j, "exceptions", exceptions);
  PutOptional(j, "muted", muted);
  return j;
}

StatusOr<BusinessRuleStatus> BusinessRuleStatus::FromJson(const nlohmann::json& json,
                                                          const std::string& path) {
  BusinessRuleStatus s;
  FieldReader r(json, path);
  s.ReadCommon(r);
  r.Optional("usedBy", &s.used_by);
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json BusinessRuleStatus::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  WriteCommon(j);
  PutOptional(j, "usedBy", used_by);
  return j;
}

StatusOr<BusinessRule> BusinessRule::FromJson(const nlohmann::json& json) {
  return ReadObject<BusinessRule>(json, kKind);
}

nlohmann::json BusinessRule::ToJson() const { return WriteObject(*this, kKind); }

}  // namespace cte::api
