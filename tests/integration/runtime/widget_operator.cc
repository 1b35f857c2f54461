// widget-operator: the model reconciler of docs/runtime.md, over the test kind Widget
// (widget_types.h). Keeps a finalizer, reads the referenced Secret's token (never logging
// it), writes the Ready condition and lastHandledReconcileAt, records an Event when Ready changes.
// spec.reconcileMillis makes a reconcile take that long (the shutdown tests use it).
#include <thread>

#include "operator/app/operator_app.h"
#include "tests/integration/runtime/widget_types.h"

namespace {

namespace kube = cte::kube;
using cte::test_kinds::Widget;
const kube::GroupVersionResource kWidgets{"test.cte.netskope.io", "v1", "widgets", true, "Widget"};

class WidgetReconciler : public kube::Reconciler {
 public:
  explicit WidgetReconciler(cte::app::AppContext& ctx)
      : ctx_(ctx),
        widgets_(ctx.manager.InformerFor(kWidgets)),
        status_(ctx.client, kWidgets, "widget-operator"),
        events_(ctx.manager.EventRecorderFor("test.cte.netskope.io/widget-operator")) {
    auto& c = ctx.manager.AddController("widget", *this).For(widgets_.informer());
    ctx.manager.Secrets().WatchReferences(c, widgets_, "secret", &Widget::SecretKeys);
  }

  kube::Result Reconcile(const kube::Request& req, const kube::ReconcileContext& rc) override {
    auto w = widgets_.Lookup(req);
    if (!w.ok()) return kube::Result::IgnoreNotFound(w.typed.status());
    auto live =
        kube::EnsureFinalizer(ctx_.client, kWidgets, *w.raw, "test.cte.netskope.io/cleanup");
    if (!live.object) return live.result;  // deleted (finalizer removed), or the patch failed
    if (w->reconcile_millis > 0) {
      rc.log.Info("slow reconcile started", {{"millis", *w->reconcile_millis}});
      std::this_thread::sleep_for(std::chrono::milliseconds(*w->reconcile_millis));  // the "work"
      rc.log.Info("slow reconcile finished");
    }
    kube::Condition ready{"Ready", "True", "Reconciled", "widget is ready"};
    if (w->secret) {
      auto token = ctx_.manager.Secrets().Value(req.ns, *w->secret, w->key.value_or("token"));
      if (token.ok()) rc.log.Debug("using token", {{"secret", *w->secret}, {"token", *token}});
      if (!token.ok()) ready = {"Ready", "False", "SecretMissing", token.status().message()};
    }
    kube::StatusUpdate update(*live.object, ctx_.clock.WallNow());
    update.SetCondition(ready).AcknowledgeReconcileRequest();
    return kube::WriteStatus(status_, events_, *live.object, update);
  }

 private:
  cte::app::AppContext& ctx_;
  kube::Lister<Widget> widgets_;
  kube::StatusWriter status_;
  kube::EventRecorder& events_;
};

}  // namespace

int main(int argc, char** argv) {
  return cte::app::RunOperator<WidgetReconciler>("widget-operator", argc, argv);
}
