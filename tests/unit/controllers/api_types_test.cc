// Tests for controllers/api: the C++ CRD types must say exactly what crds/*.yaml say (same field
// paths, same defaults, enums and name rules), every example in examples/ must be valid for both,
// and bad input must be rejected with an error that names the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "controllers/api/business_rule.h"
#include "controllers/api/common.h"
#include "controllers/api/cte_plugin.h"
#include "controllers/api/netskope_tenant.h"
#include "controllers/api/sharing_configuration.h"
#include "operator/core/duration.h"
#include "operator/core/json_util.h"

namespace cte::api {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;

constexpr std::string_view kSourceDir = CTE_SOURCE_DIR;

// ---------------------------------------------------------------------------------------------
// Loading the CRDs and examples.

json LoadCrd(const std::string& file) {
  StatusOr<std::string> text = ReadFile(std::string(kSourceDir) + "/crds/" + file);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return json::object();
  StatusOr<std::vector<json>> docs = ParseYamlDocuments(*text);
  EXPECT_TRUE(docs.ok()) << docs.status().ToString();
  if (!docs.ok() || docs->size() != 1) {
    ADD_FAILURE() << file << ": expected exactly one YAML document";
    return json::object();
  }
  return docs->front();
}

struct KindInfo {
  std::string kind;
  std::string file;
};

const std::vector<KindInfo>& Kinds() {
  static const auto* kinds = new std::vector<KindInfo>{
      {"NetskopeTenant", "netskopetenant.yaml"},
      {"CTEPlugin", "cteplugin.yaml"},
      {"BusinessRule", "businessrule.yaml"},
      {"SharingConfiguration", "sharingconfiguration.yaml"},
  };
  return *kinds;
}

// The openAPIV3Schema of the single version of a CRD.
json Schema(const json& crd) {
  return crd.at("spec").at("versions").at(0).at("schema").at("openAPIV3Schema");
}

json SchemaOf(const std::string& file) { return Schema(LoadCrd(file)); }

// The schema node at a dotted path, where "x[]" steps into the items of array x:
// "spec.filter.all[].field".
json SchemaAt(const json& schema, const std::string& path) {
  json node = schema;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string seg =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool items = seg.size() > 2 && seg.ends_with("[]");
    if (items) seg.resize(seg.size() - 2);
    if (!node.contains("properties") || !node["properties"].contains(seg)) {
      ADD_FAILURE() << "schema has no property " << path;
      return json::object();
    }
    node = node["properties"][seg];
    if (items) node = node.at("items");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node;
}

struct ExampleDoc {
  std::string file;
  json object;
};

std::vector<ExampleDoc> LoadExamples() {
  std::vector<ExampleDoc> out;
  std::vector<std::filesystem::path> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(kSourceDir) + "/examples")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    StatusOr<std::string> text = ReadFile(path.string());
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) continue;
    StatusOr<std::vector<json>> docs = ParseYamlDocuments(*text);
    EXPECT_TRUE(docs.ok()) << path << ": " << docs.status().ToString();
    if (!docs.ok()) continue;
    for (json& doc : *docs) out.push_back({path.filename().string(), std::move(doc)});
  }
  return out;
}

// Parses `object` as `kind` and returns ToJson() of the result.
StatusOr<json> RoundTripAs(const std::string& kind, const json& object) {
  if (kind == "NetskopeTenant") {
    auto v = NetskopeTenant::FromJson(object);
    if (!v.ok()) return v.status();
    return v->ToJson();
  }
  if (kind == "CTEPlugin") {
    auto v = CtePlugin::FromJson(object);
    if (!v.ok()) return v.status();
    return v->ToJson();
  }
  if (kind == "BusinessRule") {
    auto v = BusinessRule::FromJson(object);
    if (!v.ok()) return v.status();
    return v->ToJson();
  }
  if (kind == "SharingConfiguration") {
    auto v = SharingConfiguration::FromJson(object);
    if (!v.ok()) return v.status();
    return v->ToJson();
  }
  return InvalidArgumentError("not a cte kind: " + kind);
}

// Parses any of the four kinds, chosen by the object's own kind.
StatusOr<json> RoundTrip(const json& object) {
  return RoundTripAs(object.value("kind", ""), object);
}

// ---------------------------------------------------------------------------------------------
// Field paths.

void CollectSchemaPaths(const json& node, const std::string& prefix, std::set<std::string>* out) {
  if (node.contains("properties")) {
    for (const auto& [key, child] : node["properties"].items()) {
      std::string path = prefix.empty() ? key : prefix + "." + key;
      out->insert(path);
      CollectSchemaPaths(child, path, out);
    }
  }
  if (node.contains("items")) CollectSchemaPaths(node["items"], prefix + "[]", out);
}

void CollectJsonPaths(const json& value, const std::string& prefix, std::set<std::string>* out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      std::string path = prefix.empty() ? key : prefix + "." + key;
      out->insert(path);
      CollectJsonPaths(child, path, out);
    }
  } else if (value.is_array()) {
    for (const json& item : value) CollectJsonPaths(item, prefix + "[]", out);
  }
}

// spec and status paths only: apiVersion, kind and metadata are the API server's.
std::set<std::string> SpecAndStatusPaths(const std::set<std::string>& all) {
  std::set<std::string> out;
  for (const std::string& p : all) {
    if (p.starts_with("spec") || p.starts_with("status")) out.insert(p);
  }
  return out;
}

std::string Difference(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::string out;
  for (const std::string& p : a) {
    if (!b.contains(p)) out += "\n  " + p;
  }
  return out.empty() ? " (none)" : out;
}

void ExpectSamePaths(const json& object, const std::string& crd_file) {
  std::set<std::string> from_json;
  CollectJsonPaths(object, "", &from_json);
  from_json = SpecAndStatusPaths(from_json);
  std::set<std::string> from_schema;
  CollectSchemaPaths(SchemaOf(crd_file), "", &from_schema);
  from_schema = SpecAndStatusPaths(from_schema);
  EXPECT_TRUE(from_json == from_schema)
      << crd_file
      << "\nin the CRD but not produced by ToJson():" << Difference(from_schema, from_json)
      << "\nproduced by ToJson() but not in the CRD:" << Difference(from_json, from_schema);
}

