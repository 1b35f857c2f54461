// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), written the way client_golang's
// expfmt writes it, so a scrape of this operator looks like a scrape of a controller-runtime one:
// labels sorted by name, `le` last, numbers formatted like Go's strconv 'g' -1.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "operator/metrics/collector.h"

namespace cte::metrics {

// The Content-Type of a text exposition.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// A sample value or `le` bound as Go's strconv.FormatFloat(v, 'g', -1, 64) prints it (what
// expfmt uses): the shortest digits that round-trip, in exponent form when the decimal exponent
// is below -4 or at least 6 ("1e-08", "0.005", "123456", "4.2483712e+07"), and "+Inf", "-Inf",
// "NaN". Matching Go matters for `le`: dashboards select buckets by the exact string.
std::string FormatValue(double v);

// `\` -> `\\`, `"` -> `\"`, newline -> `\n`.
std::string EscapeLabelValue(std::string_view value);
// `\` -> `\\`, newline -> `\n` (quotes stay as they are on HELP lines).
std::string EscapeHelp(std::string_view help);

// Renders families in the order given. Families with no samples are left out entirely, as
// client_golang does, so HELP/TYPE never appear without a sample.
std::string RenderText(const std::vector<FamilySnapshot>& families);

}  // namespace cte::metrics
