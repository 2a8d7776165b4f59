#ifndef TILLROLL_BENCH_HTTP_LOAD_H_
#define TILLROLL_BENCH_HTTP_LOAD_H_

// The load generator of `tillroll-bench http`, in the manner of wrk: keep-alive connections to
// a loopback port driven by one thread's event loop (Boost.Beast, C++20 coroutines), each
// sending its next request as soon as the reply to the last one is read. One thread, not one
// per connection, so that the client takes as little of the machine it shares with the
// server as it can.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tillroll::bench {

struct Load {
  std::uint64_t done = 0;    // requests answered
  std::uint64_t failed = 0;  // of them, with another status than expected
  std::vector<double> latencies_us;
  double seconds = 0;
};

struct LoadRequests {
  std::string target;  // e.g. "/v1/carts/price"
  std::vector<std::pair<std::string, std::string>> headers;
  // The body of request `i` on connection `connection` (POST, application/json).
  std::function<std::string(int connection, std::uint64_t i)> body;
  int expected_status = 200;
};

// Runs `connections` connections to 127.0.0.1:`port` for `seconds`; a connection that breaks
// counts one failure and stops.
Load DriveHttp(std::uint16_t port, int connections, double seconds, const LoadRequests& requests);

}  // namespace tillroll::bench

#endif  // TILLROLL_BENCH_HTTP_LOAD_H_
