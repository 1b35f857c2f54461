#include "operator/store/indicator.h"

#include <algorithm>

namespace cte::store {
namespace {

template <typename E, size_t N>
std::optional<E> Lookup(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

// DNS-1123 subdomain: the rule for namespace and object names.
bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

}  // namespace

std::string_view IndicatorTypeName(IndicatorType type) {
  return kIndicatorTypeNames[static_cast<size_t>(type)];
}
std::optional<IndicatorType> ParseIndicatorType(std::string_view name) {
  return Lookup<IndicatorType>(kIndicatorTypeNames, name);
}
std::string_view SeverityName(Severity severity) {
  return kSeverityNames[static_cast<size_t>(severity)];
}
std::optional<Severity> ParseSeverity(std::string_view name) {
  return Lookup<Severity>(kSeverityNames, name);
}

bool FitsUrlList(IndicatorType type) {
  return type != IndicatorType::kMd5 && type != IndicatorType::kSha256;
}
bool FitsFileHashList(IndicatorType type) { return !FitsUrlList(type); }

bool SourceRef::Valid() const { return IsDnsSubdomain(namespace_name) && IsDnsSubdomain(name); }

StatusOr<SourceRef> SourceRef::Parse(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) {
    return InvalidArgumentError("source \"" + std::string(key) + "\" must be namespace/name");
  }
  SourceRef ref{std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
  if (!ref.Valid()) {
    return InvalidArgumentError("source \"" + std::string(key) +
                                "\": namespace and name must be DNS-1123 subdomains");
  }
  return ref;
}

void NormalizeTags(std::vector<std::string>& tags) {
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
}

int64_t ToMillis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
WallTime FromMillis(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

}  // namespace cte::store
