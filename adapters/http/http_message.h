#ifndef TILLROLL_ADAPTERS_HTTP_HTTP_MESSAGE_H_
#define TILLROLL_ADAPTERS_HTTP_HTTP_MESSAGE_H_

// A request and a response as the API's handlers see them: plain values, no Beast, so the
// handlers can be called and tested without a socket (adapters/http/api.h).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tillroll::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded, without the query: "/v1/prices/SKU-000002"
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded, in order
  std::string authorization;                               // the Authorization header
  std::string idempotency_key;                             // the Idempotency-Key header
  std::string if_match;                                    // the If-Match header
  std::string content_type;
  std::string body;
  std::string request_id;  // X-Request-Id as sent (checked), or one the server made up

  // The first value of a query parameter.
  std::optional<std::string_view> Param(std::string_view name) const {
    for (const auto& [key, value] : query) {
      if (key == name) return std::string_view(value);
    }
    return std::nullopt;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
};

// The error body of every failed request: {"error": code, "message": ..., "field": path}.
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view field = {});

// Splits a request target into its decoded path and query parameters. False when the target
// is not an absolute path or holds a bad percent escape.
bool ParseTarget(std::string_view target, HttpRequest& request);

}  // namespace tillroll::http

#endif  // TILLROLL_ADAPTERS_HTTP_HTTP_MESSAGE_H_