// ---------------------------------------------------------------------------------------------
// Fully populated objects: every optional field set, every list non-empty.

Condition ReadyCondition() {
  return {.type = "Ready",
          .status = ConditionStatus::kTrue,
          .observed_generation = 3,
          .last_transition_time = "2026-05-19T13:03:32Z",
          .reason = "Synced",
          .message = "list converged"};
}

ObjectMeta FullMeta() {
  ObjectMeta m;
  m.name = "full";
  m.namespace_name = "default";
  m.uid = "4b1c6f0e-0000-4000-8000-000000000001";
  m.resource_version = "42";
  m.generation = 3;
  m.labels = {{"team", "secops"}};
  m.annotations = {{std::string(kRequestedAtAnnotation), "now"}};
  m.finalizers = {"cte.netskope.io/finalizer"};
  m.deletion_timestamp = "2026-05-19T13:03:32Z";
  return m;
}

NetskopeTenant FullTenant() {
  NetskopeTenant t;
  t.metadata = FullMeta();
  t.spec.tenant_name = "acme.goskope.com";
  t.spec.v1_token_secret_ref = {"tokens", "v1-token"};
  t.spec.v2_token_secret_ref = SecretKeyRef{"tokens", "v2-token"};
  t.spec.initial_range_days = 7;
  t.spec.use_system_proxy = true;
  t.spec.api_base_url = "https://127.0.0.1:9443";
  t.spec.ca_bundle_secret_ref = SecretKeyRef{"ca", "ca.crt"};
  t.status.observed_generation = 3;
  t.status.conditions = {ReadyCondition()};
  t.status.last_checked_time = "2026-05-19T13:03:32Z";
  return t;
}

CtePlugin FullPlugin() {
  // No valid plugin has both netskope and apiSource; ToJson does not validate, and the path test
  // needs every field at once.
  CtePlugin p;
  p.metadata = FullMeta();
  p.spec.type = PluginType::kNetskope;
  p.spec.tenant_ref = LocalObjectReference{"acme"};
  p.spec.aging_days = 90;
  p.spec.override_reputation = 7;
  p.spec.netskope = NetskopePluginSettings{true, ThreatDataType::kBoth, "5m"};
  p.spec.api_source = ApiSourceSettings{LocalObjectReference{"creds"}};
  p.status.observed_generation = 3;
  p.status.conditions = {ReadyCondition()};
  p.status.indicator_count = 1200;
  p.status.total_indicator_count = 1500;
  p.status.last_poll_error = "tenant unreachable";
  p.status.last_poll_time = "2026-05-19T13:03:32Z";
  return p;
}

FilterNode ConditionWithValue() {
  return FilterNode{FilterCondition{
      FilterField::kReputation, FilterOperator::kGreaterOrEqual, IntOrString{int64_t{7}}, {}}};
}

FilterNode ConditionWithValues() {
  return FilterNode{
      FilterCondition{FilterField::kSeverity,
                      FilterOperator::kIn,
                      std::nullopt,
                      {IntOrString{std::string("high")}, IntOrString{std::string("critical")}}}};
}

// A group at `depth` whose all and any each hold both condition shapes and, above the depth
// limit, a nested group: every path the schema spells out.
FilterGroup FullGroup(int depth) {
  FilterGroup g;
  g.negate = true;
  for (std::vector<FilterNode>* items : {&g.all, &g.any}) {
    items->push_back(ConditionWithValue());
    items->push_back(ConditionWithValues());
    if (depth < kMaxFilterDepth) items->push_back(FilterNode{FullGroup(depth + 1)});
  }
  return g;
}

BusinessRule FullRule() {
  BusinessRule b;
  b.metadata = FullMeta();
  b.spec.filter = FullGroup(1);
  b.spec.exceptions.push_back(RuleException{"internal", FullGroup(1), {}});
  b.spec.exceptions.push_back(RuleException{"allow-tagged", std::nullopt, {"allowlist"}});
  b.spec.muted = false;
  b.status.observed_generation = 3;
  b.status.used_by = 2;
  b.status.conditions = {ReadyCondition()};
  return b;
}

SharingConfiguration FullSharing() {
  SharingConfiguration c;
  c.metadata = FullMeta();
  c.spec.source_plugin_ref = {"threat-feed"};
  c.spec.business_rule_ref = {"every-severity"};
  c.spec.destination_plugin_ref = {"acme-netskope"};
  c.spec.target =
      SharingTarget{ListType::kUrlList, "cte-threat-feed", "cte-default", 7, UrlListType::kExact};
  c.spec.sync_interval = "10m";
  c.spec.ownership = Ownership::kShared;
  c.spec.deletion_policy = DeletionPolicy::kRetract;
  c.spec.suspend = false;
  c.status.observed_generation = 3;
  c.status.conditions = {ReadyCondition()};
  c.status.list_name = "cte-threat-feed";
  c.status.list_id = 12;
  c.status.shared_count = 1000;
  c.status.matched_count = 1003;
  c.status.truncated_count = 3;
  c.status.invalid_count = 1;
  c.status.list_entries = 1001;
  c.status.list_bytes = 20000;
  c.status.last_sync_result = "Appended";
  c.status.last_sync_time = "2026-05-19T13:03:32Z";
  c.status.last_handled_reconcile_at = "now";
  return c;
}

TEST(ApiTypesTest, NetskopeTenantFieldsMatchCrd) {
  ExpectSamePaths(FullTenant().ToJson(), "netskopetenant.yaml");
}

TEST(ApiTypesTest, CtePluginFieldsMatchCrd) {
  ExpectSamePaths(FullPlugin().ToJson(), "cteplugin.yaml");
}

TEST(ApiTypesTest, BusinessRuleFieldsMatchCrdToTheModelledDepth) {
  ExpectSamePaths(FullRule().ToJson(), "businessrule.yaml");
}

TEST(ApiTypesTest, SharingConfigurationFieldsMatchCrd) {
  ExpectSamePaths(FullSharing().ToJson(), "sharingconfiguration.yaml");
}

