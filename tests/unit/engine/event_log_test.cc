// Proves the log's append promises on a real RocksDB in a temp folder: atomic batches,
// expected versions, idempotency, record-time order, reads by stream and time, subscriptions,
// group commit under concurrency, and that all of it survives a reopen.

#include "engine/event_log.h"

#include <rocksdb/write_batch.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "engine/event_chain.h"
#include "engine/limits.h"
#include "engine/log_format.h"
#include "engine/log_store.h"
#include "schemas/envelope_generated.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

using testing::PriceEvent;
using testing::PriceSpec;
using testing::TempDir;

constexpr std::int64_t kMarch3 = 1'772'532'000'000'000'000;  // 2026-03-03T10:00:00Z

std::unique_ptr<EventLog> OpenLog(const TempDir& dir, Clock* clock = nullptr) {
  LogOptions options;
  options.clock = clock;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir.path(), options);
  REQUIRE(log.ok());
  return std::move(*log);
}

const events::Event* Decode(const EventRecord& record) {
  return events::GetEvent(record.bytes.data());
}

TEST_CASE("EventLog: a batch is appended atomically with dense sequences", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  auto outcomes =
      log->Append({PriceEvent({.sku = "1"}), PriceEvent({.sku = "2"}), PriceEvent({.sku = "1"})});
  REQUIRE(outcomes.ok());
  REQUIRE(outcomes->size() == 3);
  CHECK((*outcomes)[0].seq == 1);
  CHECK((*outcomes)[1].seq == 2);
  CHECK((*outcomes)[2].seq == 3);
  CHECK((*outcomes)[2].stream_version == 2);
  CHECK(log->Head().seq == 3);

  auto events = log->Read(1, 10);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 3);
  CHECK(Decode((*events)[1])->stream()->str() == "price/2");
  CHECK(Decode((*events)[2])->stream_version() == 2);
  CHECK(Decode((*events)[2])->payload_as_PriceSet()->sku()->str() == "1");
}

TEST_CASE("EventLog: one bad event rejects the whole batch and writes nothing", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  REQUIRE(log->Append({PriceEvent({.sku = "1"})}).ok());

  SECTION("a stale expected version") {
    auto result =
        log->Append({PriceEvent({.sku = "2"}), PriceEvent({.sku = "1", .expected_version = 0})});
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kConflict);
    CHECK_THAT(result.status().message(), Catch::Contains("event 2 of the batch") &&
                                              Catch::Contains("price/1") &&
                                              Catch::Contains("at version 1"));
  }
  SECTION("a malformed buffer") {
    auto result = log->Append({PriceEvent({.sku = "2"}), std::string("not an event")});
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(result.status().message(), Catch::Contains("event 2 of the batch"));
  }
  SECTION("a stream name over the limit") {
    const std::string long_sku(300, 'x');
    auto result = log->Append({PriceEvent({.sku = "2"}), PriceEvent({.sku = long_sku})});
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(result.status().message(), Catch::Contains("stream"));
  }
  SECTION("an event that was already sealed") {
    auto first = log->Read(1, 1);
    REQUIRE(first.ok());
    auto result = log->Append({PriceEvent({.sku = "2"}), (*first)[0].bytes});
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(log->Head().seq == 1);
  auto version = log->StreamVersion("price/2");
  REQUIRE(version.ok());
  CHECK(*version == 0);
  CHECK(log->Verify().status.ok());
}

TEST_CASE("EventLog: a refused batch leaves no stream version or key behind", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  REQUIRE(log->Append({PriceEvent({.sku = "1"})}).ok());
  // The first two events are taken in before the third is refused: all three go.
  auto refused = log->Append({PriceEvent({.sku = "2", .idempotency_key = "k-a"}),
                              PriceEvent({.sku = "2", .amount_minor = 5}),
                              PriceEvent({.sku = "1", .expected_version = 0})});
  REQUIRE(refused.status().code() == StatusCode::kConflict);
  // Stream 2 is new again, and the key is free for other content.
  auto again = log->Append(
      {PriceEvent({.sku = "2", .amount_minor = 7, .expected_version = 0, .idempotency_key = "k-a"}),
       PriceEvent({.sku = "1", .expected_version = 1})});
  REQUIRE(again.ok());
  CHECK_FALSE((*again)[0].duplicate);
  CHECK((*again)[0].seq == 2);
  CHECK((*again)[0].stream_version == 1);
  CHECK((*again)[1].stream_version == 2);
  // And the key now stands for what was written.
  auto same = log->Append({PriceEvent({.sku = "2", .amount_minor = 7, .expected_version = 0,
                                       .idempotency_key = "k-a"})});
  REQUIRE(same.ok());
  CHECK((*same)[0].duplicate);
  CHECK((*same)[0].seq == 2);
  CHECK(log->Verify().status.ok());
}

