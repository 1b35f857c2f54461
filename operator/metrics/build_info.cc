#include "operator/metrics/build_info.h"

#ifndef CTE_VERSION
#define CTE_VERSION "unknown"
#endif
#ifndef CTE_GIT_COMMIT
#define CTE_GIT_COMMIT "unknown"
#endif

namespace cte::metrics {

namespace {

std::string CompilerName() {
#if defined(__clang__)
  return "clang-" + std::to_string(__clang_major__) + "." + std::to_string(__clang_minor__) + "." +
         std::to_string(__clang_patchlevel__);
#elif defined(__GNUC__)
  return "gcc-" + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
         std::to_string(__GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

}  // namespace

BuildInfo CurrentBuildInfo() {
  return BuildInfo{
      .version = CTE_VERSION, .git_commit = CTE_GIT_COMMIT, .compiler = CompilerName()};
}

void RegisterBuildInfo(Registry& registry, const BuildInfo& info) {
  registry
      .AddGauge("cte_build_info",
                "A metric with a constant '1' value labeled by version, git_commit and compiler "
                "from which cte-operator was built.")
      .Add(
          {{"version", info.version}, {"git_commit", info.git_commit}, {"compiler", info.compiler}})
      .Set(1);
}

}  // namespace cte::metrics
