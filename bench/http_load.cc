#include "bench/http_load.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace tillroll::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

asio::awaitable<void> Connection(std::uint16_t port, int index, const LoadRequests& requests,
                                 const bool& stop, Load& load) {
  const auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  try {
    co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                  asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    beast::flat_buffer buffer;
    for (std::uint64_t i = 0; !stop; ++i) {
      bhttp::request<bhttp::string_body> request{bhttp::verb::post, requests.target, 11};
      request.set(bhttp::field::host, "127.0.0.1");
      request.set(bhttp::field::content_type, "application/json");
      for (const auto& [name, value] : requests.headers) request.set(name, value);
      request.body() = requests.body(index, i);
      request.prepare_payload();
      const auto began = std::chrono::steady_clock::now();
      co_await bhttp::async_write(socket, request, asio::use_awaitable);
      bhttp::response<bhttp::string_body> reply;
      co_await bhttp::async_read(socket, buffer, reply, asio::use_awaitable);
      load.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - began)
              .count());
      if (static_cast<int>(reply.result_int()) != requests.expected_status) ++load.failed;
    }
  } catch (const std::exception&) {
    ++load.failed;
  }
}

}  // namespace

Load DriveHttp(std::uint16_t port, int connections, double seconds, const LoadRequests& requests) {
  asio::io_context ioc(1);
  Load load;
  bool stop = false;
  asio::steady_timer timer(ioc, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(seconds)));
  timer.async_wait([&stop](const boost::system::error_code&) { stop = true; });
  for (int c = 0; c < connections; ++c) {
    asio::co_spawn(ioc, Connection(port, c, requests, stop, load), asio::detached);
  }
  const auto start = std::chrono::steady_clock::now();
  ioc.run();
  load.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  load.done = load.latencies_us.size();
  return load;
}

}  // namespace tillroll::bench
