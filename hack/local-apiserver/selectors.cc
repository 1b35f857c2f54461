#include "hack/local-apiserver/selectors.h"

#include <algorithm>

namespace cte::apiserver {
namespace {

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> SplitTerms(const std::string& text) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!Trim(cur).empty()) out.push_back(Trim(cur));
  return out;
}

}  // namespace

StatusOr<LabelSelector> LabelSelector::Parse(const std::string& text) {
  LabelSelector sel;
  for (const std::string& term : SplitTerms(text)) {
    if (term.empty()) continue;
    Requirement r;
    size_t pos;
    if (term[0] == '!') {
      r.key = Trim(term.substr(1));
      r.op = Requirement::Op::kNotExists;
    } else if ((pos = term.find("!=")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = Requirement::Op::kNotEq;
      r.values = {Trim(term.substr(pos + 2))};
    } else if ((pos = term.find("==")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = Requirement::Op::kEq;
      r.values = {Trim(term.substr(pos + 2))};
    } else if ((pos = term.find('=')) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = Requirement::Op::kEq;
      r.values = {Trim(term.substr(pos + 1))};
    } else if (size_t open = term.find('('); open != std::string::npos) {
      size_t close = term.rfind(')');
      if (close == std::string::npos || close < open) {
        return InvalidArgumentError("unable to parse requirement: \"" + term + "\": missing ')'");
      }
      std::string head = Trim(term.substr(0, open));
      size_t space = head.find_last_of(" \t");
      if (space == std::string::npos) {
        return InvalidArgumentError("unable to parse requirement: \"" + term + "\"");
      }
      std::string op = Trim(head.substr(space + 1));
      r.key = Trim(head.substr(0, space));
      if (op == "in") {
        r.op = Requirement::Op::kIn;
      } else if (op == "notin") {
        r.op = Requirement::Op::kNotIn;
      } else {
        return InvalidArgumentError("unable to parse requirement: unknown operator \"" + op + "\"");
      }
      std::string inner = term.substr(open + 1, close - open - 1);
      size_t start = 0;
      while (start <= inner.size()) {
        size_t comma = inner.find(',', start);
        if (comma == std::string::npos) comma = inner.size();
        std::string v = Trim(inner.substr(start, comma - start));
        if (!v.empty()) r.values.push_back(v);
        start = comma + 1;
      }
    } else {
      r.key = term;
      r.op = Requirement::Op::kExists;
    }
    if (r.key.empty())
      return InvalidArgumentError("unable to parse requirement: empty key in \"" + term + "\"");
    sel.requirements_.push_back(r);
  }
  return sel;
}

bool LabelSelector::Matches(const nlohmann::json& labels) const {
  for (const auto& r : requirements_) {
    bool has = labels.is_object() && labels.contains(r.key);
    std::string value = has && labels[r.key].is_string() ? labels[r.key].get<std::string>() : "";
    bool in = std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    switch (r.op) {
      case Requirement::Op::kEq:
      case Requirement::Op::kIn:
        if (!has || !in) return false;
        break;
      case Requirement::Op::kNotEq:
      case Requirement::Op::kNotIn:
        if (has && in) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

StatusOr<FieldSelector> FieldSelector::Parse(const std::string& text) {
  FieldSelector sel;
  for (const std::string& term : SplitTerms(text)) {
    if (term.empty()) continue;
    Term t;
    size_t pos;
    if ((pos = term.find("!=")) != std::string::npos) {
      t.field = Trim(term.substr(0, pos));
      t.negate = true;
      t.value = Trim(term.substr(pos + 2));
    } else if ((pos = term.find("==")) != std::string::npos) {
      t.field = Trim(term.substr(0, pos));
      t.value = Trim(term.substr(pos + 2));
    } else if ((pos = term.find('=')) != std::string::npos) {
      t.field = Trim(term.substr(0, pos));
      t.value = Trim(term.substr(pos + 1));
    } else {
      return InvalidArgumentError("invalid selector: '" + term + "'; can't understand '" + term +
                                  "'");
    }
    if (t.field != "metadata.name" && t.field != "metadata.namespace") {
      return InvalidArgumentError("field label not supported: " + t.field);
    }
    sel.terms_.push_back(t);
  }
  return sel;
}

bool FieldSelector::Matches(const nlohmann::json& object) const {
  for (const auto& t : terms_) {
    std::string key = t.field == "metadata.name" ? "name" : "namespace";
    std::string actual = object.contains("metadata") ? object["metadata"].value(key, "") : "";
    if ((actual == t.value) == t.negate) return false;
  }
  return true;
}

}  // namespace cte::apiserver
