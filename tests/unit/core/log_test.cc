#include "operator/core/log.h"

#include <gtest/gtest.h>

#include "operator/core/secret_string.h"

namespace cte {
namespace {

TEST(LogTest, JsonLinesCarryLevelTimeMessageAndContext) {
  auto sink = std::make_shared<MemorySink>();
  Logger log(sink, LogLevel::kInfo, LogFormat::kJson);
  log.With("controller", "sharing").With("object", "ns/a").Info("reconciled", {{"changed", 3}});
  log.Debug("hidden");
  auto lines = sink->Lines();
  ASSERT_EQ(lines.size(), 1u);
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "reconciled");
  EXPECT_EQ(j["controller"], "sharing");
  EXPECT_EQ(j["object"], "ns/a");
  EXPECT_EQ(j["changed"], 3);
  EXPECT_TRUE(j["ts"].is_string());
}

TEST(LogTest, TextFormatIsOneReadableLine) {
  auto sink = std::make_shared<MemorySink>();
  Logger log(sink, LogLevel::kDebug, LogFormat::kText);
  log.With("controller", "c").Warn("slow", {{"seconds", 2.5}});
  auto lines = sink->Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" warn slow controller=c seconds=2.5"), std::string::npos) << lines[0];
}

TEST(LogTest, SecretStringsAreRedactedInEveryFormat) {
  auto sink = std::make_shared<MemorySink>();
  SecretString token("tok-3f9a-very-secret");
  Logger(sink, LogLevel::kInfo, LogFormat::kJson).Info("using", {{"token", token}});
  Logger(sink, LogLevel::kInfo, LogFormat::kText).With("token", token).Info("using");
  EXPECT_EQ(sink->All().find("tok-3f9a"), std::string::npos) << sink->All();
  EXPECT_NE(sink->All().find("[redacted]"), std::string::npos);
}

TEST(LogTest, LevelAndFormatFlagsParseWithClearErrors) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  auto bad = ParseLogLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--log-level"), std::string::npos);
}

}  // namespace
}  // namespace cte
