#include "operator/kube/request.h"

#include <gtest/gtest.h>

namespace cte::kube {
namespace {

const GroupVersionResource kSecrets{"", "v1", "secrets", true, "Secret"};
const GroupVersionResource kShc{"cte.netskope.io", "v1alpha1", "sharingconfigurations", true,
                                "SharingConfiguration"};
const GroupVersionResource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false,
                                 "CustomResourceDefinition"};

TEST(RequestTest, BuildersProduceMethodPathQueryAndBody) {
  struct Case {
    const char* name;
    KubeRequest request;
    const char* method;
    const char* target;
    const char* content_type;
  };
  ListOptions paged;
  paged.limit = 500;
  paged.continue_token = "abc=";
  paged.label_selector = "app in (a,b)";
  WatchOptions watch;
  watch.resource_version = "42";
  watch.timeout_seconds = 300;
  const Case cases[] = {
      {"get core", GetRequest(kSecrets, "ns1", "tok"), "GET", "/api/v1/namespaces/ns1/secrets/tok",
       ""},
      {"get cluster-scoped", GetRequest(kCrds, "ignored", "x.y"), "GET",
       "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.y", ""},
      {"list all namespaces", ListRequest(kShc, "", {}), "GET",
       "/apis/cte.netskope.io/v1alpha1/sharingconfigurations", ""},
      {"list paged", ListRequest(kShc, "ns", paged), "GET",
       "/apis/cte.netskope.io/v1alpha1/namespaces/ns/"
       "sharingconfigurations?labelSelector=app%20in%20%28a%2Cb%29&limit=500&continue=abc%3D",
       ""},
      {"watch", WatchRequest(kShc, "ns", watch), "GET",
       "/apis/cte.netskope.io/v1alpha1/namespaces/ns/"
       "sharingconfigurations?watch=true&resourceVersion=42&allowWatchBookmarks=true&"
       "timeoutSeconds=300",
       ""},
      {"create", CreateRequest(kSecrets, "ns", {{"a", 1}}, "cte"), "POST",
       "/api/v1/namespaces/ns/secrets?fieldManager=cte", "application/json"},
      {"update status", UpdateRequest(kShc, "ns", "s", {{"a", 1}}, "status"), "PUT",
       "/apis/cte.netskope.io/v1alpha1/namespaces/ns/sharingconfigurations/s/status",
       "application/json"},
      {"merge patch", PatchRequest(kShc, "ns", "s", PatchType::kMerge, {{"a", 1}}), "PATCH",
       "/apis/cte.netskope.io/v1alpha1/namespaces/ns/sharingconfigurations/s",
       "application/merge-patch+json"},
      {"json patch", PatchRequest(kShc, "ns", "s", PatchType::kJsonPatch, nlohmann::json::array()),
       "PATCH", "/apis/cte.netskope.io/v1alpha1/namespaces/ns/sharingconfigurations/s",
       "application/json-patch+json"},
      {"apply forced",
       PatchRequest(kShc, "ns", "s", PatchType::kApply, {{"a", 1}}, "", "cte", true), "PATCH",
       "/apis/cte.netskope.io/v1alpha1/namespaces/ns/sharingconfigurations/"
       "s?fieldManager=cte&force=true",
       "application/apply-patch+yaml"},
      {"delete", DeleteRequest(kShc, "ns", "s"), "DELETE",
       "/apis/cte.netskope.io/v1alpha1/namespaces/ns/sharingconfigurations/s", "application/json"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.request.method, c.method) << c.name;
    EXPECT_EQ(c.request.Target(), c.target) << c.name;
    EXPECT_EQ(c.request.content_type, c.content_type) << c.name;
  }
}

TEST(RequestTest, DeleteCarriesBackgroundPropagationAndPreconditions) {
  auto req = DeleteRequest(kShc, "ns", "s", "uid-1", "7");
  auto body = nlohmann::json::parse(req.body);
  EXPECT_EQ(body["propagationPolicy"], "Background");
  EXPECT_EQ(body["preconditions"]["uid"], "uid-1");
  EXPECT_EQ(body["preconditions"]["resourceVersion"], "7");
}

}  // namespace
}  // namespace cte::kube
