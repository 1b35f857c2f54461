// Label and field selectors in the syntax of the Kubernetes list/watch query parameters.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/core/status.h"

namespace cte::apiserver {

// labelSelector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma = AND.
class LabelSelector {
 public:
  static StatusOr<LabelSelector> Parse(const std::string& text);
  bool Matches(const nlohmann::json& labels) const;
  bool empty() const { return requirements_.empty(); }

 private:
  struct Requirement {
    std::string key;
    enum class Op { kEq, kNotEq, kIn, kNotIn, kExists, kNotExists } op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements_;
};

// fieldSelector: `metadata.name=x`, `metadata.namespace!=y` (the fields every kind supports),
// plus `type` for Secrets and `involvedObject.name` etc. are not needed here.
class FieldSelector {
 public:
  static StatusOr<FieldSelector> Parse(const std::string& text);
  bool Matches(const nlohmann::json& object) const;

 private:
  struct Term {
    std::string field;
    bool negate = false;
    std::string value;
  };
  std::vector<Term> terms_;
};

}  // namespace cte::apiserver
