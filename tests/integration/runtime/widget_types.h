// The typed test kind Widget (testdata/widget-crd.yaml), kept apart from its reconciler as the
// product keeps its CRD types in controllers/api (and kubebuilder in api/v1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controllers/api/common.h"

namespace cte::test_kinds {

struct Widget {
  api::ObjectMeta metadata;
  std::optional<std::string> secret, key;   // spec.secretRef: the Secret's name and key
  std::optional<int64_t> reconcile_millis;  // spec.reconcileMillis: how long a reconcile takes

  static StatusOr<Widget> FromJson(const nlohmann::json& j) {
    Widget w;
    api::FieldReader r(j, "");
    r.Required("metadata", &w.metadata);
    r.Optional("spec.secretRef.name", &w.secret);
    r.Optional("spec.secretRef.key", &w.key);
    r.Optional("spec.reconcileMillis", &w.reconcile_millis);
    if (!r.ok()) return r.status();
    return w;
  }

  // The Secrets it references, as "namespace/name" keys (the Secret index).
  std::vector<std::string> SecretKeys() const {
    if (!secret) return {};
    return {metadata.namespace_name + "/" + *secret};
  }
};

}  // namespace cte::test_kinds
