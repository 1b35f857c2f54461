#include "operator/metrics/process_collector.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

namespace cte::metrics {

namespace {

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  auto result = std::from_chars(s.data(), s.data() + s.size(), out);
  return result.ec == std::errc() && result.ptr == s.data() + s.size();
}

std::vector<std::string_view> SplitFields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  // /proc files report size 0, so read to EOF rather than by size.
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::optional<double> CountEntries(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return std::nullopt;
  double n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    ++n;
  }
  return n;
}

void Emit(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
          prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  out.push_back(std::move(f));
}

constexpr auto kCounter = prometheus::MetricType::Counter;
constexpr auto kGauge = prometheus::MetricType::Gauge;

}  // namespace

StatusOr<ProcStat> ParseProcStat(std::string_view contents) {
  size_t close = contents.rfind(')');
  if (close == std::string_view::npos) return InvalidArgumentError("stat: no ')' after comm");
  // Tokens after "(comm)": index 0 is field 3 (state), so field k is at index k - 3.
  std::vector<std::string_view> f = SplitFields(contents.substr(close + 1));
  if (f.size() < 22) return InvalidArgumentError("stat: too few fields");
  ProcStat s;
  if (!ParseNumber(f[11], s.utime_ticks) || !ParseNumber(f[12], s.stime_ticks) ||
      !ParseNumber(f[19], s.start_time_ticks) || !ParseNumber(f[20], s.vsize_bytes) ||
      !ParseNumber(f[21], s.rss_pages)) {
    return InvalidArgumentError("stat: malformed number");
  }
  return s;
}

StatusOr<uint64_t> ParseBootTime(std::string_view contents) {
  size_t pos = 0;
  while (pos < contents.size()) {
    size_t end = contents.find('\n', pos);
    if (end == std::string_view::npos) end = contents.size();
    std::vector<std::string_view> f = SplitFields(contents.substr(pos, end - pos));
    uint64_t btime = 0;
    if (f.size() == 2 && f[0] == "btime" && ParseNumber(f[1], btime)) return btime;
    pos = end + 1;
  }
  return NotFoundError("stat: no btime line");
}

ProcLimits ParseProcLimits(std::string_view contents) {
  ProcLimits out;
  auto soft_limit = [&](std::string_view line, std::string_view prefix) -> std::optional<double> {
    if (!line.starts_with(prefix)) return std::nullopt;
    std::vector<std::string_view> f = SplitFields(line.substr(prefix.size()));
    if (f.empty()) return std::nullopt;
    if (f[0] == "unlimited") return static_cast<double>(std::numeric_limits<uint64_t>::max());
    uint64_t v = 0;
    if (!ParseNumber(f[0], v)) return std::nullopt;
    return static_cast<double>(v);
  };
  size_t pos = 0;
  while (pos < contents.size()) {
    size_t end = contents.find('\n', pos);
    if (end == std::string_view::npos) end = contents.size();
    std::string_view line = contents.substr(pos, end - pos);
    if (auto v = soft_limit(line, "Max open files")) out.max_open_files = v;
    if (auto v = soft_limit(line, "Max address space")) out.max_address_space_bytes = v;
    pos = end + 1;
  }
  return out;
}

ProcessCollector::ProcessCollector(ProcessCollectorOptions options) : options_(std::move(options)) {
  if (options_.clock_ticks_per_second <= 0) options_.clock_ticks_per_second = sysconf(_SC_CLK_TCK);
  if (options_.page_size_bytes <= 0) options_.page_size_bytes = sysconf(_SC_PAGESIZE);
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  const std::string self = options_.proc_root + "/self";
  const auto ticks = static_cast<double>(options_.clock_ticks_per_second);

  std::optional<ProcStat> stat;
  if (auto contents = ReadFile(self + "/stat")) {
    if (auto parsed = ParseProcStat(*contents); parsed.ok()) stat = *parsed;
  }
  if (stat.has_value()) {
    Emit(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
         kCounter, static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks);
    Emit(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", kGauge,
         static_cast<double>(stat->vsize_bytes));
    Emit(out, "process_resident_memory_bytes", "Resident memory size in bytes.", kGauge,
         static_cast<double>(stat->rss_pages) * static_cast<double>(options_.page_size_bytes));
    if (auto contents = ReadFile(options_.proc_root + "/stat")) {
      if (auto boot = ParseBootTime(*contents); boot.ok()) {
        Emit(out, "process_start_time_seconds",
             "Start time of the process since unix epoch in seconds.", kGauge,
             static_cast<double>(*boot) + static_cast<double>(stat->start_time_ticks) / ticks);
      }
    }
  }
  if (auto fds = CountEntries(self + "/fd")) {
    Emit(out, "process_open_fds", "Number of open file descriptors.", kGauge, *fds);
  }
  if (auto contents = ReadFile(self + "/limits")) {
    ProcLimits limits = ParseProcLimits(*contents);
    if (limits.max_open_files) {
      Emit(out, "process_max_fds", "Maximum number of open file descriptors.", kGauge,
           *limits.max_open_files);
    }
    if (limits.max_address_space_bytes) {
      Emit(out, "process_virtual_memory_max_bytes",
           "Maximum amount of virtual memory available in bytes.", kGauge,
           *limits.max_address_space_bytes);
    }
  }
  return out;
}

}  // namespace cte::metrics
