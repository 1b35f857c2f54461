// cte-operator: wires the runtime to the cte.netskope.io kinds. This is the only place that
// chooses concrete classes; everything it uses takes its dependencies as interfaces.
//
// Today the process runs the controller runtime for the four kinds: it keeps their caches warm
// (also while on standby), elects a leader, and serves /metrics, /healthz and /readyz. The four
// reconcilers register here as they land (see the open issues).
#include <string>
#include <vector>

#include "operator/app/operator_app.h"

namespace {

const std::vector<cte::kube::GroupVersionResource> kKinds = {
    {"cte.netskope.io", "v1alpha1", "netskopetenants", true, "NetskopeTenant"},
    {"cte.netskope.io", "v1alpha1", "cteplugins", true, "CTEPlugin"},
    {"cte.netskope.io", "v1alpha1", "businessrules", true, "BusinessRule"},
    {"cte.netskope.io", "v1alpha1", "sharingconfigurations", true, "SharingConfiguration"},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return cte::app::RunOperator("cte-operator", args, [](cte::app::AppContext& ctx) {
    for (const auto& kind : kKinds) ctx.manager.InformerFor(kind);
    return cte::Status::Ok();
  });
}
