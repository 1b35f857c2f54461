// The condition set every kind reports (ARCHITECTURE §2, kstatus and Argo CD): Ready as the
// summary, Reconciling while work is pending, Stalled for a problem only a spec or Secret change
// fixes. One call sets all three consistently; kube::WriteStatus (found by argument-dependent
// lookup) writes the status and records the transition Events.
#pragma once

#include <string>

#include "operator/kube/controller.h"
#include "operator/kube/object_helpers.h"

namespace cte::controllers {

enum class Health {
  kReady,        // Ready=True
  kProgressing,  // Ready=False, Reconciling=True: waiting for something that will happen
  kFailing,      // Ready=False: a transient failure, retried
  kStalled,      // Ready=False, Stalled=True: needs a change of the spec or a Secret
};

void SetHealth(kube::StatusUpdate& update, Health health, const std::string& reason,
               const std::string& message);

}  // namespace cte::controllers
