// Tests operator/metrics/metrics_handler.cc end to end: a real HttpServer on 127.0.0.1:0 serves
// a registry with every metric the operator exports, a raw socket scrapes it, and Prometheus's
// own linter (`promtool check metrics`, Debian package `prometheus`) must accept the scrape.
#include "operator/metrics/metrics_handler.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "operator/metrics/build_info.h"
#include "operator/metrics/controller_runtime_metrics.h"
#include "operator/metrics/process_collector.h"
#include "tests/testing/socket_client.h"

namespace cte::metrics {
namespace {

using std::chrono::milliseconds;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Full path of promtool found on PATH, or empty.
std::string FindPromtool() {
  CommandResult r = RunShell("command -v promtool");
  if (r.exit_code != 0) return "";
  while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == '\r')) {
    r.output.pop_back();
  }
  return r.output;
}

class MetricsHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Everything main.cc will register, with some activity so histograms have data.
    runtime_ = std::make_unique<ControllerRuntimeMetrics>(registry_);
    for (const char* kind :
         {"netskopetenant", "cteplugin", "businessrule", "sharingconfiguration"}) {
      ControllerMetrics& c = runtime_->Controller(kind, 2);
      c.ReconcileStarted();
      c.ReconcileFinished(ReconcileResult::kSuccess, milliseconds(12));
      WorkqueueMetrics& q = runtime_->Workqueue(kind);
      q.Add(0);
      q.Add(-100);
      q.Get(0, milliseconds(3));
      q.Done(milliseconds(12));
      q.Retry();
    }
    runtime_->RestClient().Observe(200, "GET", "127.0.0.1:6443");
    runtime_->RestClient().Observe(RestClientMetrics::kNoResponse, "WATCH", "127.0.0.1:6443");
    runtime_->Leader("cte-operator-lock").Set(true);
    registry_.AddCollector(std::make_unique<ProcessCollector>());
    RegisterBuildInfo(registry_);
    // Label values that need escaping must survive the linter too.
    registry_
        .AddCounter("cte_escape_test_total", "Label values with quotes, backslashes, newlines.")
        .Add({{"v", "quote \" backslash \\ newline \n end"}})
        .Increment();

    InstallMetricsHandler(server_, registry_);
    ASSERT_TRUE(server_.Start("127.0.0.1", 0).ok());
  }
  void TearDown() override { server_.Stop(); }

  // Returns {head, body} of GET `path`.
  std::pair<std::string, std::string> Get(const std::string& path) {
    testing::SocketClient client(server_.port());
    EXPECT_TRUE(client.connected());
    client.Send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    std::string response = client.ReadResponse();
    size_t split = response.find("\r\n\r\n");
    if (split == std::string::npos) return {response, ""};
    return {response.substr(0, split + 2), response.substr(split + 4)};
  }

  Registry registry_;
  std::unique_ptr<ControllerRuntimeMetrics> runtime_;
  http::HttpServer server_;
};

TEST_F(MetricsHandlerTest, ServesTheRegistryAsPrometheusText) {
  auto [head, body] = Get("/metrics");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: " + std::string(kTextContentType) + "\r\n"), std::string::npos)
      << head;
  for (const char* want : {
           "controller_runtime_reconcile_total{controller=\"cteplugin\",result=\"success\"} 1\n",
           "controller_runtime_reconcile_total{controller=\"cteplugin\",result=\"requeue\"} 0\n",
           "workqueue_depth{controller=\"cteplugin\",name=\"cteplugin\",priority=\"-100\"} 1\n",
           "rest_client_requests_total{code=\"<error>\",host=\"127.0.0.1:6443\",method=\"WATCH\"} "
           "1\n",
           "leader_election_master_status{name=\"cte-operator-lock\"} 1\n",
           "\nprocess_resident_memory_bytes ",
           "\nprocess_cpu_seconds_total ",
           "\nprocess_start_time_seconds ",
           "\ncte_build_info{compiler=\"",
       }) {
    EXPECT_NE(body.find(want), std::string::npos) << want;
  }
}

TEST_F(MetricsHandlerTest, EveryScrapeSeesCurrentValues) {
  runtime_->Leader("cte-operator-lock").Set(false);
  EXPECT_NE(
      Get("/metrics").second.find("leader_election_master_status{name=\"cte-operator-lock\"} 0\n"),
      std::string::npos);
  runtime_->Leader("cte-operator-lock").Set(true);
  EXPECT_NE(
      Get("/metrics").second.find("leader_election_master_status{name=\"cte-operator-lock\"} 1\n"),
      std::string::npos);
}

TEST_F(MetricsHandlerTest, PromtoolAcceptsTheScrapeWithoutLintProblems) {
  std::string promtool = FindPromtool();
  if (promtool.empty()) {
    GTEST_SKIP() << "promtool not on PATH; install the Debian package `prometheus`";
  }
  std::string body = Get("/metrics").second;
  ASSERT_FALSE(body.empty());
  std::filesystem::path file = std::filesystem::path(::testing::TempDir()) /
                               ("scrape-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(file, std::ios::binary) << body;

  CommandResult r = RunShell("'" + promtool + "' check metrics < '" + file.string() + "'");
  std::filesystem::remove(file);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- scrape ---\n" << body;
  EXPECT_EQ(r.output, "") << r.output;
}

}  // namespace
}  // namespace cte::metrics
