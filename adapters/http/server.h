#ifndef TILLROLL_ADAPTERS_HTTP_SERVER_H_
#define TILLROLL_ADAPTERS_HTTP_SERVER_H_

// The HTTP/1.1 server: Boost.Beast over Asio with C++20 coroutines, keep-alive, a deadline on
// every read and write, io_threads threads for the sockets and the inline routes, and a pool
// of worker threads for the routes that wait (commands wait for their group commit there, so
// that many connections' commands share one synced write).
//
// Limits (HttpSettings, defaults in engine/limits.h): header and body size (431, 413), open
// connections (503 to the ones beyond), an idle keep-alive deadline, read and write deadlines
// for slow clients. Every response carries X-Request-Id (the client's when it sent a sane one).
//
// Shutdown (SIGTERM, SIGINT or Shutdown()): stops accepting, closes idle connections, lets
// in-flight requests finish and answer (with Connection: close) within the shutdown deadline,
// then stops. An append a client saw acknowledged was durable before the answer was written.

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "adapters/http/api.h"
#include "adapters/http/metrics.h"
#include "adapters/http/service_config.h"
#include "engine/status.h"

namespace tillroll::http {

class Server {
 public:
  // Binds settings.listen ("HOST:PORT"; port 0 picks a free one) and starts serving.
  // `access_log` gets one JSON line per request (nullptr: none). Unavailable when the address
  // cannot be bound; InvalidArgument when it is malformed.
  static Result<std::unique_ptr<Server>> Start(Api& api, Metrics& metrics,
                                               const HttpSettings& settings,
                                               std::function<void(std::string_view)> access_log);
  ~Server();  // shuts down if still serving
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  // Shuts down on SIGTERM or SIGINT.
  void ShutdownOnSignals();
  // Starts the shutdown; returns at once. Any thread.
  void Shutdown();
  // Blocks until the server has shut down. True when every in-flight request finished within
  // the shutdown deadline.
  bool Wait();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillroll::http

#endif  // TILLROLL_ADAPTERS_HTTP_SERVER_H_
