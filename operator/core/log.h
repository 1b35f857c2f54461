// Structured logging: one JSON object per line by default (`--log-format json`), or a readable
// text line (`--log-format text`). Loggers are cheap values; With() adds fields (controller,
// object key, reconcile id) that every line from the child carries.
//
// Secrets: never pass a token or a Secret's data as a field. Values read from Secrets are held in
// SecretString (operator/core/secret_string.h), whose JSON form is "[redacted]".
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/core/status.h"

namespace cte {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kJson, kText };

StatusOr<LogLevel> ParseLogLevel(std::string_view s);
StatusOr<LogFormat> ParseLogFormat(std::string_view s);

// Where formatted lines go. Thread-safe.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(std::string_view line) = 0;
};

// Writes to stderr, one write per line so lines from threads never interleave.
class StderrSink : public LogSink {
 public:
  void Write(std::string_view line) override;
};

// Keeps lines in memory (tests).
class MemorySink : public LogSink {
 public:
  void Write(std::string_view line) override;
  std::vector<std::string> Lines() const;
  std::string All() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

using LogField = std::pair<std::string, nlohmann::json>;

class Logger {
 public:
  Logger(std::shared_ptr<LogSink> sink, LogLevel level = LogLevel::kInfo,
         LogFormat format = LogFormat::kJson);

  Logger With(std::string key, nlohmann::json value) const;

  void Debug(std::string_view msg, std::vector<LogField> fields = {}) const {
    Log(LogLevel::kDebug, msg, std::move(fields));
  }
  void Info(std::string_view msg, std::vector<LogField> fields = {}) const {
    Log(LogLevel::kInfo, msg, std::move(fields));
  }
  void Warn(std::string_view msg, std::vector<LogField> fields = {}) const {
    Log(LogLevel::kWarn, msg, std::move(fields));
  }
  void Error(std::string_view msg, std::vector<LogField> fields = {}) const {
    Log(LogLevel::kError, msg, std::move(fields));
  }
  void Log(LogLevel level, std::string_view msg, std::vector<LogField> fields) const;
  bool Enabled(LogLevel level) const { return level >= level_; }

 private:
  std::shared_ptr<LogSink> sink_;
  LogLevel level_;
  LogFormat format_;
  std::vector<LogField> context_;
};

// A logger that drops everything (default for components under test that do not care).
Logger NullLogger();

}  // namespace cte
