// A string that holds a credential (tenant token, client secret, bearer token). It converts to
// JSON, and prints, as "[redacted]", so it cannot leak through a log field, an event or a status
// by accident; code that must send it calls Reveal() at the last moment.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace cte {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}

  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend bool operator==(const SecretString& a, const SecretString& b) {
    return a.value_ == b.value_;
  }

 private:
  std::string value_;
};

inline void to_json(nlohmann::json& j, const SecretString&) { j = "[redacted]"; }
inline std::ostream& operator<<(std::ostream& os, const SecretString&) {
  return os << "[redacted]";
}

}  // namespace cte
