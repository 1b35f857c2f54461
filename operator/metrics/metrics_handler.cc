#include "operator/metrics/metrics_handler.h"

#include <string>

namespace cte::metrics {

void InstallMetricsHandler(http::HttpServer& server, Registry& registry) {
  server.Route(
      "GET", "/metrics",
      [&registry](const http::HttpRequest&, const http::PathParams&, http::ResponseWriter& writer) {
        http::HttpResponse response;
        response.status = 200;
        response.headers["Content-Type"] = std::string(kTextContentType);
        response.body = registry.Render();
        writer.Send(response);
      });
}

}  // namespace cte::metrics
