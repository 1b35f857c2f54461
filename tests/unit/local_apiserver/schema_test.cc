#include "hack/local-apiserver/schema.h"

#include <gtest/gtest.h>

namespace cte::apiserver {
namespace {

using nlohmann::json;

const json kSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "required": ["tenantName"],
      "properties": {
        "tenantName": {"type": "string", "pattern": "^[a-z0-9.-]+$", "maxLength": 20},
        "days": {"type": "integer", "minimum": 0, "maximum": 365, "default": 7},
        "mode": {"type": "string", "enum": ["Shared", "Exclusive"], "default": "Shared"},
        "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "nested": {"type": "object", "properties": {"on": {"type": "boolean", "default": true}}}
      }
    },
    "status": {"type": "object", "properties": {"observedGeneration": {"type": "integer"}}}
  }
})");

TEST(SchemaTest, PruneDropsUndeclaredFieldsAndReportsTheirPaths) {
  json obj = json::parse(R"({"apiVersion":"x/v1","kind":"K","metadata":{"name":"a"},
    "spec":{"tenantName":"a","bogus":1,"free":{"anything":{"goes":true}},"labels":{"k":"v"}},
    "extra":"x"})");
  std::vector<std::string> unknown;
  PruneUnknownFields(obj, kSchema, unknown);
  EXPECT_EQ(unknown, (std::vector<std::string>{"extra", "spec.bogus"}));  // key order
  EXPECT_FALSE(obj["spec"].contains("bogus"));
  EXPECT_TRUE(obj["spec"]["free"]["anything"]["goes"]);
  EXPECT_EQ(obj["spec"]["labels"]["k"], "v");
  EXPECT_EQ(obj["metadata"]["name"], "a");
}

TEST(SchemaTest, DefaultsFillAbsentFieldsOnly) {
  json obj = json::parse(R"({"spec":{"tenantName":"a","days":30,"nested":{}}})");
  ApplyDefaults(obj, kSchema);
  EXPECT_EQ(obj["spec"]["days"], 30);
  EXPECT_EQ(obj["spec"]["mode"], "Shared");
  EXPECT_EQ(obj["spec"]["nested"]["on"], true);
}

TEST(SchemaTest, ValidationMessagesNameTheFieldLikeKubernetes) {
  struct Case {
    const char* spec;
    const char* message;
  };
  const Case cases[] = {
      {R"({"tenantName":"a","days":400})",
       "spec.days: Invalid value: 400: spec.days in body should be less than or equal to 365"},
      {R"({"tenantName":"a","days":-1})",
       "spec.days: Invalid value: -1: spec.days in body should be greater than or equal to 0"},
      {R"({"days":1})", "spec.tenantName: Required value"},
      {R"({"tenantName":"a","mode":"Both"})",
       "spec.mode: Unsupported value: \"Both\": supported values: \"Shared\", \"Exclusive\""},
      {R"({"tenantName":"A B"})",
       "spec.tenantName: Invalid value: \"A B\": spec.tenantName in body should match "
       "'^[a-z0-9.-]+$'"},
      {R"({"tenantName":"aaaaaaaaaaaaaaaaaaaaaaaaa"})",
       "spec.tenantName: Too long: may not be more than 20 bytes"},
      {R"({"tenantName":"a","tags":["x","y","z"]})",
       "spec.tags: Too many: 3: must have at most 2 items"},
      {R"({"tenantName":"a","days":"seven"})",
       "spec.days: Invalid value: \"string\": spec.days in body must be of type integer: "
       "\"string\""},
  };
  for (const auto& c : cases) {
    json obj = {{"spec", json::parse(c.spec)}};
    auto errs = ValidateAgainstSchema(obj, kSchema);
    ASSERT_EQ(errs.size(), 1u) << c.spec;
    EXPECT_EQ(errs[0].message, c.message);
  }
}

TEST(SchemaTest, ValidObjectHasNoErrors) {
  json obj =
      json::parse(R"({"metadata":{"name":"x"},"spec":{"tenantName":"a.b","days":7,"tags":["t"]},
                             "status":{"observedGeneration":1}})");
  EXPECT_TRUE(ValidateAgainstSchema(obj, kSchema).empty());
}

}  // namespace
}  // namespace cte::apiserver