TEST(ApiTypesTest, FullyPopulatedObjectsRoundTrip) {
  // The plugin and the rule are left out: with both netskope and apiSource, or groups with both
  // all and any, they are deliberately invalid. The table of valid cases below covers them.
  for (const json& object : {FullTenant().ToJson(), FullSharing().ToJson()}) {
    StatusOr<json> again = RoundTrip(object);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, object);
  }
}

// ---------------------------------------------------------------------------------------------
// The CRDs themselves.

void CheckSchemaNode(const json& node, const std::string& path, std::vector<std::string>* errors) {
  if (!node.is_object()) {
    errors->push_back(path + ": not an object");
    return;
  }
  std::string description = node.value("description", "");
  if (description.find_first_not_of(" \n\t") == std::string::npos) {
    errors->push_back(path + ": no description");
  }
  // A structural schema needs a type at every level; int-or-string is the one exception used.
  if (!node.contains("type") && !node.value("x-kubernetes-int-or-string", false)) {
    errors->push_back(path + ": no type");
  }
  if (node.contains("default") && node.value("x-kubernetes-preserve-unknown-fields", false)) {
    errors->push_back(path + ": default under x-kubernetes-preserve-unknown-fields");
  }
  if (node.contains("required")) {
    for (const json& r : node["required"]) {
      if (!node.contains("properties") || !node["properties"].contains(r.get<std::string>())) {
        errors->push_back(path + ": required " + r.get<std::string>() + " is not a property");
      }
    }
  }
  if (node.value("x-kubernetes-list-type", "") == "map") {
    // List-map keys must always be present, or the API server rejects the CRD.
    for (const json& key : node.at("x-kubernetes-list-map-keys")) {
      const json& items = node.at("items");
      bool required = items.contains("required") &&
                      std::find(items["required"].begin(), items["required"].end(), key) !=
                          items["required"].end();
      if (!required) errors->push_back(path + ": list-map key " + key.dump() + " not required");
    }
  }
  if (node.contains("properties")) {
    for (const auto& [key, child] : node["properties"].items()) {
      CheckSchemaNode(child, path + "." + key, errors);
    }
  }
  if (node.contains("items")) CheckSchemaNode(node["items"], path + "[]", errors);
}

TEST(ApiTypesTest, EverySchemaPropertyHasADescriptionAndAType) {
  for (const KindInfo& k : Kinds()) {
    std::vector<std::string> errors;
    CheckSchemaNode(SchemaOf(k.file), k.kind, &errors);
    EXPECT_THAT(errors, ::testing::IsEmpty()) << k.file << ":\n"
                                              << ::testing::PrintToString(errors);
  }
}

TEST(ApiTypesTest, CrdsDeclareNamesVersionsAndStatusSubresource) {
  const std::map<std::string, std::string> plurals = {
      {"NetskopeTenant", "netskopetenants"},
      {"CTEPlugin", "cteplugins"},
      {"BusinessRule", "businessrules"},
      {"SharingConfiguration", "sharingconfigurations"}};
  std::set<std::string> short_names;
  for (const KindInfo& k : Kinds()) {
    json crd = LoadCrd(k.file);
    SCOPED_TRACE(k.file);
    EXPECT_EQ(crd.value("apiVersion", ""), "apiextensions.k8s.io/v1");
    EXPECT_EQ(crd.value("kind", ""), "CustomResourceDefinition");
    const json& spec = crd.at("spec");
    EXPECT_EQ(spec.value("group", ""), kGroup);
    EXPECT_EQ(spec.value("scope", ""), "Namespaced");
    const json& names = spec.at("names");
    EXPECT_EQ(names.value("kind", ""), k.kind);
    EXPECT_EQ(names.value("listKind", ""), k.kind + "List");
    EXPECT_EQ(names.value("plural", ""), plurals.at(k.kind));
    EXPECT_EQ(crd.at("metadata").value("name", ""), plurals.at(k.kind) + "." + std::string(kGroup));
    EXPECT_EQ(names.at("categories"), json::array({"cte"}));
    for (const json& s : names.at("shortNames")) {
      EXPECT_TRUE(short_names.insert(s.get<std::string>()).second) << "duplicate short name " << s;
    }
    ASSERT_EQ(spec.at("versions").size(), 1u);
    const json& v = spec["versions"][0];
    EXPECT_EQ(v.value("name", ""), kVersion);
    EXPECT_TRUE(v.value("served", false));
    EXPECT_TRUE(v.value("storage", false));
    EXPECT_EQ(v.at("subresources"), json({{"status", json::object()}}));
    // Client-side `kubectl apply` copies the whole object into the last-applied-configuration
    // annotation, which may not exceed 256 KiB; the spelled-out filter nesting makes
    // businessrule.yaml the one at risk.
    EXPECT_LT(crd.dump().size(), 262144u);
  }
  EXPECT_EQ(plurals.at("CTEPlugin"), CtePlugin::kPlural);
  EXPECT_EQ(plurals.at("NetskopeTenant"), NetskopeTenant::kPlural);
  EXPECT_EQ(plurals.at("BusinessRule"), BusinessRule::kPlural);
  EXPECT_EQ(plurals.at("SharingConfiguration"), SharingConfiguration::kPlural);
}

TEST(ApiTypesTest, PrinterColumnsPointAtSchemaFields) {
  for (const KindInfo& k : Kinds()) {
    json crd = LoadCrd(k.file);
    json schema = Schema(crd);
    std::set<std::string> names;
    for (const json& col : crd["spec"]["versions"][0].at("additionalPrinterColumns")) {
      SCOPED_TRACE(k.file + " column " + col.value("name", ""));
      names.insert(col.value("name", ""));
      EXPECT_FALSE(col.value("description", "").empty());
      std::string path = col.at("jsonPath").get<std::string>();
      if (path.starts_with(".metadata.")) continue;
      // .status.conditions[?(@.type=="Ready")].status -> status.conditions[].status
      path = std::regex_replace(path, std::regex(R"(\[\?\(.*?\)\])"), "[]");
      json node = SchemaAt(schema, path.substr(1));
      std::string type = col.at("type").get<std::string>();
      std::string expected = type == "date" ? "string" : type;
      EXPECT_EQ(node.value("type", ""), expected) << path;
      if (type == "date") {
        EXPECT_EQ(node.value("format", ""), "date-time") << path;
      }
    }
    EXPECT_TRUE(names.contains("Ready")) << k.file;
    EXPECT_TRUE(names.contains("Age")) << k.file;
  }
}

