// Tests operator/metrics/process_collector.cc: the /proc parsers on fixed text, the exact output
// over a fake /proc tree, and plausible values for this very process.
#include "operator/metrics/process_collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "operator/metrics/registry.h"

namespace cte::metrics {
namespace {

// A command name with spaces and parentheses: fields must be counted from the last ')'.
constexpr char kStat[] =
    "4242 (cte (op) x) S 1 1 1 0 -1 4194304 100 0 0 0 250 150 0 0 20 0 4 0 12345 104857600 2560 "
    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

constexpr char kLimits[] =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            1024                 4096                 files     \n"
    "Max address space         unlimited            unlimited            bytes     \n";

TEST(ProcessCollectorTest, ParsesStatCountingFieldsFromTheLastParenthesis) {
  auto s = ParseProcStat(kStat);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->utime_ticks, 250u);
  EXPECT_EQ(s->stime_ticks, 150u);
  EXPECT_EQ(s->start_time_ticks, 12345u);
  EXPECT_EQ(s->vsize_bytes, 104857600u);
  EXPECT_EQ(s->rss_pages, 2560);
  EXPECT_FALSE(ParseProcStat("12 (x) S 1 2 3").ok());
  EXPECT_FALSE(ParseProcStat("no parenthesis").ok());
}

TEST(ProcessCollectorTest, ParsesBootTimeAndSoftLimits) {
  auto boot = ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n");
  ASSERT_TRUE(boot.ok());
  EXPECT_EQ(*boot, 1700000000u);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").ok());

  ProcLimits limits = ParseProcLimits(kLimits);
  EXPECT_EQ(limits.max_open_files, 1024);
  EXPECT_EQ(limits.max_address_space_bytes, 18446744073709551615.0);
}

class FakeProcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        std::filesystem::path(::testing::TempDir()) / ("fake-proc-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "self" / "fd");
    Write("self/stat", kStat);
    Write("self/limits", kLimits);
    Write("stat", "cpu  1 2 3\nbtime 1700000000\n");
    for (const char* fd : {"0", "1", "2"}) Write(std::string("self/fd/") + fd, "");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void Write(const std::string& rel, const std::string& contents) {
    std::ofstream(root_ / rel) << contents;
  }

  std::filesystem::path root_;
};

TEST_F(FakeProcTest, RendersClientGolangsProcessMetrics) {
  Registry r;
  r.AddCollector(std::make_unique<ProcessCollector>(ProcessCollectorOptions{
      .proc_root = root_.string(), .clock_ticks_per_second = 100, .page_size_bytes = 4096}));
  EXPECT_EQ(r.Render(),
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\n"
            "process_cpu_seconds_total 4\n"
            "# HELP process_max_fds Maximum number of open file descriptors.\n"
            "# TYPE process_max_fds gauge\n"
            "process_max_fds 1024\n"
            "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\n"
            "process_open_fds 3\n"
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\n"
            "process_resident_memory_bytes 10485760\n"
            "# HELP process_start_time_seconds Start time of the process since unix epoch in "
            "seconds.\n"
            "# TYPE process_start_time_seconds gauge\n"
            "process_start_time_seconds 1700000123.45\n"
            "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\n"
            "process_virtual_memory_bytes 104857600\n"
            "# HELP process_virtual_memory_max_bytes Maximum amount of virtual memory available "
            "in bytes.\n"
            "# TYPE process_virtual_memory_max_bytes gauge\n"
            "process_virtual_memory_max_bytes 1.844674407370955e+19\n");
}

TEST_F(FakeProcTest, UnreadableSourcesAreLeftOutNotReportedAsZero) {
  std::filesystem::remove(root_ / "self" / "stat");
  Registry r;
  r.AddCollector(
      std::make_unique<ProcessCollector>(ProcessCollectorOptions{.proc_root = root_.string()}));
  std::string text = r.Render();
  EXPECT_EQ(text.find("process_cpu_seconds_total"), std::string::npos);
  EXPECT_EQ(text.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(text.find("process_open_fds 3\n"), std::string::npos);
}

TEST(ProcessCollectorTest, ValuesForThisProcessArePlausible) {
  ProcessCollector collector;
  std::map<std::string, double> v;
  for (const prometheus::MetricFamily& f : collector.Collect()) {
    ASSERT_EQ(f.metric.size(), 1u) << f.name;
    v[f.name] = f.type == prometheus::MetricType::Counter ? f.metric[0].counter.value
                                                          : f.metric[0].gauge.value;
  }
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                           "process_start_time_seconds", "process_virtual_memory_max_bytes"}) {
    EXPECT_TRUE(v.contains(name)) << name;
  }
  EXPECT_GE(v["process_cpu_seconds_total"], 0);
  EXPECT_LT(v["process_cpu_seconds_total"], 24 * 3600);
  EXPECT_GT(v["process_resident_memory_bytes"], 1 << 20);  // a gtest binary uses over 1 MiB
  EXPECT_GE(v["process_virtual_memory_bytes"], v["process_resident_memory_bytes"]);
  EXPECT_GE(v["process_open_fds"], 3);  // stdin, stdout, stderr
  EXPECT_GE(v["process_max_fds"], v["process_open_fds"]);
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Started before now (allowing for the tick granularity) and not long ago.
  EXPECT_LE(v["process_start_time_seconds"], now + 1);
  EXPECT_GT(v["process_start_time_seconds"], now - 3600);
}

}  // namespace
}  // namespace cte::metrics
