// Scrape-time gauges: rendered from the callback, sorted with the registry's families, and
// computed at most once per min_interval however often Prometheus scrapes.
#include "operator/metrics/gauge_collector.h"

#include <gtest/gtest.h>

#include "operator/core/clock.h"
#include "operator/metrics/registry.h"

namespace cte::metrics {
namespace {

TEST(GaugeCollectorTest, RendersTheCallbacksSamplesAndCachesThemForTheInterval) {
  SimulatedClock clock;
  int calls = 0;
  double value = 3;
  Registry registry;
  registry.AddCollector(std::make_unique<GaugeCollector>(
      "cte_things", "Things by colour.",
      [&] {
        ++calls;
        return std::vector<GaugeSample>{{{{"colour", "red"}}, value}, {{{"colour", "blue"}}, 1}};
      },
      clock, std::chrono::seconds(15)));
  const std::string first = registry.Render();
  EXPECT_NE(first.find("# TYPE cte_things gauge\n"), std::string::npos) << first;
  EXPECT_NE(first.find("cte_things{colour=\"blue\"} 1\ncte_things{colour=\"red\"} 3\n"),
            std::string::npos)
      << first;
  value = 4;
  clock.Advance(std::chrono::seconds(14));
  EXPECT_EQ(registry.Render(), first);  // within the interval: the cached samples
  EXPECT_EQ(calls, 1);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_NE(registry.Render().find("cte_things{colour=\"red\"} 4\n"), std::string::npos);
  EXPECT_EQ(calls, 2);
}

TEST(GaugeCollectorTest, NoSamplesMeansNoFamily) {
  SimulatedClock clock;
  Registry registry;
  registry.AddCollector(std::make_unique<GaugeCollector>(
      "cte_nothing", "Nothing.", [] { return std::vector<GaugeSample>{}; }, clock));
  EXPECT_EQ(registry.Render().find("cte_nothing"), std::string::npos);
}

}  // namespace
}  // namespace cte::metrics
