// The few OpenSSL primitives the ingest API uses (token signing, credential versions, secret
// comparison), in one place so every caller gets the same checked calls.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cte::ingest {

// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// `n` bytes from OpenSSL's CSPRNG; aborts the process if it ever fails (nothing signed with a
// weak key is better than a crash).
std::string RandomBytes(size_t n);

// Equal-time comparison of two secrets of any length (over their SHA-256 digests).
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace cte::ingest
