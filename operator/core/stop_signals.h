// SIGINT/SIGTERM handled the same way by every binary: block them in all threads before any
// thread starts (so no thread is interrupted at random), then wait for one on a chosen thread.
#pragma once

#include <csignal>

namespace cte {

class StopSignals {
 public:
  // Call in main() before starting threads; threads created later inherit the mask.
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  // Blocks until SIGINT or SIGTERM arrives; returns which.
  int Wait() const {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

 private:
  sigset_t set_{};
};

}  // namespace cte
