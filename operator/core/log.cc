#include "operator/core/log.h"

#include <unistd.h>

#include <chrono>

#include "operator/core/time_format.h"

namespace cte {
namespace {

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string Timestamp() {
  return FormatRfc3339(std::chrono::system_clock::now(), TimePrecision::kMillis);
}

class NullSink : public LogSink {
 public:
  void Write(std::string_view) override {}
};

}  // namespace

StatusOr<LogLevel> ParseLogLevel(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn" || s == "warning") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return InvalidArgumentError("--log-level: \"" + std::string(s) +
                              "\" is not one of debug, info, warn, error");
}

StatusOr<LogFormat> ParseLogFormat(std::string_view s) {
  if (s == "json") return LogFormat::kJson;
  if (s == "text") return LogFormat::kText;
  return InvalidArgumentError("--log-format: \"" + std::string(s) + "\" is not one of json, text");
}

void StderrSink::Write(std::string_view line) {
  std::string l(line);
  l.push_back('\n');
  size_t off = 0;
  while (off < l.size()) {
    ssize_t n = ::write(STDERR_FILENO, l.data() + off, l.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void MemorySink::Write(std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.emplace_back(line);
}

std::vector<std::string> MemorySink::Lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

std::string MemorySink::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& l : lines_) out += l + "\n";
  return out;
}

Logger::Logger(std::shared_ptr<LogSink> sink, LogLevel level, LogFormat format)
    : sink_(std::move(sink)), level_(level), format_(format) {}

Logger Logger::With(std::string key, nlohmann::json value) const {
  Logger child = *this;
  child.context_.emplace_back(std::move(key), std::move(value));
  return child;
}

void Logger::Log(LogLevel level, std::string_view msg, std::vector<LogField> fields) const {
  if (!Enabled(level)) return;
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json line;
    line["level"] = LevelName(level);
    line["ts"] = Timestamp();
    line["msg"] = msg;
    for (const auto& [k, v] : context_) line[k] = v;
    for (const auto& [k, v] : fields) line[k] = v;
    sink_->Write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::string line = Timestamp() + " " + LevelName(level) + " " + std::string(msg);
  auto append = [&line](const std::string& k, const nlohmann::json& v) {
    line += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  };
  for (const auto& [k, v] : context_) append(k, v);
  for (const auto& [k, v] : fields) append(k, v);
  sink_->Write(line);
}

Logger NullLogger() { return Logger(std::make_shared<NullSink>(), LogLevel::kError); }

}  // namespace cte
