#ifndef TILLROLL_TESTS_SUPPORT_HTTP_SERVICE_H_
#define TILLROLL_TESTS_SUPPORT_HTTP_SERVICE_H_

// A real `tillroll serve` on a loopback port for the HTTP tests: a ledger in a temp folder
// (optionally a generated history, like the demo's), tools/demo/tillroll.toml's principals
// and tokens with the test's own [http] table, and a keep-alive client to talk to it.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/http/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/test_support.h"

namespace tillroll::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The demo configuration's tokens (see tools/demo/tillroll.toml).
inline constexpr char kPricingEngine[] = "demo-pricing-engine";  // pricing_manager
inline constexpr char kOdoo[] = "demo-odoo";                     // pricing_manager, source odoo
inline constexpr char kPricingApprover[] = "demo-anna";
inline constexpr char kPromoAuthor[] = "demo-mira";
inline constexpr char kPromoApprover[] = "demo-lena";
inline constexpr char kPos[] = "demo-pos";         // checkout, every store
inline constexpr char kTill02[] = "demo-till-02";  // checkout, store-02 only
inline constexpr char kReturnsDesk[] = "demo-returns";  // returns_desk, store-01 only
inline constexpr char kFinance[] = "demo-petra";
inline constexpr char kAdmin[] = "demo-greta";
inline constexpr char kAuditor[] = "demo-audrey";

class HttpService {
 public:
  // `http_table` is the [http] table's body (e.g. "access_log = false\n").
  explicit HttpService(bool generated_history, const std::string& http_table = "") {
    if (generated_history) {
      const std::string command = (BinaryDir() / "tillroll").string() +
                                  " generate --skus 30 --stores 2 --days 20 --seed 5 --out " +
                                  data().string() + " > /dev/null 2>&1";
      REQUIRE(std::system(command.c_str()) == 0);
    }
    std::string config = ReadFile(std::filesystem::path(TILLROLL_SOURCE_DIR) /
                                  "tools/demo/tillroll.toml");
    config = config.substr(0, config.find("\n[http]"));
    std::ofstream(config_path()) << config << "\n[http]\n" << http_table;
    Start();
  }

  std::filesystem::path data() const { return dir_.path() / "ledger"; }
  std::filesystem::path config_path() const { return dir_.path() / "tillroll.toml"; }
  std::filesystem::path log_path() const { return dir_.path() / "serve.log"; }
  std::uint16_t port() const { return server_->port(); }

  void Start() {
    server_.emplace(data(), config_path(), log_path());
    const std::optional<std::uint16_t> port = server_->WaitServing();
    INFO(ReadFile(log_path()));
    REQUIRE(port.has_value());
    client_.reset();
  }
  int Terminate() { return server_->Terminate(); }
  void Kill() { server_->Kill(); }

  std::unique_ptr<http::HttpClient> Connect() const {
    Result<std::unique_ptr<http::HttpClient>> client = http::HttpClient::Connect("127.0.0.1", port());
    REQUIRE(client.ok());
    return std::move(*client);
  }

  // One request on the shared keep-alive connection (a new one when the server closed it).
  http::HttpReply Send(const std::string& token, const std::string& method,
                       const std::string& target, const std::string& body = "",
                       Headers headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!client_) client_ = Connect();
      Result<http::HttpReply> reply = client_->Send(method, target, body, headers);
      if (reply.ok()) {
        if (!reply->keep_alive) client_.reset();
        return std::move(*reply);
      }
      client_.reset();
    }
    FAIL("no reply to " << method << " " << target);
    return {};
  }
  http::HttpReply Get(const std::string& token, const std::string& target) {
    return Send(token, "GET", target);
  }
  http::HttpReply Post(const std::string& token, const std::string& target,
                       const nlohmann::json& body, Headers headers = {}) {
    return Send(token, "POST", target, body.dump(), std::move(headers));
  }

  // The log's head, as /readyz reports it.
  std::uint64_t Head() {
    const nlohmann::json ready = nlohmann::json::parse(Get("", "/readyz").body);
    return ready["head_seq"].get<std::uint64_t>();
  }

 private:
  TempDir dir_;
  std::optional<ServerProcess> server_;
  std::unique_ptr<http::HttpClient> client_;
};

}  // namespace tillroll::testing

#endif  // TILLROLL_TESTS_SUPPORT_HTTP_SERVICE_H_
