// tillroll.toml as `serve` reads it: tokens are stored only as SHA-256 (at most two, for a
// rotation), store scopes must be known stores, and every [http] key is checked.

#include <catch2/catch.hpp>

#include "adapters/http/service_config.h"
#include "engine/limits.h"

namespace tillroll::http {
namespace {

std::string Config(const std::string& principal_extra, const std::string& http = "") {
  return R"([places]
stores = ["store-01", "store-02"]

[[principals]]
id = "service:pos"
source_system = "pos"
roles = ["checkout"]
)" + principal_extra +
         "\n" + http;
}

TEST_CASE("serve config: tokens are SHA-256 hex, at most two, never shared", "[http]") {
  // SHA-256("abc"), FIPS 180-2's own example.
  CHECK(TokenSha256("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string hash = TokenSha256("secret-1");
  Result<ServiceConfig> ok = ParseServiceConfig(
      Config("token_sha256 = [\"" + hash + "\", \"" + TokenSha256("secret-2") + "\"]\n"
             "stores = [\"store-01\"]"));
  REQUIRE(ok.ok());
  REQUIRE(ok->principals.size() == 1);
  CHECK(ok->principals[0].token_sha256.size() == 2);
  CHECK(ok->principals[0].stores == std::vector<std::string>{"store-01"});
  CHECK(ok->http.body_bytes_max == limits::http::kBodyBytesMax);
  CHECK(ok->http.requests_per_s == limits::http::kRequestsPerSecond);

  Result<ServiceConfig> three = ParseServiceConfig(
      Config("token_sha256 = [\"" + hash + "\", \"" + TokenSha256("b") + "\", \"" +
             TokenSha256("c") + "\"]"));
  REQUIRE_FALSE(three.ok());
  CHECK(three.status().message().find("principals[0].token_sha256") != std::string::npos);

  Result<ServiceConfig> plain = ParseServiceConfig(Config("token_sha256 = [\"secret-1\"]"));
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.status().message().find("principals[0].token_sha256[0]") != std::string::npos);
}

TEST_CASE("serve config: store scopes and [http] keys are checked", "[http]") {
  Result<ServiceConfig> unknown_store = ParseServiceConfig(Config("stores = [\"store-99\"]"));
  REQUIRE_FALSE(unknown_store.ok());
  CHECK(unknown_store.status().message().find("principals[0].stores[0]") != std::string::npos);

  Result<ServiceConfig> typo = ParseServiceConfig(Config("", "[http]\nio_thread = 2\n"));
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.status().message().find("http.io_thread: unknown key") != std::string::npos);

  Result<ServiceConfig> zero = ParseServiceConfig(Config("", "[http]\nworkers = 0\n"));
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().message().find("http.workers") != std::string::npos);

  Result<ServiceConfig> set = ParseServiceConfig(
      Config("", "[http]\nlisten = \"0.0.0.0:9000\"\nrequests_per_s = 5\nread_timeout_ms = 250\n"
                 "access_log = false\n"));
  REQUIRE(set.ok());
  CHECK(set->http.listen == "0.0.0.0:9000");
  CHECK(set->http.requests_per_s == 5);
  CHECK(set->http.read_timeout == std::chrono::milliseconds(250));
  CHECK_FALSE(set->http.access_log);
}

}  // namespace
}  // namespace tillroll::http
