// The projections against an independent model of the same story: tools/generate prices every
// sale line from its own price book and promotion calendar. Over a generated history (seeded),
// the price_book's selling price at each sale's place and time, as known when the sale was
// recorded, must be the line's unit price and price event, and every promotion a sale used must
// be live there and then in the promotions projection.

#include <set>

#include "engine/event_log.h"
#include "tests/unit/projections/ledger_fixture.h"
#include "tools/generate/history_generator.h"

namespace tillroll::testing {
namespace {

TEST_CASE("Projections agree with the generator's prices and promotions on every sale",
          "[price_book][promotions][generate]") {
  const std::uint64_t seed = TestSeed("generated history");
  TempDir dir;
  ManualClock clock(0);
  Result<std::unique_ptr<EventLog>> log =
      EventLog::Open(dir.path() / "ledger", {.clock = &clock, .sync = false});
  REQUIRE(log.ok());
  generate::HistoryOptions options;
  options.sku_count = 60;
  options.store_count = 3;
  options.day_count = 30;
  options.seed = seed;
  options.sales_per_store_day = 15;
  options.end_ns = Day(40);
  REQUIRE(generate::GenerateHistory(**log, clock, options).ok());
  Result<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Open(**log, dir.path() / "ledger" / "projections");
  REQUIRE(runner.ok());
  REQUIRE((*runner)->CatchUp().ok());
  auto book = (*runner)->price_book();
  auto promotions = (*runner)->promotions();

  std::size_t lines = 0;
  std::size_t discounted = 0;
  const Status scanned = (*log)->Replay(1, (*log)->Head().seq + 1, [&](Sequence seq,
                                                                       std::string_view bytes) {
    const events::Event* event = events::GetEvent(bytes.data());
    const events::SaleRecorded* sale = event->payload_as_SaleRecorded();
    if (sale == nullptr) return true;
    const auto text = [](const flatbuffers::String* s) {
      return s == nullptr ? std::string_view() : s->string_view();
    };
    std::set<std::string> used;
    for (const events::SaleLine* line : *sale->lines()) {
      const projections::PriceQuery q{line->sku()->string_view(), text(sale->channel()),
                                      text(sale->region()),        text(sale->store()),
                                      sale->sold_at_ns(),          event->recorded_at_ns()};
      Result<projections::PriceAnswer> price = book->SellingPrice(q);
      INFO("sale at seq " << seq << ", sku " << line->sku()->str());
      REQUIRE(price.ok());
      CHECK(price->amount_minor == line->unit_price_minor());
      CHECK(price->seq == line->price_event_seq());
      ++lines;
      if (line->discounts() == nullptr) continue;
      for (const events::DiscountAllocation* d : *line->discounts()) {
        used.insert(d->promotion_id()->str() + "@" + std::to_string(d->promotion_version()) +
                    "#" + std::to_string(d->rule_snapshot_seq()));
      }
    }
    if (used.empty()) return true;
    ++discounted;
    std::set<std::string> live;
    for (const auto& p : promotions->Live({text(sale->channel()), text(sale->region()),
                                           text(sale->store()), sale->sold_at_ns(),
                                           event->recorded_at_ns()})) {
      live.insert(p.promotion_id + "@" + std::to_string(p.version) + "#" +
                  std::to_string(p.rule_snapshot_seq));
    }
    for (const std::string& u : used) {
      INFO("sale at seq " << seq);
      CHECK(live.count(u) == 1);
    }
    return true;
  });
  REQUIRE(scanned.ok());
  CHECK(lines > 1000);
  CHECK(discounted > 50);
}

}  // namespace
}  // namespace tillroll::testing
