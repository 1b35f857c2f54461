// How a Netskope alert becomes indicators, as Netskope's own CTE plugin maps them
// (reference/netskope-api.md §5.2, `get_indicators_from_json`): Malware alerts give md5 and
// sha256 indicators, malsite alerts give url indicators. A pure function, tested by table.
#pragma once

#include <string>
#include <vector>

#include "operator/netskope/types.h"
#include "operator/store/indicator.h"

namespace cte::sources {

struct MappingOptions {
  store::SourceRef plugin;  // the CTEPlugin the indicators belong to
  std::string tenant_name;  // the tenant host, the first part of every comment
  bool hashes = true;       // threatDataType Malware or Both: md5 and sha256 from malware alerts
  bool urls = true;         // threatDataType URL or Both: urls from malsite alerts
  WallTime now{};           // firstSeen/lastSeen for an alert without a timestamp
};

// Appends the indicators of one alert of `type` to `out` (no source policy applied yet) and
// returns how many it added. Hashes that are not valid hex of the right length and empty URLs are
// skipped, as CE's validation would refuse them.
size_t MapAlert(const netskope::Alert& alert, netskope::AlertType type,
                const MappingOptions& options, std::vector<store::Indicator>& out);

}  // namespace cte::sources
