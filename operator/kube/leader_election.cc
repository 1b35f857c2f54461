#include "operator/kube/leader_election.h"

#include "operator/core/time_format.h"
#include "operator/kube/object_helpers.h"

namespace cte::kube {

using nlohmann::json;

namespace {

const GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases", true, "Lease"};

int64_t Seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

}  // namespace

Duration LeaderElector::RequestTimeout() const { return config_.renew_deadline / 2; }

LeaderElector::LeaderElector(KubeClient& client, Clock& clock, Logger logger,
                             LeaderElectionConfig config, metrics::LeaderMetrics* metrics)
    : client_(client),
      clock_(clock),
      log_(logger.With("lease", config.lease_namespace + "/" + config.lease_name)),
      config_(std::move(config)),
      metrics_(metrics) {
  if (metrics_) metrics_->Set(false);
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
  return clock_.Now().time_since_epoch() - Duration(last_renew_ns_.load());
}

bool LeaderElector::TryAcquireOrRenew() {
  WallTime wall = clock_.WallNow();
  MonoTime now = clock_.Now();
  auto got = client_.DoOnce(GetRequest(kLeases, config_.lease_namespace, config_.lease_name),
                            RequestTimeout());
  json spec_mine = {{"holderIdentity", config_.identity},
                    {"leaseDurationSeconds", Seconds(config_.lease_duration)},
                    {"renewTime", FormatRfc3339(wall, TimePrecision::kMicros)}};
  if (!got.ok()) {
    if (got.status().code() != StatusCode::kNotFound) {
      log_.Warn("cannot read lease", {{"error", got.status().ToString()}});
      return false;
    }
    spec_mine["acquireTime"] = FormatRfc3339(wall, TimePrecision::kMicros);
    spec_mine["leaseTransitions"] = 0;
    json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec", spec_mine}};
    auto created =
        client_.DoOnce(CreateRequest(kLeases, config_.lease_namespace, lease), RequestTimeout());
    if (!created.ok()) return false;
    observed_record_ = (*created)["spec"];
    observed_time_ = now;
    return true;
  }
  json lease = *got;
  json spec = lease.value("spec", json::object());
  std::string holder = spec.value("holderIdentity", "");
  // The record changed since we last looked: restart the expiry clock.
  if (spec != observed_record_) {
    observed_record_ = spec;
    observed_time_ = now;
  }
  Duration held_for =
      std::chrono::seconds(spec.value("leaseDurationSeconds", Seconds(config_.lease_duration)));
  bool mine = holder == config_.identity;
  bool expired = holder.empty() || now - observed_time_ >= held_for;
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
  // Optimistic: the resourceVersion we read is the precondition, so two candidates cannot both win.
  auto updated = client_.DoOnce(
      UpdateRequest(kLeases, config_.lease_namespace, config_.lease_name, lease), RequestTimeout());
  if (!updated.ok()) return false;
  observed_record_ = (*updated)["spec"];
  observed_time_ = now;
  return true;
}

void LeaderElector::Release() {
  auto got = client_.DoOnce(GetRequest(kLeases, config_.lease_namespace, config_.lease_name),
                            RequestTimeout());
  if (!got.ok() ||
      got->value("/spec/holderIdentity"_json_pointer, std::string()) != config_.identity)
    return;
  json lease = *got;
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  auto updated = client_.DoOnce(
      UpdateRequest(kLeases, config_.lease_namespace, config_.lease_name, lease), RequestTimeout());
  if (updated.ok()) log_.Info("released the lease");
}

void LeaderElector::Run(const std::function<void()>& on_started,
                        const std::function<void()>& on_lost) {
  log_.Info("waiting to acquire the lease", {{"identity", config_.identity}});
  while (!stopping_) {
    if (TryAcquireOrRenew()) break;
    clock_.WaitFor(config_.retry_period, [this] { return stopping_.load(); });
  }
  if (stopping_) return;
  leader_ = true;
  last_renew_ns_ = clock_.Now().time_since_epoch().count();
  if (metrics_) metrics_->Set(true);
  log_.Info("became leader", {{"identity", config_.identity}});
  on_started();
  MonoTime last_renew = clock_.Now();
  while (!stopping_) {
    clock_.WaitFor(config_.retry_period, [this] { return stopping_.load(); });
    if (stopping_) break;
    if (TryAcquireOrRenew()) {
      last_renew = clock_.Now();
      last_renew_ns_ = last_renew.time_since_epoch().count();
      continue;
    }
    if (clock_.Now() - last_renew >= config_.renew_deadline) {
      leader_ = false;
      if (metrics_) metrics_->Set(false);
      log_.Error("lost the lease: could not renew within the renew deadline");
      on_lost();
      return;
    }
  }
  Release();
  leader_ = false;
  if (metrics_) metrics_->Set(false);
}

void LeaderElector::Stop() {
  stopping_ = true;
  clock_.Notify();
}

}  // namespace cte::kube
