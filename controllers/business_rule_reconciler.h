// BusinessRule: compiles the filter (regular expressions with RE2, linear time: indicator values
// are untrusted) and reports whether it is usable and how many SharingConfigurations use it.
// Ready: Compiled | Muted; False: InvalidFilter (Stalled, the message names the field).
//
// RBAC: businessrules get/list/watch, businessrules/status update, sharingconfigurations
// get/list/watch, events create.
#pragma once

#include "controllers/api/business_rule.h"
#include "controllers/api/sharing_configuration.h"
#include "controllers/status.h"
#include "operator/kube/lister.h"
#include "operator/kube/manager.h"

namespace cte::controllers {

class BusinessRuleReconciler : public kube::Reconciler {
 public:
  BusinessRuleReconciler(kube::KubeClient& client, Clock& clock,
                         kube::Lister<api::BusinessRule>& rules,
                         kube::Lister<api::SharingConfiguration>& sharings,
                         kube::EventRecorder& events);

  kube::Result Reconcile(const kube::Request& request,
                         const kube::ReconcileContext& context) override;

  // Registers the controller: rules, and the sharing configurations that use them (for usedBy).
  kube::Controller& Register(kube::Manager& manager);

 private:
  Clock& clock_;
  kube::Lister<api::BusinessRule>& rules_;
  kube::Lister<api::SharingConfiguration>& sharings_;
  kube::EventRecorder& events_;
  kube::StatusWriter status_;
};

}  // namespace cte::controllers
