#include "hack/tenant-simulator/sim_options.h"

#include <cmath>
#include <type_traits>
#include <utility>

namespace cte::tenantsim {
namespace {

StatusOr<Access> ParseAccess(const nlohmann::json& v, const std::string& path) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "read") return Access::kRead;
    if (s == "readwrite" || s == "read+write" || s == "write") return Access::kReadWrite;
    if (s == "none") return Access::kNone;
  }
  return InvalidArgumentError(path + ": must be read, readwrite or none");
}

StatusOr<std::vector<std::string>> Strings(const nlohmann::json& v, const std::string& path) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (!v.is_array()) return InvalidArgumentError(path + ": must be a list of strings");
  for (const auto& item : v) {
    if (!item.is_string()) return InvalidArgumentError(path + ": must be a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

template <typename T>
Status ReadNumber(const nlohmann::json& obj, const char* key, const std::string& path, T& out) {
  if (!obj.contains(key)) return Status::Ok();
  const auto& v = obj.at(key);
  if (!v.is_number()) return InvalidArgumentError(path + "." + key + ": must be a number");
  if constexpr (std::is_integral_v<T>) {
    // Checked, not cast: a float or an out-of-range integer converted to T is undefined or wraps.
    if (!v.is_number_integer()) {
      return InvalidArgumentError(path + "." + key + ": must be a whole number");
    }
    bool fits = v.is_number_unsigned() ? std::in_range<T>(v.get<uint64_t>())
                                       : std::in_range<T>(v.get<int64_t>());
    if (!fits) return InvalidArgumentError(path + "." + key + ": out of range");
  } else if (!std::isfinite(v.get<double>())) {
    return InvalidArgumentError(path + "." + key + ": must be finite");
  }
  out = v.get<T>();
  return Status::Ok();
}

}  // namespace

TokenSpec FullAccessToken(std::string token, TokenApi api) {
  TokenSpec t;
  t.token = std::move(token);
  t.api = api;
  if (api == TokenApi::kV2) t.scopes["*"] = Access::kReadWrite;
  return t;
}

StatusOr<SimulatorOptions> ApplyConfig(const nlohmann::json& config, SimulatorOptions base) {
  if (config.is_null()) return base;
  if (!config.is_object()) return InvalidArgumentError("config: must be a mapping");
  try {
    if (config.contains("tokens")) {
      const auto& tokens = config.at("tokens");
      if (!tokens.is_array()) return InvalidArgumentError("tokens: must be a list");
      for (size_t i = 0; i < tokens.size(); ++i) {
        std::string path = "tokens[" + std::to_string(i) + "]";
        const auto& t = tokens[i];
        if (!t.is_object() || !t.contains("token") || !t["token"].is_string()) {
          return InvalidArgumentError(path + ".token: required string");
        }
        TokenSpec spec;
        spec.token = t["token"].get<std::string>();
        std::string api = t.value("api", "v2");
        if (api != "v1" && api != "v2") return InvalidArgumentError(path + ".api: v1 or v2");
        spec.api = api == "v1" ? TokenApi::kV1 : TokenApi::kV2;
        spec.name = t.value("name", spec.name);
        if (t.contains("scopes")) {
          if (!t["scopes"].is_object()) return InvalidArgumentError(path + ".scopes: mapping");
          for (const auto& [endpoint, access] : t["scopes"].items()) {
            auto a = ParseAccess(access, path + ".scopes." + endpoint);
            if (!a.ok()) return a.status();
            spec.scopes[endpoint] = *a;
          }
        } else if (spec.api == TokenApi::kV2) {
          spec.scopes["*"] = Access::kReadWrite;
        }
        base.tokens.push_back(std::move(spec));
      }
    }
    if (config.contains("urlLists")) {
      const auto& lists = config.at("urlLists");
      if (!lists.is_array()) return InvalidArgumentError("urlLists: must be a list");
      for (size_t i = 0; i < lists.size(); ++i) {
        std::string path = "urlLists[" + std::to_string(i) + "]";
        SeedUrlList seed;
        seed.name = lists[i].value("name", "");
        seed.type = lists[i].value("type", "exact");
        if (seed.type != "exact" && seed.type != "regex") {
          return InvalidArgumentError(path + ".type: exact or regex");
        }
        auto urls = Strings(lists[i].value("urls", nlohmann::json()), path + ".urls");
        if (!urls.ok()) return urls.status();
        seed.urls = *urls;
        base.url_lists.push_back(std::move(seed));
      }
    }
    if (config.contains("fileHashLists")) {
      const auto& lists = config.at("fileHashLists");
      if (!lists.is_array()) return InvalidArgumentError("fileHashLists: must be a list");
      for (size_t i = 0; i < lists.size(); ++i) {
        std::string path = "fileHashLists[" + std::to_string(i) + "]";
        SeedFileHashList seed;
        seed.name = lists[i].value("name", "");
        auto hashes = Strings(lists[i].value("hashes", nlohmann::json()), path + ".hashes");
        if (!hashes.ok()) return hashes.status();
        seed.hashes = *hashes;
        base.file_hash_lists.push_back(std::move(seed));
      }
    }
    if (config.contains("limits")) {
      const auto& l = config.at("limits");
      if (!l.is_object()) return InvalidArgumentError("limits: must be a mapping");
      SimulatorLimits& lim = base.limits;
      double v1_window_seconds = std::chrono::duration<double>(lim.v1_window).count();
      for (auto s : {ReadNumber(l, "urlListMaxBytes", "limits", lim.url_list_max_bytes),
                     ReadNumber(l, "fileHashListMaxBytes", "limits", lim.file_hash_list_max_bytes),
                     ReadNumber(l, "maxEntries", "limits", lim.max_entries),
                     ReadNumber(l, "v1Requests", "limits", lim.v1_requests),
                     ReadNumber(l, "v1WindowSeconds", "limits", v1_window_seconds),
                     ReadNumber(l, "v2RequestsPerSecond", "limits", lim.v2_requests_per_second),
                     ReadNumber(l, "iteratorRequestsPerSecond", "limits",
                                lim.iterator_requests_per_second)}) {
        if (!s.ok()) return s;
      }
      lim.v1_window =
          std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v1_window_seconds));
    }
    if (config.contains("iterator")) {
      const auto& it = config.at("iterator");
      if (!it.is_object()) return InvalidArgumentError("iterator: must be a mapping");
      for (auto s : {ReadNumber(it, "pageSize", "iterator", base.iterator_page_size),
                     ReadNumber(it, "waitTimeSeconds", "iterator", base.iterator_wait_seconds)}) {
        if (!s.ok()) return s;
      }
    }
    if (auto s = ReadNumber(config, "v1AuthErrorStatus", "config", base.v1_auth_error_status);
        !s.ok()) {
      return s;
    }
    if (base.v1_auth_error_status != 200 && base.v1_auth_error_status != 403) {
      return InvalidArgumentError("v1AuthErrorStatus: 200 or 403");
    }
    if (config.contains("uniqueUrlListNames")) {
      if (!config["uniqueUrlListNames"].is_boolean()) {
        return InvalidArgumentError("uniqueUrlListNames: true or false");
      }
      base.unique_url_list_names = config["uniqueUrlListNames"].get<bool>();
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("config: ") + e.what());
  }
  return base;
}

}  // namespace cte::tenantsim
