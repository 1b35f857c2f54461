#include "operator/netskope/alert_iterator.h"

#include <algorithm>

namespace cte::netskope {

std::string IteratorIndexName(std::string_view tenant, AlertType type) {
  std::string out = std::string(tenant) + "_" + std::string(AlertTypeName(type));
  out.erase(std::remove(out.begin(), out.end(), ' '), out.end());
  return out;
}

AlertIterator::AlertIterator(TenantClient& client, Clock& clock, AlertType type, std::string index)
    : client_(client), clock_(clock), type_(type), index_(std::move(index)) {}

void AlertIterator::Cancel() {
  cancelled_ = true;
  clock_.Notify();  // wakes the wait_time pause here and the client's limiter and retry waits
}

StatusOr<AlertPage> AlertIterator::Fetch(const IteratorOperation& operation) {
  if (not_before_) {
    MonoTime now = clock_.Now();
    if (*not_before_ > now) {
      clock_.WaitFor(*not_before_ - now, [this] { return cancelled_.load(); });
    }
  }
  if (cancelled_) return UnavailableError("alert iterator cancelled");
  auto page = client_.IterateAlerts(type_, index_, operation, &cancelled_);
  if (!page.ok()) return page;
  Duration wait = page->wait_time ? std::chrono::seconds(std::max<int64_t>(0, *page->wait_time))
                                  : Duration(kDefaultWait);
  not_before_ = clock_.Now() + wait;
  return page;
}

}  // namespace cte::netskope
