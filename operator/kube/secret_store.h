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
#include <type_traits>
#include <utility>
#include <vector>

#include "operator/core/secret_string.h"
#include "operator/core/status.h"
#include "operator/kube/client.h"
#include "operator/kube/informer.h"
#include "operator/kube/lister.h"
#include "operator/kube/object_helpers.h"

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

  // The whole step for a controller whose objects reference Secrets: indexes `referrers` under
  // `index` by the Secret keys "namespace/name" that `refs` returns, holds those Secrets' data
  // (AddReferrer) and enqueues the referrers when one of them changes. Before the informers start.
  template <ParsedFromJson T>
  void WatchReferences(
      Controller& controller, Lister<T>& referrers, const std::string& index,
      std::type_identity_t<std::function<std::vector<std::string>(const T&)>> refs) {
    referrers.AddIndex(index, std::move(refs));
    AddReferrer(referrers.informer(), index);
    controller.Watches(informer_, EnqueueByIndex(referrers.informer(), index));
  }

  // The Secret with its data. NotFound when the Secret does not exist (as the metadata cache
  // sees it); the API error when the GET fails.
  StatusOr<std::shared_ptr<const Secret>> Get(const std::string& ns, const std::string& name);
  // One value of a Secret: NotFound when the Secret ("Secret <ns>/<name> not found") or the key
  // ("Secret <name> has no key <key>") is missing; the API error when the GET fails.
  StatusOr<SecretString> Value(const std::string& ns, const std::string& name,
                               const std::string& key);

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
