// Decodes the Kubernetes protobuf envelope for the few built-in kinds that kubectl's typed
// generators send as protobuf (`kubectl create secret|configmap|namespace`). client-go does not
// fall back to JSON on 415, so a server that wants `kubectl create secret` to work must read it.
// Only the fields of those kinds are mapped; anything else is rejected with a clear error.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "operator/core/status.h"

namespace cte::apiserver {

// Input: the request body, starting with the magic "k8s\0". Output: the object as JSON.
StatusOr<nlohmann::json> DecodeKubernetesProtobuf(std::string_view body);

}  // namespace cte::apiserver
