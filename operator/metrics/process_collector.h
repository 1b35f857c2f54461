// Process metrics computed at scrape time from Linux /proc, with the names, help and types of
// client_golang's process collector (prometheus-cpp has none): a prometheus::Collectable the
// Registry calls on every scrape. kubebuilder's Grafana dashboards
// and most alerting rules read process_cpu_seconds_total and process_resident_memory_bytes.
//
// The parsers are pure functions over file contents so they are tested on fixed text; the
// collector takes the /proc root as an option so a test can point it at a fake tree.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/status.h"

namespace cte::metrics {

// The fields we need from /proc/<pid>/stat (proc(5)), in their raw units.
struct ProcStat {
  uint64_t utime_ticks = 0;       // field 14
  uint64_t stime_ticks = 0;       // field 15
  uint64_t start_time_ticks = 0;  // field 22, clock ticks after boot
  uint64_t vsize_bytes = 0;       // field 23
  int64_t rss_pages = 0;          // field 24
};

// Parses /proc/<pid>/stat. The command name (field 2) may contain spaces and parentheses, so
// fields are counted from the last ')'.
StatusOr<ProcStat> ParseProcStat(std::string_view contents);

// The `btime` line of /proc/stat: boot time in seconds since the epoch.
StatusOr<uint64_t> ParseBootTime(std::string_view contents);

// Soft limits from /proc/<pid>/limits. "unlimited" is reported as 2^64-1, as client_golang
// (through procfs) does.
struct ProcLimits {
  std::optional<double> max_open_files;
  std::optional<double> max_address_space_bytes;
};
ProcLimits ParseProcLimits(std::string_view contents);

struct ProcessCollectorOptions {
  std::string proc_root = "/proc";
  // 0 means ask sysconf (_SC_CLK_TCK, _SC_PAGESIZE); tests of a fake tree fix them.
  long clock_ticks_per_second = 0;
  long page_size_bytes = 0;
};

// Emits process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_virtual_memory_bytes, process_virtual_memory_max_bytes,
// process_resident_memory_bytes and process_start_time_seconds for the calling process
// (<root>/self). A metric whose source cannot be read is left out of that scrape rather than
// reported as a misleading 0. Thread-safe (no mutable state).
class ProcessCollector : public prometheus::Collectable {
 public:
  explicit ProcessCollector(ProcessCollectorOptions options = {});
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  ProcessCollectorOptions options_;
};

}  // namespace cte::metrics
