// tillroll-bench http: the service under load on loopback, against the same work done
// in-process in the same run.
//
//   cart_price_http  10-line carts priced over HTTP by 16 keep-alive connections, on a
//                    generated ledger (200 SKUs, 5 stores, 30 days); baseline: the same carts
//                    priced by CartQuoter on one thread, no HTTP. Goal: >= 20k carts/s with
//                    p99 <= 10 ms.
//   command_http     durable single set_price commands over 64 keep-alive connections (each
//                    its own SKU); baseline: the same commands through CommandExecutor::Submit
//                    from 64 threads, no HTTP. Goal: >= 20k commands/s.
//
// Client and server share this machine's cores; the client is one event-loop thread
// (bench/http_load.h). --seconds sets each run (default 5).

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "adapters/http/api.h"
#include "adapters/http/server.h"
#include "adapters/http/service_config.h"
#include "bench/bench_support.h"
#include "bench/http_load.h"
#include "engine/clock.h"
#include "engine/command_executor.h"
#include "engine/utc_time.h"
#include "projections/cart_quote.h"
#include "projections/decision_state.h"
#include "tools/generate/history_generator.h"

namespace tillroll::bench {
namespace {

using json = nlohmann::json;

constexpr int kCartConnections = 16;
constexpr int kCommandConnections = 64;
constexpr std::size_t kSkus = 200;
constexpr std::size_t kStores = 5;
constexpr char kCheckoutToken[] = "bench-checkout";
constexpr char kPricingToken[] = "bench-pricing";

std::string Config() {
  return "[[principals]]\nid = \"service:pricing-engine\"\nsource_system = \"pricing-engine\"\n"
         "roles = [\"pricing_manager\"]\ntoken_sha256 = [\"" +
         http::TokenSha256(kPricingToken) +
         "\"]\n\n[[principals]]\nid = \"service:pos\"\nsource_system = \"pos\"\n"
         "roles = [\"checkout\"]\ntoken_sha256 = [\"" +
         http::TokenSha256(kCheckoutToken) +
         "\"]\n\n[http]\nlisten = \"127.0.0.1:0\"\nio_threads = 2\nworkers = 64\n"
         "requests_per_s = 10000000\nrequests_burst = 10000000\naccess_log = false\n";
}

std::vector<std::string> Carts(std::size_t count) {
  std::mt19937_64 rng(42);
  std::vector<std::string> carts;
  for (std::size_t i = 0; i < count; ++i) {
    json lines = json::array();
    for (int l = 0; l < 10; ++l) {
      char sku[16];
      std::snprintf(sku, sizeof sku, "SKU-%06zu", 1 + rng() % kSkus);
      lines.push_back({{"sku", sku}, {"qty", 1 + static_cast<int>(rng() % 3)}});
    }
    char store[16];
    std::snprintf(store, sizeof store, "store-%02zu", 1 + rng() % kStores);
    carts.push_back(json{{"currency", "EUR"},
                         {"channel", "pos"},
                         {"region", "de-north"},
                         {"store", store},
                         {"customer", {{"customer_id", "C-" + std::to_string(rng() % 1000)}}},
                         {"lines", lines}}
                        .dump());
  }
  return carts;
}

// Runs `threads` workers for `seconds`; each calls work(thread, i) and times it.
template <typename Work>
Load Run(int threads, double seconds, Work work) {
  std::mutex mu;
  Load load;
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<double> mine;
      std::uint64_t failed = 0;
      for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto began = std::chrono::steady_clock::now();
        if (!work(t, i)) ++failed;
        mine.push_back(std::chrono::duration<double, std::micro>(
                           std::chrono::steady_clock::now() - began)
                           .count());
      }
      std::lock_guard lock(mu);
      load.latencies_us.insert(load.latencies_us.end(), mine.begin(), mine.end());
      load.failed += failed;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& w : workers) w.join();
  load.seconds = SecondsSince(start);
  load.done = load.latencies_us.size();
  return load;
}

CaseResult LoadResult(const std::string& name, Load& load, const std::string& baseline,
                  double baseline_per_s) {
  CaseResult r;
  r.bench = "http";
  r.name = name;
  r.events = load.done;
  r.events_per_s = static_cast<double>(load.done) / load.seconds;
  r.p50_us = PercentileUs(load.latencies_us, 50);
  r.p99_us = PercentileUs(load.latencies_us, 99);
  r.baseline = baseline;
  r.baseline_events_per_s = baseline_per_s;
  if (load.failed > 0) r.note = std::to_string(load.failed) + " requests failed";
  return r;
}

}  // namespace