std::vector<std::string> EnumOf(const json& node) {
  std::vector<std::string> out;
  for (const json& v : node.at("enum")) out.push_back(v.get<std::string>());
  return out;
}

template <WireEnum E>
std::vector<std::string> NamesOf() {
  return {EnumNames<E>::kValues.begin(), EnumNames<E>::kValues.end()};
}

TEST(ApiTypesTest, DefaultsBoundsAndEnumsMatchTheConstants) {
  json tenant = SchemaOf("netskopetenant.yaml");
  EXPECT_EQ(SchemaAt(tenant, "spec.initialRangeDays")["default"], kDefaultInitialRangeDays);
  EXPECT_EQ(SchemaAt(tenant, "spec.initialRangeDays")["maximum"], kMaxInitialRangeDays);
  EXPECT_EQ(SchemaAt(tenant, "spec.useSystemProxy")["default"], kDefaultUseSystemProxy);
  EXPECT_EQ(EnumOf(SchemaAt(tenant, "status.conditions[].status")), NamesOf<ConditionStatus>());

  json plugin = SchemaOf("cteplugin.yaml");
  EXPECT_EQ(EnumOf(SchemaAt(plugin, "spec.type")), NamesOf<PluginType>());
  EXPECT_EQ(SchemaAt(plugin, "spec.agingDays")["default"], kDefaultAgingDays);
  EXPECT_EQ(SchemaAt(plugin, "spec.agingDays")["maximum"], kMaxAgingDays);
  EXPECT_EQ(SchemaAt(plugin, "spec.overrideReputation")["default"], kDefaultOverrideReputation);
  EXPECT_EQ(SchemaAt(plugin, "spec.overrideReputation")["maximum"], kMaxOverrideReputation);
  EXPECT_EQ(SchemaAt(plugin, "spec.netskope.enablePolling")["default"], kDefaultEnablePolling);
  EXPECT_EQ(EnumOf(SchemaAt(plugin, "spec.netskope.threatDataType")), NamesOf<ThreatDataType>());
  EXPECT_EQ(SchemaAt(plugin, "spec.netskope.threatDataType")["default"],
            EnumToString(kDefaultThreatDataType));
  EXPECT_EQ(SchemaAt(plugin, "spec.netskope.pollInterval")["default"], kDefaultPollInterval);
  EXPECT_EQ(SchemaAt(plugin, "spec.netskope.pollInterval")["pattern"], kDurationPattern);

  json rule = SchemaOf("businessrule.yaml");
  EXPECT_EQ(SchemaAt(rule, "spec.muted")["default"], kDefaultMuted);
  EXPECT_EQ(EnumOf(SchemaAt(rule, "spec.filter.all[].field")), NamesOf<FilterField>());
  EXPECT_EQ(EnumOf(SchemaAt(rule, "spec.filter.any[].all[].any[].operator")),
            NamesOf<FilterOperator>());
  EXPECT_EQ(SchemaAt(rule, "spec.filter.all")["maxItems"], kMaxGroupItems);
  EXPECT_EQ(SchemaAt(rule, "spec.filter.all[].values")["maxItems"], kMaxConditionValues);
  EXPECT_EQ(SchemaAt(rule, "spec.exceptions")["maxItems"], kMaxExceptions);
  EXPECT_EQ(SchemaAt(rule, "spec.exceptions[].tags")["maxItems"], kMaxExceptionTags);

  json sharing = SchemaOf("sharingconfiguration.yaml");
  EXPECT_EQ(EnumOf(SchemaAt(sharing, "spec.target.type")), NamesOf<ListType>());
  EXPECT_EQ(EnumOf(SchemaAt(sharing, "spec.target.urlListType")), NamesOf<UrlListType>());
  EXPECT_EQ(SchemaAt(sharing, "spec.target.urlListType")["default"],
            EnumToString(kDefaultUrlListType));
  EXPECT_EQ(SchemaAt(sharing, "spec.target.listSizeMB")["maximum"], kMaxListSizeMB);
  EXPECT_FALSE(SchemaAt(sharing, "spec.target.listSizeMB").contains("default"))
      << "the list size default depends on the type and is applied by the operator";
  EXPECT_EQ(SchemaAt(sharing, "spec.target.listName")["maxLength"], kMaxListNameLength);
  EXPECT_EQ(SchemaAt(sharing, "spec.syncInterval")["default"], kDefaultSyncInterval);
  EXPECT_EQ(SchemaAt(sharing, "spec.syncInterval")["pattern"], kDurationPattern);
  EXPECT_EQ(EnumOf(SchemaAt(sharing, "spec.ownership")), NamesOf<Ownership>());
  EXPECT_EQ(SchemaAt(sharing, "spec.ownership")["default"], EnumToString(kDefaultOwnership));
  EXPECT_EQ(EnumOf(SchemaAt(sharing, "spec.deletionPolicy")), NamesOf<DeletionPolicy>());
  EXPECT_EQ(SchemaAt(sharing, "spec.deletionPolicy")["default"],
            EnumToString(kDefaultDeletionPolicy));
  EXPECT_EQ(SchemaAt(sharing, "spec.suspend")["default"], kDefaultSuspend);
}

