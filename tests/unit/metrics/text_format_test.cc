// Tests operator/metrics/text_format.cc: number formatting identical to Go's expfmt, and the
// escaping rules of the 0.0.4 text format.
#include "operator/metrics/text_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cte::metrics {
namespace {

struct FormatCase {
  double value;
  const char* want;
};

TEST(TextFormatTest, FormatValueMatchesGoStrconvG) {
  const FormatCase cases[] = {
      {0, "0"},
      {-0.0, "0"},
      {1, "1"},
      {-1, "-1"},
      {2.5, "2.5"},
      {-3.5, "-3.5"},
      {60, "60"},
      {1000, "1000"},
      {100000, "100000"},
      {123456, "123456"},
      {1e6, "1e+06"},
      {1234567, "1.234567e+06"},
      {42483712, "4.2483712e+07"},
      {1.7e9, "1.7e+09"},
      {0.005, "0.005"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1e-08, "1e-08"},
      {9.999999999999999e-06, "9.999999999999999e-06"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1e100, "1e+100"},
      {static_cast<double>(std::numeric_limits<uint64_t>::max()), "1.8446744073709552e+19"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const FormatCase& c : cases) {
    EXPECT_EQ(FormatValue(c.value), c.want) << "value " << c.want;
  }
}

TEST(TextFormatTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("tab\tstays"), "tab\tstays");
}

TEST(TextFormatTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(EscapeHelp("say \"hi\"\\now\nplease"), "say \"hi\"\\\\now\\nplease");
}

TEST(TextFormatTest, FamiliesWithoutSamplesAreLeftOut) {
  std::vector<FamilySnapshot> families(2);
  families[0] = {.name = "empty", .help = "h", .type = MetricType::kGauge, .samples = {}};
  families[1] = {.name = "one", .help = "h", .type = MetricType::kGauge, .samples = {Sample{}}};
  EXPECT_EQ(RenderText(families), "# HELP one h\n# TYPE one gauge\none 0\n");
}

}  // namespace
}  // namespace cte::metrics
