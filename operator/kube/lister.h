// Typed, read-only views of an informer's cache, so a reconciler works with its kind's C++ type
// instead of JSON: Get(ns, name) hands out a std::shared_ptr<const T> that is parsed once per
// object version and shared by every caller until the object changes (kubebuilder's typed
// client.Reader over the cache).
//
// T is any type with `static StatusOr<T> FromJson(const nlohmann::json&)` (the CRD types of
// controllers/api, kube::SecretMeta below). An object that fails to parse is reported by Get with
// the parser's error, which names the field; List and ByIndex skip it.
//
// Threading: every method may be called from any thread (reconcile workers, event handlers).
// AddIndex only before the informer starts.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "operator/core/status.h"
#include "operator/kube/controller.h"
#include "operator/kube/informer.h"

namespace cte::kube {

template <typename T>
concept ParsedFromJson = requires(const nlohmann::json& j) {
  { T::FromJson(j) } -> std::same_as<StatusOr<T>>;
};

// One cached object as both views, taken from the same snapshot: the typed object for the
// reconciler's logic and the JSON it was parsed from for status writes, patches and Events.
template <typename T>
struct Cached {
  ObjectPtr raw;                             // null: not in the cache
  StatusOr<std::shared_ptr<const T>> typed;  // NotFound when raw is null; else T or the parse error

  bool ok() const { return typed.ok(); }
  // The typed object; only when ok().
  const T& operator*() const { return **typed; }
  const T* operator->() const { return typed->get(); }
};

template <ParsedFromJson T>
class Lister {
 public:
  using Ptr = std::shared_ptr<const T>;

  explicit Lister(Informer& informer) : informer_(informer) {}
  Lister(const Lister&) = delete;
  Lister& operator=(const Lister&) = delete;

  // The object as the informer last saw it. NotFound when it is not in the cache; the parse
  // error (InvalidArgument naming the field) when it does not fit T.
  StatusOr<Ptr> Get(const std::string& ns, const std::string& name) const {
    return LookupKey(ns.empty() ? name : ns + "/" + name).typed;
  }
  StatusOr<Ptr> Get(const Request& request) const { return LookupKey(request.Key()).typed; }

  // The cached JSON of the same object (for status writes, patches and Events, which need the
  // fields T does not model). Null when absent.
  ObjectPtr Raw(const std::string& ns, const std::string& name) const {
    return informer_.cache().Get(ns.empty() ? name : ns + "/" + name);
  }

  // Both views of one object from one cache snapshot, so they always describe the same version
  // (Get then Raw may straddle an update or a delete). `raw` is set whenever the object is
  // cached, also when it does not parse (a reconciler reports that in its status).
  Cached<T> Lookup(const std::string& ns, const std::string& name) const {
    return LookupKey(ns.empty() ? name : ns + "/" + name);
  }
  Cached<T> Lookup(const Request& request) const { return LookupKey(request.Key()); }

  // Every object that parses, in one namespace (empty: all), in key order.
  std::vector<Ptr> List(const std::string& ns = "") const {
    std::vector<Ptr> out;
    for (const ObjectPtr& raw : informer_.cache().List()) {
      if (!ns.empty() && raw->value("/metadata/namespace"_json_pointer, std::string()) != ns) {
        continue;
      }
      if (auto parsed = Parse(ObjectKey(*raw), raw); parsed.ok()) out.push_back(*parsed);
    }
    return out;
  }

  // Objects whose index `index` produced `value` (see AddIndex).
  std::vector<Ptr> ByIndex(const std::string& index, const std::string& value) const {
    std::vector<Ptr> out;
    for (const ObjectPtr& raw : informer_.cache().ByIndex(index, value)) {
      if (auto parsed = Parse(ObjectKey(*raw), raw); parsed.ok()) out.push_back(*parsed);
    }
    return out;
  }

  // Requests for the objects whose index `index` produced `value`: the map of a Watches() that
  // turns a related object into the primaries that reference it.
  std::vector<Request> RequestsByIndex(const std::string& index, const std::string& value) const {
    std::vector<Request> out;
    for (const ObjectPtr& raw : informer_.cache().ByIndex(index, value)) {
      out.push_back(Request::FromKey(ObjectKey(*raw)));
    }
    return out;
  }

  // A secondary index computed from the typed object (objects that do not parse index nothing).
  void AddIndex(const std::string& name, std::function<std::vector<std::string>(const T&)> func) {
    informer_.AddIndex(name, [func = std::move(func)](const nlohmann::json& raw) {
      auto parsed = T::FromJson(raw);
      return parsed.ok() ? func(*parsed) : std::vector<std::string>{};
    });
  }

  Informer& informer() const { return informer_; }

 private:
  // One parse per object version: the memo is keyed by the cache's snapshot pointer, which the
  // informer replaces whenever the object changes.
  struct Entry {
    std::weak_ptr<const nlohmann::json> source;
    StatusOr<Ptr> parsed = Status(StatusCode::kNotFound, "");
  };

  Cached<T> LookupKey(const std::string& key) const {
    ObjectPtr raw = informer_.cache().Get(key);
    return {raw, Parse(key, raw)};
  }

  // Parses `raw`, the cached object of `key`; NotFound when null.
  StatusOr<Ptr> Parse(const std::string& key, const ObjectPtr& raw) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!raw) {
      memo_.erase(key);
      return Status(StatusCode::kNotFound,
                    informer_.resource().String() + " \"" + key + "\" not found");
    }
    auto it = memo_.find(key);
    if (it != memo_.end() && it->second.source.lock() == raw) return it->second.parsed;
    if (memo_.size() > 2 * informer_.cache().Size() + 64) Prune();
    Entry entry;
    entry.source = raw;
    auto parsed = T::FromJson(*raw);
    if (parsed.ok()) {
      entry.parsed = Ptr(std::make_shared<const T>(std::move(parsed).value()));
    } else {
      entry.parsed = Status(parsed.status().code(), informer_.resource().kind + " " + key + ": " +
                                                        parsed.status().message());
    }
    auto result = entry.parsed;
    memo_[key] = std::move(entry);
    return result;
  }

  // Drops entries of objects the cache no longer holds in that version. With mu_ held.
  void Prune() const {
    for (auto it = memo_.begin(); it != memo_.end();) {
      it = it->second.source.expired() ? memo_.erase(it) : std::next(it);
    }
  }

  Informer& informer_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Entry> memo_;
};

}  // namespace cte::kube
