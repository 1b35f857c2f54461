// A string that holds a credential (tenant token, client secret, bearer token). It converts to
// JSON, and prints, as "[redacted]", so it cannot leak through a log field, an event or a status
// by accident; code that must send it calls Reveal() at the last moment.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>

namespace cte {

// Compares two secrets in time that depends on their lengths only, not on where they first
// differ, so a client cannot find a token byte by byte from response times.
inline bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Always walk the presented value; mismatched lengths still cost the same loop.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char x = a.empty() ? 0 : static_cast<unsigned char>(a[i % a.size()]);
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  // Keep the compiler from turning the loop into an early-exit comparison.
  volatile unsigned char result = diff;
  return result == 0;
}

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}

  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  // A presented credential matches (in constant time).
  bool Matches(std::string_view presented) const { return ConstantTimeEquals(value_, presented); }
  friend bool operator==(const SecretString& a, const SecretString& b) {
    return ConstantTimeEquals(a.value_, b.value_);
  }

 private:
  std::string value_;
};

inline void to_json(nlohmann::json& j, const SecretString&) { j = "[redacted]"; }
inline std::ostream& operator<<(std::ostream& os, const SecretString&) {
  return os << "[redacted]";
}

}  // namespace cte
