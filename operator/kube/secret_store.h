// Secrets without holding every Secret: the informer behind the store watches Secrets' metadata
// only (PartialObjectMetadata, as controller-runtime's metadata informers do), and the data of a
// Secret is fetched with one GET when a reconciler asks for it, kept while some custom resource
// references it, and fetched again once its resourceVersion moves. A rotated token is therefore
// picked up as soon as the metadata watch reports the change (a Watches() on the same informer
// maps it to the objects that use the Secret), typically within a second.
//
// Threading: Get may be called from any thread; it does I/O (the GET) without holding the lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operator/core/secret_string.h"
#include "operator/core/status.h"
#include "operator/kube/client.h"
#include "operator/kube/informer.h"

namespace cte::kube {

// The kind a metadata-only informer for Secrets watches.
extern const GroupVersionResource kSecretsResource;

struct Secret {
  std::string namespace_name;
  std::string name;
  std::string resource_version;
  std::map<std::string, SecretString> data;  // decoded from base64

  // The value of `key`, or nullptr.
  const SecretString* Find(const std::string& key) const;
};

class SecretStore {
 public:
  // `informer` must watch kSecretsResource with InformerOptions::metadata_only; it must outlive
  // the store.
  SecretStore(KubeClient& client, Informer& informer);

  // Declares that objects of `referrer` reference Secrets through the index `index`, whose values
  // are Secret keys "namespace/name". Data of a Secret that no referrer's index names is dropped.
  // Before the informers start.
  void AddReferrer(const Informer& referrer, std::string index);

  // The Secret with its data. NotFound when the Secret does not exist (as the metadata cache
  // sees it); the API error when the GET fails.
  StatusOr<std::shared_ptr<const Secret>> Get(const std::string& ns, const std::string& name);

  // Secrets whose data is held right now (for tests and the memory figure).
  size_t HeldCount() const;
  Informer& informer() const { return informer_; }

 private:
  bool Referenced(const std::string& key) const;
  void PruneLocked();

  KubeClient& client_;
  Informer& informer_;
  std::vector<std::pair<const Informer*, std::string>> referrers_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Secret>> held_;
};

}  // namespace cte::kube
