#include "operator/core/base64.h"

#include <gtest/gtest.h>

namespace cte {
namespace {

TEST(Base64Test, RoundTripsEveryPaddingLength) {
  struct Case {
    const char* plain;
    const char* encoded;
  };
  const Case cases[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"hello", "aGVsbG8="}};
  for (const auto& c : cases) {
    EXPECT_EQ(Base64Encode(c.plain), c.encoded);
    EXPECT_EQ(Base64Decode(c.encoded), c.plain);
  }
}

TEST(Base64Test, DecodeSkipsWhitespaceAndAcceptsUrlAlphabet) {
  EXPECT_EQ(Base64Decode("aGVs\nbG8="), "hello");
  EXPECT_EQ(Base64Decode("-_8"), Base64Decode("+/8"));
}

}  // namespace
}  // namespace cte