TEST(ApiTypesTest, NamePatternsAgreeWithTheValidators) {
  std::regex list_name(SchemaAt(SchemaOf("sharingconfiguration.yaml"), "spec.target.listName")
                           .at("pattern")
                           .get<std::string>());
  std::vector<std::string> names = {"cte-threat-feed", "CTE Malware_hashes 2", ""};
  for (char c : kForbiddenListNameChars) names.push_back(std::string("a") + c + "b");
  for (const std::string& name : names) {
    EXPECT_EQ(std::regex_match(name, list_name), IsValidListName(name)) << name;
  }
  EXPECT_FALSE(IsValidListName("cte.list"));

  std::regex host(SchemaAt(SchemaOf("netskopetenant.yaml"), "spec.tenantName")
                      .at("pattern")
                      .get<std::string>());
  for (std::string name :
       {"acme.goskope.com", "acme", "Acme.goskope.com", "https://acme.goskope.com",
        "-acme.goskope.com", "acme..com", "eu-1.acme.goskope.com"}) {
    EXPECT_EQ(std::regex_match(name, host), IsTenantHostName(name)) << name;
  }

  std::regex dns(
      SchemaAt(SchemaOf("cteplugin.yaml"), "spec.tenantRef.name").at("pattern").get<std::string>());
  for (std::string name : {"acme", "acme-netskope", "a.b", "Acme", "a_b", "-a", "a-", ""}) {
    EXPECT_EQ(std::regex_match(name, dns) && !name.empty(), IsDns1123Subdomain(name)) << name;
  }
}

// ---------------------------------------------------------------------------------------------
// Examples.

// A small OpenAPI validator for what the CRDs use (type, enum, bounds, lengths, pattern, required,
// int-or-string). CEL rules are not evaluated here; FromJson mirrors them. Unknown fields count as
// errors, as with kubectl's default strict field validation.
void Validate(const json& value, const json& schema, const std::string& path,
              std::vector<std::string>* errors) {
  auto fail = [&](const std::string& message) { errors->push_back(path + ": " + message); };
  if (schema.value("x-kubernetes-int-or-string", false)) {
    if (!value.is_number_integer() && !value.is_string()) fail("must be an integer or a string");
  } else {
    std::string type = schema.value("type", "");
    bool type_ok = (type == "string" && value.is_string()) ||
                   (type == "integer" && value.is_number_integer()) ||
                   (type == "boolean" && value.is_boolean()) ||
                   (type == "object" && value.is_object()) || (type == "array" && value.is_array());
    if (!type_ok) {
      fail("must be of type " + type);
      return;
    }
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
    fail("not in enum " + schema["enum"].dump());
  }
  if (value.is_number_integer()) {
    if (schema.contains("minimum") && value < schema["minimum"]) fail("below minimum");
    if (schema.contains("maximum") && value > schema["maximum"]) fail("above maximum");
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (schema.contains("minLength") && s.size() < schema["minLength"].get<size_t>()) {
      fail("shorter than minLength");
    }
    if (schema.contains("maxLength") && s.size() > schema["maxLength"].get<size_t>()) {
      fail("longer than maxLength");
    }
    if (schema.contains("pattern") &&
        !std::regex_search(s, std::regex(schema["pattern"].get<std::string>()))) {
      fail("does not match " + schema["pattern"].get<std::string>());
    }
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>()) {
      fail("fewer than minItems");
    }
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>()) {
      fail("more than maxItems");
    }
    for (size_t i = 0; i < value.size(); ++i) {
      Validate(value[i], schema.at("items"), path + "[" + std::to_string(i) + "]", errors);
    }
  }
  if (value.is_object() && schema.contains("properties")) {
    for (const json& r : schema.value("required", json::array())) {
      if (!value.contains(r.get<std::string>())) fail("missing required " + r.get<std::string>());
    }
    for (const auto& [key, child] : value.items()) {
      if (!schema["properties"].contains(key)) {
        fail("unknown field " + key);
      } else if (key != "metadata") {
        Validate(child, schema["properties"][key], path.empty() ? key : path + "." + key, errors);
      }
    }
  }
}

std::map<std::string, json> SchemasByKind() {
  std::map<std::string, json> out;
  for (const KindInfo& k : Kinds()) out[k.kind] = SchemaOf(k.file);
  return out;
}

TEST(ApiTypesTest, ExamplesValidateParseAndRoundTrip) {
  std::vector<ExampleDoc> examples = LoadExamples();
  std::map<std::string, json> schemas = SchemasByKind();
  std::set<std::string> kinds_seen;
  for (const ExampleDoc& ex : examples) {
    SCOPED_TRACE(ex.file);
    std::string kind = ex.object.value("kind", "");
    // Applied with `kubectl apply -f examples/` into the current namespace.
    EXPECT_FALSE(ex.object.at("metadata").contains("namespace"));
    if (kind == "Secret") continue;
    ASSERT_TRUE(schemas.contains(kind)) << "unexpected kind " << kind;
    kinds_seen.insert(kind);
    std::vector<std::string> errors;
    Validate(ex.object, schemas[kind], "", &errors);
    EXPECT_THAT(errors, ::testing::IsEmpty()) << ::testing::PrintToString(errors);
    StatusOr<json> again = RoundTrip(ex.object);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, ex.object);
  }
  EXPECT_EQ(kinds_seen.size(), 4u);
}

