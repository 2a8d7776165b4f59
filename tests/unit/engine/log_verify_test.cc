// Proves that `verify` catches damage to stored events: it tampers with the RocksDB store of a
// closed ledger directly (a flipped byte, a deleted key, a swapped pair, a truncated value)
// and checks that Verify names the first bad sequence and the reason.

#include <catch2/catch.hpp>

#include "engine/event_log.h"
#include "engine/log_format.h"
#include "engine/log_store.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

using testing::PriceEvent;
using testing::TempDir;

constexpr int kEvents = 20;

void FillLedger(const TempDir& dir) {
  auto log = EventLog::Open(dir.path());
  REQUIRE(log.ok());
  for (int i = 0; i < kEvents; ++i) {
    REQUIRE((*log)->Append({PriceEvent({.sku = std::to_string(i % 3), .amount_minor = i})}).ok());
  }
}

// Runs `tamper` on the raw store of a closed ledger.
template <typename Tamper>
void TamperWith(const TempDir& dir, Tamper tamper) {
  auto store = LogStore::Open(dir.path());
  REQUIRE(store.ok());
  tamper(**store);
}

std::string Get(LogStore& store, Sequence seq) {
  std::string value;
  REQUIRE(
      store.db->Get(rocksdb::ReadOptions(), store.events, log_format::EventKey(seq), &value).ok());
  return value;
}

void Put(LogStore& store, Sequence seq, const std::string& value) {
  REQUIRE(
      store.db->Put(rocksdb::WriteOptions(), store.events, log_format::EventKey(seq), value).ok());
}

VerifyReport VerifyLedger(const TempDir& dir) {
  auto log = EventLog::Open(dir.path());
  if (!log.ok()) {
    VerifyReport refused;
    refused.status = log.status();
    return refused;
  }
  return (*log)->Verify();
}

TEST_CASE("Verify: an intact ledger is ok with its head", "[verify]") {
  TempDir dir;
  FillLedger(dir);
  VerifyReport report = VerifyLedger(dir);
  CHECK(report.status.ok());
  CHECK(report.event_count == kEvents);
  CHECK(report.head.seq == kEvents);
  CHECK(report.first_bad_seq == 0);
}

TEST_CASE("Verify: a flipped byte in an event is caught at that event", "[verify]") {
  TempDir dir;
  FillLedger(dir);
  TamperWith(dir, [](LogStore& store) {
    std::string value = Get(store, 7);
    // Flip a byte in the middle of the payload (the amount, the sku or a string).
    value[value.size() / 2] = static_cast<char>(value[value.size() / 2] ^ 0x01);
    Put(store, 7, value);
  });
  VerifyReport report = VerifyLedger(dir);
  CHECK(report.status.code() == StatusCode::kCorruption);
  CHECK(report.first_bad_seq == 7);
  CHECK(report.event_count == 6);
}

TEST_CASE("Verify: a deleted event is caught as a gap", "[verify]") {
  TempDir dir;
  FillLedger(dir);
  TamperWith(dir, [](LogStore& store) {
    REQUIRE(store.db->Delete(rocksdb::WriteOptions(), store.events, log_format::EventKey(11)).ok());
  });
  VerifyReport report = VerifyLedger(dir);
  CHECK(report.status.code() == StatusCode::kCorruption);
  CHECK(report.first_bad_seq == 11);
  CHECK_THAT(report.status.message(), Catch::Contains("missing"));
}

TEST_CASE("Verify: deleting the last event is caught against the stored head", "[verify]") {
  TempDir dir;
  FillLedger(dir);
  TamperWith(dir, [](LogStore& store) {
    REQUIRE(store.db->Delete(rocksdb::WriteOptions(), store.events, log_format::EventKey(kEvents))
                .ok());
  });
  // The ledger refuses to open: its head names an event that is gone.
  VerifyReport report = VerifyLedger(dir);
  CHECK(report.status.code() == StatusCode::kCorruption);
  CHECK_THAT(report.status.message(), Catch::Contains("head"));
}

TEST_CASE("Verify: a swapped pair of events is caught", "[verify]") {
  TempDir dir;
  FillLedger(dir);
  TamperWith(dir, [](LogStore& store) {
    const std::string a = Get(store, 5);
    const std::string b = Get(store, 6);
    Put(store, 5, b);
    Put(store, 6, a);
  });
  VerifyReport report = VerifyLedger(dir);
  CHECK(report.status.code() == StatusCode::kCorruption);
  CHECK(report.first_bad_seq == 5);
}

TEST_CASE("Verify: a swapped pair re-sealed at new positions still breaks the chain", "[verify]") {
  // An attacker who rewrites global_seq in place still cannot fix the hash chain.
  TempDir dir;
  FillLedger(dir);
  TamperWith(dir, [](LogStore& store) {
    std::string a = Get(store, 5);
    std::string b = Get(store, 6);
    auto* ea = events::GetMutableEvent(a.data());
    auto* eb = events::GetMutableEvent(b.data());
    REQUIRE(ea->mutate_global_seq(6));
    REQUIRE(eb->mutate_global_seq(5));
    Put(store, 5, b);
    Put(store, 6, a);
  });
  VerifyReport report = VerifyLedger(dir);
  CHECK(report.status.code() == StatusCode::kCorruption);
  CHECK(report.first_bad_seq == 5);
}

TEST_CASE("Verify: a truncated event is caught", "[verify]") {
  TempDir dir;
  FillLedger(dir);
  TamperWith(dir, [](LogStore& store) {
    const std::string value = Get(store, 13);
    Put(store, 13, value.substr(0, value.size() - 9));
  });
  VerifyReport report = VerifyLedger(dir);
  CHECK(report.status.code() == StatusCode::kCorruption);
  CHECK(report.first_bad_seq == 13);
}

TEST_CASE("Verify: a ledger whose stored head hash is not its last event's refuses to open",
          "[verify]") {
  TempDir dir;
  FillLedger(dir);
  TamperWith(dir, [](LogStore& store) {
    std::string head;
    REQUIRE(store.db->Get(rocksdb::ReadOptions(), store.meta, log_format::kHeadKey, &head).ok());
    head[8] = static_cast<char>(head[8] ^ 0x01);  // first byte of the head hash
    REQUIRE(store.db->Put(rocksdb::WriteOptions(), store.meta, log_format::kHeadKey, head).ok());
  });
  auto log = EventLog::Open(dir.path());
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().code() == StatusCode::kCorruption);
  CHECK_THAT(log.status().message(), Catch::Contains("hash"));
}

TEST_CASE("Verify: a removed stream index entry is caught", "[verify]") {
  TempDir dir;
  FillLedger(dir);
  TamperWith(dir, [](LogStore& store) {
    REQUIRE(
        store.index_db
            ->Delete(rocksdb::WriteOptions(), store.streams, log_format::StreamKey("price/1", 2))
            .ok());
  });
  VerifyReport report = VerifyLedger(dir);
  CHECK(report.status.code() == StatusCode::kCorruption);
  CHECK_THAT(report.status.message(), Catch::Contains("stream index"));
}

}  // namespace
}  // namespace tillroll