int RunHttpSuite(const BenchOptions& options) {
  const double seconds = options.seconds > 0 ? options.seconds : 5;
  ScratchDir dir(options.dir, "http");
  const std::filesystem::path data = dir.path() / "ledger";
  generate::HistoryOptions history;
  history.sku_count = kSkus;
  history.store_count = kStores;
  history.day_count = 30;
  {
    // The story's clock ends today at midnight; the service records after it.
    ManualClock clock(0);
    LogOptions log_options;
    log_options.clock = &clock;
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(data, log_options);
    if (!log.ok()) return 1;
    Result<generate::HistoryReport> report = generate::GenerateHistory(**log, clock, history);
    if (!report.ok()) {
      std::fprintf(stderr, "http: generating the ledger failed: %s\n",
                   report.status().ToString().c_str());
      return 1;
    }
  }
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(data);
  if (!log.ok()) return 1;
  Result<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Open(**log, data / "projections");
  if (!runner.ok() || !(*runner)->CatchUp().ok()) return 1;
  (*runner)->StartFollowing();
  Result<http::ServiceConfig> config = http::ParseServiceConfig(Config());
  if (!config.ok()) {
    std::fprintf(stderr, "http: %s\n", config.status().ToString().c_str());
    return 1;
  }
  config->governance.rules = generate::StoryRules(history);
  projections::LedgerDecisionState state(**log, **runner);
  SystemClock clock;
  CommandExecutor executor(**log, state, config->governance.rules, clock,
                           [&runner, &log] { return (*runner)->CatchUpTo((*log)->Head().seq); });
  http::Metrics metrics;
  http::Api api(*config, **log, **runner, executor, metrics);
  api.SetReady();
  Result<std::unique_ptr<http::Server>> server =
      http::Server::Start(api, metrics, config->http, nullptr);
  if (!server.ok()) return 1;
  const std::uint16_t port = (*server)->port();

  if (options.only_case.empty() || options.only_case == "cart_price_http") {
    const std::vector<std::string> carts = Carts(4096);
    const projections::CartQuoter quoter(**log, **runner);
    const std::int64_t now = clock.NowNs();
    std::size_t priced = 0;
    const auto start = std::chrono::steady_clock::now();
    while (SecondsSince(start) < seconds / 2) {
      if (quoter.Price(carts[priced % carts.size()], now, now).ok()) ++priced;
    }
    const double baseline = static_cast<double>(priced) / SecondsSince(start);
    Load load = DriveHttp(port, kCartConnections, seconds,
                          {.target = "/v1/carts/price",
                           .headers = {{"Authorization", std::string("Bearer ") + kCheckoutToken}},
                           .body = [&carts](int c, std::uint64_t i) {
                             return carts[(i * kCartConnections + static_cast<std::uint64_t>(c)) %
                                          carts.size()];
                           },
                           .expected_status = 200});
    CaseResult result = LoadResult("cart_price_http", load, "cart_price_in_process_1_thread", baseline);
    result.note += (result.note.empty() ? "" : "; ") + std::string("10-line carts, 16 connections; goal >= 20000/s, p99 <= 10000 us");
    Report(result);
  }

  if (options.only_case.empty() || options.only_case == "command_http") {
    // Each connection sets the List price of its own SKU, alternating two amounts 1 cent
    // apart around the price in force (a plain change, not a four-eyes proposal).
    std::vector<std::int64_t> amounts(kCommandConnections);
    for (int t = 0; t < kCommandConnections; ++t) {
      char sku[16];
      std::snprintf(sku, sizeof sku, "SKU-%06d", 1 + t % static_cast<int>(kSkus));
      auto price = (*runner)->price_book()->PriceOfType(
          {sku, "", "", "", clock.NowNs(), INT64_MAX}, events::PriceType::List);
      amounts[static_cast<std::size_t>(t)] = price.ok() ? price->amount_minor : 1000;
    }
    auto command = [&](const std::string& run, int t, std::uint64_t i) {
      char sku[16];
      std::snprintf(sku, sizeof sku, "SKU-%06d", 1 + t % static_cast<int>(kSkus));
      return json{{"command", "set_price"},
                  {"idempotency_key", run + "-" + std::to_string(t) + "-" + std::to_string(i)},
                  {"args",
                   {{"sku", sku},
                    {"price_type", "List"},
                    {"amount_minor", amounts[static_cast<std::size_t>(t)] + static_cast<std::int64_t>(i % 2)},
                    {"currency", "EUR"}}}}
          .dump();
    };
    const Principal engine = config->governance.principals[0];
    std::atomic<std::uint64_t> baseline_rejected{0};
    Load in_process = Run(kCommandConnections, seconds / 2, [&](int t, std::uint64_t i) {
      ParsedCommand parsed = ParseCommand(command("base", t, i), [] () -> EventJson& {
        thread_local EventJson converter;
        return converter;
      }());
      if (!parsed.command) return false;
      Result<SubmitOutcome> o = executor.Submit(engine, *parsed.command);
      if (o.ok() && o->decision.outcome == events::AuditOutcome::Rejected) ++baseline_rejected;
      return o.ok() && o->decision.outcome == events::AuditOutcome::Accepted;
    });
    const double baseline = static_cast<double>(in_process.done) / in_process.seconds;
    Load load = DriveHttp(port, kCommandConnections, seconds,
                          {.target = "/v1/commands",
                           .headers = {{"Authorization", std::string("Bearer ") + kPricingToken}},
                           .body = [&command](int c, std::uint64_t i) {
                             return command("http", c, i);
                           },
                           .expected_status = 201});
    CaseResult result =
        LoadResult("command_http", load, "command_executor_in_process_64_threads", baseline);
    result.note += (result.note.empty() ? "" : "; ") +
                   std::string("durable set_price, 64 connections; goal >= 20000/s");
    if (in_process.failed > 0) {
      result.note += "; baseline: " + std::to_string(in_process.failed) + " not accepted";
    }
    Report(result);
  }
  (*server)->Shutdown();
  (*server)->Wait();
  (*runner)->StopFollowing();
  return 0;
}

}  // namespace tillroll::bench
