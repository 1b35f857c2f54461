// HttpTransport over blocking sockets (OpenSSL for TLS) with a keep-alive connection pool.
//
// Why a second implementation: cpprestsdk hands every request and every piece of a watch stream
// between its thread pools, and on a 2-core machine those hand-offs dominated the runtime
// benchmark (docs/benchmarks.md). Here the calling thread does the I/O itself: one write, reads
// with poll() deadlines, no thread hops. Both implementations pass the same transport tests.
#pragma once

#include <memory>

#include "operator/http/cpprest_transport.h"  // TransportOptions, TlsOptions (light header)
#include "operator/http/http_transport.h"

namespace cte::http {

std::unique_ptr<HttpTransport> NewSocketTransport(TransportOptions options = {});

}  // namespace cte::http
