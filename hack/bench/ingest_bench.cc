// Benchmark of the indicator store and the ingest API (issue 9). One run, one disk (--dir):
//   1. raw SQLite bulk insert: the store's schema and settings (WAL, synchronous=FULL, the
//      same page cache and checkpoint size), plain INSERTs of 1,000 rows per transaction from one
//      thread, the same rows as below: the ceiling the store is compared with;
//   2. ingest over HTTPS into a real cte-operator process (the local API server runs in this
//      process): 4 connections, each POSTing batches of 1,000 indicators (parse, validate, merge
//      into the store, durable commit, 201);
//   3. the operator's resident memory growth per stored indicator, and its CPU time;
//   4. the planner's selection of the newest 300,000 of the stored rows of one source;
//   5. (diagnostic) the same rows through IndicatorStore::Commit in this process, 4 threads, to
//      tell the HTTP/parse/validate share from the SQLite share.
// --perf FILE records the operator with `perf record -g` during step 2.
// Usage: ingest-bench --tls-cert F --tls-key F --ca F [--rows 1000000] [--dir DIR]
//                     [--clients 4] [--batch 1000] [--perf FILE]
// hack/bench/ingest_bench.sh makes the certificate and runs it; docs/benchmarks.md records it.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hack/bench/proc_stats.h"
#include "hack/local-apiserver/api_server.h"
#include "operator/core/json_util.h"
#include "operator/core/random.h"
#include "operator/core/time_format.h"
#include "operator/http/socket_transport.h"
#include "operator/kube/client.h"
#include "operator/store/sqlite_store.h"

