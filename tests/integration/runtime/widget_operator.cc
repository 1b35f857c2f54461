// widget-operator: the model reconciler, over the test kind Widget (testdata/widget-crd.yaml). It
// runs the same runtime as cte-operator; tests and the benchmark run it against local-apiserver.
// Owns Widget; RBAC: widgets get/list/watch/patch, widgets/status update, secrets get/list/watch,
// events create, leases get/create/update.
//
// Keeps a finalizer while the widget lives and removes it on delete; reads the token of the
// referenced Secret (never logging it); writes observedGeneration, the Ready condition and
// lastHandledReconcileAt; records an Event when Ready changes. spec.reconcileMillis makes a
// reconcile take that long (the shutdown tests use it) and logs its start and end.
#include <thread>

#include "controllers/api/common.h"
#include "operator/app/operator_app.h"
#include "operator/kube/lister.h"
#include "operator/kube/object_helpers.h"

namespace {

namespace kube = cte::kube;
const kube::GroupVersionResource kWidgets{"test.cte.netskope.io", "v1", "widgets", true, "Widget"};
constexpr const char* kFinalizer = "test.cte.netskope.io/cleanup";

struct Widget {
  cte::api::ObjectMeta metadata;
  std::optional<std::string> secret_name, secret_key;
  std::optional<int64_t> reconcile_millis;
  static cte::StatusOr<Widget> FromJson(const nlohmann::json& j) {
    Widget w;
    const nlohmann::json spec = j.value("spec", nlohmann::json::object());
    const nlohmann::json ref = spec.value("secretRef", nlohmann::json::object());
    cte::api::FieldReader r(j, ""), s(spec, "spec"), sr(ref, "spec.secretRef");
    r.Required("metadata", &w.metadata);
    s.Optional("reconcileMillis", &w.reconcile_millis);
    sr.Optional("name", &w.secret_name);
    sr.Optional("key", &w.secret_key);
    for (auto* reader : {&s, &sr}) r.Keep(reader->status());
    if (!r.ok()) return r.status();
    return w;
  }
  std::vector<std::string> SecretKeys() const {
    if (!secret_name) return {};
    return {metadata.namespace_name + "/" + *secret_name};
  }
};

class WidgetReconciler : public kube::Reconciler {
 public:
  explicit WidgetReconciler(cte::app::AppContext& ctx)
      : ctx_(ctx),
        widgets_(ctx.manager.InformerFor(kWidgets)),
        status_(ctx.client, kWidgets, "widget-operator"),
        events_(ctx.client, ctx.clock, ctx.log, "test.cte.netskope.io/widget-operator",
                ctx.identity) {
    widgets_.AddIndex("secret", [](const Widget& w) { return w.SecretKeys(); });
    ctx.manager.Secrets().AddReferrer(widgets_.informer(), "secret");
    kube::Controller& c = ctx.manager.AddController("widget", *this);
    c.For(widgets_.informer());
    c.Watches(ctx.manager.Secrets().informer(),
              kube::EnqueueByIndex(widgets_.informer(), "secret"));
  }

  kube::Result Reconcile(const kube::Request& req, const kube::ReconcileContext& rc) override {
    auto widget = widgets_.Get(req);
    if (!widget.ok()) return kube::Result::IgnoreNotFound(widget.status());
    kube::ObjectPtr raw = widgets_.Raw(req.ns, req.name);
    if (!raw) return kube::Result::Ok();  // deleted since Get: its delete event comes next
    if (kube::IsBeingDeleted(*raw)) {
      return kube::Result::FromStatus(
          kube::RemoveFinalizer(ctx_.client, kWidgets, *raw, kFinalizer).status());
    }
    auto current = kube::AddFinalizer(ctx_.client, kWidgets, *raw, kFinalizer);
    if (!current.ok()) return kube::Result::FromStatus(current.status());
    if (auto ms = (*widget)->reconcile_millis.value_or(0); ms > 0) {
      rc.log.Info("slow reconcile started", {{"millis", ms}});
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));  // the work being simulated
      rc.log.Info("slow reconcile finished");
    }
    kube::StatusUpdate update(current->object, ctx_.clock.WallNow());
    update.SetCondition(Ready(**widget, rc)).AcknowledgeReconcileRequest();
    auto written = status_.Write(current->object, update.status());
    if (!written.ok()) return kube::Result::FromStatus(written.status());
    events_.RecordTransitions(*written, update);
    return kube::Result::Ok();
  }

 private:
  kube::Condition Ready(const Widget& w, const kube::ReconcileContext& rc) {
    if (!w.secret_name) return {"Ready", "True", "Reconciled", "widget is ready"};
    std::string key = w.secret_key.value_or("token");
    auto secret = ctx_.manager.Secrets().Get(w.metadata.namespace_name, *w.secret_name);
    const cte::SecretString* token = secret.ok() ? (*secret)->Find(key) : nullptr;
    if (!token) return {"Ready", "False", "SecretMissing", "Secret has no key " + key};
    rc.log.Debug("using token from secret", {{"secret", *w.secret_name}, {"token", *token}});
    return {"Ready", "True", "Reconciled", "widget is ready"};
  }

  cte::app::AppContext& ctx_;
  kube::Lister<Widget> widgets_;
  kube::StatusWriter status_;
  kube::EventRecorder events_;
};

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<WidgetReconciler> reconciler;
  return cte::app::RunOperator("widget-operator", {argv + 1, argv + argc}, [&](auto& ctx) {
    reconciler = std::make_unique<WidgetReconciler>(ctx);
    return cte::Status::Ok();
  });
}
