// widget-operator: the controller runtime driven by a tiny reconciler over the test kind Widget
// (testdata/widget-crd.yaml). It is the same runtime cte-operator uses; tests and the benchmark
// run it as a real process against build/bin/local-apiserver.
//
// Reconcile: keep a finalizer while the widget lives and remove it on delete; read the token of
// the referenced Secret (never logging it); write status {observedGeneration, Ready condition,
// lastHandledReconcileAt}; record an Event when Ready changes.
// RBAC it would need in a cluster: widgets get/list/watch/patch, widgets/status update,
// secrets get/list/watch, events create, leases get/create/update.
#include <string>
#include <vector>

#include "operator/app/operator_app.h"
#include "operator/core/base64.h"
#include "operator/core/secret_string.h"
#include "operator/kube/object_helpers.h"

namespace {

using nlohmann::json;
namespace kube = cte::kube;

const kube::GroupVersionResource kWidgets{"test.cte.netskope.io", "v1", "widgets", true, "Widget"};
const kube::GroupVersionResource kSecrets{"", "v1", "secrets", true, "Secret"};
constexpr const char* kFinalizer = "test.cte.netskope.io/cleanup";

class WidgetReconciler : public kube::Reconciler {
 public:
  WidgetReconciler(cte::app::AppContext& ctx, kube::Informer& widgets, kube::Informer& secrets)
      : ctx_(ctx),
        widgets_(widgets),
        secrets_(secrets),
        status_(ctx.client, kWidgets, "widget-operator", &widgets),
        events_(ctx.client, ctx.clock, ctx.log, "test.cte.netskope.io/widget-operator",
                "widget-operator-0") {}

  kube::Result Reconcile(const kube::Request& req, const kube::ReconcileContext& rc) override {
    kube::ObjectPtr cached = widgets_.cache().Get(req.Key());
    if (!cached) return kube::Result::Ok();  // gone
    json widget = *cached;
    if (widget["metadata"].contains("deletionTimestamp")) {
      if (kube::HasFinalizer(widget, kFinalizer)) {
        auto removed = kube::RemoveFinalizer(ctx_.client, kWidgets, widget, kFinalizer);
        if (!removed.ok()) return kube::Result::FromStatus(removed.status());
        rc.log.Info("finalizer removed");
      }
      return kube::Result::Ok();
    }
    if (!kube::HasFinalizer(widget, kFinalizer)) {
      auto added = kube::AddFinalizer(ctx_.client, kWidgets, widget, kFinalizer);
      if (!added.ok()) return kube::Result::FromStatus(added.status());
      widget = *added;
    }
    kube::Condition ready{"Ready", "True", "Reconciled", "widget is ready",
                          widget["metadata"].value("generation", int64_t{0})};
    if (widget.contains("/spec/secretRef"_json_pointer)) {
      std::string name = widget["spec"]["secretRef"].value("name", "");
      std::string key = widget["spec"]["secretRef"].value("key", "token");
      kube::ObjectPtr secret = secrets_.cache().Get(req.ns + "/" + name);
      std::string data =
          secret ? secret->value("/data"_json_pointer, json::object()).value(key, "") : "";
      if (data.empty()) {
        ready = {"Ready", "False", "SecretMissing", "Secret " + name + " has no key " + key,
                 ready.observed_generation};
      } else {
        cte::SecretString token(cte::Base64Decode(data));
        // The field renders as "[redacted]": the value itself never reaches the log.
        rc.log.Debug("using token from secret", {{"secret", name}, {"token", token}});
      }
    }
    json status = widget.value("status", json::object());
    status["observedGeneration"] = widget["metadata"].value("generation", int64_t{0});
    auto old_ready = kube::FindCondition(status.value("conditions", json::array()), "Ready");
    std::string old_ready_status = old_ready ? old_ready->value("status", "") : "";
    kube::SetCondition(status["conditions"], ready, ctx_.clock.WallNow());
    std::string requested = widget["metadata"]
                                .value("annotations", json::object())
                                .value(kube::kReconcileRequestedAtAnnotation, "");
    if (!requested.empty()) status["lastHandledReconcileAt"] = requested;
    auto written = status_.Write(widget, status);
    if (!written.ok()) return kube::Result::FromStatus(written.status());
    if (old_ready_status != ready.status) {
      events_.Record(widget, ready.status == "True" ? "Normal" : "Warning", ready.reason,
                     "Reconcile", ready.message);
    }
    return kube::Result::Ok();
  }

 private:
  cte::app::AppContext& ctx_;
  kube::Informer& widgets_;
  kube::Informer& secrets_;
  kube::StatusWriter status_;
  kube::EventRecorder events_;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::unique_ptr<WidgetReconciler> reconciler;
  return cte::app::RunOperator("widget-operator", args, [&](cte::app::AppContext& ctx) {
    kube::Informer& widgets = ctx.manager.InformerFor(kWidgets);
    kube::Informer& secrets = ctx.manager.InformerFor(kSecrets);
    widgets.AddIndex("secret", [](const json& w) {
      std::vector<std::string> out;
      std::string name = w.value("/spec/secretRef/name"_json_pointer, std::string());
      if (!name.empty()) out.push_back(w["metadata"].value("namespace", "") + "/" + name);
      return out;
    });
    reconciler = std::make_unique<WidgetReconciler>(ctx, widgets, secrets);
    kube::ControllerOptions options;
    options.workers = ctx.flags.workers;
    kube::Controller& c = ctx.manager.AddController("widget", *reconciler, options);
    c.For(widgets);
    c.Watches(secrets, [&widgets](const json& secret) {
      std::vector<kube::Request> out;
      for (const auto& w : widgets.cache().ByIndex("secret", kube::ObjectKey(secret))) {
        out.push_back(kube::Request::FromKey(kube::ObjectKey(*w)));
      }
      return out;
    });
    return cte::Status::Ok();
  });
}
