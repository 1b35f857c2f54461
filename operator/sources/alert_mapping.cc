#include "operator/sources/alert_mapping.h"

#include <algorithm>
#include <cctype>

namespace cte::sources {
namespace {

bool IsHex(const std::string& s, size_t len) {
  return s.size() == len &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

size_t MapAlert(const netskope::Alert& alert, netskope::AlertType type,
                const MappingOptions& options, std::vector<store::Indicator>& out) {
  const size_t before = out.size();
  store::Indicator base;
  base.source = options.plugin;
  // Netskope sends low/medium/high/unknown (or null); anything CE does not know is unknown.
  base.severity = store::ParseSeverity(Lower(alert.severity)).value_or(store::Severity::kUnknown);
  const WallTime seen =
      alert.timestamp > 0 ? WallTime(std::chrono::seconds(alert.timestamp)) : options.now;
  base.first_seen = base.last_seen = seen;

  if (type == netskope::AlertType::kMalware) {
    if (!options.hashes) return 0;
    base.comments = options.tenant_name;
    if (!alert.object.empty()) base.comments += " - " + alert.object;
    if (!alert.malware_name.empty()) base.comments += ", Malware Name: " + alert.malware_name;
    if (!alert.malware_type.empty()) base.comments += ", Malware Type: " + alert.malware_type;
    // One indicator when the local and the cloud hash agree, else one for each that is present.
    auto add = [&](const std::string& local, const std::string& remote, store::IndicatorType t,
                   size_t len) {
      std::vector<std::string> values;
      if (!local.empty() && Lower(local) == Lower(remote)) {
        values.push_back(local);
      } else {
        if (!local.empty()) values.push_back(local);
        if (!remote.empty()) values.push_back(remote);
      }
      for (auto& v : values) {
        if (!IsHex(v, len)) continue;
        store::Indicator ind = base;
        ind.type = t;
        ind.value = Lower(v);
        out.push_back(std::move(ind));
      }
    };
    add(alert.local_md5, alert.md5, store::IndicatorType::kMd5, 32);
    add(alert.local_sha256, alert.sha256, store::IndicatorType::kSha256, 64);
  } else {
    if (!options.urls || alert.url.empty()) return 0;
    store::Indicator ind = base;
    ind.type = store::IndicatorType::kUrl;
    ind.value = alert.url;
    ind.comments = options.tenant_name + " - ";
    for (size_t i = 0; i < alert.malsite_category.size(); ++i) {
      if (i > 0) ind.comments += ", ";
      ind.comments += alert.malsite_category[i];
    }
    out.push_back(std::move(ind));
  }
  return out.size() - before;
}

}  // namespace cte::sources
