#ifndef TILLROLL_ADAPTERS_HTTP_HTTP_CLIENT_H_
#define TILLROLL_ADAPTERS_HTTP_HTTP_CLIENT_H_

// A blocking HTTP/1.1 client on one keep-alive connection (Boost.Beast), for the tests and the
// load benchmark that talk to `tillroll serve`. Not thread-safe: one per thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace tillroll::http {

struct HttpReply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool keep_alive = true;

  // The first header of that name (case-insensitive); empty when absent.
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  // Unavailable when the connection cannot be made.
  static Result<std::unique_ptr<HttpClient>> Connect(const std::string& host, std::uint16_t port,
                                                     std::chrono::milliseconds timeout =
                                                         std::chrono::seconds(30));
  ~HttpClient();

  // Sends one request and reads its reply. Content-Type is application/json when `body` is not
  // empty and `headers` does not say otherwise. Unavailable when the connection broke (the
  // client is then closed; a new one must connect).
  Result<HttpReply> Send(std::string_view method, std::string_view target,
                         std::string_view body = {},
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Writes raw bytes (a malformed or partial request) without reading.
  Status WriteRaw(std::string_view bytes);
  // Reads one reply after WriteRaw.
  Result<HttpReply> ReadReply();
  // True when the server has closed the connection (a read returns end of stream within
  // `wait`).
  bool ClosedByServer(std::chrono::milliseconds wait);

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillroll::http

#endif  // TILLROLL_ADAPTERS_HTTP_HTTP_CLIENT_H_
