// BusinessRule (cte.netskope.io/v1alpha1): which indicators may be shared, as a filter over
// indicator fields plus named exceptions. The C++ mirror of crds/businessrule.yaml; the sharing
// planner evaluates it (operator/sharing).
//
// A filter is a tree: a group {all: [...]} or {any: [...]}, optionally negated, whose items are
// conditions {field, operator, value} / {field, operator, values} or nested groups. A structural
// CRD schema cannot recurse, so the CRD spells the tree out to kMaxFilterDepth levels of groups
// (the filter itself is level 1) and FromJson enforces the same limit, so that anything the types
// accept the API server accepts too.
#pragma once

#include <array>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "controllers/api/common.h"
#include "operator/core/status.h"

namespace cte::api {

// Limits from the schema. Besides bounding what one object can ask of the planner, the list
// caps bound the API server's cost estimate for the CRD's validation rules, which it checks when
// the CRD is applied.
inline constexpr int kMaxFilterDepth = 3;
inline constexpr size_t kMaxGroupItems = 16;
inline constexpr size_t kMaxConditionValues = 256;
inline constexpr size_t kMaxExceptions = 16;
inline constexpr size_t kMaxExceptionTags = 64;
inline constexpr bool kDefaultMuted = false;

// The indicator fields a condition can test.
enum class FilterField {
  kType,
  kValue,
  kSeverity,
  kReputation,
  kTags,
  kComments,
  kSource,
  kFirstSeen,
  kLastSeen,
  kExpiresAt,
};
template <>
struct EnumNames<FilterField> {
  static constexpr std::array<std::string_view, 10> kValues = {
      "type",     "value",  "severity",  "reputation", "tags",
      "comments", "source", "firstSeen", "lastSeen",   "expiresAt"};
};

enum class FilterOperator {
  kEquals,
  kNotEquals,
  kIn,
  kNotIn,
  kContains,
  kMatches,  // RE2
  kGreaterThan,
  kGreaterOrEqual,
  kLessThan,
  kLessOrEqual,
  kOlderThan,  // a time field against now minus a duration
  kNewerThan,
};
template <>
struct EnumNames<FilterOperator> {
  static constexpr std::array<std::string_view, 12> kValues = {
      "Equals",      "NotEquals",      "In",       "NotIn",       "Contains",  "Matches",
      "GreaterThan", "GreaterOrEqual", "LessThan", "LessOrEqual", "OlderThan", "NewerThan"};
};

// In and NotIn take a list of operands (values); every other operator takes one (value).
bool TakesValueList(FilterOperator op);

// A leaf of the filter tree.
struct FilterCondition {
  FilterField field = FilterField::kValue;
  FilterOperator op = FilterOperator::kEquals;  // "operator" on the wire
  std::optional<IntOrString> value;             // every operator but In/NotIn
  std::vector<IntOrString> values;              // In/NotIn; never empty then

  friend bool operator==(const FilterCondition&, const FilterCondition&) = default;
};

struct FilterNode;

// An all/any group. At most one of all and any is non-empty; both empty is only valid for the
// top-level filter, where it selects everything.
struct FilterGroup {
  std::vector<FilterNode> all;
  std::vector<FilterNode> any;
  std::optional<bool> negate;  // "not" on the wire

  // `depth` is the group's level (the filter itself is 1); deeper than kMaxFilterDepth is an
  // error.
  static StatusOr<FilterGroup> FromJson(const nlohmann::json& json, const std::string& path,
                                        int depth = 1);
  nlohmann::json ToJson() const;
  friend bool operator==(const FilterGroup&, const FilterGroup&) = default;
};

// One item of a group: a condition or a nested group.
struct FilterNode {
  std::variant<FilterCondition, FilterGroup> item;

  const FilterCondition* AsCondition() const { return std::get_if<FilterCondition>(&item); }
  const FilterGroup* AsGroup() const { return std::get_if<FilterGroup>(&item); }

  // `depth` is the level a group here would have.
  static StatusOr<FilterNode> FromJson(const nlohmann::json& json, const std::string& path,
                                       int depth);
  nlohmann::json ToJson() const;
  friend bool operator==(const FilterNode&, const FilterNode&) = default;
};

// A named carve-out: indicators matching `filter`, or carrying any of `tags`, are never shared
// through the rule. Exactly one of the two is set.
struct RuleException {
  std::string name;
  std::optional<FilterGroup> filter;
  std::vector<std::string> tags;

  static StatusOr<RuleException> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
};

struct BusinessRuleSpec {
  std::optional<FilterGroup> filter;  // absent selects every indicator
  std::vector<RuleException> exceptions;
  std::optional<bool> muted;

  bool MutedOrDefault() const { return muted.value_or(kDefaultMuted); }

  static StatusOr<BusinessRuleSpec> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
};

struct BusinessRuleStatus : StatusBase {
  std::optional<int64_t> used_by;  // SharingConfigurations that use the rule

  bool IsEmpty() const { return !HasCommon() && !used_by; }
  static StatusOr<BusinessRuleStatus> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
};

struct BusinessRule {
  static constexpr std::string_view kKind = "BusinessRule";
  static constexpr std::string_view kPlural = "businessrules";

  ObjectMeta metadata;
  BusinessRuleSpec spec;
  BusinessRuleStatus status;

  static StatusOr<BusinessRule> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
};

}  // namespace cte::api
