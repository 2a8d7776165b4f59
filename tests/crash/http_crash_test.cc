// Proves "an append acknowledged over HTTP is never lost": a real `tillroll serve` takes
// commands from 16 keep-alive connections and is killed with SIGKILL at a random moment; every
// command that was answered 2xx must be in the log when the folder is opened again, and the
// chain must verify. Then the server starts again on the same folder (catching its
// projections up) for the next round. TILLROLL_CRASH_KILLS / 20 rounds (default 5);
// TILLROLL_SEED replays them.

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "engine/event_log.h"
#include "tests/crash/child_process.h"
#include "tests/support/http_service.h"

namespace tillroll {
namespace {

constexpr int kConnections = 16;

TEST_CASE("HTTP: every 2xx-acknowledged command survives kill -9 of the server", "[crash]") {
  const std::uint64_t seed = testing::TestSeed("http crash");
  const std::uint64_t rounds = std::max<std::uint64_t>(1, EnvNumber("TILLROLL_CRASH_KILLS").value_or(100) / 20);
  std::mt19937_64 rng(seed);
  testing::HttpService service(/*generated_history=*/false, "access_log = false\n");
  std::size_t total_acknowledged = 0;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    std::mutex mu;
    std::vector<std::string> acknowledged;
    std::vector<std::thread> clients;
    for (int c = 0; c < kConnections; ++c) {
      clients.emplace_back([&, c] {
        Result<std::unique_ptr<http::HttpClient>> client =
            http::HttpClient::Connect("127.0.0.1", service.port());
        if (!client.ok()) return;
        for (int i = 0;; ++i) {
          const std::string key =
              "r" + std::to_string(round) + "-c" + std::to_string(c) + "-" + std::to_string(i);
          Result<http::HttpReply> reply = (*client)->Send(
              "POST", "/v1/authority-rules",
              nlohmann::json{{"rule_id", key},
                             {"source_system", "pos"},
                             {"event_family", "price"},
                             {"allow", false}}
                  .dump(),
              {{"Authorization", std::string("Bearer ") + testing::kAdmin},
               {"Idempotency-Key", key}});
          if (!reply.ok()) return;  // the server is gone
          if (reply->status / 100 == 2) {
            std::lock_guard lock(mu);
            acknowledged.push_back(key);
          }
        }
      });
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 1500)(rng)));
    service.Kill();
    for (std::thread& t : clients) t.join();
    INFO("round " << round << ": " << acknowledged.size() << " acknowledged");
    {
      LogOptions options;
      options.create_if_missing = false;
      Result<std::unique_ptr<EventLog>> log = EventLog::Open(service.data(), options);
      REQUIRE(log.ok());
      for (const std::string& key : acknowledged) {
        INFO(key);
        Result<std::optional<Sequence>> seq =
            (*log)->SeqOfIdempotencyKey("audit:user:greta.hansen:" + key);
        REQUIRE(seq.ok());
        CHECK(seq->has_value());
      }
      const VerifyReport report = (*log)->Verify();
      CHECK(report.status.ok());
    }
    total_acknowledged += acknowledged.size();
    service.Start();
    CHECK(nlohmann::json::parse(service.Get("", "/readyz").body)["ready"] == true);
  }
  CHECK(total_acknowledged > 0);
}

}  // namespace
}  // namespace tillroll
