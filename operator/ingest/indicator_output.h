// Writing indicators and errors as the ingest API answers them: Cloud Exchange's
// IndicatorOutWithSources (reference §7.3) for rows, and `{"detail": ...}` for errors. A small
// append-only writer: answers carry up to 10,000 indicators, so no JSON tree is built.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "operator/ingest/indicator_json.h"
#include "operator/store/indicator.h"

namespace cte::ingest {

// Appends `s` as a JSON string literal (quotes included). Invalid UTF-8 never reaches here:
// every string comes from a validated request or from the store, which stores what was validated.
void AppendJsonString(std::string& out, std::string_view s);

// One indicator: value, type, source (the plugin name), test, safe, active, internalHits,
// externalHits, expiresAt, sharedWith, tags, firstSeen, lastSeen, reputation, severity, comments,
// extendedInformation, retracted, plus `sources` with one entry (this row's source), as CE lists
// per-source data; and invalidAt/invalidReason when a tenant refused the value.
// `with_sources` false writes CE's IndicatorOut (the POST answer): the same without `sources`.
void AppendIndicator(std::string& out, const store::Indicator& ind, bool with_sources = true);
std::string IndicatorsJson(const std::vector<store::Indicator>& rows, bool with_sources = true);

// {"detail": "<message>"}
std::string DetailJson(std::string_view message);
// {"detail": [{"index": i, "field": f, "reason": r}, ...]}  (index left out for body errors)
std::string DetailJson(const std::vector<FieldError>& errors);

}  // namespace cte::ingest