TEST(ApiTypesTest, ExampleReferencesResolveWithinTheExamples) {
  std::set<std::string> objects;  // "Kind/name", plus "Secret/name/key"
  std::vector<ExampleDoc> examples = LoadExamples();
  for (const ExampleDoc& ex : examples) {
    std::string kind = ex.object.at("kind").get<std::string>();
    std::string name = ex.object.at("metadata").at("name").get<std::string>();
    objects.insert(kind + "/" + name);
    if (kind == "Secret") {
      const json string_data = ex.object.value("stringData", json::object());
      for (const auto& [key, _] : string_data.items()) {
        objects.insert("Secret/" + name + "/" + key);
      }
    }
  }
  auto expect = [&](const std::string& ref, const std::string& file) {
    EXPECT_TRUE(objects.contains(ref)) << file << " refers to missing " << ref;
  };
  for (const ExampleDoc& ex : examples) {
    std::string kind = ex.object.at("kind").get<std::string>();
    if (kind == "NetskopeTenant") {
      auto t = NetskopeTenant::FromJson(ex.object);
      ASSERT_TRUE(t.ok());
      expect("Secret/" + t->spec.v1_token_secret_ref.name + "/" + t->spec.v1_token_secret_ref.key,
             ex.file);
      if (t->spec.v2_token_secret_ref) {
        expect(
            "Secret/" + t->spec.v2_token_secret_ref->name + "/" + t->spec.v2_token_secret_ref->key,
            ex.file);
      }
    } else if (kind == "CTEPlugin") {
      auto p = CtePlugin::FromJson(ex.object);
      ASSERT_TRUE(p.ok());
      if (p->spec.tenant_ref) expect("NetskopeTenant/" + p->spec.tenant_ref->name, ex.file);
      if (p->spec.api_source) {
        std::string secret = "Secret/" + p->spec.api_source->credentials_secret_ref.name;
        expect(secret + "/" + std::string(kClientIdKey), ex.file);
        expect(secret + "/" + std::string(kClientSecretKey), ex.file);
      }
    } else if (kind == "SharingConfiguration") {
      auto c = SharingConfiguration::FromJson(ex.object);
      ASSERT_TRUE(c.ok());
      expect("CTEPlugin/" + c->spec.source_plugin_ref.name, ex.file);
      expect("BusinessRule/" + c->spec.business_rule_ref.name, ex.file);
      expect("CTEPlugin/" + c->spec.destination_plugin_ref.name, ex.file);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bad input.

json Example(const std::string& file) {
  for (ExampleDoc& ex : LoadExamples()) {
    if (ex.file == file) return ex.object;
  }
  ADD_FAILURE() << "no example " << file;
  return json::object();
}

struct BadCase {
  std::string base;      // example file the case starts from
  std::string pointer;   // JSON pointer to set or remove
  json value;            // the new value; null removes the field
  std::string expected;  // substring of the error; empty means the object is valid
};

json Apply(json object, const BadCase& c) {
  json::json_pointer ptr(c.pointer);
  if (c.value.is_null()) {
    object.at(ptr.parent_pointer()).erase(ptr.back());
  } else {
    object[ptr] = c.value;
  }
  return object;
}

json J(const char* text) { return json::parse(text); }

json TypeIsUrl() { return J(R"({"field": "type", "operator": "Equals", "value": "url"})"); }

std::vector<BadCase> BadCases() {
  const std::string tenant = "10-netskopetenant.yaml";
  const std::string netskope = "20-cteplugin-netskope.yaml";
  const std::string apisource = "22-cteplugin-apisource.yaml";
  const std::string rule = "30-businessrule-every-severity.yaml";
  const std::string urllist = "40-sharing-apisource-to-urllist.yaml";
  const std::string hashlist = "41-sharing-netskope-to-filehashlist.yaml";
  const json ready = {{"type", "Ready"},
                      {"status", "True"},
                      {"lastTransitionTime", "2026-05-19T13:03:32Z"},
                      {"reason", "Synced"},
                      {"message", ""}};
  json no_reason = ready;
  no_reason.erase("reason");
  json bad_status = ready;
  bad_status["status"] = "Yes";
  return {
      {tenant, "/spec/tenantName", "https://acme.goskope.com", "spec.tenantName: must be a"},
      {tenant, "/spec/tenantName", "acme", "spec.tenantName: must be a"},
      {tenant, "/spec/v1TokenSecretRef", nullptr, "spec.v1TokenSecretRef: is required"},
      {tenant, "/spec/v1TokenSecretRef/name", "Bad_Name", "spec.v1TokenSecretRef.name: must be"},
      {tenant, "/spec/v2TokenSecretRef/key", "v2 token", "spec.v2TokenSecretRef.key: must"},
      {tenant, "/spec/initialRangeDays", 400, "spec.initialRangeDays: must be between 0 and 365"},
      {tenant, "/spec/initialRangeDays", "7", "spec.initialRangeDays: must be an integer"},
      {tenant, "/spec/useSystemProxy", "yes", "spec.useSystemProxy: must be a boolean"},
      {tenant, "/spec/apiBaseURL", "ftp://sim", "spec.apiBaseURL: must be an http(s) URL"},
      {tenant, "/spec/apiBaseURL", "https://127.0.0.1:9443", ""},
      {tenant, "/spec", "acme", "spec: must be an object"},
      {tenant, "/spec", nullptr, "spec: is required"},
      {tenant, "/kind", "CTEPlugin", "kind: must be NetskopeTenant"},
      {tenant, "/apiVersion", "cte.netskope.io/v1", "apiVersion: must be cte.netskope.io/v1alpha1"},
      {tenant, "/metadata/labels", json{{"a", 1}}, "metadata.labels.a: must be a string"},
      {tenant, "/status", json{{"conditions", json::array({no_reason})}},
       "status.conditions[0].reason: is required"},
      {tenant, "/status", json{{"conditions", json::array({bad_status})}},
       "status.conditions[0].status: must be one of True, False, Unknown"},
      {tenant, "/status", json{{"conditions", json::array({ready, ready})}},
       "status.conditions[1].type: duplicate"},

      {netskope, "/spec/type", "Splunk", "spec.type: must be one of Netskope, APISource"},
      {netskope, "/spec/tenantRef", nullptr, "spec.tenantRef: is required when type is Netskope"},
      {netskope, "/spec/tenantRef/name", "", "spec.tenantRef.name: must be a DNS-1123"},
      {netskope, "/spec/agingDays", -1, "spec.agingDays: must be between 0 and 365"},
      {netskope, "/spec/overrideReputation", 11, "spec.overrideReputation: must be between 0"},
      {netskope, "/spec/netskope/threatDataType", "Hash",
       "spec.netskope.threatDataType: must be one of Malware, URL, Both"},
      {netskope, "/spec/netskope/pollInterval", "5 minutes", "spec.netskope.pollInterval:"},
      {netskope, "/spec/netskope/enablePolling", "true", "spec.netskope.enablePolling: must be"},
      {netskope, "/spec/apiSource", J(R"({"credentialsSecretRef": {"name": "creds"}})"),
       "spec.apiSource: is allowed only when type is APISource"},
      {netskope, "/status", json{{"indicatorCount", "many"}},
       "status.indicatorCount: must be an integer"},
      {apisource, "/spec/apiSource", nullptr,
       "spec.apiSource.credentialsSecretRef: is required when type is APISource"},
      {apisource, "/spec/apiSource/credentialsSecretRef", json::object(),
       "spec.apiSource.credentialsSecretRef.name: is required"},
      {apisource, "/spec/tenantRef", json{{"name", "acme"}},
       "spec.tenantRef: is allowed only when type is Netskope"},
      {apisource, "/spec/netskope", json::object(),
       "spec.netskope: is allowed only when type is Netskope"},

      {rule, "/spec/filter/all/0/operator", "Is", "spec.filter.all[0].operator: must be one of"},
      {rule, "/spec/filter/all/0/field", "colour", "spec.filter.all[0].field: must be one of"},
      {rule, "/spec/filter/all/0/operator", "Equals",
       "spec.filter.all[0].value: is required for operator Equals"},
      {rule, "/spec/filter/all/0/value", "low",
       "spec.filter.all[0].value: is not allowed for operator In"},
      {rule, "/spec/filter/all/0/values", json::array(),
       "spec.filter.all[0].values: is required for operator In"},
      {rule, "/spec/filter/all/0/values/0", 1.5,
       "spec.filter.all[0].values[0]: must be a string or an integer"},
      {rule, "/spec/filter/all/0/all", json::array({TypeIsUrl()}),
       "spec.filter.all[0].all: is not allowed in a condition"},
      {rule, "/spec/filter/any", json::array({TypeIsUrl()}),
       "spec.filter.any: a group has either all or any"},
      {rule, "/spec/filter/all", json::array(), "spec.filter.all: must not be empty"},
      {rule, "/spec/filter/all/0", json{{"not", true}},
       "spec.filter.all[0]: must be a condition (field, operator, value or values) or a group"},
      {rule, "/spec/filter/all/0", json{{"operator", "Equals"}, {"value", "x"}},
       "spec.filter.all[0].operator: belongs to a condition, which needs field"},
      {rule, "/spec/filter", json{{"not", true}}, "spec.filter.not: needs all or any"},
      {rule, "/spec/filter", json::object(), ""},
      {rule, "/spec/filter", J(R"({"not": true, "any": [
              {"field": "tags", "operator": "Contains", "value": "apt"},
              {"all": [{"field": "type", "operator": "In", "values": ["url", "domain"]},
                       {"not": true, "any": [{"field": "value", "operator": "Matches",
                                              "value": ".*\\.example$"}]}]}]})"),
       ""},
      {rule, "/spec/filter", J(R"({"all": [{"all": [{"all": [{"all": [
              {"field": "type", "operator": "Equals", "value": "url"}]}]}]}]})"),
       "spec.filter.all[0].all[0].all[0]: groups nest at most 3 levels deep"},
      {rule, "/spec/filter/all/0",
       json{{"field", "lastSeen"}, {"operator", "OlderThan"}, {"value", "soon"}},
       "spec.filter.all[0].value: invalid duration"},
      {rule, "/spec/filter/all/0",
       json{{"field", "reputation"}, {"operator", "GreaterThan"}, {"value", 5}}, ""},
      {rule, "/spec/exceptions", J(R"([{"name": "a"}])"),
       "spec.exceptions[0].filter: an exception has either filter or tags"},
      {rule, "/spec/exceptions", J(R"([{"name": "a", "tags": ["x"], "filter": {}}])"),
       "spec.exceptions[0].filter: an exception has either filter or tags"},
      {rule, "/spec/exceptions",
       J(R"([{"name": "a", "tags": ["x"]}, {"name": "a", "tags": ["y"]}])"),
       "spec.exceptions[1].name: duplicate exception name"},
      {rule, "/spec/exceptions", J(R"([{"name": "a", "filter": {"all": [
              {"field": "tags", "operator": "NotIn", "value": "x"}]}}])"),
       "spec.exceptions[0].filter.all[0].values: is required for operator NotIn"},
      {rule, "/spec/exceptions", J(R"([{"name": "a", "tags": []}])"),
       "spec.exceptions[0].tags: must not be empty"},
      {rule, "/spec/exceptions", J(R"([{"name": "internal", "filter": {"any": [
              {"field": "value", "operator": "Matches", "value": "(^|\\.)acme\\.com$"}]}},
             {"name": "allowlisted", "tags": ["allowlist", "internal"]}])"),
       ""},
      {rule, "/spec/muted", 1, "spec.muted: must be a boolean"},

      {urllist, "/spec/target/type", "DomainList",
       "spec.target.type: must be one of URLList, FileHashList"},
      {urllist, "/spec/target/listName", "cte.threat.feed",
       "spec.target.listName: must be at most 255 characters and contain none of"},
      {urllist, "/spec/target/listName", nullptr,
       "spec.target.listName: set listName or defaultListName"},
      {urllist, "/spec/target/listName", "", "spec.target.listName: set listName or"},
      {urllist, "/spec/target/defaultListName", "fallback", ""},
      {urllist, "/spec/target/defaultListName", "", "spec.target.defaultListName: must not be"},
      {urllist, "/spec/target/listSizeMB", 8,
       "spec.target.listSizeMB: is at most 7 for URLList targets"},
      {urllist, "/spec/target/listSizeMB", 0, "spec.target.listSizeMB: must be between 1 and 8"},
      {urllist, "/spec/target/urlListType", "Exact", "spec.target.urlListType: must be one of"},
      {urllist, "/spec/destinationPluginRef", nullptr, "spec.destinationPluginRef: is required"},
      {urllist, "/spec/sourcePluginRef/name", "Threat Feed",
       "spec.sourcePluginRef.name: must be a DNS-1123"},
      {urllist, "/spec/syncInterval", "10", "spec.syncInterval:"},
      {urllist, "/spec/ownership", "Mine", "spec.ownership: must be one of Shared, Exclusive"},
      {urllist, "/spec/deletionPolicy", "Delete",
       "spec.deletionPolicy: must be one of Retract, Orphan"},
      {urllist, "/spec/suspend", "no", "spec.suspend: must be a boolean"},
      {urllist, "/status", json{{"listId", "12"}}, "status.listId: must be an integer"},
      {hashlist, "/spec/target/urlListType", "regex",
       "spec.target.urlListType: regex applies only to URLList targets"},
      {hashlist, "/spec/target/listSizeMB", 8, ""},
      {hashlist, "/spec/ownership", "Shared",
       "spec.ownership: must be Exclusive for a FileHashList target"},
      {hashlist, "/spec/ownership", nullptr,
       "spec.ownership: must be Exclusive for a FileHashList target"},
  };
}

