#include "hack/tenant-simulator/window_limiter.h"

#include <chrono>

namespace cte::tenantsim {
namespace {

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void WindowLimiter::Expire(MonoTime now) {
  while (!sent_.empty() && sent_.front() + window_ <= now) sent_.pop_front();
}

WindowLimiter::Decision WindowLimiter::Check(MonoTime now) {
  Decision d;
  d.limit = limit_;
  if (limit_ <= 0) return d;
  Expire(now);
  int used = static_cast<int>(sent_.size());
  d.allowed = used < limit_;
  d.remaining = d.allowed ? limit_ - used - 1 : 0;
  if (!sent_.empty()) d.reset_seconds = Seconds(sent_.front() + window_ - now);
  if (!d.allowed) {
    // The request at position (used - limit) leaves the window first and frees a slot.
    d.retry_after_seconds = Seconds(sent_[static_cast<size_t>(used - limit_)] + window_ - now);
  } else if (sent_.empty()) {
    d.reset_seconds = Seconds(window_);
  }
  return d;
}

void WindowLimiter::Record(MonoTime now) {
  if (limit_ <= 0) return;
  sent_.push_back(now);
}

}  // namespace cte::tenantsim
