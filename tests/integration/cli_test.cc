// Proves what a user of the `tillroll` CLI relies on, by running the real binary on a real
// ledger in a temp folder: appended lines come back with their sequences, bad input names
// line and field and writes nothing (exit 2), a stale version is a conflict (exit 4), `log`
// filters, `verify` reports the first bad sequence (exit 1) and a missing ledger is exit 3.

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/log_format.h"
#include "engine/log_store.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

using testing::TempDir;

using Run = testing::CliRun;

Run Tillroll(const TempDir& dir, const std::string& args, const std::string& input = "") {
  return testing::RunTillroll(dir, args, input);
}

std::size_t Lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string Price(const std::string& sku, int amount, int expected_version = -1) {
  return R"({"stream":"price/)" + sku + R"(","expected_version":)" +
         std::to_string(expected_version) + R"(,"payload_type":"PriceSet","payload":{"sku":")" +
         sku + R"(","amount_minor":)" + std::to_string(amount) + R"(,"currency":"EUR"}})" + "\n";
}

TEST_CASE("CLI: append prints each event as stored - log and stats read it back", "[cli]") {
  TempDir dir;
  Run appended =
      Tillroll(dir, "append", Price("4711", 1299) + Price("42", 199) + Price("4711", 999));
  REQUIRE(appended.exit_code == 0);
  CHECK(Lines(appended.out) == 3);
  CHECK_THAT(appended.out, Catch::Contains("\"global_seq\": 3"));
  CHECK_THAT(appended.out, Catch::Contains("\"hash\": \""));

  Run stream = Tillroll(dir, "log --stream price/4711");
  REQUIRE(stream.exit_code == 0);
  CHECK(Lines(stream.out) == 2);
  Run range = Tillroll(dir, "log --from 2 --to 2");
  CHECK(Lines(range.out) == 1);
  CHECK_THAT(range.out, Catch::Contains("price/42"));
  Run since = Tillroll(dir, "log --since 2200-01-01T00:00:00Z");
  CHECK(since.exit_code == 0);
  CHECK(since.out.empty());
  Run bad_time = Tillroll(dir, "log --since 2999-01-01T00:00:00Z");
  CHECK(bad_time.exit_code == 2);
  CHECK_THAT(bad_time.err, Catch::Contains("--since: "));

  Run stats = Tillroll(dir, "stats");
  REQUIRE(stats.exit_code == 0);
  CHECK_THAT(stats.out, Catch::Contains("\"events\":3,\"streams\":2"));
  Run verify = Tillroll(dir, "verify");
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.out, Catch::StartsWith("ok 3 events, head "));
}

TEST_CASE("CLI: bad input names line and field - exits 2 and appends nothing", "[cli]") {
  TempDir dir;
  REQUIRE(Tillroll(dir, "append", Price("1", 100)).exit_code == 0);
  const std::string bad =
      Price("2", 200) +
      R"({"stream":"price/3","payload_type":"PriceSet","payload":{"sku":"3","amount_minor":"12.99"}})"
      "\n\n"
      R"({"stream":"price/4","payload_type":"PriceSet","payload":{"sku":"4","colour":"red"}})"
      "\nnot json\n";
  Run run = Tillroll(dir, "append", bad);
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("line 2: payload.amount_minor: expected an integer"));
  CHECK_THAT(run.err, Catch::Contains("line 4: payload.colour: unknown field of PriceSet"));
  CHECK_THAT(run.err, Catch::Contains("line 5: not valid JSON"));
  CHECK_THAT(run.err, Catch::Contains("nothing was appended"));
  CHECK(run.out.empty());
  CHECK_THAT(Tillroll(dir, "stats").out, Catch::Contains("\"events\":1,"));
}

TEST_CASE("CLI: a stale expected version is a conflict (exit 4) naming the line", "[cli]") {
  TempDir dir;
  REQUIRE(Tillroll(dir, "append", Price("1", 100, 0)).exit_code == 0);
  Run run = Tillroll(dir, "append", Price("2", 100) + Price("1", 110, 0));
  CHECK(run.exit_code == 4);
  CHECK_THAT(run.err, Catch::Contains("line 2: event 2 of the batch (stream price/1)"));
  CHECK_THAT(Tillroll(dir, "stats").out, Catch::Contains("\"events\":1,"));
}

TEST_CASE("CLI: verify names the first damaged sequence and exits 1", "[cli]") {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 5; ++i) input += Price("1", 100 + i);
  REQUIRE(Tillroll(dir, "append", input).exit_code == 0);
  {
    auto store = LogStore::Open(dir.path() / "ledger");
    REQUIRE(store.ok());
    std::string value;
    REQUIRE((*store)
                ->db->Get(rocksdb::ReadOptions(), (*store)->events, log_format::EventKey(3), &value)
                .ok());
    value[value.size() / 2] = static_cast<char>(value[value.size() / 2] ^ 0x20);
    REQUIRE((*store)
                ->db->Put(rocksdb::WriteOptions(), (*store)->events, log_format::EventKey(3), value)
                .ok());
  }
  Run run = Tillroll(dir, "verify");
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.out, Catch::StartsWith("bad at sequence 3: "));
}

