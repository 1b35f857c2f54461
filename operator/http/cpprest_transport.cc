#include "operator/http/cpprest_transport.h"

#include <cpprest/http_client.h>

#include <boost/asio/ssl.hpp>
#include <cstdlib>
#include <map>
#include <mutex>
#include <system_error>
#include <vector>

#include "operator/http/url.h"

namespace cte::http {
namespace {

namespace client = web::http::client;

std::string Env(const char* a, const char* b) {
  if (const char* v = std::getenv(a); v && *v) return v;
  if (const char* v = std::getenv(b); v && *v) return v;
  return "";
}

Status ClassifyException(const std::exception& e) {
  if (const auto* he = dynamic_cast<const web::http::http_exception*>(&e)) {
    if (he->error_code() == std::errc::timed_out) {
      return Status(StatusCode::kDeadlineExceeded, std::string("request timed out: ") + e.what());
    }
    return UnavailableError(std::string("transport error: ") + e.what());
  }
  if (dynamic_cast<const pplx::task_canceled*>(&e)) {
    return Status(StatusCode::kDeadlineExceeded, "request cancelled");
  }
  return UnavailableError(std::string("transport error: ") + e.what());
}

class CpprestTransport : public HttpTransport {
 public:
  explicit CpprestTransport(TransportOptions options) : options_(std::move(options)) {}

  StatusOr<ClientResponse> Send(const ClientRequest& request) override {
    try {
      std::string rest;
      auto http_client = ClientFor(request, rest);
      if (!http_client.ok()) return http_client.status();
      auto response = (*http_client)->request(BuildRequest(request, rest)).get();
      ClientResponse out = Head(response);
      auto bytes = response.extract_vector().get();
      out.body.assign(bytes.begin(), bytes.end());
      return out;
    } catch (const std::exception& e) {
      return ClassifyException(e);
    }
  }

  Status Stream(const ClientRequest& request, CancelToken& cancel,
                const std::function<void(const ClientResponse& head)>& on_head,
                const std::function<bool(std::string_view data)>& on_data) override {
    pplx::cancellation_token_source cts;
    cancel.OnCancel([cts]() mutable { cts.cancel(); });
    try {
      std::string rest;
      auto http_client = ClientFor(request, rest);
      if (!http_client.ok()) {
        cancel.OnCancel(nullptr);
        return http_client.status();
      }
      auto response = (*http_client)->request(BuildRequest(request, rest), cts.get_token()).get();
      on_head(Head(response));
      auto buffer = response.body().streambuf();
      std::vector<uint8_t> chunk(64 * 1024);
      while (!cancel.cancelled()) {
        // Read what is there, or block for one byte when nothing is: getn waits for the full
        // count on a producer/consumer buffer, so never ask for more than is available.
        size_t want = std::clamp<size_t>(
            static_cast<size_t>(std::max<std::streamsize>(buffer.in_avail(), 1)), 1, chunk.size());
        size_t got = buffer.getn(chunk.data(), want).get();
        if (got == 0) break;  // end of body
        if (!on_data(std::string_view(reinterpret_cast<const char*>(chunk.data()), got))) {
          cts.cancel();
          break;
        }
      }
      cancel.OnCancel(nullptr);
      return Status::Ok();
    } catch (const std::exception& e) {
      cancel.OnCancel(nullptr);
      if (cancel.cancelled()) return Status::Ok();
      return ClassifyException(e);
    }
  }

 private:
  StatusOr<std::shared_ptr<client::http_client>> ClientFor(const ClientRequest& request,
                                                           std::string& rest) {
    auto url = ParseUrl(request.url);
    if (!url.ok()) return url.status();
    for (const auto& [k, v] : request.headers) {
      if (!IsValidHeaderName(k) || !IsValidHeaderValue(v)) {
        return InvalidArgumentError("request header \"" + k +
                                    "\" has an invalid name or a control character in its value");
      }
    }
    rest = url->target;
    auto timeout = request.timeout.count() > 0 ? request.timeout : std::chrono::hours(24);
    // cpprestsdk resends any request whose pooled connection broke before an answer; one marked
    // unrepeatable gets a client of its own, so its connection is new and never resent.
    if (request.repeatable == false) return NewClient(*url, timeout);
    std::string key = url->Origin() + "|" + std::to_string(timeout.count());
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = clients_[key];
    if (!slot) {
      auto made = NewClient(*url, timeout);
      if (!made.ok()) return made.status();
      slot = std::move(made).value();
    }
    return slot;
  }