TEST_CASE("EventLog: expected versions are checked per stream", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  CHECK(log->Append({PriceEvent({.sku = "1", .expected_version = 0})}).ok());
  CHECK(log->Append({PriceEvent({.sku = "1", .expected_version = 1}),
                     PriceEvent({.sku = "1", .expected_version = 2})})
            .ok());
  auto stale = log->Append({PriceEvent({.sku = "1", .expected_version = 2})});
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.status().code() == StatusCode::kConflict);
  auto fresh_stream = log->Append({PriceEvent({.sku = "9", .expected_version = 3})});
  CHECK(fresh_stream.status().code() == StatusCode::kConflict);
  auto version = log->StreamVersion("price/1");
  REQUIRE(version.ok());
  CHECK(*version == 3);
}

TEST_CASE("EventLog: a repeated idempotency key returns the original and writes nothing", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  auto first = log->Append({PriceEvent({.sku = "1", .idempotency_key = "run-1:1"})});
  REQUIRE(first.ok());
  REQUIRE(log->Append({PriceEvent({.sku = "2"})}).ok());

  auto again = log->Append({PriceEvent({.sku = "1", .idempotency_key = "run-1:1"})});
  REQUIRE(again.ok());
  CHECK((*again)[0].duplicate);
  CHECK((*again)[0].seq == (*first)[0].seq);
  CHECK((*again)[0].stream_version == 1);
  CHECK(log->Head().seq == 2);

  SECTION("the same key with another payload is a conflict") {
    auto other =
        log->Append({PriceEvent({.sku = "1", .amount_minor = 999, .idempotency_key = "run-1:1"})});
    REQUIRE_FALSE(other.ok());
    CHECK(other.status().code() == StatusCode::kConflict);
    CHECK_THAT(other.status().message(), Catch::Contains("run-1:1") && Catch::Contains("event 1"));
  }
  SECTION("the same key twice in one batch is written once") {
    auto batch = log->Append({PriceEvent({.sku = "3", .idempotency_key = "k3"}),
                              PriceEvent({.sku = "3", .idempotency_key = "k3"})});
    REQUIRE(batch.ok());
    CHECK((*batch)[0].seq == 3);
    CHECK_FALSE((*batch)[0].duplicate);
    CHECK((*batch)[1].seq == 3);
    CHECK((*batch)[1].duplicate);
  }
  SECTION("the same key twice in one batch with other content is a conflict") {
    auto batch =
        log->Append({PriceEvent({.sku = "4", .idempotency_key = "k4"}),
                     PriceEvent({.sku = "4", .amount_minor = 1, .idempotency_key = "k4"})});
    CHECK(batch.status().code() == StatusCode::kConflict);
  }
  SECTION("many appends racing with the same keys write each key once") {
    std::vector<std::thread> racers;
    std::atomic<int> duplicates{0};
    for (int t = 0; t < 4; ++t) {
      racers.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          const std::string key = "race-" + std::to_string(i);
          auto r = log->Append({PriceEvent({.sku = "race", .idempotency_key = key})});
          REQUIRE(r.ok());
          if ((*r)[0].duplicate) ++duplicates;
        }
      });
    }
    for (auto& racer : racers) racer.join();
    CHECK(duplicates == 150);
    auto version = log->StreamVersion("price/race");
    REQUIRE(version.ok());
    CHECK(*version == 50);
  }
  SECTION("the key survives a reopen") {
    log.reset();
    log = OpenLog(dir);
    auto after = log->Append({PriceEvent({.sku = "1", .idempotency_key = "run-1:1"})});
    REQUIRE(after.ok());
    CHECK((*after)[0].duplicate);
    CHECK((*after)[0].seq == 1);
    // Indexed now: the other content is found out from the stored event.
    auto other =
        log->Append({PriceEvent({.sku = "1", .amount_minor = 999, .idempotency_key = "run-1:1"})});
    CHECK(other.status().code() == StatusCode::kConflict);
  }
  CHECK(log->Verify().status.ok());
}

