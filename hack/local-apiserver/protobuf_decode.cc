#include "hack/local-apiserver/protobuf_decode.h"

#include <cstdint>
#include <functional>
#include <string>

#include "operator/core/base64.h"

namespace cte::apiserver {
namespace {

using nlohmann::json;

// A minimal protobuf wire reader: varints and length-delimited fields are all these kinds use.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  bool ok() const { return ok_; }

  bool Next(uint32_t& field, uint32_t& wire) {
    uint64_t key = 0;
    if (!Varint(key)) return false;
    field = static_cast<uint32_t>(key >> 3);
    wire = static_cast<uint32_t>(key & 7);
    return true;
  }
  bool Varint(uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      auto b = static_cast<uint8_t>(data_[pos_++]);
      out |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    ok_ = false;
    return false;
  }
  bool Bytes(std::string_view& out) {
    uint64_t n = 0;
    if (!Varint(n) || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(uint32_t wire) {
    uint64_t v;
    std::string_view s;
    switch (wire) {
      case 0:
        return Varint(v);
      case 1:
        pos_ += 8;
        return pos_ <= data_.size();
      case 2:
        return Bytes(s);
      case 5:
        pos_ += 4;
        return pos_ <= data_.size();
      default:
        ok_ = false;
        return false;
    }
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Reads a map entry message {key = 1, value = 2}.
bool MapEntry(std::string_view entry, std::string& key, std::string& value) {
  Reader r(entry);
  uint32_t f, w;
  while (!r.done() && r.Next(f, w)) {
    std::string_view s;
    if (w == 2 && (f == 1 || f == 2)) {
      if (!r.Bytes(s)) return false;
      (f == 1 ? key : value) = std::string(s);
    } else if (!r.Skip(w)) {
      return false;
    }
  }
  return r.ok();
}

// Walks a message, calling `on_field` for length-delimited fields and `on_varint` for varints.
bool Walk(std::string_view msg, const std::function<bool(uint32_t, std::string_view)>& on_bytes,
          const std::function<void(uint32_t, uint64_t)>& on_varint = nullptr) {
  Reader r(msg);
  uint32_t f, w;
  while (!r.done()) {
    if (!r.Next(f, w)) return false;
    if (w == 2) {
      std::string_view s;
      if (!r.Bytes(s) || !on_bytes(f, s)) return false;
    } else if (w == 0) {
      uint64_t v;
      if (!r.Varint(v)) return false;
      if (on_varint) on_varint(f, v);
    } else if (!r.Skip(w)) {
      return false;
    }
  }
  return r.ok();
}

bool ObjectMeta(std::string_view msg, json& md) {
  return Walk(msg, [&](uint32_t f, std::string_view s) {
    std::string k, v;
    switch (f) {
      case 1:
        md["name"] = std::string(s);
        return true;
      case 2:
        md["generateName"] = std::string(s);
        return true;
      case 3:
        md["namespace"] = std::string(s);
        return true;
      case 5:
        md["uid"] = std::string(s);
        return true;
      case 6:
        md["resourceVersion"] = std::string(s);
        return true;
      case 11:
        if (!MapEntry(s, k, v)) return false;
        md["labels"][k] = v;
        return true;
      case 12:
        if (!MapEntry(s, k, v)) return false;
        md["annotations"][k] = v;
        return true;
      case 14:
        md["finalizers"].push_back(std::string(s));
        return true;
      default:
        return true;  // server-set fields (timestamps, managedFields) are ignored
    }
  });
}

}  // namespace

StatusOr<json> DecodeKubernetesProtobuf(std::string_view body) {
  if (body.size() < 4 || body.substr(0, 4) != std::string_view("k8s\0", 4)) {
    return InvalidArgumentError("protobuf body does not start with the Kubernetes magic prefix");
  }
  std::string api_version, kind;
  std::string_view raw;
  bool ok = Walk(body.substr(4), [&](uint32_t f, std::string_view s) {
    if (f == 1) {
      return Walk(s, [&](uint32_t tf, std::string_view ts) {
        if (tf == 1) api_version = std::string(ts);
        if (tf == 2) kind = std::string(ts);
        return true;
      });
    }
    if (f == 2) raw = s;
    return true;
  });
  if (!ok) return InvalidArgumentError("malformed protobuf envelope");
  json obj = {{"apiVersion", api_version}, {"kind", kind}, {"metadata", json::object()}};
  std::string k, v;
  if (api_version == "v1" && kind == "Secret") {
    ok = Walk(
        raw,
        [&](uint32_t f, std::string_view s) {
          switch (f) {
            case 1:
              return ObjectMeta(s, obj["metadata"]);
            case 2:
              if (!MapEntry(s, k, v)) return false;
              obj["data"][k] = Base64Encode(v);
              return true;
            case 3:
              obj["type"] = std::string(s);
              return true;
            case 4:
              if (!MapEntry(s, k, v)) return false;
              obj["stringData"][k] = v;
              return true;
            default:
              return true;
          }
        },
        [&](uint32_t f, uint64_t val) {
          if (f == 5) obj["immutable"] = val != 0;
        });
  } else if (api_version == "v1" && kind == "ConfigMap") {
    ok = Walk(
        raw,
        [&](uint32_t f, std::string_view s) {
          switch (f) {
            case 1:
              return ObjectMeta(s, obj["metadata"]);
            case 2:
              if (!MapEntry(s, k, v)) return false;
              obj["data"][k] = v;
              return true;
            case 3:
              if (!MapEntry(s, k, v)) return false;
              obj["binaryData"][k] = Base64Encode(v);
              return true;
            default:
              return true;
          }
        },
        [&](uint32_t f, uint64_t val) {
          if (f == 4) obj["immutable"] = val != 0;
        });
  } else if (api_version == "v1" && kind == "Namespace") {
    ok = Walk(raw, [&](uint32_t f, std::string_view s) {
      if (f == 1) return ObjectMeta(s, obj["metadata"]);
      return true;
    });
  } else {
    return InvalidArgumentError(
        "protobuf bodies are understood only for v1 Secret, ConfigMap and "
        "Namespace; send " +
        kind + " as JSON");
  }
  if (!ok) return InvalidArgumentError("malformed protobuf " + kind);
  return obj;
}

}  // namespace cte::apiserver
