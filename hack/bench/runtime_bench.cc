// Benchmark of the controller runtime (issue 3): N objects of one kind, measured on a real
// widget-operator process against an in-process local API server.
//   1. time from the operator's start until every object has been reconciled once
//      (controller_runtime_reconcile_total{result="success"} on its /metrics reaches N),
//   2. its steady-state resident memory (VmRSS) after that, and per cached object: the growth
//      over the same operator's memory with no objects (measured first, on the same server),
//   3. its CPU use while idle over a window (utime+stime from /proc/PID/stat).
// Usage: runtime-bench [--objects 10000] [--idle-seconds 60] [--workers 4] [--fresh]
//   --fresh: objects without the operator's finalizer (first install: one more write each).
// Prints one line per figure; docs/benchmarks.md records them with this command.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "hack/bench/proc_stats.h"
#include "hack/local-apiserver/api_server.h"
#include "operator/core/clock.h"
#include "operator/core/json_util.h"
#include "operator/core/random.h"
#include "operator/http/socket_transport.h"
#include "operator/kube/client.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

const cte::kube::GroupVersionResource kWidgets{"test.cte.netskope.io", "v1", "widgets", true,
                                               "Widget"};
const cte::kube::GroupVersionResource kCrds{
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", false, "CustomResourceDefinition"};

// Reads one sample from the operator's /metrics (0 when absent, -1 when unreachable).
double ReadMetric(cte::http::HttpTransport& t, const std::string& metrics_url,
                  const std::string& series) {
  auto resp = t.Send({"GET", metrics_url, {}, "", std::chrono::seconds(5)});
  if (!resp.ok() || resp->status != 200) return -1;
  std::istringstream in(resp->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

using cte::bench::CpuSeconds;
using cte::bench::RssKiB;

pid_t StartOperator(const std::string& bin_dir, const std::string& kubeconfig,
                    const std::string& metrics_addr, const std::string& probe_addr, int workers) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string w = std::to_string(workers);
    execl((bin_dir + "/widget-operator").c_str(), "widget-operator", "--kubeconfig",
          kubeconfig.c_str(), "--metrics-bind-address", metrics_addr.c_str(),
          "--health-probe-bind-address", probe_addr.c_str(), "--log-level", "warn", "--workers",
          w.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

void StopOperator(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace

int main(int argc, char** argv) {
  int objects = 10000, idle_seconds = 60, workers = 4;
  bool fresh = false;  // --fresh: objects without the finalizer, as on a first install
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--fresh") {
      fresh = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << flag << " needs a value\n";
      return 2;
    }
    int v = std::stoi(argv[i + 1]);
    if (flag == "--objects")
      objects = v;
    else if (flag == "--idle-seconds")
      idle_seconds = v;
    else if (flag == "--workers")
      workers = v;
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  std::string bin_dir = argv[0];
  bin_dir = bin_dir.substr(0, bin_dir.rfind('/'));
  std::string src_dir = CTE_SOURCE_DIR;

  cte::apiserver::ApiServerOptions options;
  options.history_limit = static_cast<size_t>(objects) * 10 + 1000;
  cte::apiserver::ApiServer server(options);
  if (!server.Start("127.0.0.1", 0).ok()) return 1;
  std::string kubeconfig = "/tmp/cte-runtime-bench-" + std::to_string(getpid()) + ".kubeconfig";
  if (!server.WriteKubeconfig(kubeconfig).ok()) return 1;

  auto transport = cte::http::NewSocketTransport();
  cte::RealClock clock;
  cte::RealRandom random;
  cte::kube::KubeConfig config;
  config.server = server.url();
  cte::kube::KubeClient client(config, *transport, clock, random);
  auto crd = cte::ParseYamlDocuments(
      *cte::ReadFile(src_dir + "/tests/integration/runtime/testdata/widget-crd.yaml"));
  if (!client.Do(cte::kube::CreateRequest(kCrds, "", (*crd)[0])).ok()) return 1;

  // The operator's own memory with nothing to cache, for the per-object figure.
  const int metrics_port = 20000 + getpid() % 20000;
  std::string metrics_addr = "127.0.0.1:" + std::to_string(metrics_port);
  std::string probe_addr = "127.0.0.1:" + std::to_string(metrics_port + 1);
  long baseline_kib = -1;
  {
    pid_t empty = StartOperator(bin_dir, kubeconfig, metrics_addr, probe_addr, workers);
    auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
      auto ready = transport->Send(
          {"GET", "http://" + probe_addr + "/readyz", {}, "", std::chrono::seconds(2)});
      if (ready.ok() && ready->status == 200) break;
      if (Clock::now() > deadline) {
        std::printf("the empty operator did not become ready\n");
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));  // leader election and workers settle
    baseline_kib = RssKiB(empty);
    StopOperator(empty);
  }
  std::printf("resident memory with no objects: %.1f MiB\n", baseline_kib / 1024.0);

  auto create_start = Clock::now();
  for (int i = 0; i < objects; ++i) {
    // The population an operator meets on restart or upgrade: objects that already carry its
    // finalizer. Each reconcile then writes status once and records one Event.
    json w = {
        {"apiVersion", "test.cte.netskope.io/v1"},
        {"kind", "Widget"},
        {"metadata",
         {{"name", "w-" + std::to_string(i)}, {"finalizers", {"test.cte.netskope.io/cleanup"}}}},
        {"spec", {{"size", i}}}};
    if (fresh) w["metadata"].erase("finalizers");
    if (!client.Do(cte::kube::CreateRequest(kWidgets, "default", w)).ok()) return 1;
  }
  std::printf("objects: %d widgets created in %.2f s (one client, sequential)\n", objects,
              std::chrono::duration<double>(Clock::now() - create_start).count());

  double driver_cpu_before = CpuSeconds(getpid());
  auto start = Clock::now();
  pid_t pid = StartOperator(bin_dir, kubeconfig, metrics_addr, "0", workers);
  std::string metrics_url = "http://" + metrics_addr + "/metrics";
  // An object counts as reconciled once its status was written: one successful status PUT each
  // (the reconcile that follows the finalizer's own watch event writes nothing).
  const std::string puts = "rest_client_requests_total{code=\"200\",host=\"" +
                           server.url().substr(7) + "\",method=\"PUT\"}";
  const std::string reconciles =
      "controller_runtime_reconcile_total{controller=\"widget\",result=\"success\"}";
  double done = 0;
  while (done < objects) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    done = ReadMetric(*transport, metrics_url, puts);
    if (std::chrono::duration<double>(Clock::now() - start).count() > 300) {
      std::printf("timeout: only %.0f of %d reconciled after 300 s\n", done, objects);
      kill(pid, SIGKILL);
      return 1;
    }
  }
  double all_reconciled = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("time to reconcile all %d objects once: %.2f s (target < 10 s)\n", objects,
              all_reconciled);
  std::printf("CPU used meanwhile: operator %.2f s, local API server and this driver %.2f s\n",
              CpuSeconds(pid), CpuSeconds(getpid()) - driver_cpu_before);
  // Settle: wait until the follow-up reconciles are done (the count stops moving for 2 s).
  double last = -1, now_count = ReadMetric(*transport, metrics_url, reconciles);
  while (now_count != last) {
    last = now_count;
    std::this_thread::sleep_for(std::chrono::seconds(2));
    now_count = ReadMetric(*transport, metrics_url, reconciles);
  }
  std::printf("reconciles in total: %.0f\n", now_count);
  long synced_kib = RssKiB(pid);
  std::printf("resident memory after sync: %.1f MiB (target < 60 MiB)\n", synced_kib / 1024.0);
  std::printf("memory per cached object: %.0f bytes (growth over the empty operator / %d)\n",
              (synced_kib - baseline_kib) * 1024.0 / objects, objects);
  double cpu0 = CpuSeconds(pid);
  auto idle0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(idle_seconds));
  double idle_wall = std::chrono::duration<double>(Clock::now() - idle0).count();
  double cpu = CpuSeconds(pid) - cpu0;
  std::printf("idle CPU over %.0f s: %.3f%% of one core (target < 1%%)\n", idle_wall,
              100.0 * cpu / idle_wall);
  std::printf("resident memory after idle: %.1f MiB\n", RssKiB(pid) / 1024.0);
  StopOperator(pid);
  unlink(kubeconfig.c_str());
  server.Stop();
  return 0;
}
