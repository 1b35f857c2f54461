#include "hack/local-apiserver/table.h"

#include <ctime>
#include <optional>

#include "hack/local-apiserver/schema.h"

namespace cte::apiserver {
namespace {

// Splits ".a.b[?(@.type==\"Ready\")].c" into steps.
struct Step {
  enum class Kind { kField, kIndex, kAll, kFilter };
  Step(Kind k, std::string n) : kind(k), name(std::move(n)) {}
  Kind kind;
  std::string name;  // field name, or filter field
  size_t index = 0;
  std::string value;  // filter value
};

std::vector<Step> ParsePath(std::string path) {
  std::vector<Step> steps;
  if (!path.empty() && path.front() == '{' && path.back() == '}')
    path = path.substr(1, path.size() - 2);
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      size_t j = i;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      if (j > i) steps.push_back({Step::Kind::kField, path.substr(i, j - i)});
      i = j;
    } else if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string::npos) break;
      std::string inner = path.substr(i + 1, close - i - 1);
      if (inner == "*") {
        steps.push_back({Step::Kind::kAll, ""});
      } else if (inner.rfind("?(@.", 0) == 0) {
        size_t eq = inner.find("==");
        Step s{Step::Kind::kFilter, inner.substr(4, eq - 4)};
        std::string v = inner.substr(eq + 2);
        if (!v.empty() && v.back() == ')') v.pop_back();
        if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
        s.value = v;
        steps.push_back(s);
      } else {
        Step s{Step::Kind::kIndex, ""};
        s.index = std::stoul(inner);
        steps.push_back(s);
      }
      i = close + 1;
    } else {
      size_t j = i;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      steps.push_back({Step::Kind::kField, path.substr(i, j - i)});
      i = j;
    }
  }
  return steps;
}

std::string CellText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return FormatValue(v);
}

}  // namespace

std::vector<nlohmann::json> EvaluateJsonPath(const nlohmann::json& object,
                                             const std::string& path) {
  std::vector<nlohmann::json> current = {object};
  for (const Step& step : ParsePath(path)) {
    std::vector<nlohmann::json> next;
    for (const auto& v : current) {
      switch (step.kind) {
        case Step::Kind::kField:
          if (v.is_object() && v.contains(step.name)) next.push_back(v[step.name]);
          break;
        case Step::Kind::kIndex:
          if (v.is_array() && step.index < v.size()) next.push_back(v[step.index]);
          break;
        case Step::Kind::kAll:
          if (v.is_array()) next.insert(next.end(), v.begin(), v.end());
          break;
        case Step::Kind::kFilter:
          if (!v.is_array()) break;
          for (const auto& item : v) {
            if (item.is_object() && item.contains(step.name) &&
                CellText(item[step.name]) == step.value) {
              next.push_back(item);
            }
          }
          break;
      }
    }
    current = std::move(next);
  }
  return current;
}

std::string HumanDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return std::to_string(s) + "s";
  int64_t m = s / 60;
  if (m < 10) {
    return s % 60 == 0 ? std::to_string(m) + "m"
                       : std::to_string(m) + "m" + std::to_string(s % 60) + "s";
  }
  if (m < 180) return std::to_string(m) + "m";
  int64_t h = s / 3600;
  if (h < 8)
    return m % 60 == 0 ? std::to_string(h) + "h"
                       : std::to_string(h) + "h" + std::to_string(m % 60) + "m";
  if (h < 48) return std::to_string(h) + "h";
  if (h < 24 * 8)
    return h % 24 == 0 ? std::to_string(h / 24) + "d"
                       : std::to_string(h / 24) + "d" + std::to_string(h % 24) + "h";
  if (h < 24 * 365 * 2) return std::to_string(h / 24) + "d";
  int64_t days = h / 24;
  if (h < 24 * 365 * 8) {
    return days % 365 == 0 ? std::to_string(days / 365) + "y"
                           : std::to_string(days / 365) + "y" + std::to_string(days % 365) + "d";
  }
  return std::to_string(days / 365) + "y";
}