  StatusOr<std::shared_ptr<client::http_client>> NewClient(const Url& url,
                                                           std::chrono::milliseconds timeout) {
    client::http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    config.set_validate_certificates(!options_.tls.insecure_skip_verify);
    if (!options_.proxy_url.empty() && !HostBypassesProxy(url.host, options_.no_proxy)) {
      auto proxy = ParseUrl(options_.proxy_url);
      if (!proxy.ok()) return proxy.status();
      // Credentials travel as Proxy-Authorization, not inside the URI cpprestsdk keeps.
      web::web_proxy web_proxy(web::uri(proxy->Origin()));
      if (proxy->has_credentials) {
        web_proxy.set_credentials(web::credentials(proxy->user, proxy->password));
      }
      config.set_proxy(web_proxy);
    }
    TlsOptions tls = options_.tls;
    config.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
      if (tls.ca_bundle_pem.empty() || tls.ca_bundle_adds_to_system_roots) {
        ctx.set_default_verify_paths();
      } else {
        // cpprestsdk loads the system roots before calling us; a bundle that must be the only
        // trust anchor starts from an empty store.
        SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
      }
      if (!tls.ca_bundle_pem.empty()) {
        ctx.add_certificate_authority(boost::asio::buffer(tls.ca_bundle_pem));
      }
      if (!tls.client_cert_pem.empty()) {
        ctx.use_certificate_chain(boost::asio::buffer(tls.client_cert_pem));
        ctx.use_private_key(boost::asio::buffer(tls.client_key_pem),
                            boost::asio::ssl::context::pem);
      }
    });
    return std::make_shared<client::http_client>(web::uri(url.Origin()), config);
  }

  static web::http::http_request BuildRequest(const ClientRequest& request,
                                              const std::string& rest) {
    web::http::http_request req(request.method);
    req.set_request_uri(web::uri(rest));
    std::string content_type;
    for (const auto& [k, v] : request.headers) {
      if (!CaseInsensitiveLess{}(k, "Content-Type") && !CaseInsensitiveLess{}("Content-Type", k)) {
        content_type = v;  // the header name equals Content-Type, ignoring case
        continue;
      }
      req.headers().add(k, v);
    }
    if (!request.body.empty() || !content_type.empty()) {
      req.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
      req.headers().set_content_type(content_type.empty() ? "application/octet-stream"
                                                          : content_type);
    }
    return req;
  }

  static ClientResponse Head(const web::http::http_response& response) {
    ClientResponse out;
    out.status = response.status_code();
    for (const auto& [k, v] : response.headers()) out.headers[k] = v;
    return out;
  }

  TransportOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<client::http_client>> clients_;
};

}  // namespace

TransportOptions ProxyFromEnvironment(TransportOptions base) {
  base.proxy_url = Env("HTTPS_PROXY", "https_proxy");
  base.no_proxy = Env("NO_PROXY", "no_proxy");
  return base;
}

bool HostBypassesProxy(const std::string& host, const std::string& no_proxy) {
  size_t start = 0;
  while (start <= no_proxy.size()) {
    size_t comma = no_proxy.find(',', start);
    if (comma == std::string::npos) comma = no_proxy.size();
    std::string entry = no_proxy.substr(start, comma - start);
    entry.erase(0, entry.find_first_not_of(' '));
    entry.erase(entry.find_last_not_of(' ') + 1);
    start = comma + 1;
    if (entry.empty()) continue;
    if (entry == "*" || entry == host) return true;
    std::string suffix = entry[0] == '.' ? entry : "." + entry;
    if (host.size() > suffix.size() &&
        host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

std::unique_ptr<HttpTransport> NewCpprestTransport(TransportOptions options) {
  return std::make_unique<CpprestTransport>(std::move(options));
}

}  // namespace cte::http
