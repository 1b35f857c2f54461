// Histogram bucket layouts as client_golang computes them, so `le` labels match a Go operator's
// to the last digit (dashboards select buckets by the exact string).
#pragma once

#include <vector>

namespace cte::metrics {

// `count` bounds: start, start*factor, start*factor^2, ... Computed by repeated multiplication,
// exactly as client_golang's ExponentialBuckets (workqueue's 1e-8 x10 series contains
// le="9.999999999999999e-06").
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// `count` bounds: start, start+width, ... (client_golang's LinearBuckets).
std::vector<double> LinearBuckets(double start, double width, int count);

}  // namespace cte::metrics
