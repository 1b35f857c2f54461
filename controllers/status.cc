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

}  // namespace cte::controllers
