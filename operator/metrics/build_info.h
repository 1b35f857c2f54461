// cte_build_info{version,git_commit,compiler} 1: the conventional "info" gauge, so dashboards
// and alerts can tell which build a replica runs (join on it, or count distinct versions during a
// rollout).
#pragma once

#include <string>

#include "operator/metrics/registry.h"

namespace cte::metrics {

struct BuildInfo {
  std::string version;
  std::string git_commit;
  std::string compiler;
};

// The build this binary came from: version and commit are compile-time definitions set by
// operator/metrics/CMakeLists.txt (the commit is read when CMake configures, "unknown" outside a
// git checkout); the compiler comes from its predefined macros, e.g. "gcc-12.2.0".
BuildInfo CurrentBuildInfo();

// Registers cte_build_info with one series at 1.
void RegisterBuildInfo(Registry& registry, const BuildInfo& info = CurrentBuildInfo());

}  // namespace cte::metrics
