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

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `tillroll ARGS` with `input` on stdin.
Run Tillroll(const TempDir& dir, const std::string& args, const std::string& input = "") {
  const auto in = dir.path() / "stdin";
  const auto out = dir.path() / "stdout";
  const auto err = dir.path() / "stderr";
  std::ofstream(in) << input;
  const std::string command = (testing::BinaryDir() / "tillroll").string() + " " + args +
                              " --data " + (dir.path() / "ledger").string() + " < " + in.string() +
                              " > " + out.string() + " 2> " + err.string();
  const int status = std::system(command.c_str());
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = testing::ReadFile(out);
  run.err = testing::ReadFile(err);
  return run;
}

std::size_t Lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string Price(const std::string& sku, int amount, int expected_version = -1) {
  return R"({"stream":"price/)" + sku + R"(","expected_version":)" +
         std::to_string(expected_version) + R"(,"payload_type":"PriceSet","payload":{"sku":")" +
         sku + R"(","amount_minor":)" + std::to_string(amount) + R"(,"currency":"EUR"}})" + "\n";
}

TEST_CASE("CLI: append prints each event as stored, log and stats read it back", "[cli]") {
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

TEST_CASE("CLI: bad input names line and field, exits 2 and appends nothing", "[cli]") {
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