TEST_CASE("CLI: reading a ledger that does not exist is 'not found' (exit 3)", "[cli]") {
  TempDir dir;
  for (const char* command : {"verify", "stats", "log"}) {
    Run run = Tillroll(dir, command);
    CHECK(run.exit_code == 3);
    CHECK_THAT(run.err, Catch::Contains("no ledger in"));
  }
  CHECK_FALSE(std::filesystem::exists(dir.path() / "ledger"));
}

}  // namespace
}  // namespace tillroll

namespace tillroll {
namespace {

std::string WindowPrice(const std::string& scope, int amount, long long from_ns, long long to_ns) {
  return R"({"stream":"price/4711","payload_type":"PriceSet","payload":{"sku":"4711",)" + scope +
         R"("amount_minor":)" + std::to_string(amount) +
         R"(,"currency":"EUR","valid":{"from_ns":)" + std::to_string(from_ns) + R"(,"to_ns":)" +
         std::to_string(to_ns) + "}}}\n";
}

std::string Field(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const std::size_t at = json.find(key);
  if (at == std::string::npos) return "";
  const std::size_t begin = at + key.size();
  return json.substr(begin, json.find_first_of(",}", begin) - begin);
}

TEST_CASE("CLI: price answers for a place and a valid time - as JSON or a table", "[cli]") {
  TempDir dir;
  // 2026-03-01 .. 2026-03-05 list price 1000; a store price 1100; a markdown on 2026-03-03.
  const long long march1 = 1'772'323'200'000'000'000LL;
  const long long day = 86'400'000'000'000LL;
  Run appended = Tillroll(
      dir, "append",
      WindowPrice("", 1000, march1, 0) +
          WindowPrice(R"("scope":{"level":"Store","store":"store-12"},)", 1100, march1, 0) +
          WindowPrice(R"("price_type":"Markdown",)", 800, march1 + 2 * day, march1 + 3 * day));
  REQUIRE(appended.exit_code == 0);

  Run store = Tillroll(dir,
                       "price --sku 4711 --channel pos --store store-12 "
                       "--valid-at 2026-03-02T10:00:00Z");
  INFO(store.err);
  REQUIRE(store.exit_code == 0);
  CHECK(Field(store.out, "amount_minor") == "1100");
  CHECK(Field(store.out, "price_event_seq") == "2");
  Run markdown = Tillroll(dir, "price --sku 4711 --store store-12 --valid-at 2026-03-03T10:00:00Z");
  CHECK(Field(markdown.out, "amount_minor") == "800");
  Run table = Tillroll(dir, "price --sku 4711 --valid-at 2026-03-02T00:00:00Z --format table");
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("amount_minor") != std::string::npos);
  CHECK(table.out.find("1000") != std::string::npos);

  // Known before anything was recorded: not found.
  Run before = Tillroll(dir,
                        "price --sku 4711 --valid-at 2026-03-02T00:00:00Z "
                        "--known-at 2020-01-01T00:00:00Z");
  CHECK(before.exit_code == 3);
  CHECK(Tillroll(dir, "price --sku 9999").exit_code == 3);
  Run bad_time = Tillroll(dir, "price --sku 4711 --valid-at yesterday");
  CHECK(bad_time.exit_code == 2);
  CHECK(bad_time.err.find("--valid-at") != std::string::npos);
  CHECK(Tillroll(dir, "order R-404").exit_code == 3);
  CHECK(Tillroll(dir, "promotion NOPE").exit_code == 3);
}

TEST_CASE("CLI: digest equals the digest after a side-by-side or in-place rebuild", "[cli]") {
  TempDir dir;
  REQUIRE(Tillroll(dir, "append", Price("4711", 1299) + Price("42", 199) + Price("4711", 999))
              .exit_code == 0);
  Run digest = Tillroll(dir, "digest price_book");
  REQUIRE(digest.exit_code == 0);
  const std::string sha = Field(digest.out, "sha256");
  CHECK(sha.size() == 66);  // 64 hex digits in quotes
  CHECK(Field(digest.out, "checkpoint") == "3");

  Run side = Tillroll(dir, "rebuild --side-by-side price_book");
  INFO(side.err);
  REQUIRE(side.exit_code == 0);
  CHECK(Field(side.out, "sha256") == sha);
  CHECK(Field(side.out, "generation") == "\"price_book.2\"");
  // Without a terminal, progress comes as log lines.
  CHECK(side.err.find("price_book: done at 3/3") != std::string::npos);
  Run all = Tillroll(dir, "rebuild --all");
  REQUIRE(all.exit_code == 0);
  CHECK(Lines(all.out) == 9);  // one line per projection
  CHECK(Field(Tillroll(dir, "digest price_book").out, "sha256") == sha);

  CHECK(Tillroll(dir, "rebuild no_such").exit_code == 2);
  CHECK(Tillroll(dir, "digest no_such").exit_code == 2);
  CHECK(Tillroll(dir, "rebuild").exit_code == 2);
}

}  // namespace
}  // namespace tillroll