TEST(ApiTypesTest, BadInputIsRejectedWithTheFieldPath) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.base + " " + c.pointer + " = " + c.value.dump());
    json base = Example(c.base);
    json object = Apply(base, c);
    StatusOr<json> result = RoundTripAs(base.value("kind", ""), object);
    if (c.expected.empty()) {
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      EXPECT_EQ(*result, object);
      continue;
    }
    ASSERT_FALSE(result.ok()) << "accepted";
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(result.status().message(), HasSubstr(c.expected));
  }
}

TEST(ApiTypesTest, FromJsonNeverThrowsOnWrongShapes) {
  for (const json& bad : {json(nullptr), json(3), json("x"), json::array(), json::object(),
                          json{{"spec", nullptr}}, json{{"metadata", 5}, {"spec", {}}}}) {
    EXPECT_FALSE(NetskopeTenant::FromJson(bad).ok()) << bad;
    EXPECT_FALSE(CtePlugin::FromJson(bad).ok()) << bad;
    EXPECT_FALSE(SharingConfiguration::FromJson(bad).ok()) << bad;
  }
  EXPECT_FALSE(BusinessRule::FromJson(json{{"metadata", 5}, {"spec", json::object()}}).ok());
  EXPECT_TRUE(BusinessRule::FromJson(json{{"spec", json::object()}}).ok());
}

