// Turns a Kubernetes API answer (HTTP status + metav1.Status body) into a classified Status, so
// callers decide retry vs give-up from the code alone.
#pragma once

#include <string>

#include "operator/core/status.h"

namespace cte::kube {

// Maps: 400/422 InvalidArgument (Invalid/BadRequest), 401 Unauthenticated, 403 PermissionDenied,
// 404 NotFound, 409 Conflict or AlreadyExists, 410 Gone, 429 ResourceExhausted (with Retry-After),
// 500 Internal, 502/503 Unavailable, 504 DeadlineExceeded. The message is metav1.Status.message.
Status StatusFromResponse(int http_status, const std::string& body, const std::string& retry_after);

// Seconds from a Retry-After header (delta-seconds form); nullopt when absent or malformed.
std::optional<double> ParseRetryAfter(const std::string& value);

}  // namespace cte::kube