std::optional<std::chrono::seconds> AgeOf(const std::string& rfc3339,
                                          std::chrono::system_clock::time_point now) {
  std::tm tm{};
  if (strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return std::nullopt;
  time_t t = timegm(&tm);
  return std::chrono::duration_cast<std::chrono::seconds>(
      now - std::chrono::system_clock::from_time_t(t));
}

nlohmann::json TableColumns(const ResourceType& type) {
  nlohmann::json cols = nlohmann::json::array();
  cols.push_back({{"name", "Name"},
                  {"type", "string"},
                  {"format", "name"},
                  {"description", "Name must be unique within a namespace."},
                  {"priority", 0}});
  if (type.custom && !type.columns.empty()) {
    for (const auto& c : type.columns) {
      cols.push_back({{"name", c.name},
                      {"type", c.type},
                      {"format", c.format},
                      {"description", c.description},
                      {"priority", c.priority}});
    }
    return cols;
  }
  if (type.kind == "Secret") {
    cols.push_back({{"name", "Type"},
                    {"type", "string"},
                    {"format", ""},
                    {"description", "The type of the secret"},
                    {"priority", 0}});
    cols.push_back({{"name", "Data"},
                    {"type", "string"},
                    {"format", ""},
                    {"description", "The number of entries in the data"},
                    {"priority", 0}});
  } else if (type.kind == "Namespace") {
    cols.push_back({{"name", "Status"},
                    {"type", "string"},
                    {"format", ""},
                    {"description", "The status of the namespace"},
                    {"priority", 0}});
  }
  cols.push_back({{"name", "Age"},
                  {"type", "string"},
                  {"format", ""},
                  {"description",
                   "CreationTimestamp is a timestamp representing the server time when this object "
                   "was created."},
                  {"priority", 0}});
  return cols;
}

nlohmann::json TableRow(const ResourceType& type, const nlohmann::json& object,
                        const std::string& include_object,
                        std::chrono::system_clock::time_point now) {
  nlohmann::json cells = nlohmann::json::array();
  const auto& md = object.value("metadata", nlohmann::json::object());
  cells.push_back(md.value("name", ""));
  auto age = [&](const std::string& ts) -> nlohmann::json {
    auto a = AgeOf(ts, now);
    return a ? nlohmann::json(HumanDuration(*a)) : nlohmann::json("<unknown>");
  };
  if (type.custom && !type.columns.empty()) {
    for (const auto& c : type.columns) {
      auto values = EvaluateJsonPath(object, c.json_path);
      if (values.empty()) {
        cells.push_back(nullptr);
      } else if (c.type == "date" && values.size() == 1 && values[0].is_string()) {
        cells.push_back(age(values[0].get<std::string>()));
      } else if (values.size() == 1 &&
                 (c.type == "integer" || c.type == "number" || c.type == "boolean") &&
                 !values[0].is_string()) {
        cells.push_back(values[0]);
      } else {
        std::string joined;
        for (size_t i = 0; i < values.size(); ++i) {
          // Not `(i ? "," : "") + CellText(...)`: GCC 12 at -O3 reports a false -Wrestrict on it
          // (GCC PR 105329).
          if (i) joined += ',';
          joined += CellText(values[i]);
        }
        cells.push_back(joined);
      }
    }
  } else {
    if (type.kind == "Secret") {
      cells.push_back(object.value("type", "Opaque"));
      cells.push_back(object.contains("data") ? object["data"].size() : 0);
    } else if (type.kind == "Namespace") {
      cells.push_back(object.value("/status/phase"_json_pointer, "Active"));
    }
    cells.push_back(age(md.value("creationTimestamp", "")));
  }
  nlohmann::json row = {{"cells", cells}};
  if (include_object == "Object") {
    row["object"] = object;
  } else if (include_object != "None") {
    nlohmann::json meta_only = md;
    meta_only.erase("managedFields");
    row["object"] = {{"kind", "PartialObjectMetadata"},
                     {"apiVersion", "meta.k8s.io/v1"},
                     {"metadata", meta_only}};
  }
  return row;
}

}  // namespace cte::apiserver
