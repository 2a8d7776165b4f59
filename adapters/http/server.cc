#include "adapters/http/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <unordered_map>

#include "engine/limits.h"

namespace tillroll::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string_view View(beast::string_view text) { return {text.data(), text.size()}; }

// A client's X-Request-Id is kept when it is short and plain.
bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// One connection as the shutdown sees it: closed when idle, left to finish when busy.
struct Connection {
  tcp::socket* socket = nullptr;  // null once the session has ended; touched on its strand only
  bool busy = false;
};

}  // namespace

struct Server::Impl {
  Api& api;
  Metrics& metrics;
  HttpSettings settings;
  std::function<void(std::string_view)> access_log;

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::signal_set signals{ioc};
  asio::thread_pool workers;
  std::vector<std::thread> io_threads;

  std::mutex mu;
  std::condition_variable drained;
  std::unordered_map<std::uint64_t, std::pair<asio::strand<asio::io_context::executor_type>,
                                              std::shared_ptr<Connection>>>
      connections;
  std::uint64_t next_connection = 0;
  bool shutting_down = false;
  bool stopped = false;
  bool finished_in_time = true;

  std::uint16_t port = 0;
  std::atomic<std::uint64_t> request_counter;
  const std::uint64_t request_salt;

  Impl(Api& a, Metrics& m, const HttpSettings& s, std::function<void(std::string_view)> log)
      : api(a),
        metrics(m),
        settings(s),
        access_log(std::move(log)),
        workers(s.workers),
        request_counter(0),
        request_salt(std::random_device{}()) {}

  std::string NextRequestId() {
    char text[32];
    std::snprintf(text, sizeof text, "req-%08x-%08llx", static_cast<unsigned>(request_salt),
                  static_cast<unsigned long long>(request_counter.fetch_add(1)));
    return text;
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(
          asio::make_strand(ioc), asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      const auto strand = asio::make_strand(ioc);
      if (static_cast<std::size_t>(metrics.connections()) >= settings.connections_max) {
        asio::co_spawn(strand, Refuse(std::move(socket)), asio::detached);
        continue;
      }
      auto connection = std::make_shared<Connection>();
      std::uint64_t id = 0;
      {
        std::lock_guard lock(mu);
        if (shutting_down) co_return;
        id = next_connection++;
        connections.emplace(id, std::make_pair(strand, connection));
      }
      metrics.ConnectionOpened();
      asio::co_spawn(strand, Session(std::move(socket), id, connection), asio::detached);
    }
  }

  // Over the connection limit: one 503 and close.
  asio::awaitable<void> Refuse(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    bhttp::response<bhttp::string_body> res{bhttp::status::service_unavailable, 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::retry_after, "1");
    res.keep_alive(false);
    res.body() = ErrorResponse(503, "too_many_connections",
                               "the server holds its maximum of " +
                                   std::to_string(settings.connections_max) + " connections")
                     .body;
    res.prepare_payload();
    stream.expires_after(settings.write_timeout);
    beast::error_code ec;
    co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  void Forget(std::uint64_t id) {
    std::lock_guard lock(mu);
    connections.erase(id);
    if (connections.empty()) drained.notify_all();
  }

  asio::awaitable<void> Session(tcp::socket socket, std::uint64_t id,
                                std::shared_ptr<Connection> connection) {
    beast::tcp_stream stream(std::move(socket));
    connection->socket = &stream.socket();
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits::http::kHeaderBytesMax));
      parser.body_limit(settings.body_bytes_max);
      beast::error_code ec;
      stream.expires_after(settings.idle_timeout);
      co_await bhttp::async_read_header(stream, buffer, parser,
                                        asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        connection->busy = true;
        stream.expires_after(settings.read_timeout);
        co_await bhttp::async_read(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
        const bool body = ec == bhttp::error::body_limit;
        HttpResponse refused =
            body ? ErrorResponse(413, "body_too_large",
                                 "the body is over the limit of " +
                                     std::to_string(settings.body_bytes_max) + " bytes")
                 : ErrorResponse(431, "headers_too_large", "the request's headers are too large");
        co_await Write(stream, refused, "", "", false, Clock::now(), "", "");
        break;
      }
      if (ec) break;  // closed, timed out, cancelled by the shutdown, or not HTTP
      const auto started = Clock::now();
      bhttp::request<bhttp::string_body> req = parser.release();
      HttpRequest request;
      request.method = std::string(req.method_string());
      request.authorization = std::string(req[bhttp::field::authorization]);
      request.idempotency_key = std::string(req["Idempotency-Key"]);
      request.if_match = std::string(req[bhttp::field::if_match]);
      request.content_type = std::string(req[bhttp::field::content_type]);
      const std::string_view client_id = View(req["X-Request-Id"]);
      request.request_id = SaneRequestId(client_id) ? std::string(client_id) : NextRequestId();
      request.body = std::move(req.body());
      std::string route_name = "unmatched";
      std::string principal;
      HttpResponse response;
      if (!ParseTarget(View(req.target()), request)) {
        response = ErrorResponse(400, "invalid_target", "the request target is not a valid path");
      } else {
        std::variant<Api::Admitted, HttpResponse> admitted = api.Admit(request);
        if (HttpResponse* refused = std::get_if<HttpResponse>(&admitted)) {
          response = std::move(*refused);
        } else {
          const Api::Admitted& a = std::get<Api::Admitted>(admitted);
          route_name = std::string(a.route->method) + " " + std::string(a.route->pattern);
          if (a.principal != nullptr) principal = a.principal->principal.id;
          if (a.route->work == Work::kWorker) {
            metrics.WorkQueued();
            response = co_await asio::co_spawn(
                workers,
                [this, &a, &request]() -> asio::awaitable<HttpResponse> {
                  co_return api.Handle(a, request);
                },
                asio::use_awaitable);
            metrics.WorkDone();
          } else {
            response = api.Handle(a, request);
          }
        }
      }
      bool keep_alive = req.keep_alive();
      {
        std::lock_guard lock(mu);
        keep_alive = keep_alive && !shutting_down;
      }
      const bool written = co_await Write(stream, std::move(response), request.request_id, route_name,
                                          keep_alive, started, principal,
                                          request.method + " " + request.path);
      connection->busy = false;
      if (!written || !keep_alive) break;
      {
        std::lock_guard lock(mu);
        if (shutting_down) break;
      }
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    connection->socket = nullptr;
    metrics.ConnectionClosed();
    Forget(id);
  }

