#ifndef TILLROLL_ADAPTERS_HTTP_SERVICE_CONFIG_H_
#define TILLROLL_ADAPTERS_HTTP_SERVICE_CONFIG_H_

// What `tillroll serve` reads from tillroll.toml besides the governance of
// engine/governance_config.h: the [http] table and, per principal, its bearer tokens and the
// stores it acts for.
//
//   [http]
//   listen = "127.0.0.1:8080"
//   io_threads = 2              # threads running the sockets, queries and cart pricing
//   workers = 64                # threads deciding commands (each waits for its group commit)
//   body_bytes_max = 33554432   # 413 above; defaults for every key are in engine/limits.h
//   batch_commands_max = 50000
//   connections_max = 1024      # further connections get 503
//   requests_per_s = 20000      # per principal, token bucket; 429 + Retry-After beyond
//   requests_burst = 40000
//   read_timeout_ms = 10000     # a request must arrive within this once started
//   write_timeout_ms = 10000
//   idle_timeout_ms = 60000     # keep-alive connections idle this long are closed
//   shutdown_timeout_ms = 10000 # SIGTERM: in-flight requests get this long
//   access_log = true           # one JSON line per request on stderr
//
//   [[principals]]
//   id = "service:pos-gateway"
//   source_system = "pos"
//   roles = ["checkout"]
//   token_sha256 = ["<hex>", "<hex>"]  # SHA-256 of each bearer token; two during a rotation
//   stores = ["store-01"]              # object scope: carts, sales and returns of these only
//
// Tokens are never stored, only their SHA-256 (`tillroll token-hash TOKEN` prints it).

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/governance_config.h"

namespace tillroll::http {

struct HttpSettings {
  std::string listen = "127.0.0.1:8080";
  unsigned io_threads = 2;
  unsigned workers = 64;
  std::size_t body_bytes_max = 0;  // 0 in each of these: the engine/limits.h default
  std::size_t batch_commands_max = 0;
  std::size_t connections_max = 0;
  double requests_per_s = 0;
  double requests_burst = 0;
  std::chrono::milliseconds read_timeout{0};
  std::chrono::milliseconds write_timeout{0};
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds shutdown_timeout{0};
  bool access_log = true;
};

// A principal as the API knows it: who it is, how it proves it, and the stores it acts for.
struct ApiPrincipal {
  Principal principal;
  std::vector<std::string> token_sha256;  // lower-case hex, at most two
  std::vector<std::string> stores;        // empty: every store
};

struct ServiceConfig {
  GovernanceConfig governance;
  HttpSettings http;
  std::vector<ApiPrincipal> principals;
};

// InvalidArgument naming the key path ("http.io_threads", "principals[2].token_sha256[0]")
// and the reason; NotFound when the file is missing.
Result<ServiceConfig> LoadServiceConfig(const std::filesystem::path& path);
Result<ServiceConfig> ParseServiceConfig(std::string_view toml_text);

// The SHA-256 of a bearer token, lower-case hex: what the configuration stores.
std::string TokenSha256(std::string_view token);

}  // namespace tillroll::http

#endif  // TILLROLL_ADAPTERS_HTTP_SERVICE_CONFIG_H_