TEST_CASE("EventLog: record time comes from the clock and never decreases", "[log]") {
  TempDir dir;
  ManualClock clock(kMarch3);
  auto log = OpenLog(dir, &clock);
  REQUIRE(log->Append({PriceEvent({.sku = "1"})}).ok());
  clock.Set(kMarch3 - 5'000'000'000);  // the clock jumps back five seconds
  REQUIRE(log->Append({PriceEvent({.sku = "2"})}).ok());
  clock.Set(kMarch3 + 60'000'000'000);
  REQUIRE(log->Append({PriceEvent({.sku = "3"})}).ok());

  auto events = log->Read(1, 10);
  REQUIRE(events.ok());
  CHECK(Decode((*events)[0])->recorded_at_ns() == kMarch3);
  CHECK(Decode((*events)[1])->recorded_at_ns() == kMarch3);
  CHECK(Decode((*events)[2])->recorded_at_ns() == kMarch3 + 60'000'000'000);

  auto at = log->FirstRecordedAtOrAfter(kMarch3 + 1);
  REQUIRE(at.ok());
  CHECK(*at == 3);
  auto before_all = log->FirstRecordedAtOrAfter(0);
  REQUIRE(before_all.ok());
  CHECK(*before_all == 1);
  auto after_all = log->FirstRecordedAtOrAfter(kMarch3 + 61'000'000'000);
  REQUIRE(after_all.ok());
  CHECK(*after_all == 4);
}

TEST_CASE("EventLog: a stream reads back in version order", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(log->Append({PriceEvent({.sku = "A", .amount_minor = 100 + i}),
                         PriceEvent({.sku = "B", .amount_minor = 200 + i})})
                .ok());
  }
  auto a = log->ReadStream("price/A", 2, 10);
  REQUIRE(a.ok());
  REQUIRE(a->size() == 4);
  CHECK(Decode(a->front())->stream_version() == 2);
  CHECK(Decode(a->front())->payload_as_PriceSet()->amount_minor() == 101);
  CHECK(a->back().seq == 9);
  auto none = log->ReadStream("price/C", 1, 10);
  REQUIRE(none.ok());
  CHECK(none->empty());
  // "price/A" must not see a stream whose name merely starts the same way.
  REQUIRE(log->Append({PriceEvent({.sku = "AB"})}).ok());
  auto only_a = log->ReadStream("price/A", 1, 100);
  REQUIRE(only_a.ok());
  CHECK(only_a->size() == 5);
}

TEST_CASE("EventLog: a subscription catches up - then follows live appends", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  for (int i = 0; i < 10; ++i) REQUIRE(log->Append({PriceEvent({.sku = "S"})}).ok());

  auto subscription = log->Subscribe(3);
  auto caught_up = subscription->Next(100, std::chrono::milliseconds(0));
  REQUIRE(caught_up.ok());
  REQUIRE(caught_up->size() == 7);
  CHECK(caught_up->front().seq == 4);
  CHECK(subscription->position() == 10);

  auto nothing = subscription->Next(100, std::chrono::milliseconds(20));
  REQUIRE(nothing.ok());
  CHECK(nothing->empty());

  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    REQUIRE(log->Append({PriceEvent({.sku = "S"}), PriceEvent({.sku = "T"})}).ok());
  });
  std::vector<EventRecord> live;
  while (live.size() < 2) {
    auto next = subscription->Next(100, std::chrono::seconds(5));
    REQUIRE(next.ok());
    REQUIRE_FALSE(next->empty());
    live.insert(live.end(), next->begin(), next->end());
  }
  writer.join();
  CHECK(live[0].seq == 11);
  CHECK(live[1].seq == 12);
}

TEST_CASE("EventLog: concurrent appends are group-committed into one dense chain", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  constexpr int kThreads = 8;
  constexpr int kAppendsPerThread = 50;
  std::vector<std::vector<Sequence>> acked(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string sku = "T" + std::to_string(t);
      for (int i = 0; i < kAppendsPerThread; ++i) {
        auto r = log->Append({PriceEvent({.sku = sku, .expected_version = i})});
        if (r.ok()) acked[static_cast<std::size_t>(t)].push_back((*r)[0].seq);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<Sequence> all;
  for (const auto& per_thread : acked) {
    CHECK(per_thread.size() == kAppendsPerThread);
    all.insert(per_thread.begin(), per_thread.end());
  }
  CHECK(all.size() == kThreads * kAppendsPerThread);
  CHECK(*all.rbegin() == kThreads * kAppendsPerThread);
  VerifyReport report = log->Verify();
  CHECK(report.status.ok());
  CHECK(report.event_count == kThreads * kAppendsPerThread);
}

TEST_CASE("EventLog: head - versions and stats survive a reopen", "[log]") {
  TempDir dir;
  LogHead head_before;
  {
    auto log = OpenLog(dir);
    REQUIRE(log->Append({PriceEvent({.sku = "1"}), PriceEvent({.sku = "2"})}).ok());
    REQUIRE(log->Append({PriceEvent({.sku = "1"})}).ok());
    head_before = log->Head();
  }
  auto log = OpenLog(dir);
  CHECK(log->Head().seq == head_before.seq);
  CHECK(log->Head().hash == head_before.hash);
  auto stale = log->Append({PriceEvent({.sku = "1", .expected_version = 1})});
  CHECK(stale.status().code() == StatusCode::kConflict);
  auto next = log->Append({PriceEvent({.sku = "1", .expected_version = 2})});
  REQUIRE(next.ok());
  CHECK((*next)[0].seq == 4);
  auto stats = log->Stats();
  REQUIRE(stats.ok());
  CHECK(stats->head.seq == 4);
  CHECK(stats->stream_count == 2);
  CHECK(stats->event_bytes > 0);
  CHECK(stats->disk_bytes > 0);
  CHECK(log->Verify().status.ok());
}

TEST_CASE("EventLog: batches over the limits are rejected - not truncated", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  CHECK(log->Append({}).status().code() == StatusCode::kInvalidArgument);
  std::vector<std::string> too_many(limits::kBatchEventsMax + 1, PriceEvent({.sku = "1"}));
  auto result = log->Append(std::move(too_many));
  CHECK(result.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(result.status().message(), Catch::Contains("at most"));
  CHECK(log->Head().seq == 0);
}

TEST_CASE("EventLog: a second process cannot open a folder in use", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  Result<std::unique_ptr<EventLog>> second = EventLog::Open(dir.path());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
}

TEST_CASE("EventLog: indexes lost in a crash are rebuilt from the events on open", "[log]") {
  // The stream and idempotency indexes are written behind the durable events, without a sync.
  // Simulate losing them: drop the index checkpoint and every index entry, then reopen.
  TempDir dir;
  {
    auto log = OpenLog(dir);
    REQUIRE(
        log->Append({PriceEvent({.sku = "1", .idempotency_key = "k1"}),
                     PriceEvent({.sku = "1", .idempotency_key = "k2"}), PriceEvent({.sku = "2"})})
            .ok());
  }
  {
    auto store = LogStore::Open(dir.path());
    REQUIRE(store.ok());
    LogStore& s = **store;
    rocksdb::WriteBatch wipe;
    REQUIRE(wipe.Delete(s.index_meta, log_format::kIndexedKey).ok());
    REQUIRE(wipe.DeleteRange(s.streams, std::string(1, '\0'), std::string(8, '\xff')).ok());
    REQUIRE(wipe.DeleteRange(s.idempotency, std::string(1, '\0'), std::string(8, '\xff')).ok());
    REQUIRE(s.index_db->Write(rocksdb::WriteOptions(), &wipe).ok());
  }
  auto log = OpenLog(dir);
  auto stream = log->ReadStream("price/1", 1, 10);
  REQUIRE(stream.ok());
  CHECK(stream->size() == 2);
  auto again = log->Append({PriceEvent({.sku = "1", .idempotency_key = "k2"})});
  REQUIRE(again.ok());
  CHECK((*again)[0].duplicate);
  CHECK((*again)[0].seq == 2);
  auto stale = log->Append({PriceEvent({.sku = "1", .expected_version = 1})});
  CHECK(stale.status().code() == StatusCode::kConflict);
  CHECK(log->Verify().status.ok());
}

TEST_CASE("EventLog: a key found in an index written with digests is judged on its event",
          "[log]") {
  // Indexes built by earlier versions stored a digest per key, in the canonical form of their
  // day. It is not trusted: the same content sent again is a duplicate even when the stored
  // digest says otherwise, and other content is still a conflict.
  TempDir dir;
  {
    auto log = OpenLog(dir);
    REQUIRE(log->Append({PriceEvent({.sku = "1", .idempotency_key = "k1"})}).ok());
  }
  {
    auto store = LogStore::Open(dir.path());
    REQUIRE(store.ok());
    LogStore& s = **store;
    const Digest stale = Sha256("a canonical form of another day");
    const std::string entry =
        log_format::EncodeIdempotency(1, 1) +
        std::string(reinterpret_cast<const char*>(stale.bytes.data()), Digest::kBytes);
    REQUIRE(s.index_db->Put(rocksdb::WriteOptions(), s.idempotency, "k1", entry).ok());
  }
  auto log = OpenLog(dir);
  auto same = log->Append({PriceEvent({.sku = "1", .idempotency_key = "k1"})});
  REQUIRE(same.ok());
  CHECK((*same)[0].duplicate);
  CHECK((*same)[0].seq == 1);
  auto other = log->Append({PriceEvent({.sku = "1", .amount_minor = 5, .idempotency_key = "k1"})});
  CHECK(other.status().code() == StatusCode::kConflict);
}

TEST_CASE("EventLog: a deleted index folder is rebuilt from the events on open", "[log]") {
  TempDir dir;
  {
    auto log = OpenLog(dir);
    REQUIRE(
        log->Append({PriceEvent({.sku = "1", .idempotency_key = "k1"}), PriceEvent({.sku = "1"})})
            .ok());
  }
  std::filesystem::remove_all(dir.path() / log_format::kIndexFolder);
  auto log = OpenLog(dir);
  auto version = log->StreamVersion("price/1");
  REQUIRE(version.ok());
  CHECK(*version == 2);
  auto again = log->Append({PriceEvent({.sku = "1", .idempotency_key = "k1"})});
  REQUIRE(again.ok());
  CHECK((*again)[0].duplicate);
  CHECK(log->Verify().status.ok());
}

TEST_CASE("EventLog: verify while appends go on reports an intact log", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      const std::string sku = "v" + std::to_string(t);
      while (!stop) REQUIRE(log->Append({PriceEvent({.sku = sku}), PriceEvent({.sku = "w"})}).ok());
    });
  }
  for (int i = 0; i < 20; ++i) {
    VerifyReport report = log->Verify();
    INFO(report.status.ToString());
    REQUIRE(report.status.ok());
  }
  stop = true;
  for (auto& w : writers) w.join();
  CHECK(log->Verify().status.ok());
}

TEST_CASE("EventLog: stream reads see an append as soon as it is acknowledged", "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  for (int i = 1; i <= 200; ++i) {
    REQUIRE(log->Append({PriceEvent({.sku = "rw"})}).ok());
    auto version = log->StreamVersion("price/rw");
    REQUIRE(version.ok());
    REQUIRE(*version == static_cast<std::uint64_t>(i));
  }
}

