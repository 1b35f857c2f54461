#include "hack/local-apiserver/protobuf_decode.h"

#include <gtest/gtest.h>

namespace cte::apiserver {
namespace {

// Length-delimited field encoder, enough to build the messages kubectl sends.
std::string Field(int number, const std::string& payload) {
  std::string out;
  out.push_back(static_cast<char>((number << 3) | 2));
  size_t n = payload.size();
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    out.push_back(static_cast<char>(n ? (b | 0x80) : b));
  } while (n);
  return out + payload;
}

std::string Envelope(const std::string& api_version, const std::string& kind,
                     const std::string& raw) {
  std::string type_meta = Field(1, api_version) + Field(2, kind);
  return std::string("k8s\0", 4) + Field(1, type_meta) + Field(2, raw);
}

TEST(ProtobufDecodeTest, DecodesSecretAsKubectlCreateSendsIt) {
  std::string meta =
      Field(1, "tokens") + Field(3, "default") + Field(11, Field(1, "app") + Field(2, "cte"));
  std::string raw =
      Field(1, meta) + Field(2, Field(1, "v1") + Field(2, "hello")) + Field(3, "Opaque");
  auto obj = DecodeKubernetesProtobuf(Envelope("v1", "Secret", raw));
  ASSERT_TRUE(obj.ok()) << obj.status().ToString();
  EXPECT_EQ((*obj)["kind"], "Secret");
  EXPECT_EQ((*obj)["metadata"]["name"], "tokens");
  EXPECT_EQ((*obj)["metadata"]["labels"]["app"], "cte");
  EXPECT_EQ((*obj)["data"]["v1"], "aGVsbG8=");
  EXPECT_EQ((*obj)["type"], "Opaque");
}

TEST(ProtobufDecodeTest, RejectsKindsItCannotMap) {
  auto obj = DecodeKubernetesProtobuf(Envelope("apps/v1", "Deployment", ""));
  ASSERT_FALSE(obj.ok());
  EXPECT_NE(obj.status().message().find("Deployment"), std::string::npos);
}

TEST(ProtobufDecodeTest, RejectsTruncatedInput) {
  std::string body = Envelope("v1", "Secret", Field(1, Field(1, "x")));
  body.resize(body.size() - 1);
  EXPECT_FALSE(DecodeKubernetesProtobuf(body).ok());
  EXPECT_FALSE(DecodeKubernetesProtobuf("not protobuf").ok());
}

}  // namespace
}  // namespace cte::apiserver
