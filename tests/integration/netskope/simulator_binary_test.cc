// build/bin/tenant-simulator as a process: flags, config file, the URL on the first stdout line,
// and a clean exit on SIGTERM. The test kills the process it started in every case.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "operator/core/random.h"
#include "operator/netskope/netskope_client.h"
#include "operator/netskope/transport_options.h"
#include "tests/testing/test_certs.h"

namespace cte::netskope {
namespace {

class SimulatorProcess {
 public:
  explicit SimulatorProcess(const std::vector<std::string>& args) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      std::string bin = std::string(CTE_BIN_DIR) + "/tenant-simulator";
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_fd_ = out[0];
  }
  ~SimulatorProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
  }

  // The first stdout line, waiting at most `timeout`.
  std::string FirstLine(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (line.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{stdout_fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[256];
      ssize_t n = ::read(stdout_fd_, buf, sizeof(buf));
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    return line.substr(0, line.find('\n'));
  }

  // Sends `sig` and waits (bounded) for the exit status; -1 when it did not exit in time.
  int StopWith(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    ::kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      // Waiting for a child has no condition variable; poll the pid with a short pause.
      ::poll(nullptr, 0, 10);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  bool exited_ = false;
};

TEST(SimulatorBinaryTest, PrintsItsUrlServesTheConfigAndStopsOnSigterm) {
  std::string config = ::testing::TempDir() + "/tenant-simulator-config.yaml";
  {
    std::ofstream f(config);
    f << "urlLists:\n"
         "  - name: from-config\n"
         "    urls: [a.example]\n"
         "fileHashLists:\n"
         "  - name: cte-hashes\n";
  }
  SimulatorProcess sim(
      {"--listen", "127.0.0.1:0", "--v1-token", "T1", "--v2-token", "T2", "--config", config});
  std::string url = sim.FirstLine();
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;

  RealClock clock;
  RealRandom random;
  auto transport = NewTenantTransport({});
  NetskopeClientOptions o;
  o.tenant = "sim";
  o.base_url = url;
  o.v1_token = SecretString("T1");
  o.v2_token = SecretString("T2");
  NetskopeClient client(o, *transport, clock, random, nullptr);
  auto found = FindUrlListByName(client, "from-config");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_TRUE(client.UpdateFileHashList("cte-hashes", {std::string(32, 'a')}).ok());

  EXPECT_EQ(sim.StopWith(SIGTERM), 0);
}

TEST(SimulatorBinaryTest, ServesHttpsAndATenantCaBundleIsTrusted) {
  // A tenant behind a TLS-inspecting proxy: its certificate chains to a private CA that the
  // NetskopeTenant's caBundleSecretRef supplies.
  cte::testing::ScratchDir dir;
  cte::testing::Pem ca = cte::testing::MakeCertificate("inspecting-proxy-ca", "");
  cte::testing::Pem leaf =
      cte::testing::MakeCertificate("127.0.0.1", "IP:127.0.0.1", &ca, /*is_ca=*/false);
  SimulatorProcess sim({"--listen", "127.0.0.1:0", "--v2-token", "T2", "--tls-cert",
                        dir.Write("tls.crt", leaf.cert), "--tls-key",
                        dir.Write("tls.key", leaf.key)});
  std::string url = sim.FirstLine();
  ASSERT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << url;

  RealClock clock;
  RealRandom random;
  NetskopeClientOptions o;
  o.tenant = "sim";
  o.base_url = url;
  o.v2_token = SecretString("T2");
  o.retry.max_attempts = 1;
  auto trusted = NewTenantTransport({false, ca.cert});
  NetskopeClient client(o, *trusted, clock, random, nullptr);
  auto lists = client.ListUrlLists({});
  EXPECT_TRUE(lists.ok()) << lists.status().ToString();
  // Without the bundle the private CA is unknown: refused, never downgraded.
  auto untrusted = NewTenantTransport({false, ""});
  NetskopeClient refused(o, *untrusted, clock, random, nullptr);
  auto r = refused.ListUrlLists({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(sim.StopWith(SIGTERM), 0);
}

TEST(SimulatorBinaryTest, TlsNeedsBothFiles) {
  SimulatorProcess sim({"--tls-cert", "/nonexistent.crt"});
  EXPECT_EQ(sim.FirstLine(), "");
  EXPECT_EQ(sim.StopWith(0), 2);
}

TEST(SimulatorBinaryTest, ABadConfigExitsWithUsageError) {
  std::string config = ::testing::TempDir() + "/tenant-simulator-bad.yaml";
  {
    std::ofstream f(config);
    f << "limits:\n  v2RequestsPerSecond: fast\n";
  }
  SimulatorProcess sim({"--config", config});
  EXPECT_EQ(sim.FirstLine(), "");
  EXPECT_EQ(sim.StopWith(0), 2);  // signal 0 only checks; the process has exited by itself
}

}  // namespace
}  // namespace cte::netskope
