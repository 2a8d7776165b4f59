// The projections against an independent model of the same story: tools/generate keeps its own
// price book and promotion calendar. Over a generated history (seeded), the price_book's selling
// price at each sale's place and time, as known when the sale was recorded, must be the line's
// unit price and price event, and every promotion a sale used must be live there and then in
// the promotions projection. Both ways in are checked: bulk appends and the front door, where
// every decision goes through the command path and its audit trail, and where the ledger prices
// every generated sale and quotes every generated return again (verify_sales) and refuses any
// that differ: the generator prices with the checkout engine, so none may differ.

#include <map>
#include <set>

#include "engine/command_executor.h"
#include "engine/event_log.h"
#include "projections/decision_state.h"
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
  Result<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Open(**log, dir.path() / "ledger" / "projections");
  REQUIRE(runner.ok());
  projections::LedgerDecisionState state(**log, **runner);
  CommandExecutor executor(**log, state, generate::StoryRules(options), clock,
                           [&runner] { return (*runner)->CatchUp(); });
  const bool front_door = GENERATE(false, true);
  INFO((front_door ? "front door" : "bulk"));
  REQUIRE(generate::StoryRules(options).verify_sales);
  Result<generate::HistoryReport> report =
      generate::GenerateHistory(**log, clock, options, {}, front_door ? &executor : nullptr);
  INFO((report.ok() ? std::string() : report.status().message()));
  REQUIRE(report.ok());
  REQUIRE((*runner)->CatchUp().ok());
  auto book = (*runner)->price_book();
  auto promotions = (*runner)->promotions();

  std::size_t lines = 0;
  std::size_t discounted = 0;
  std::size_t returns = 0;
  // Front door: every command's audit record, by outcome and deciding rule.
  std::map<std::string, std::size_t> audited;
  const Status scanned =
      (*log)->Replay(1, (*log)->Head().seq + 1, [&](Sequence seq, std::string_view bytes) {
        const events::Event* event = events::GetEvent(bytes.data());
        if (const auto* audit = event->payload_as_CommandAudited()) {
          ++audited[std::string(events::EnumNameAuditOutcome(audit->outcome())) + " " +
                    (audit->rule() ? audit->rule()->str() : "")];
        }
        if (event->payload_as_ReturnRecorded() != nullptr) ++returns;
        const events::SaleRecorded* sale = event->payload_as_SaleRecorded();
        if (sale == nullptr) return true;
        const auto text = [](const flatbuffers::String* s) {
          return s == nullptr ? std::string_view() : s->string_view();
        };
        std::set<std::string> used;
        for (const events::SaleLine* line : *sale->lines()) {
          const projections::PriceQuery q{line->sku()->string_view(), text(sale->channel()),
                                          text(sale->region()),       text(sale->store()),
                                          sale->sold_at_ns(),         event->recorded_at_ns()};
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
        for (const auto& p :
             promotions->Live({text(sale->channel()), text(sale->region()), text(sale->store()),
                               sale->sold_at_ns(), event->recorded_at_ns()})) {
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
  CHECK(returns > 5);  // front door: each one quoted again by the ledger and found equal
  if (!front_door) {
    CHECK(audited.empty());
    CHECK(report->rejected_attempts == 0);
    return;
  }
  // The bad attempts the story makes were refused, each by its rule, and nothing else was.
  std::string tally;
  for (const auto& [what, count] : audited) tally += what + ": " + std::to_string(count) + "\n";
  INFO(tally);
  CHECK(audited["Rejected separation_of_duties"] > 0);
  CHECK(audited["Rejected authority:odoo-no-selling-prices"] > 0);
  CHECK(audited["Rejected workflow"] > 0);
  CHECK(audited["Rejected separation_of_duties"] + audited["Rejected workflow"] +
            audited["Rejected authority:odoo-no-selling-prices"] ==
        report->rejected_attempts);
  CHECK(audited["HeldForApproval four_eyes:price_change"] > 0);
  std::size_t accepted = 0;
  for (const auto& [what, count] : audited) {
    if (what.starts_with("Accepted")) accepted += count;
  }
  CHECK(accepted > 1000);
}

}  // namespace
}  // namespace tillroll::testing
