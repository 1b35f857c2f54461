// Base64 (RFC 4648) as Kubernetes uses it: Secret data, kubeconfig certificate data.
#pragma once

#include <string>
#include <string_view>

namespace cte {

std::string Base64Encode(std::string_view in);
// Accepts the standard and URL-safe alphabets; skips padding and whitespace.
std::string Base64Decode(std::string_view in);

}  // namespace cte