namespace {

using Steady = std::chrono::steady_clock;
using cte::bench::CpuSeconds;
using cte::bench::RssKiB;
using cte::store::Indicator;
using cte::store::IndicatorType;

const cte::kube::GroupVersionResource kCrds{
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", false, "CustomResourceDefinition"};
const cte::store::SourceRef kSource{"bench", "feed"};

double Since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

pid_t g_operator = -1;  // killed on the way out, so a failed run leaves no process behind

[[noreturn]] void Die(const std::string& why) {
  std::cerr << "ingest-bench: " << why << "\n";
  if (g_operator > 0) {
    kill(g_operator, SIGKILL);
    waitpid(g_operator, nullptr, 0);
  }
  std::exit(1);
}

// Realistic rows: URLs, domains and sha256 hashes, a severity and reputation, two tags, a comment
// and an expiry, newest last.
std::vector<Indicator> MakeRows(size_t n) {
  std::mt19937_64 rng(42);
  std::vector<Indicator> rows(n);
  const auto base = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  char buf[128];
  for (size_t i = 0; i < n; ++i) {
    Indicator& r = rows[i];
    r.source = kSource;
    uint64_t h = rng();
    switch (i % 4) {
      case 0:
      case 1:
        r.type = IndicatorType::kUrl;
        std::snprintf(buf, sizeof(buf), "http://host-%zu.example.net/p/%016llx", i,
                      static_cast<unsigned long long>(h));
        break;
      case 2:
        r.type = IndicatorType::kDomain;
        std::snprintf(buf, sizeof(buf), "d%zu.bad.example.org", i);
        break;
      default:
        r.type = IndicatorType::kSha256;
        for (int k = 0; k < 64; ++k) buf[k] = "0123456789abcdef"[(rng() >> 7) & 15];
        buf[64] = 0;
    }
    r.value = buf;
    r.severity = static_cast<cte::store::Severity>(h % 5);
    r.reputation = 1 + static_cast<int>(h % 10);
    r.tags = {i % 3 ? "feed" : "apt", "bench"};
    std::snprintf(buf, sizeof(buf), "benchmark row %zu", i);
    r.comments = buf;
    r.first_seen = r.last_seen = base + std::chrono::seconds(i);
    r.expires_at = base + std::chrono::hours(24 * 90) + std::chrono::seconds(i);
  }
  return rows;
}

// The rows [from, to) as a POST body of CE IndicatorIn objects.
std::string Body(const std::vector<Indicator>& rows, size_t from, size_t to) {
  std::string out = "[";
  for (size_t i = from; i < to; ++i) {
    const Indicator& r = rows[i];
    if (i > from) out += ',';
    out += "{\"value\":\"" + r.value + "\",\"type\":\"" +
           std::string(cte::store::IndicatorTypeName(r.type)) + "\",\"source\":\"feed\"," +
           "\"severity\":\"" + std::string(cte::store::SeverityName(r.severity)) +
           "\",\"reputation\":" + std::to_string(r.reputation) + ",\"tags\":[\"" + r.tags[0] +
           "\",\"" + r.tags[1] + "\"],\"comments\":\"" + r.comments + "\",\"firstSeen\":\"" +
           cte::FormatRfc3339(r.first_seen) + "\",\"lastSeen\":\"" +
           cte::FormatRfc3339(r.last_seen) + "\",\"expiresAt\":\"" +
           cte::FormatRfc3339(*r.expires_at) + "\"}";
  }
  out += "]";
  return out;
}

bool Check(int rc, sqlite3* db, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
  std::cerr << what << ": " << sqlite3_errmsg(db) << "\n";
  return false;
}

// 1. Raw SQLite: the schema created by the store's migrations, the same pragmas, plain INSERTs.
double RawInsertRate(const std::string& path, const std::vector<Indicator>& rows, size_t batch) {
  {
    cte::store::SqliteStoreOptions o;
    o.path = path;
    if (!cte::store::SqliteIndicatorStore::Open(o).ok()) Die("cannot create " + path);
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  // The store's settings: its page cache, and its checkpoint size in pages of the file's size.
  const cte::store::SqliteStoreOptions defaults;
  const std::string pragmas =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-" +
      std::to_string(defaults.writer_cache_kib) + "; PRAGMA wal_autocheckpoint=" +
      std::to_string(defaults.checkpoint_bytes / defaults.page_size) +
      "; INSERT INTO sources(namespace, name) VALUES('bench', 'raw')";
  sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  Check(sqlite3_prepare_v2(db,
                           "INSERT INTO indicators (source_id, value, type, severity, reputation, "
                           "tags, comments, extended_information, first_seen, last_seen, "
                           "expires_at, active, test) VALUES (1, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, 1, "
                           "0)",
                           -1, &st, nullptr),
        db, "prepare");
  auto start = Steady::now();
  std::string tags;
  for (size_t i = 0; i < rows.size(); i += batch) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (size_t j = i; j < std::min(rows.size(), i + batch); ++j) {
      const Indicator& r = rows[j];
      tags.assign(r.tags[0]).append(1, '\n').append(r.tags[1]);
      sqlite3_bind_text(st, 1, r.value.data(), static_cast<int>(r.value.size()), SQLITE_STATIC);
      sqlite3_bind_int(st, 2, static_cast<int>(r.type));
      sqlite3_bind_int(st, 3, static_cast<int>(r.severity));
      sqlite3_bind_int(st, 4, r.reputation);
      sqlite3_bind_text(st, 5, tags.data(), static_cast<int>(tags.size()), SQLITE_STATIC);
      sqlite3_bind_text(st, 6, r.comments.data(), static_cast<int>(r.comments.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(st, 7, cte::store::ToMillis(r.first_seen));
      sqlite3_bind_int64(st, 8, cte::store::ToMillis(r.last_seen));
      sqlite3_bind_int64(st, 9, cte::store::ToMillis(*r.expires_at));
      if (!Check(sqlite3_step(st), db, "insert")) Die("raw insert failed");
      sqlite3_reset(st);
    }
    if (!Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit")) {
      Die("raw commit failed");
    }
  }
  double secs = Since(start);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return static_cast<double>(rows.size()) / secs;
}

// 5. Through IndicatorStore::Commit from `threads` writers.
double StoreRate(const std::string& path, const std::vector<Indicator>& rows, size_t batch,
                 int threads) {
  cte::store::SqliteStoreOptions o;
  o.path = path;
  auto store = cte::store::SqliteIndicatorStore::Open(o);
  if (!store.ok()) Die(store.status().message());
  std::atomic<size_t> next{0};
  auto start = Steady::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (;;) {
        size_t i = next.fetch_add(batch);
        if (i >= rows.size()) return;
        cte::store::UpsertIndicators op;
        op.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
        op.indicators.assign(rows.begin() + static_cast<long>(i),
                             rows.begin() + static_cast<long>(std::min(rows.size(), i + batch)));
        if (!(*store)->Commit(cte::store::WriteBatch().Add(std::move(op))).ok()) Die("commit");
      }
    });
  }
  for (auto& w : workers) w.join();
  return static_cast<double>(rows.size()) / Since(start);
}

// Waits for `pattern` in the operator's log and returns the line.
std::string WaitForLog(const std::string& log, const std::string& pattern, pid_t pid) {
  auto deadline = Steady::now() + std::chrono::seconds(60);
  while (Steady::now() < deadline) {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(pattern) != std::string::npos) return line;
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) Die("cte-operator exited; see " + log);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Die("timed out waiting for " + pattern + " in " + log);
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 1'000'000, batch = 1000;
  int clients = 4;
  std::string dir = std::filesystem::temp_directory_path().string();
  std::string tls_cert, tls_key, ca, perf_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--rows") {
      n = std::stoul(v);
    } else if (a == "--dir") {
      dir = v;
    } else if (a == "--clients") {
      clients = std::stoi(v);
    } else if (a == "--batch") {
      batch = std::stoul(v);
    } else if (a == "--tls-cert") {
      tls_cert = v;
    } else if (a == "--tls-key") {
      tls_key = v;
    } else if (a == "--ca") {
      ca = v;
    } else if (a == "--perf") {
      perf_file = v;
    } else {
      Die("unknown flag " + a);
    }
  }
  if (tls_cert.empty() || tls_key.empty() || ca.empty()) Die("--tls-cert, --tls-key, --ca needed");
  const std::string bin_dir = std::filesystem::path(argv[0]).parent_path().string();
  const std::string work = dir + "/ingest-bench." + std::to_string(::getpid());
  std::filesystem::create_directories(work);
  std::printf("rows %zu, batches of %zu from %d clients, directory %s\n", n, batch, clients,
              work.c_str());

  auto rows = MakeRows(n);
  std::vector<std::string> bodies;
  for (size_t i = 0; i < n; i += batch) bodies.push_back(Body(rows, i, std::min(n, i + batch)));

  // 1. The ceiling.
  const double raw = RawInsertRate(work + "/raw.db", rows, batch);
  std::printf("raw SQLite bulk insert (1 thread, %zu rows/transaction): %.0f rows/s\n", batch, raw);
  std::filesystem::remove(work + "/raw.db");

  // The operator: local API server in this process, CRDs applied, cte-operator as a child.
  cte::apiserver::ApiServer apiserver(cte::apiserver::ApiServerOptions{});
  if (!apiserver.Start("127.0.0.1", 0).ok()) Die("local API server");
  const std::string kubeconfig = work + "/kubeconfig";
  if (!apiserver.WriteKubeconfig(kubeconfig).ok()) Die("kubeconfig");
  auto plain = cte::http::NewSocketTransport();
  cte::RealClock clock;
  cte::RealRandom random;
  cte::kube::KubeConfig kc;
  kc.server = apiserver.url();
  cte::kube::KubeClient kube(kc, *plain, clock, random);
  for (const char* crd : {"netskopetenant", "cteplugin", "businessrule", "sharingconfiguration"}) {
    auto docs = cte::ParseYamlDocuments(
        *cte::ReadFile(std::string(CTE_SOURCE_DIR) + "/crds/" + crd + ".yaml"));
    if (!docs.ok() || !kube.Do(cte::kube::CreateRequest(kCrds, "", (*docs)[0])).ok()) Die(crd);
  }
  std::ofstream(work + "/credentials.yaml")
      << "- {namespace: bench, plugin: feed, clientId: bench, clientSecret: bench-secret, "
         "agingDays: 90}\n";
  const std::string log = work + "/operator.log";
  pid_t op = fork();
  if (op == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    const std::string store = "sqlite://" + work + "/ingest.db";
    execl((bin_dir + "/cte-operator").c_str(), "cte-operator", "--kubeconfig", kubeconfig.c_str(),
          "--store", store.c_str(), "--ingest-bind-address", "127.0.0.1:0", "--ingest-tls-cert",
          tls_cert.c_str(), "--ingest-tls-key", tls_key.c_str(), "--ingest-credentials-file",
          (work + "/credentials.yaml").c_str(), "--metrics-bind-address", "0",
          "--health-probe-bind-address", "0", "--log-level", "info", static_cast<char*>(nullptr));
    _exit(127);
  }
  g_operator = op;
  std::string line = WaitForLog(log, "\"server\":\"ingest\"", op);
  auto parsed = cte::ParseJson(line);
  const std::string address = (*parsed)["address"].get<std::string>();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // caches sync, threads settle
  const long rss_before = RssKiB(op);
  const double cpu_before = CpuSeconds(op);
  std::printf("operator resident memory before ingest: %.1f MiB\n", rss_before / 1024.0);

  cte::http::TransportOptions tls;
  tls.tls.ca_bundle_pem = *cte::ReadFile(ca);
  pid_t perf = -1;
  if (!perf_file.empty()) {
    perf = fork();
    if (perf == 0) {
      const std::string p = std::to_string(op);
      execlp("perf", "perf", "record", "-F", "499", "-g", "-p", p.c_str(), "-o", perf_file.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }

  // 2. HTTPS ingest: every client signs in, then takes batches until none are left.
  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  auto start = Steady::now();
  const double clients_cpu_before = CpuSeconds(getpid());
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      auto t = cte::http::NewSocketTransport(tls);
      auto auth = t->Send({"POST",
                           "https://" + address + "/api/auth",
                           {{"Content-Type", "application/x-www-form-urlencoded"}},
                           "grant_type=client_credentials&client_id=bench&client_secret=bench-"
                           "secret",
                           std::chrono::seconds(30)});
      if (!auth.ok() || auth->status != 200) Die("auth failed");
      const std::string token = (*cte::ParseJson(auth->body))["access_token"].get<std::string>();
      for (;;) {
        size_t b = next.fetch_add(1);
        if (b >= bodies.size()) return;
        auto r =
            t->Send({"POST",
                     "https://" + address + "/api/cte/indicators",
                     {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}},
                     bodies[b],
                     std::chrono::seconds(60)});
        if (!r.ok() || r->status != 201) {
          ++failures;
          std::cerr << "batch " << b << ": "
                    << (r.ok() ? std::to_string(r->status) + " " + r->body.substr(0, 200)
                               : r.status().message())
                    << "\n";
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = Since(start);
  const double https = static_cast<double>(n) / secs;
  const double op_cpu = CpuSeconds(op) - cpu_before;
  const double clients_cpu = CpuSeconds(getpid()) - clients_cpu_before;
  if (perf > 0) {
    kill(perf, SIGINT);
    waitpid(perf, nullptr, 0);
  }
  if (failures > 0) Die(std::to_string(failures.load()) + " batches failed");
  std::printf(
      "HTTPS ingest (%d connections, %zu per POST): %.0f indicators/s in %.1f s "
      "(%.0f%% of raw; targets >= 100000/s and >= 50%%)\n",
      clients, batch, https, secs, 100 * https / raw);
  std::printf(
      "operator CPU during ingest: %.1f s (%.2f cores); the benchmark's TLS clients: %.1f s\n",
      op_cpu, op_cpu / secs, clients_cpu);

  // 3. Memory growth per stored indicator, once the commits have settled.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const long rss_after = RssKiB(op);
  std::printf(
      "operator resident memory after ingest: %.1f MiB; growth %.0f bytes per stored "
      "indicator (target <= 300)\n",
      rss_after / 1024.0, (rss_after - rss_before) * 1024.0 / static_cast<double>(n));
  kill(op, SIGTERM);
  waitpid(op, nullptr, 0);
  g_operator = -1;
  apiserver.Stop();

  // 4. The planner's selection from the store the operator wrote.
  {
    cte::store::SqliteStoreOptions o;
    o.path = work + "/ingest.db";
    auto store = cte::store::SqliteIndicatorStore::Open(o);
    if (!store.ok()) Die(store.status().message());
    for (int round = 1; round <= 2; ++round) {
      auto t0 = Steady::now();
      auto cursor = (*store)->Select({kSource, {}, true});
      if (!cursor.ok()) Die(cursor.status().message());
      Indicator row;
      size_t got = 0;
      while (got < 300'000 && *(*cursor)->Next(row)) ++got;
      std::printf("selection of the newest %zu of %zu rows (run %d): %.3f s (target <= 1.0 s)\n",
                  got, n, round, Since(t0));
    }
  }

  // 5. Diagnostic: the store alone, same rows, in this process.
  const double store_rate = StoreRate(work + "/store.db", rows, batch, clients);
  std::printf("store Commit alone (%d threads, %zu rows/batch): %.0f rows/s (%.0f%% of raw)\n",
              clients, batch, store_rate, 100 * store_rate / raw);
  std::filesystem::remove_all(work);
  return 0;
}