// ---------------------------------------------------------------------------------------------
// Derived values the reconcilers rely on.

TEST(ApiTypesTest, ListSizeDefaultDependsOnListType) {
  auto url = SharingConfiguration::FromJson(Example("40-sharing-apisource-to-urllist.yaml"));
  auto hash = SharingConfiguration::FromJson(Example("41-sharing-netskope-to-filehashlist.yaml"));
  ASSERT_TRUE(url.ok() && hash.ok());
  url->spec.target.list_size_mb.reset();
  EXPECT_EQ(url->spec.target.EffectiveListSizeMB(), kDefaultUrlListSizeMB);
  EXPECT_EQ(hash->spec.target.EffectiveListSizeMB(), kDefaultFileHashListSizeMB);
  EXPECT_EQ(hash->spec.SyncInterval(), std::chrono::minutes(10));
  EXPECT_EQ(url->spec.OwnershipOrDefault(), Ownership::kShared);
  EXPECT_EQ(hash->spec.OwnershipOrDefault(), Ownership::kExclusive);
  EXPECT_EQ(hash->spec.DeletionPolicyOrDefault(), DeletionPolicy::kRetract);
}

TEST(ApiTypesTest, EmptyListNameFallsBackToDefaultListName) {
  SharingTarget t;
  t.list_name = "";
  t.default_list_name = "fallback";
  EXPECT_EQ(t.EffectiveListName(), "fallback");
  t.list_name = "primary";
  EXPECT_EQ(t.EffectiveListName(), "primary");
}

TEST(ApiTypesTest, NetskopePluginPollsByDefaultAndApiSourceNever) {
  auto netskope = CtePlugin::FromJson(Example("20-cteplugin-netskope.yaml"));
  auto apisource = CtePlugin::FromJson(Example("22-cteplugin-apisource.yaml"));
  ASSERT_TRUE(netskope.ok() && apisource.ok());
  netskope->spec.netskope.reset();
  EXPECT_TRUE(netskope->spec.PollingEnabled());
  EXPECT_EQ(netskope->spec.PollInterval(), std::chrono::minutes(5));
  EXPECT_EQ(netskope->spec.ThreatDataTypeOrDefault(), ThreatDataType::kBoth);
  EXPECT_FALSE(apisource->spec.PollingEnabled());
  EXPECT_EQ(apisource->spec.AgingDaysOrDefault(), 30);
}

TEST(ApiTypesTest, TenantBaseUrlPrefersTheOverride) {
  auto t = NetskopeTenant::FromJson(Example("10-netskopetenant.yaml"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->spec.BaseUrl(), "https://acme.goskope.com");
  t->spec.api_base_url = "http://127.0.0.1:9443/";
  EXPECT_EQ(t->spec.BaseUrl(), "http://127.0.0.1:9443");
}

TEST(ApiTypesTest, StatusIsOmittedUntilSomethingIsObserved) {
  NetskopeTenant t = FullTenant();
  t.status = {};
  EXPECT_FALSE(t.ToJson().contains("status"));
  t.status.conditions = {ReadyCondition()};
  ASSERT_NE(t.status.FindCondition(kConditionReady), nullptr);
  EXPECT_EQ(t.status.FindCondition(kConditionReady)->status, ConditionStatus::kTrue);
  EXPECT_EQ(t.status.FindCondition(kConditionStalled), nullptr);
  EXPECT_TRUE(t.ToJson().contains("status"));
}

// A dotted key reads a nested field and names the whole path in its errors.
TEST(FieldReaderTest, DottedKeysReadNestedFields) {
  const json j = json::parse(R"({"spec": {"ref": {"name": "a", "size": "big"}, "flat": 3}})");
  FieldReader r(j, "");
  std::optional<std::string> name, missing;
  std::optional<int64_t> flat;
  r.Optional("spec.ref.name", &name);
  r.Optional("spec.other.name", &missing);
  r.Optional("spec.flat.deeper", &missing);  // a non-object step: absent
  r.Optional("spec.flat", &flat);
  EXPECT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(name, "a");
  EXPECT_FALSE(missing.has_value());
  EXPECT_EQ(flat, 3);
  std::optional<int64_t> size;
  r.Optional("spec.ref.size", &size);
  EXPECT_EQ(r.status().message(), "spec.ref.size: must be an integer");
}

}  // namespace
}  // namespace cte::api
