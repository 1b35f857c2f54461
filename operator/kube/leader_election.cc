#include "operator/kube/leader_election.h"

#include "operator/core/time_format.h"
#include "operator/kube/object_helpers.h"

namespace cte::kube {

using nlohmann::json;

namespace {

const GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases", true, "Lease"};

int64_t Seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

}  // namespace

// The step-down timer may fire while the elector is being destroyed; it reaches the elector only
// through this guard, which the destructor clears under the same lock.
struct LeaderElector::TimerGuard {
  std::mutex mu;
  LeaderElector* self = nullptr;
};

LeaderElector::LeaderElector(KubeClient& client, Clock& clock, Logger logger,
                             LeaderElectionConfig config, metrics::LeaderMetrics* metrics)
    : client_(client),
      clock_(clock),
      log_(logger.With("lease", config.lease_namespace + "/" + config.lease_name)),
      config_(std::move(config)),
      metrics_(metrics),
      guard_(std::make_shared<TimerGuard>()) {
  guard_->self = this;
  if (metrics_) metrics_->Set(false);
}

LeaderElector::~LeaderElector() {
  {
    std::lock_guard<std::mutex> lock(guard_->mu);
    guard_->self = nullptr;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (step_down_timer_) clock_.Cancel(step_down_timer_);
}

Status LeaderElector::Validate(const LeaderElectionConfig& c) {
  if (c.lease_name.empty() || c.lease_namespace.empty()) {
    return InvalidArgumentError("leader election needs a lease name and namespace");
  }
  if (c.identity.empty()) return InvalidArgumentError("leader election needs an identity");
  if (c.lease_duration <= c.renew_deadline) {
    return InvalidArgumentError("lease duration must be greater than the renew deadline");
  }
  if (c.renew_deadline.count() <= 1.2 * static_cast<double>(c.retry_period.count())) {
    return InvalidArgumentError("renew deadline must be greater than 1.2 x the retry period");
  }
  return Status::Ok();
}

Duration LeaderElector::SinceLastRenew() const {
  std::lock_guard<std::mutex> lock(mu_);
  return clock_.Now() - last_renew_;
}

bool LeaderElector::TryAcquireOrRenew(MonoTime deadline) {
  // Every request gets only what is left of the attempt's deadline (client-go's RenewDeadline
  // context), so a hanging API server cannot keep us "leading" past it.
  auto left = [&] { return deadline - clock_.Now(); };
  if (left() <= Duration::zero()) return false;
  WallTime wall = clock_.WallNow();
  auto got =
      client_.DoOnce(GetRequest(kLeases, config_.lease_namespace, config_.lease_name), left());
  // Observed when the answer arrived: a slow GET must not make a rival's record look older.
  const MonoTime observed = clock_.Now();
  json spec_mine = {{"holderIdentity", config_.identity},
                    {"leaseDurationSeconds", Seconds(config_.lease_duration)},
                    {"renewTime", FormatRfc3339(wall, TimePrecision::kMicros)}};
  if (!got.ok()) {
    if (got.status().code() != StatusCode::kNotFound) {
      log_.Warn("cannot read lease", {{"error", got.status().ToString()}});
      return false;
    }
    if (left() <= Duration::zero()) return false;
    spec_mine["acquireTime"] = FormatRfc3339(wall, TimePrecision::kMicros);
    spec_mine["leaseTransitions"] = 0;
    json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec", spec_mine}};
    auto created = client_.DoOnce(CreateRequest(kLeases, config_.lease_namespace, lease), left());
    if (!created.ok()) return false;
    observed_record_ = (*created)["spec"];
    observed_time_ = clock_.Now();
    return true;
  }
  json lease = *got;
  json spec = lease.value("spec", json::object());
  std::string holder = spec.value("holderIdentity", "");
  // The record changed since we last looked: restart the expiry clock.
  if (spec != observed_record_) {
    observed_record_ = spec;
    observed_time_ = observed;
  }
  Duration held_for =
      std::chrono::seconds(spec.value("leaseDurationSeconds", Seconds(config_.lease_duration)));
  bool mine = holder == config_.identity;
  bool expired = holder.empty() || observed - observed_time_ >= held_for;
  if (!mine && !expired) return false;
  if (mine) {
    spec_mine["acquireTime"] =
        spec.value("acquireTime", FormatRfc3339(wall, TimePrecision::kMicros));
    spec_mine["leaseTransitions"] = spec.value("leaseTransitions", 0);
  } else {
    spec_mine["acquireTime"] = FormatRfc3339(wall, TimePrecision::kMicros);
    spec_mine["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  lease["spec"] = spec_mine;
  if (left() <= Duration::zero()) return false;
  // Optimistic: the resourceVersion we read is the precondition, so two candidates cannot both win.
  auto updated = client_.DoOnce(
      UpdateRequest(kLeases, config_.lease_namespace, config_.lease_name, lease), left());
  if (!updated.ok()) {
    log_.Warn("cannot write lease", {{"error", updated.status().ToString()}});
    return false;
  }
  observed_record_ = (*updated)["spec"];
  observed_time_ = clock_.Now();
  return true;
}

void LeaderElector::ArmStepDownTimer() {
  // Called with mu_ held.
  if (step_down_timer_) clock_.Cancel(step_down_timer_);
  Duration left = last_renew_ + config_.renew_deadline - clock_.Now();
  step_down_timer_ = clock_.Schedule(std::max(left, Duration::zero()), [g = guard_] {
    std::lock_guard<std::mutex> lock(g->mu);
    if (g->self) g->self->StepDown("could not renew the lease within the renew deadline");
  });
}

void LeaderElector::StepDown(const char* why) {
  std::function<void()> on_lost;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!leader_.exchange(false)) return;
    if (step_down_timer_) clock_.Cancel(step_down_timer_);
    step_down_timer_ = 0;
    lost_ = true;
    stopping_ = true;
    on_lost = on_lost_;
  }
  if (metrics_) metrics_->Set(false);
  log_.Error("lost the lease", {{"reason", why}});
  clock_.Notify();
  if (on_lost) on_lost();
}

void LeaderElector::Run(const std::function<void()>& on_started,
                        const std::function<void()>& on_lost) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    on_lost_ = on_lost;
  }
  log_.Info("waiting to acquire the lease", {{"identity", config_.identity}});
  MonoTime acquired_at{};
  while (!stopping_) {
    MonoTime start = clock_.Now();
    if (TryAcquireOrRenew(start + config_.renew_deadline)) {
      acquired_at = start;
      break;
    }
    clock_.WaitFor(config_.retry_period, [this] { return stopping_.load(); });
  }
  if (stopping_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    leader_ = true;
    last_renew_ = acquired_at;
    ArmStepDownTimer();
  }
  if (metrics_) metrics_->Set(true);
  log_.Info("became leader", {{"identity", config_.identity}});
  on_started();
  // Renewal runs here, on its own, whatever the owner is doing (syncing caches, draining): the
  // deadline is counted from the last success, never reset by anything else.
  while (!stopping_) {
    clock_.WaitFor(config_.retry_period, [this] { return stopping_.load(); });
    if (stopping_) break;
    MonoTime start = clock_.Now();
    MonoTime deadline;
    {
      std::lock_guard<std::mutex> lock(mu_);
      deadline = last_renew_ + config_.renew_deadline;
    }
    if (!TryAcquireOrRenew(deadline)) continue;  // the step-down timer keeps the deadline
    std::lock_guard<std::mutex> lock(mu_);
    if (!leader_) break;  // stepped down while the renewal was in flight
    last_renew_ = start;
    ArmStepDownTimer();
  }
}

void LeaderElector::Stop() {
  stopping_ = true;
  clock_.Notify();
}

void LeaderElector::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!leader_.exchange(false)) return;
    if (step_down_timer_) clock_.Cancel(step_down_timer_);
    step_down_timer_ = 0;
  }
  // Not leading from here on, before anyone can see the lease free.
  if (metrics_) metrics_->Set(false);
  auto got = client_.DoOnce(GetRequest(kLeases, config_.lease_namespace, config_.lease_name),
                            config_.renew_deadline);
  if (!got.ok() ||
      got->value("/spec/holderIdentity"_json_pointer, std::string()) != config_.identity)
    return;
  json lease = *got;
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  auto updated =
      client_.DoOnce(UpdateRequest(kLeases, config_.lease_namespace, config_.lease_name, lease),
                     config_.renew_deadline);
  if (updated.ok()) {
    log_.Info("released the lease");
  } else {
    log_.Warn("could not release the lease; it expires on its own",
              {{"error", updated.status().ToString()}});
  }
}

}  // namespace cte::kube
