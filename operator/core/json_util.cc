#include "operator/core/json_util.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace cte {
namespace {

nlohmann::json ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  // A quoted scalar carries the non-specific tag "!"; it is always a string.
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return node.Tag() == "?" || node.Tag().empty() ? nlohmann::json() : nlohmann::json(s);
  }
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) return i;
  bool looks_numeric = s.find_first_not_of("0123456789+-.eE") == std::string::npos &&
                       s.find_first_of("0123456789") != std::string::npos;
  if (looks_numeric) {
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size()) return d;
  }
  return s;
}

struct NestedTooDeep {};

nlohmann::json NodeToJson(const YAML::Node& node, int depth = 0) {
  if (depth > kMaxJsonDepth) throw NestedTooDeep{};
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : node) arr.push_back(NodeToJson(item, depth + 1));
      return arr;
    }
    case YAML::NodeType::Map: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& kv : node) {
        obj[kv.first.as<std::string>()] = NodeToJson(kv.second, depth + 1);
      }
      return obj;
    }
  }
  return nullptr;
}

}  // namespace

StatusOr<nlohmann::json> ParseJson(std::string_view text, int max_depth) {
  try {
    // The parser callback sees the depth of every element as it is read; throwing stops the
    // parse there (what was built so far is freed without recursion).
    return nlohmann::json::parse(
        text, [max_depth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
          if (depth > max_depth) throw NestedTooDeep{};
          return true;
        });
  } catch (const NestedTooDeep&) {
    return InvalidArgumentError("invalid JSON: nested more than " + std::to_string(max_depth) +
                                " levels deep");
  } catch (const nlohmann::json::exception& e) {
    // nlohmann ends a syntax error with "; last read: '<input>'": that input may be a token or a
    // Secret's value, and these messages reach logs and status. Keep only where and what.
    std::string what = e.what();
    what = what.substr(0, what.find("; last read"));
    return InvalidArgumentError("invalid JSON: " + what);
  }
}

StatusOr<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text) {
  try {
    std::vector<nlohmann::json> out;
    for (const auto& doc : YAML::LoadAll(std::string(text))) {
      if (doc.IsNull() || !doc.IsDefined()) continue;
      out.push_back(NodeToJson(doc));
    }
    return out;
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("invalid YAML: ") + e.what());
  } catch (const NestedTooDeep&) {
    return InvalidArgumentError("invalid YAML: nested more than " + std::to_string(kMaxJsonDepth) +
                                " levels deep");
  }
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cte
