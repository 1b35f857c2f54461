#include "operator/metrics/text_format.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace cte::metrics {

const char* MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // -0 too, as Go's expfmt writes it

  // Shortest round-trip digits in scientific form, e.g. "-1.234567e+06"; then lay them out the
  // way Go's %g does.
  std::array<char, 64> buf{};
  auto result =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::scientific);
  std::string_view sci(buf.data(), static_cast<size_t>(result.ptr - buf.data()));
  bool negative = sci.front() == '-';
  if (negative) sci.remove_prefix(1);
  size_t e = sci.find('e');
  std::string_view mantissa = sci.substr(0, e);
  int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());

  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }

  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 6) {
    // to_chars already writes Go's shape: d[.ddd]e±XX with at least two exponent digits.
    out.append(sci);
    return out;
  }
  int point = exponent + 1;  // digits before the decimal point
  int n = static_cast<int>(digits.size());
  if (point <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-point), '0');
    out += digits;
  } else if (point >= n) {
    out += digits;
    out.append(static_cast<size_t>(point - n), '0');
  } else {
    out.append(digits, 0, static_cast<size_t>(point));
    out += '.';
    out.append(digits, static_cast<size_t>(point));
  }
  return out;
}

namespace {

// The exposition format escapes backslash and newline everywhere, and double quotes only inside
// label values.
std::string Escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) { return Escape(value, true); }

std::string EscapeHelp(std::string_view help) { return Escape(help, false); }

namespace {

// Writes `{a="1",b="2"}` (or `{a="1",le="0.5"}` with a bound), or nothing without labels.
void AppendLabels(std::string& out, const std::vector<Label>& labels, const char* le = nullptr) {
  if (labels.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const Label& l : labels) {
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    out += EscapeLabelValue(l.value);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void AppendLine(std::string& out, const std::string& name, std::string_view suffix,
                const std::vector<Label>& labels, double value, const char* le = nullptr) {
  out += name;
  out += suffix;
  AppendLabels(out, labels, le);
  out += ' ';
  out += FormatValue(value);
  out += '\n';
}

}  // namespace

std::string RenderText(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const FamilySnapshot& f : families) {
    if (f.samples.empty()) continue;
    out += "# HELP ";
    out += f.name;
    out += ' ';
    out += EscapeHelp(f.help);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += MetricTypeName(f.type);
    out += '\n';
    for (const Sample& s : f.samples) {
      if (f.type != MetricType::kHistogram) {
        AppendLine(out, f.name, "", s.labels, s.value);
        continue;
      }
      const HistogramValue& h = s.histogram;
      // A collector-built histogram with mismatched vectors would index out of range; skip it
      // rather than emit buckets that disagree with _count.
      if (h.cumulative_counts.size() != h.bounds.size() + 1) continue;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        AppendLine(out, f.name, "_bucket", s.labels, static_cast<double>(h.cumulative_counts[i]),
                   FormatValue(h.bounds[i]).c_str());
      }
      AppendLine(out, f.name, "_bucket", s.labels, static_cast<double>(h.count()), "+Inf");
      AppendLine(out, f.name, "_sum", s.labels, h.sum);
      AppendLine(out, f.name, "_count", s.labels, static_cast<double>(h.count()));
    }
  }
  return out;
}

}  // namespace cte::metrics
