// The ingest API's GET /api/cte/indicators parameters as Cloud Exchange spells them (reference
// §7.2): skip, limit (at most 100), sort, ascending, aggregate, and `filters`, a JSON string in
// CE's Mongo-style query language. The supported subset covers the fields the store can filter
// on; anything else is refused with CE's "Invalid query provided." and the reason.
//
//   value                 "x" | {"$eq": "x"} | {"$in": [...]}          (exact, not regex)
//   type                  "url" | {"$eq"} | {"$ne"} | {"$in": [...]} | {"$nin": [...]}
//   active, test          true | {"$eq": b} | {"$ne": b}
//   sources.$elemMatch    {source, severity, reputation, tags, retracted} as below, or the same
//                         keys dotted at the top level ("sources.severity": ...)
//     source              "name" | {"$eq"} | {"$in": [...]}
//     severity            "high" | {"$eq"} | {"$in": [...]}
//     reputation          5 | {"$eq"|"$gt"|"$gte"|"$lt"|"$lte": n}
//     tags                "t" | {"$in": [...]} | {"$nin": [...]}
//     retracted           true | {"$eq": b} | {"$ne": b}
//   $and                  [ {...}, ... ]  (each applied in turn)
#pragma once

#include <string>

#include "operator/core/status.h"
#include "operator/http/http_types.h"
#include "operator/store/indicator_store.h"

namespace cte::ingest {

struct ListRequest {
  store::IndicatorQuery query;
  bool aggregate = false;
};

inline constexpr int64_t kMaxListLimit = 100;  // CE's API_MAX_LIMIT

// Reads the query parameters of a GET. `namespace_name` scopes every read. InvalidArgument
// carries the text of CE's 400 detail ("Limit cannot be greater than 100. Provided limit: 500.",
// "Invalid JSON query provided.", "Invalid query provided. ...").
StatusOr<ListRequest> ParseListRequest(const http::QueryParams& params,
                                       const std::string& namespace_name);

// Applies a `filters` JSON document to `query`.
Status ApplyFilters(const std::string& filters, store::IndicatorQuery& query);

}  // namespace cte::ingest
