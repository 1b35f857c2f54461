// Beast helpers shared by the server and the socket transport. Internal to operator/http: only
// .cc files include it, so Beast stays out of every public header.
#pragma once

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/serializer.hpp>
#include <string>
#include <string_view>

#include "operator/http/http_types.h"

namespace cte::http::internal {

// Runs Beast's serializer to completion into one string (the header alone with `header_only`),
// so a message leaves in one write.
template <bool kIsRequest, class Body, class Fields>
std::string Serialize(boost::beast::http::message<kIsRequest, Body, Fields>& message,
                      bool header_only) {
  boost::beast::http::serializer<kIsRequest, Body, Fields> sr(message);
  sr.split(header_only);
  std::string out;
  boost::system::error_code ec;
  while (!(header_only ? sr.is_header_done() : sr.is_done())) {
    sr.next(ec, [&](boost::system::error_code& e, const auto& buffers) {
      e = {};
      size_t n = 0;
      for (const auto b : boost::beast::buffers_range_ref(buffers)) {
        out.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      sr.consume(n);
    });
    if (ec) break;
  }
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return !CaseInsensitiveLess{}(a, b) && !CaseInsensitiveLess{}(b, a);
}

// Headers whose values the framing code owns: a caller's or handler's copy is dropped.
inline bool IsFramingHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection");
}

}  // namespace cte::http::internal
