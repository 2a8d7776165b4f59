// tillroll-bench replay: scan + decode + hash-chain verification of a whole ledger, against a
// raw RocksDB iterator over the very same stored events in the same run.

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include <cstdio>

#include "bench/bench_support.h"
#include "engine/event_chain.h"
#include "engine/event_log.h"
#include "engine/log_store.h"
#include "schemas/envelope_generated.h"

namespace tillroll::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kSetupBatchEvents = 10'000;
constexpr int kRounds = 2;  // best of two, for both sides

void FillLedger(const std::filesystem::path& dir, std::uint64_t events) {
  LogOptions options;
  options.sync = false;  // setup only: durability is not what this suite measures
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
  if (!log.ok()) std::exit(1);
  for (std::uint64_t n = 0; n < events;) {
    std::vector<std::string> batch;
    for (std::size_t i = 0; i < kSetupBatchEvents && n < events; ++i, ++n) {
      batch.push_back(BenchPriceEvent(n, 100'000, "replay"));
    }
    if (!(*log)->Append(std::move(batch)).ok()) std::exit(1);
  }
}

// The baseline: a raw iterator over the events column family that touches every value.
double RawScanEventsPerS(const std::filesystem::path& dir, std::uint64_t* bytes_out) {
  Result<std::unique_ptr<LogStore>> store = LogStore::Open(dir);
  if (!store.ok()) std::exit(1);
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  options.readahead_size = 2 << 20;
  std::uint64_t count = 0;
  std::uint64_t checksum = 0;
  const auto start = Clock::now();
  std::unique_ptr<rocksdb::Iterator> it((*store)->db->NewIterator(options, (*store)->events));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++count;
    checksum += it->value().size() + static_cast<std::uint8_t>(it->value()[0]);
  }
  const double rate = static_cast<double>(count) / SecondsSince(start);
  *bytes_out = checksum;
  return rate;
}

// Ours: EventLog::Replay checks every event (Verifier, SHA-256) and the chain; the visitor
// decodes the envelope and the payload.
double VerifiedReplayEventsPerS(const std::filesystem::path& dir, std::uint64_t* amount_out) {
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir);
  if (!log.ok()) std::exit(1);
  std::uint64_t count = 0;
  std::int64_t amount_sum = 0;
  const auto start = Clock::now();
  Status replayed = (*log)->Replay(1, UINT64_MAX, [&](Sequence, std::string_view bytes) {
    const events::Event* e = events::GetEvent(bytes.data());
    if (const events::PriceSet* price = e->payload_as_PriceSet(); price != nullptr) {
      amount_sum += price->amount_minor() + static_cast<std::int64_t>(e->stream()->size());
    }
    ++count;
    return true;
  });
  const double rate = static_cast<double>(count) / SecondsSince(start);
  if (!replayed.ok()) {
    std::fprintf(stderr, "replay failed: %s\n", replayed.ToString().c_str());
    std::exit(1);
  }
  *amount_out = static_cast<std::uint64_t>(amount_sum);
  return rate;
}

}  // namespace

int RunReplaySuite(const BenchOptions& options) {
  if (!options.only_case.empty() && options.only_case != "replay") return 0;
  const std::uint64_t events = options.events > 0 ? options.events : 2'000'000;
  ScratchDir dir(options.dir, "replay");
  std::fprintf(stderr, "replay: writing %llu events...\n", static_cast<unsigned long long>(events));
  FillLedger(dir.path(), events);

  CaseResult result{"replay", "replay"};
  result.baseline = "rocksdb_iterator_scan";
  std::uint64_t sink = 0;
  for (int round = 0; round < kRounds; ++round) {
    result.baseline_events_per_s =
        std::max(result.baseline_events_per_s, RawScanEventsPerS(dir.path(), &sink));
    result.events_per_s =
        std::max(result.events_per_s, VerifiedReplayEventsPerS(dir.path(), &sink));
  }
  result.events = events;
  result.value_bytes = BenchPriceEvent(0, 100'000, "replay").size();
  result.note =
      "verifier + SHA-256 chain + payload decode per event (hashing on a second "
      "thread); goal ratio >= 0.5";
  Report(result);
  return sink == 0xFFFFFFFFFFFFFFFFULL ? 1 : 0;  // keeps the scans' work observable
}

}  // namespace tillroll::bench
