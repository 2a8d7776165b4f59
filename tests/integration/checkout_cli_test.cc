// Checkout from the CLI on a generated ledger (real binary, real RocksDB): price-cart prices
// from the price book and the live promotions, the same cart and ledger position give the same
// bytes, bad carts are refused with their field path (exit 2), --sale-command records the
// priced cart through the command path, and return-quote refunds on the sale's own rules.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/clock.h"
#include "engine/utc_time.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

using json = nlohmann::json;
using testing::CliRun;
using testing::TempDir;

CliRun Tillroll(const TempDir& dir, const std::string& args, const std::string& input = "") {
  return testing::RunTillroll(dir, args, input);
}

// A small history, generated through the front door like the demo's.
void Generate(const TempDir& dir) {
  const std::string command = (testing::BinaryDir() / "tillroll").string() +
                              " generate --skus 30 --stores 2 --days 20 --seed 5 --out " +
                              (dir.path() / "ledger").string() + " > /dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
}

const std::string kConfig = std::string(TILLROLL_SOURCE_DIR) + "/tools/demo/tillroll.toml";

json Cart(const std::string& at) {
  return {{"currency", "EUR"},
          {"channel", "pos"},
          {"region", "de-north"},
          {"store", "store-01"},
          {"at", at},
          {"lines",
           {{{"sku", "SKU-000002"}, {"qty", 3}},
            {{"sku", "SKU-000005"}, {"qty", 2}},
            {{"sku", "SKU-000011"}, {"qty", 1}}}}};
}

TEST_CASE("CLI checkout: price a cart - record it - quote a return", "[cli][checkout]") {
  TempDir dir;
  Generate(dir);
  const std::string at = "2026-11-20T12:00:00Z";
  const std::string known = " --known-at 2026-11-27T00:00:00Z";
  // The generated history ends today: price at a moment inside it, as known at a fixed point.
  CliRun priced = Tillroll(dir, "price-cart -" + known, Cart(at).dump());
  INFO(priced.err);
  REQUIRE(priced.exit_code == 0);
  const json p = json::parse(priced.out);
  REQUIRE(p["lines"].size() == 3);
  // Each line's price is the selling price in force there and then, with its event.
  for (const json& line : p["lines"]) {
    CliRun price = Tillroll(dir, "price --sku " + line["sku"].get<std::string>() +
                                     " --channel pos --region de-north --store store-01"
                                     " --valid-at " +
                                     at + known);
    REQUIRE(price.exit_code == 0);
    const json answer = json::parse(price.out);
    CHECK(answer["amount_minor"] == line["unit_price_minor"]);
    CHECK(answer["price_event_seq"] == line["price_event_seq"]);
    CHECK(line["total_minor"].get<std::int64_t>() ==
          line["gross_minor"].get<std::int64_t>() - line["discount_minor"].get<std::int64_t>());
  }
  CHECK(p["totals"]["total_minor"].get<std::int64_t>() ==
        p["totals"]["net_minor"].get<std::int64_t>() +
            p["totals"]["tax_minor"].get<std::int64_t>());
  // The same cart at the same ledger position: the same bytes.
  CHECK(Tillroll(dir, "price-cart -" + known, Cart(at).dump()).out == priced.out);

  // Bad carts name the field and exit 2.
  json bad = Cart(at);
  bad["lines"][1]["qty"] = 0;
  CliRun zero = Tillroll(dir, "price-cart -" + known, bad.dump());
  CHECK(zero.exit_code == 2);
  CHECK_THAT(zero.err, Catch::Contains("lines[1].qty"));
  bad = Cart(at);
  bad["lines"][0]["sku"] = "NO-SUCH-SKU";
  CliRun unknown = Tillroll(dir, "price-cart -" + known, bad.dump());
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("lines[0].sku"));
  bad = Cart(at);
  bad["lines"][0]["unit_price_minor"] = 1;
  CliRun override_without_reason = Tillroll(dir, "price-cart -" + known, bad.dump());
  CHECK(override_without_reason.exit_code == 2);
  CHECK_THAT(override_without_reason.err, Catch::Contains("lines[0].override_reason"));
  CHECK(Tillroll(dir, "price-cart -", "{not json").exit_code == 2);

  // Recorded through the command path, once.
  CliRun command = Tillroll(dir, "price-cart - --sale-command R-T-1" + known, Cart(at).dump());
  REQUIRE(command.exit_code == 0);
  CliRun sold =
      Tillroll(dir, "submit --config " + kConfig + " --as service:pos-gateway", command.out);
  INFO(sold.err);
  REQUIRE(sold.exit_code == 0);
  CHECK_THAT(sold.out, Catch::Contains("\"outcome\":\"accepted\""));
  CliRun again =
      Tillroll(dir, "submit --config " + kConfig + " --as service:pos-gateway", command.out);
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("\"duplicate\":true"));

  // A partial return refunds no more than was paid; returning everything refunds it all.
  CliRun quote = Tillroll(dir, "return-quote R-T-1 --line 1:1");
  INFO(quote.err);
  REQUIRE(quote.exit_code == 0);
  const json q = json::parse(quote.out);
  CHECK(q["paid_minor"] == p["totals"]["total_minor"]);
  CHECK(q["refund_minor"].get<std::int64_t>() >= 0);
  CHECK(q["refund_minor"].get<std::int64_t>() <= q["paid_minor"].get<std::int64_t>());
  CliRun all = Tillroll(dir, "return-quote R-T-1 --line 1:3 --line 2:2 --line 3:1");
  REQUIRE(all.exit_code == 0);
  CHECK(json::parse(all.out)["refund_minor"] == p["totals"]["total_minor"]);

  // Recorded as quoted; a tampered refund is refused (exit 4) and leaves the order as it was.
  CliRun command_line = Tillroll(dir, "return-quote R-T-1 --line 1:1 --return-command RET-T-1");
  REQUIRE(command_line.exit_code == 0);
  json tampered = json::parse(command_line.out);
  tampered["idempotency_key"] = "return:tampered";
  tampered["args"]["return_id"] = "RET-T-0";
  tampered["args"]["refund_total_minor"] = tampered["args"]["refund_total_minor"].get<int>() + 1;
  CliRun refused =
      Tillroll(dir, "submit --config " + kConfig + " --as service:pos-gateway", tampered.dump());
  CHECK(refused.exit_code == 4);
  CHECK_THAT(refused.out, Catch::Contains("checkout:requote"));
  CliRun returned =
      Tillroll(dir, "submit --config " + kConfig + " --as service:pos-gateway", command_line.out);
  INFO(returned.err);
  REQUIRE(returned.exit_code == 0);
  // What is left to return refunds the rest: the two refunds add up to what was paid.
  CliRun rest = Tillroll(dir, "return-quote R-T-1 --line 1:2 --line 2:2 --line 3:1");
  REQUIRE(rest.exit_code == 0);
  CHECK(json::parse(rest.out)["refund_minor"].get<std::int64_t>() +
            q["refund_minor"].get<std::int64_t>() ==
        p["totals"]["total_minor"].get<std::int64_t>());

  CliRun too_many = Tillroll(dir, "return-quote R-T-1 --line 1:3");  // one came back
  CHECK(too_many.exit_code == 2);
  CHECK_THAT(too_many.err, Catch::Contains("lines[0].qty"));
  CHECK(Tillroll(dir, "return-quote R-T-1 --line one").exit_code == 2);
  CHECK(Tillroll(dir, "return-quote NO-SUCH-ORDER --line 1:1").exit_code == 3);
}

}  // namespace
}  // namespace tillroll
