// Reading Netskope tenant answers: shapes (URL-list object vs array, the v1 envelope, iterator
// pages) and error classification into Status codes, so that "retry or give up" is decided by
// the code alone (STYLE.md "Errors are values with a class"). Pure functions, table-tested in
// tests/unit/netskope/responses_test.cc. None of them throw.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/status.h"
#include "operator/http/http_transport.h"
#include "operator/netskope/requests.h"
#include "operator/netskope/types.h"

namespace cte::netskope {

// A single URL-list object (GET one, PUT, PATCH, DELETE).
StatusOr<UrlList> ParseUrlList(std::string_view body);
// A JSON array of URL-list objects (GET all, deploy).
StatusOr<std::vector<UrlList>> ParseUrlLists(std::string_view body);
// The answer to a create: a one-element array on a live tenant (TF); a bare object is accepted
// too, since CE accepts either.
StatusOr<UrlList> ParseCreatedUrlList(std::string_view body);

// The entries of an invalid-URL 400 (`{"statusCode":400,"message":[[url, reason], ...]}`);
// empty when the body is not that shape (e.g. a 400 for a bad name, whose items are strings).
std::vector<RejectedUrl> ParseRejectedUrls(std::string_view body);

// The answer to updateFileHashList, HTTP status included: v1 reports most errors with HTTP 200
// and {"status":"error"} (reference §2). "Duplicate request, no change in file hashes" is
// success with unchanged=true. Error classes: a bad token is Unauthenticated, "already a
// pending change" is Unavailable (retry later), an unknown list NotFound, anything else
// InvalidArgument.
StatusOr<FileHashListResult> ParseFileHashListAnswer(const http::ClientResponse& response);

// An iterator page: {"ok":1,"result":[...],"wait_time":N,"timestamp_hwm":N}. `ok` != 1 or an
// empty body is Unavailable (CE treats both as a failed pull and retries).
StatusOr<AlertPage> ParseAlertPage(std::string_view body);
Alert ParseAlert(const nlohmann::json& alert);

// The Status for a non-2xx answer. 400 InvalidArgument; 401 Unauthenticated; 403 PermissionDenied
// on v2 (missing scope) and Unauthenticated on v1 (bad token, as CE reads it); 404 NotFound; 409
// Conflict; 429 ResourceExhausted with retry_after_seconds from Retry-After; 5xx Unavailable; a
// redirect FailedPrecondition (a wrong tenant URL answers with a login redirect).
Status ClassifyHttpError(Api api, const http::ClientResponse& response);

// A 2xx v2 answer can still be {"status":"error","message":...} (reference §1.2); such a body
// becomes an Internal error (retryable: the tenant said nothing about why).
Status CheckV2Body(std::string_view body);

// Retry-After in seconds (delta-seconds form); nullopt when absent or not a number.
std::optional<double> RetryAfterSeconds(const http::ClientResponse& response);
// RateLimit-Remaining and RateLimit-Reset (seconds), when present.
std::optional<int64_t> RateLimitRemaining(const http::ClientResponse& response);
std::optional<double> RateLimitResetSeconds(const http::ClientResponse& response);

// A short, single-line summary of an error body for Status messages (message / errors / detail).
std::string ErrorSummary(std::string_view body);

}  // namespace cte::netskope
