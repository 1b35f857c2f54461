#include "controllers/status.h"

namespace cte::controllers {

void SetHealth(kube::StatusUpdate& update, Health health, const std::string& reason,
               const std::string& message) {
  const bool ready = health == Health::kReady;
  update.SetCondition({"Ready", ready ? "True" : "False", reason, message});
  update.SetCondition({"Reconciling", health == Health::kProgressing ? "True" : "False",
                       health == Health::kProgressing ? reason : "Idle",
                       health == Health::kProgressing ? message : ""});
  update.SetCondition({"Stalled", health == Health::kStalled ? "True" : "False",
                       health == Health::kStalled ? reason : "NotStalled",
                       health == Health::kStalled ? message : ""});
}

kube::Result WriteStatus(kube::StatusWriter& writer, kube::EventRecorder& events,
                         const nlohmann::json& object, const kube::StatusUpdate& update,
                         kube::Result result) {
  auto written = writer.Write(object, update.status());
  if (!written.ok()) return kube::Result::FromStatus(written.status());
  events.RecordTransitions(*written, update);
  return result;
}

}  // namespace cte::controllers
