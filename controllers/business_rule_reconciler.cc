#include "controllers/business_rule_reconciler.h"

#include "controllers/indexes.h"
#include "operator/sharing/rule.h"

namespace cte::controllers {

BusinessRuleReconciler::BusinessRuleReconciler(kube::KubeClient& client, Clock& clock,
                                               kube::Lister<api::BusinessRule>& rules,
                                               kube::Lister<api::SharingConfiguration>& sharings,
                                               kube::EventRecorder& events)
    : clock_(clock),
      rules_(rules),
      sharings_(sharings),
      events_(events),
      status_(client, kRules, "cte-operator") {}

kube::Controller& BusinessRuleReconciler::Register(kube::Manager& manager) {
  kube::Controller& c = manager.AddController("businessrule", *this);
  c.For(rules_.informer());
  // A sharing configuration that starts or stops using a rule changes the rule's usedBy.
  c.Watches(sharings_.informer(), [](const nlohmann::json& raw) {
    std::vector<kube::Request> out;
    auto s = api::SharingConfiguration::FromJson(raw);
    if (s.ok()) out.push_back({s->metadata.namespace_name, s->spec.business_rule_ref.name});
    return out;
  });
  return c;
}

kube::Result BusinessRuleReconciler::Reconcile(const kube::Request& req,
                                               const kube::ReconcileContext&) {
  auto rule = rules_.Lookup(req);
  if (!rule.raw) return kube::Result::Ok();  // deleted
  const nlohmann::json& raw = *rule.raw;
  kube::StatusUpdate update(raw, clock_.WallNow());
  update.AcknowledgeReconcileRequest();
  update.Set("usedBy", static_cast<int64_t>(sharings_.ByIndex(kByRule, req.Key()).size()));
  Status problem = rule.typed.status();
  if (rule.ok()) {
    auto compiled = sharing::CompiledRule::Compile(rule->spec);
    if (compiled.ok()) {
      const bool muted = compiled->muted();
      SetHealth(update, Health::kReady, muted ? "Muted" : "Compiled",
                muted ? "muted: the lists that use this rule are frozen" : "the filter compiled");
      return WriteStatus(status_, events_, raw, update, kube::Result::Ok());
    }
    problem = compiled.status();
  }
  SetHealth(update, Health::kStalled, "InvalidFilter", problem.message());
  return WriteStatus(status_, events_, raw, update, kube::Result::Terminal(problem));
}

}  // namespace cte::controllers
