#include "operator/ingest/indicator_output.h"

#include <cstdio>

#include "operator/core/time_format.h"

namespace cte::ingest {
namespace {

void AppendTime(std::string& out, WallTime t) {
  out += '"';
  out += FormatRfc3339(t, TimePrecision::kMillis);
  out += '"';
}

void AppendOptTime(std::string& out, const std::optional<WallTime>& t) {
  if (t) {
    AppendTime(out, *t);
  } else {
    out += "null";
  }
}

void AppendTags(std::string& out, const std::vector<std::string>& tags) {
  out += '[';
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, tags[i]);
  }
  out += ']';
}

const char* Bool(bool b) { return b ? "true" : "false"; }

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  // Copy runs of characters that need no escaping in one append.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendIndicator(std::string& out, const store::Indicator& ind, bool with_sources) {
  // The per-source fields, shared by the top level and the one `sources` entry.
  auto source_fields = [&] {
    out += "\"source\":";
    AppendJsonString(out, ind.source.name);
    out += ",\"tags\":";
    AppendTags(out, ind.tags);
    out += ",\"firstSeen\":";
    AppendTime(out, ind.first_seen);
    out += ",\"lastSeen\":";
    AppendTime(out, ind.last_seen);
    out += ",\"reputation\":" + std::to_string(ind.reputation);
    out += ",\"severity\":\"";
    out += store::SeverityName(ind.severity);
    out += "\",\"comments\":";
    AppendJsonString(out, ind.comments);
    out += ",\"extendedInformation\":";
    AppendJsonString(out, ind.extended_information);
    out += ",\"retracted\":";
    out += Bool(ind.retracted);
  };
  out += "{\"value\":";
  AppendJsonString(out, ind.value);
  out += ",\"type\":\"";
  out += store::IndicatorTypeName(ind.type);
  out += "\",\"test\":";
  out += Bool(ind.test);
  out += ",\"safe\":false,\"active\":";
  out += Bool(ind.active);
  out += ",\"internalHits\":0,\"externalHits\":0,\"expiresAt\":";
  AppendOptTime(out, ind.expires_at);
  out += ",\"sharedWith\":[],";
  source_fields();
  if (ind.invalid_at) {
    out += ",\"invalidAt\":";
    AppendTime(out, *ind.invalid_at);
    out += ",\"invalidReason\":";
    AppendJsonString(out, ind.invalid_reason);
  }
  if (with_sources) {
    out += ",\"sources\":[{";
    source_fields();
    out += ",\"internalHits\":0,\"externalHits\":0,\"destinations\":[]}]";
  }
  out += '}';
}

std::string IndicatorsJson(const std::vector<store::Indicator>& rows, bool with_sources) {
  std::string out;
  out.reserve(rows.size() * (with_sources ? 600 : 360) + 2);
  out += '[';
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out += ',';
    AppendIndicator(out, rows[i], with_sources);
  }
  out += ']';
  return out;
}

std::string DetailJson(std::string_view message) {
  std::string out = "{\"detail\":";
  AppendJsonString(out, message);
  out += '}';
  return out;
}

std::string DetailJson(const std::vector<FieldError>& errors) {
  std::string out = "{\"detail\":[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i) out += ',';
    out += '{';
    if (errors[i].index) out += "\"index\":" + std::to_string(*errors[i].index) + ",";
    out += "\"field\":";
    AppendJsonString(out, errors[i].field);
    out += ",\"reason\":";
    AppendJsonString(out, errors[i].reason);
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace cte::ingest
