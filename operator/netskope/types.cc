#include "operator/netskope/types.h"

namespace cte::netskope {

std::string_view UrlListTypeName(UrlListType type) {
  return type == UrlListType::kRegex ? "regex" : "exact";
}

StatusOr<UrlListType> ParseUrlListType(std::string_view text) {
  if (text == "exact") return UrlListType::kExact;
  if (text == "regex") return UrlListType::kRegex;
  return InvalidArgumentError("URL list type must be exact or regex, got \"" + std::string(text) +
                              "\"");
}

std::string_view AlertTypeName(AlertType type) {
  return type == AlertType::kMalsite ? "malsite" : "malware";
}

}  // namespace cte::netskope
