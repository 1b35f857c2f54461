// Helpers for store tests: a temporary directory removed at the end of the test, and a compact way
// to build indicators.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "operator/store/indicator.h"

namespace cte::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cte-store.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Seconds since the epoch as a WallTime (tests read better in round numbers).
inline WallTime At(int64_t seconds) { return WallTime(std::chrono::seconds(seconds)); }

inline Indicator Ind(const std::string& value, IndicatorType type = IndicatorType::kUrl,
                     const SourceRef& source = {"team-a", "feed"}, int64_t last_seen = 1000) {
  Indicator i;
  i.source = source;
  i.value = value;
  i.type = type;
  i.first_seen = At(last_seen);
  i.last_seen = At(last_seen);
  return i;
}

}  // namespace cte::store::testing
