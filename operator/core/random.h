// Randomness as an injected dependency, so jitter is deterministic in tests.
#pragma once

#include <mutex>
#include <random>

namespace cte {

class Random {
 public:
  virtual ~Random() = default;
  // A uniformly distributed value in [0, 1). Thread-safe.
  virtual double Uniform() = 0;
};

class RealRandom : public Random {
 public:
  RealRandom() : rng_(std::random_device{}()) {}
  double Uniform() override {
    std::lock_guard<std::mutex> lock(mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
};

// Always returns the same value; 0.5 makes symmetric jitter vanish.
class FixedRandom : public Random {
 public:
  explicit FixedRandom(double value = 0.5) : value_(value) {}
  double Uniform() override { return value_; }

 private:
  double value_;
};

}  // namespace cte