TEST_CASE(
    "EventLog: a stream's tip and an idempotency key are known as soon as the append is "
    "acknowledged, indexed or not",
    "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  std::vector<std::thread> writers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      const std::string sku = "tip-" + std::to_string(t);
      std::vector<std::pair<std::string, Sequence>> keys;
      for (std::uint64_t i = 1; i <= 300; ++i) {
        const std::string key = sku + "-" + std::to_string(i);
        auto r = log->Append({PriceEvent({.sku = sku, .idempotency_key = key})});
        if (!r.ok()) {
          ++wrong;
          return;
        }
        keys.emplace_back(key, (*r)[0].seq);
        auto tip = log->TipOfStream("price/" + sku);
        if (!tip.ok() || tip->version != i || tip->seq != (*r)[0].seq) ++wrong;
        // This key, and one from long ago (indexed by now, or still pending).
        for (const auto& [k, seq] : {keys.back(), keys[keys.size() / 2]}) {
          auto found = log->SeqOfIdempotencyKey(k);
          if (!found.ok() || !found->has_value() || **found != seq) ++wrong;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  CHECK(wrong == 0);
  auto unknown = log->SeqOfIdempotencyKey("never-used");
  REQUIRE(unknown.ok());
  CHECK_FALSE(unknown->has_value());
  auto none = log->TipOfStream("price/never-written");
  REQUIRE(none.ok());
  CHECK(none->version == 0);
  CHECK(none->seq == 0);
}

TEST_CASE("EventLog: a stream's tip stays right when the indexer starts its recent tips over",
          "[log]") {
  TempDir dir;
  auto log = OpenLog(dir);
  auto tip_of = [&](const std::string& stream) {
    Result<StreamTip> tip = log->TipOfStream(stream);
    REQUIRE(tip.ok());
    return std::pair{tip->version, tip->seq};
  };
  auto wait_indexed = [&] {  // a read of the stream index waits for the indexer
    REQUIRE(log->SeqsOfStreams("price/", 0, log->Head().seq).ok());
  };
  auto first = log->Append({PriceEvent({.sku = "kept"}), PriceEvent({.sku = "kept"})});
  REQUIRE(first.ok());
  wait_indexed();
  CHECK(tip_of("price/kept") == std::pair{std::uint64_t{2}, (*first)[1].seq});
  // More other streams than the indexer keeps tips of: it starts over, and the tip of
  // "kept" comes from the index.
  for (std::size_t done = 0; done <= limits::kIndexedStreamTipsMax;) {
    std::vector<std::string> batch;
    for (int i = 0; i < 4096; ++i, ++done) {
      batch.push_back(PriceEvent({.sku = "other-" + std::to_string(done)}));
    }
    REQUIRE(log->Append(std::move(batch)).ok());
  }
  wait_indexed();
  CHECK(tip_of("price/kept") == std::pair{std::uint64_t{2}, (*first)[1].seq});
  CHECK(tip_of("price/other-0") == std::pair{std::uint64_t{1}, (*first)[1].seq + 1});
  auto third = log->Append({PriceEvent({.sku = "kept", .expected_version = 2})});
  REQUIRE(third.ok());
  CHECK(tip_of("price/kept") == std::pair{std::uint64_t{3}, (*third)[0].seq});
  wait_indexed();
  CHECK(tip_of("price/kept") == std::pair{std::uint64_t{3}, (*third)[0].seq});
  // And after a reopen, from the index alone.
  log.reset();
  log = OpenLog(dir);
  CHECK(tip_of("price/kept") == std::pair{std::uint64_t{3}, (*third)[0].seq});
}

TEST_CASE("EventLog: idempotency entries are read with and without an old digest", "[log]") {
  const std::string plain = log_format::EncodeIdempotency(7, 3);
  const std::optional<log_format::IdempotencyEntry> entry = log_format::DecodeIdempotency(plain);
  REQUIRE(entry.has_value());
  CHECK(entry->seq == 7);
  CHECK(entry->stream_version == 3);

  // Entries an index built by earlier versions holds carry a digest after the numbers.
  const Digest digest = Sha256("the original event");
  const std::string with_digest =
      plain + std::string(reinterpret_cast<const char*>(digest.bytes.data()), Digest::kBytes);
  const std::optional<log_format::IdempotencyEntry> old = log_format::DecodeIdempotency(with_digest);
  REQUIRE(old.has_value());
  CHECK(old->seq == 7);
  CHECK(old->stream_version == 3);

  CHECK_FALSE(log_format::DecodeIdempotency(plain.substr(0, 15)).has_value());
  CHECK_FALSE(log_format::DecodeIdempotency(plain + "x").has_value());
}

}  // namespace
}  // namespace tillroll