  // Writes `response`; false when the client did not take it within the write deadline.
  asio::awaitable<bool> Write(beast::tcp_stream& stream, HttpResponse response,
                              const std::string& request_id, const std::string& route,
                              bool keep_alive, Clock::time_point started,
                              const std::string& principal, const std::string& target) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(response.status), 11};
    res.set(bhttp::field::server, "tillroll");
    res.set(bhttp::field::content_type, response.content_type);
    if (!request_id.empty()) res.set("X-Request-Id", request_id);
    for (const auto& [name, value] : response.headers) res.set(name, value);
    res.keep_alive(keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();
    stream.expires_after(settings.write_timeout);
    beast::error_code ec;
    co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (!route.empty()) metrics.ObserveRequest(route, response.status, seconds);
    if (access_log && !route.empty()) {
      nlohmann::ordered_json line = {{"msg", "request"},
                                     {"request_id", request_id},
                                     {"request", target},
                                     {"route", route},
                                     {"status", response.status},
                                     {"principal", principal},
                                     {"duration_us", static_cast<std::int64_t>(seconds * 1e6)}};
      if (ec) line["write_error"] = ec.message();
      access_log(line.dump());
    }
    co_return !ec;
  }

  void BeginShutdown() {
    std::vector<std::pair<asio::strand<asio::io_context::executor_type>,
                          std::shared_ptr<Connection>>>
        open;
    {
      std::lock_guard lock(mu);
      if (shutting_down) return;
      shutting_down = true;
      for (const auto& [id, entry] : connections) open.push_back(entry);
      drained.notify_all();
    }
    asio::post(ioc, [this] {
      beast::error_code ec;
      acceptor.close(ec);
      signals.cancel(ec);
    });
    for (auto& [strand, connection] : open) {
      asio::post(strand, [connection] {
        if (connection->socket != nullptr && !connection->busy) {
          beast::error_code ec;
          connection->socket->cancel(ec);
        }
      });
    }
  }

  // After BeginShutdown: waits for the connections to finish, then stops the threads.
  void Finish() {
    {
      std::unique_lock lock(mu);
      if (stopped) return;
      finished_in_time = drained.wait_for(lock, settings.shutdown_timeout,
                                          [this] { return connections.empty(); });
      stopped = true;
    }
    ioc.stop();
    for (std::thread& t : io_threads) t.join();
    io_threads.clear();
    // A command still deciding finishes its append; its answer has nobody to go to.
    workers.join();
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Shutdown();
  impl_->Finish();
}

Result<std::unique_ptr<Server>> Server::Start(Api& api, Metrics& metrics,
                                              const HttpSettings& settings,
                                              std::function<void(std::string_view)> access_log) {
  const std::size_t colon = settings.listen.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("listen: expected HOST:PORT, got '" + settings.listen + "'");
  }
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(settings.listen.substr(0, colon), ec);
  if (ec) {
    return Status::InvalidArgument("listen: '" + settings.listen.substr(0, colon) +
                                   "' is not an IP address");
  }
  unsigned long port = 0;
  try {
    port = std::stoul(settings.listen.substr(colon + 1));
  } catch (...) {
    port = 70000;
  }
  if (port > 65535) {
    return Status::InvalidArgument("listen: '" + settings.listen + "' has no valid port");
  }
  auto impl = std::make_unique<Impl>(api, metrics, settings, std::move(access_log));
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + settings.listen + ": " + ec.message());
  }
  Impl* raw = impl.get();
  raw->port = raw->acceptor.local_endpoint().port();
  asio::co_spawn(raw->ioc, raw->Accept(), asio::detached);
  for (unsigned i = 0; i < settings.io_threads; ++i) {
    raw->io_threads.emplace_back([raw] { raw->ioc.run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const { return impl_->port; }

void Server::ShutdownOnSignals() {
  impl_->signals.add(SIGTERM);
  impl_->signals.add(SIGINT);
  impl_->signals.async_wait([this](const beast::error_code& ec, int) {
    if (!ec) impl_->BeginShutdown();
  });
}

void Server::Shutdown() { impl_->BeginShutdown(); }

bool Server::Wait() {
  {
    std::unique_lock lock(impl_->mu);
    impl_->drained.wait(lock, [this] { return impl_->shutting_down; });
  }
  impl_->Finish();
  return impl_->finished_in_time;
}

}  // namespace tillroll::http
