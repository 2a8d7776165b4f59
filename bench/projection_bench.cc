// Projection benchmarks over generated retail histories (tools/generate):
//   rebuild_price_book - a price_book rebuild from sequence 1 over a ~10M-event history, against
//                        a replay of the same log that applies nothing (baseline);
//   asof_price         - random point-in-time selling-price lookups (sku, channel, region,
//                        store, valid_at, known_at) at ~1M and ~10M events, against a hash-map
//                        lookup of one current price per SKU (baseline); p99 must stay flat;
//   price_book_memory  - resident memory of a loaded price book of 1M SKUs.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <unordered_map>

#include "bench/bench_support.h"
#include "engine/clock.h"
#include "engine/event_log.h"
#include "projections/projection_runner.h"
#include "tools/generate/history_generator.h"

namespace tillroll::bench {
namespace {

using projections::ProjectionRunner;

struct GeneratedLedger {
  std::unique_ptr<ScratchDir> scratch;  // null when the history is kept in --histories
  std::filesystem::path path;
  std::unique_ptr<ManualClock> clock;
  std::unique_ptr<EventLog> log;
  generate::HistoryReport report;
};

// A kept history's marker: written once generation has finished, with what the report said.
constexpr const char* kDoneMarker = "history.done";

bool ReadMarker(const std::filesystem::path& dir, generate::HistoryReport& report) {
  std::ifstream in(dir / kDoneMarker);
  return static_cast<bool>(in >> report.event_count >> report.price_events >> report.first_day_ns >>
                           report.last_day_ns);
}

// Generates the history, or with --histories reuses one generated earlier with the same options
// (the generator is deterministic, so the same options give the same events).
GeneratedLedger Generate(const BenchOptions& options, const std::string& name,
                         const generate::HistoryOptions& history) {
  GeneratedLedger ledger;
  if (options.histories.empty()) {
    ledger.scratch = std::make_unique<ScratchDir>(options.dir, name);
    ledger.path = ledger.scratch->path();
  } else {
    ledger.path =
        options.histories /
        ("history-" + std::to_string(history.sku_count) + "-" +
         std::to_string(history.store_count) + "-" + std::to_string(history.day_count) + "-" +
         std::to_string(history.sales_per_store_day) + "-" + std::to_string(history.seed));
  }
  ledger.clock = std::make_unique<ManualClock>(0);
  const bool kept = !options.histories.empty() && ReadMarker(ledger.path, ledger.report);
  if (!kept) std::filesystem::remove_all(ledger.path);
  Result<std::unique_ptr<EventLog>> log =
      EventLog::Open(ledger.path, {.clock = ledger.clock.get(), .sync = false});
  TR_ASSERT(log.ok());
  ledger.log = std::move(*log);
  if (kept) {
    std::fprintf(stderr, "%s: reusing %llu events in %s\n", name.c_str(),
                 static_cast<unsigned long long>(ledger.report.event_count), ledger.path.c_str());
    return ledger;
  }
  const auto start = std::chrono::steady_clock::now();
  Result<generate::HistoryReport> report =
      generate::GenerateHistory(*ledger.log, *ledger.clock, history);
  TR_ASSERT(report.ok());
  ledger.report = *report;
  std::fprintf(stderr, "%s: generated %llu events in %.1f s\n", name.c_str(),
               static_cast<unsigned long long>(report->event_count), SecondsSince(start));
  if (!options.histories.empty()) {
    std::ofstream(ledger.path / kDoneMarker)
        << report->event_count << " " << report->price_events << " " << report->first_day_ns << " "
        << report->last_day_ns << "\n";
  }
  return ledger;
}

// A history of about `events` events over a fixed catalogue: more events means more days.
generate::HistoryOptions HistoryOf(std::uint64_t events) {
  generate::HistoryOptions h;
  h.sku_count = 20'000;
  h.store_count = 20;
  h.sales_per_store_day = 400;
  h.seed = 7;
  h.batch_events = 5000;
  h.day_count = std::max<std::size_t>(2, static_cast<std::size_t>(events / 9'000));
  return h;
}

std::unique_ptr<ProjectionRunner> OpenRunner(const GeneratedLedger& ledger) {
  Result<std::unique_ptr<ProjectionRunner>> runner =
      ProjectionRunner::Open(*ledger.log, ledger.path / "projections");
  TR_ASSERT(runner.ok());
  return std::move(*runner);
}

void RebuildCase(const GeneratedLedger& ledger) {
  const Sequence head = ledger.log->Head().seq;
  // Both runs read a warm page cache: a first pass reads every event once, unmeasured.
  Status s = ledger.log->Scan(1, head + 1, [](Sequence, std::string_view) { return true; });
  TR_ASSERT(s.ok());
  auto start = std::chrono::steady_clock::now();
  std::uint64_t replayed = 0;
  s = ledger.log->Replay(1, head + 1, [&](Sequence, std::string_view) {
    ++replayed;
    return true;
  });
  TR_ASSERT(s.ok() && replayed == head);
  const double baseline_s = SecondsSince(start);
  // The runner as configured (the price streams through the stream index), then reading every
  // event of the log in order.
  struct Variant {
    const char* name;
    Sequence stream_index_events_min;
  };
  for (const Variant v :
       {Variant{"rebuild_price_book", projections::RunnerOptions{}.stream_index_events_min},
        Variant{"rebuild_price_book_full_scan", UINT64_MAX}}) {
    Result<std::unique_ptr<ProjectionRunner>> runner =
        ProjectionRunner::Open(*ledger.log, ledger.path / "projections",
                               {.stream_index_events_min = v.stream_index_events_min});
    TR_ASSERT(runner.ok());
    start = std::chrono::steady_clock::now();
    s = (*runner)->Rebuild("price_book", projections::RebuildMode::kInPlace);
    TR_ASSERT(s.ok());
    const double rebuild_s = SecondsSince(start);
    Report({.bench = "rebuild",
            .name = v.name,
            .events_per_s = static_cast<double>(head) / rebuild_s,
            .baseline = "log_replay_checked",
            .baseline_events_per_s = static_cast<double>(head) / baseline_s,
            .events = head,
            .note = "price events " + std::to_string(ledger.report.price_events)});
  }
}

struct Percentiles {
  double p50_us = 0;
  double p99_us = 0;
};

// Times `lookups` random selling-price lookups.
Percentiles AsOfLookups(const projections::PriceBook& book, const GeneratedLedger& ledger,
                        std::size_t lookups) {
  static const char* kChannels[] = {"pos", "web", "marketplace"};
  static const char* kRegions[] = {"de-north", "de-south"};
  std::mt19937_64 rng(42);
  const generate::HistoryReport& r = ledger.report;
  std::uniform_int_distribution<std::int64_t> when(r.first_day_ns, r.last_day_ns);
  std::uniform_int_distribution<std::size_t> sku(1, 20'000);
  std::uniform_int_distribution<int> store(1, 20);
  std::vector<double> latencies_us;
  latencies_us.reserve(lookups);
  std::size_t found = 0;
  char sku_name[32];
  char store_name[32];
  for (std::size_t i = 0; i < lookups; ++i) {
    std::snprintf(sku_name, sizeof sku_name, "SKU-%06zu", sku(rng));
    std::snprintf(store_name, sizeof store_name, "store-%02d", store(rng));
    std::int64_t valid_at = when(rng);
    std::int64_t known_at = when(rng);
    if (known_at < valid_at) std::swap(known_at, valid_at);
    const projections::PriceQuery q{sku_name,   kChannels[i % 3], kRegions[i % 2],
                                    store_name, valid_at,         known_at};
    const auto start = std::chrono::steady_clock::now();
    if (book.SellingPrice(q).ok()) ++found;
    latencies_us.push_back(SecondsSince(start) * 1e6);
  }
  std::fprintf(stderr, "asof: %zu of %zu lookups found a price\n", found, lookups);
  return {PercentileUs(latencies_us, 50), PercentileUs(latencies_us, 99)};
}

// The floor of any lookup: one current price per SKU in a hash map.
Percentiles HashMapLookups(std::size_t lookups) {
  std::unordered_map<std::string, std::int64_t> prices;
  char sku_name[32];
  for (std::size_t i = 1; i <= 20'000; ++i) {
    std::snprintf(sku_name, sizeof sku_name, "SKU-%06zu", i);
    prices.emplace(sku_name, static_cast<std::int64_t>(i));
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::size_t> sku(1, 20'000);
  std::vector<double> latencies_us;
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < lookups; ++i) {
    std::snprintf(sku_name, sizeof sku_name, "SKU-%06zu", sku(rng));
    const auto start = std::chrono::steady_clock::now();
    auto it = prices.find(std::string(sku_name));
    sum += it == prices.end() ? 0 : it->second;
    latencies_us.push_back(SecondsSince(start) * 1e6);
  }
  if (sum == 42) std::fprintf(stderr, " ");
  return {PercentileUs(latencies_us, 50), PercentileUs(latencies_us, 99)};
}

void PrintAsOf(const char* at, std::uint64_t events, const Percentiles& ours,
               const Percentiles& base) {
  std::printf(
      "{\"bench\":\"asof\",\"case\":\"asof_price\",\"history\":\"%s\",\"events\":%llu,"
      "\"p50_us\":%.3f,\"p99_us\":%.3f,\"baseline\":\"hash_map_current_price\","
      "\"baseline_p50_us\":%.3f,\"baseline_p99_us\":%.3f,\"ratio\":%.2f}\n",
      at, static_cast<unsigned long long>(events), ours.p50_us, ours.p99_us, base.p50_us,
      base.p99_us, ours.p99_us / base.p99_us);
  std::fflush(stdout);
}

// The price book's resident memory: the projections are folded by a separate `tillroll`
// process first, so that this process's RSS grows only by what loading them takes.
void MemoryCase(const BenchOptions& options) {
  generate::HistoryOptions h;
  h.sku_count = 1'000'000;
  h.store_count = 4;
  h.day_count = 2;
  h.sales_per_store_day = 10;
  h.batch_events = 10'000;
  GeneratedLedger ledger = Generate(options, "bench-memory", h);
  ledger.log.reset();
  const std::filesystem::path tillroll =
      std::filesystem::read_symlink("/proc/self/exe").parent_path() / "tillroll";
  const std::string fold =
      tillroll.string() + " digest price_book --data " + ledger.path.string() + " > /dev/null";
  TR_ASSERT(std::system(fold.c_str()) == 0);
  ledger.log = std::move(*EventLog::Open(ledger.path, {.clock = ledger.clock.get()}));
  const std::uint64_t before = RssBytes();
  auto runner = OpenRunner(ledger);  // loads the stored price book into memory
  const std::uint64_t after = RssBytes();
  const std::size_t skus = runner->price_book()->sku_count();
  std::printf(
      "{\"bench\":\"asof\",\"case\":\"price_book_memory\",\"skus\":%zu,\"price_events\":%llu,"
      "\"rss_bytes\":%llu,\"bytes_per_sku\":%.0f}\n",
      skus, static_cast<unsigned long long>(ledger.report.price_events),
      static_cast<unsigned long long>(after - before),
      static_cast<double>(after - before) / static_cast<double>(std::max<std::size_t>(skus, 1)));
  std::fflush(stdout);
}

}  // namespace

int RunAsOfSuite(const BenchOptions& options) {
  const std::uint64_t large = options.events != 0 ? options.events : 10'000'000;
  constexpr std::size_t kLookups = 200'000;
  const Percentiles base = HashMapLookups(kLookups);
  Percentiles small_p;
  std::uint64_t small_events = 0;
  if (options.only_case.empty() || options.only_case == "asof_price") {
    GeneratedLedger small = Generate(options, "bench-asof-1m", HistoryOf(large / 10));
    auto runner = OpenRunner(small);
    TR_ASSERT(runner->CatchUp().ok());
    small_events = small.log->Head().seq;
    small_p = AsOfLookups(*runner->price_book(), small, kLookups);
    PrintAsOf("1m", small_events, small_p, base);
    GeneratedLedger big = Generate(options, "bench-asof-10m", HistoryOf(large));
    runner = OpenRunner(big);
    TR_ASSERT(runner->CatchUp().ok());
    const Percentiles big_p = AsOfLookups(*runner->price_book(), big, kLookups);
    PrintAsOf("10m", big.log->Head().seq, big_p, base);
    std::printf(
        "{\"bench\":\"asof\",\"case\":\"asof_price_flatness\",\"p99_us_1m\":%.3f,"
        "\"p99_us_10m\":%.3f,\"p99_ratio_10m_vs_1m\":%.2f}\n",
        small_p.p99_us, big_p.p99_us, big_p.p99_us / small_p.p99_us);
    std::fflush(stdout);
  }
  if (options.only_case.empty() || options.only_case == "price_book_memory") MemoryCase(options);
  return 0;
}

int RunRebuildSuite(const BenchOptions& options) {
  const std::uint64_t events = options.events != 0 ? options.events : 10'000'000;
  GeneratedLedger ledger = Generate(options, "bench-rebuild", HistoryOf(events));
  RebuildCase(ledger);
  return 0;
}

}  // namespace tillroll::bench
