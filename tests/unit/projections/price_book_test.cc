// price_book answers on both time axes: tests append a story of price decisions, each recorded
// on a chosen day (some corrections recorded days after the valid time they fix), and ask for
// the price at several (valid_at, known_at) points, checking the amount and the price event.

#include "projections/price_book.h"

#include "tests/unit/projections/ledger_fixture.h"

namespace tillroll::testing {
namespace {

using events::PriceType;
using events::ScopeLevel;
using projections::PriceQuery;

std::int64_t Selling(const projections::PriceBook& book, const PriceQuery& q, Sequence* seq) {
  Result<projections::PriceAnswer> answer = book.SellingPrice(q);
  INFO((answer.ok() ? std::string() : answer.status().ToString()));
  REQUIRE(answer.ok());
  if (seq != nullptr) *seq = answer->seq;
  return answer->amount_minor;
}

TEST_CASE("PriceBook: a correction recorded later changes the past only as known after it",
          "[price_book]") {
  LedgerFixture ledger;
  const Sequence list =
      ledger.Append(PriceSetEvent({.amount_minor = 1000, .from_ns = Day(1)}), Day(1));
  // On day 5 we learn that the price valid on day 2 should have been 950.
  const Sequence correction = ledger.Append(
      PriceSetEvent({.amount_minor = 950, .from_ns = Day(2), .to_ns = Day(3)}), Day(5));
  ledger.CatchUp();
  auto book = ledger.runner().price_book();
  Sequence seq = 0;

  PriceQuery q{
      .sku = "4711", .channel = "pos", .valid_at_ns = Day(2) + 3600, .known_at_ns = Day(4)};
  CHECK(Selling(*book, q, &seq) == 1000);
  CHECK(seq == list);
  q.known_at_ns = Day(6);
  CHECK(Selling(*book, q, &seq) == 950);
  CHECK(seq == correction);
  // The correction overwrote its own window only.
  q.valid_at_ns = Day(3);
  CHECK(Selling(*book, q, &seq) == 1000);
  q.valid_at_ns = Day(1) + 1;
  CHECK(Selling(*book, q, nullptr) == 1000);
  // Before the first decision was recorded, nothing was known.
  q.known_at_ns = Day(1) - 1;
  CHECK(book->SellingPrice(q).status().code() == StatusCode::kNotFound);
  // Before its valid window, there is no price.
  q = {.sku = "4711", .valid_at_ns = Day(0), .known_at_ns = Day(9)};
  CHECK(book->SellingPrice(q).status().code() == StatusCode::kNotFound);
  q.sku = "9999";
  CHECK(book->SellingPrice(q).status().code() == StatusCode::kNotFound);
}

TEST_CASE("PriceBook: the most specific scope wins and a markdown beats a list price",
          "[price_book]") {
  LedgerFixture ledger;
  ledger.Append(PriceSetEvent({.amount_minor = 1000, .from_ns = Day(1)}), Day(1));
  const Sequence web = ledger.Append(PriceSetEvent({.level = ScopeLevel::Channel,
                                                    .scope_name = "web",
                                                    .amount_minor = 970,
                                                    .from_ns = Day(1)}),
                                     Day(1));
  const Sequence region = ledger.Append(PriceSetEvent({.level = ScopeLevel::Region,
                                                       .scope_name = "de-north",
                                                       .amount_minor = 1050,
                                                       .from_ns = Day(1)}),
                                        Day(1));
  const Sequence store = ledger.Append(PriceSetEvent({.level = ScopeLevel::Store,
                                                      .scope_name = "store-12",
                                                      .amount_minor = 1100,
                                                      .from_ns = Day(1)}),
                                       Day(1));
  const Sequence markdown = ledger.Append(
      PriceSetEvent(
          {.type = PriceType::Markdown, .amount_minor = 800, .from_ns = Day(3), .to_ns = Day(6)}),
      Day(2));
  ledger.Append(PriceSetEvent({.type = PriceType::Cost, .amount_minor = 600, .from_ns = Day(1)}),
                Day(1));
  ledger.CatchUp();
  auto book = ledger.runner().price_book();
  Sequence seq = 0;
  PriceQuery q{.sku = "4711",
               .channel = "pos",
               .region = "de-north",
               .store = "store-12",
               .valid_at_ns = Day(2),
               .known_at_ns = Day(9)};
  CHECK(Selling(*book, q, &seq) == 1100);
  CHECK(seq == store);
  q.store = "store-7";
  CHECK(Selling(*book, q, &seq) == 1050);
  CHECK(seq == region);
  q.region = "de-south";
  CHECK(Selling(*book, q, nullptr) == 1000);
  q.channel = "web";
  CHECK(Selling(*book, q, &seq) == 970);
  CHECK(seq == web);
  // The markdown window: it beats every list price, even the store's.
  q = {.sku = "4711",
       .channel = "pos",
       .region = "de-north",
       .store = "store-12",
       .valid_at_ns = Day(4),
       .known_at_ns = Day(9)};
  CHECK(Selling(*book, q, &seq) == 800);
  CHECK(seq == markdown);
  q.valid_at_ns = Day(6);
  CHECK(Selling(*book, q, nullptr) == 1100);
  // Cost is never a selling price, but can be asked for.
  Result<projections::PriceAnswer> cost = book->PriceOfType(q, PriceType::Cost);
  REQUIRE(cost.ok());
  CHECK(cost->amount_minor == 600);
}

TEST_CASE("PriceBook: a retraction uncovers what applied before - from when it is known",
          "[price_book]") {
  LedgerFixture ledger;
  const Sequence global =
      ledger.Append(PriceSetEvent({.amount_minor = 1000, .from_ns = Day(1)}), Day(1));
  const PriceDecisionSpec store_price{.level = ScopeLevel::Store,
                                      .scope_name = "store-12",
                                      .amount_minor = 1100,
                                      .from_ns = Day(1)};
  const Sequence store = ledger.Append(PriceSetEvent(store_price), Day(1));
  const Sequence overwrite =
      ledger.Append(PriceSetEvent({.amount_minor = 990, .from_ns = Day(4)}), Day(4));
  ledger.Append(
      PriceRetractedEvent({.level = ScopeLevel::Store, .scope_name = "store-12", .from_ns = Day(7)},
                          store),
      Day(7));
  ledger.Append(PriceRetractedEvent({.from_ns = Day(5), .to_ns = Day(6)}, overwrite), Day(8));
  ledger.CatchUp();
  auto book = ledger.runner().price_book();
  Sequence seq = 0;
  PriceQuery q{
      .sku = "4711", .store = "store-12", .valid_at_ns = Day(7) + 1, .known_at_ns = Day(6)};
  CHECK(Selling(*book, q, &seq) == 1100);
  q.known_at_ns = Day(7);
  CHECK(Selling(*book, q, &seq) == 990);
  CHECK(seq == overwrite);
  // Retracting the overwrite over [day 5, day 6) brings back the price it covered there.
  q = {.sku = "4711", .valid_at_ns = Day(5), .known_at_ns = Day(8)};
  CHECK(Selling(*book, q, &seq) == 1000);
  CHECK(seq == global);
  q.known_at_ns = Day(7);
  CHECK(Selling(*book, q, &seq) == 990);
}

TEST_CASE("PriceBook: a retraction of a price that does not exist stops the projection there",
          "[price_book]") {
  LedgerFixture ledger;
  const Sequence set = ledger.Append(PriceSetEvent({.amount_minor = 1000}), Day(1));
  const Sequence bad =
      ledger.Append(PriceRetractedEvent({.type = PriceType::Markdown}, set), Day(2));
  ledger.Append(PriceSetEvent({.amount_minor = 1200, .from_ns = Day(3)}), Day(3));
  const Status s = ledger.runner().CatchUp();
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK_THAT(s.message(), Catch::Contains("price_book cannot apply event " + std::to_string(bad)));
  CHECK_THAT(s.message(), Catch::Contains("retracted_seq"));
  const Status health = ledger.runner().Health("price_book");
  CHECK_THAT(health.message(), Catch::Contains("stopped at seq " + std::to_string(bad - 1)));
  // Nothing after the bad event was applied, and the other projections went on.
  PriceQuery q{.sku = "4711", .valid_at_ns = Day(4), .known_at_ns = Day(9)};
  CHECK(ledger.runner().price_book()->SellingPrice(q)->amount_minor == 1000);
  CHECK(ledger.runner().Health("orders").ok());
  for (const auto& state : ledger.runner().State()) {
    if (state.projection != "price_book") CHECK(state.checkpoint == bad + 1);
  }
  // A restart retries the same event and stops there again: it is never skipped.
  ledger.Reopen();
  CHECK(ledger.runner().CatchUp().code() == StatusCode::kCorruption);
}

TEST_CASE("PriceBook: a price in a scope level the schema does not know stops the projection",
          "[price_book]") {
  for (const ScopeLevel level : {static_cast<ScopeLevel>(-1), static_cast<ScopeLevel>(4)}) {
    INFO("level " << static_cast<int>(level));
    LedgerFixture ledger;
    ledger.Append(PriceSetEvent({.amount_minor = 1000}), Day(1));
    const Sequence bad = ledger.Append(
        PriceSetEvent({.level = level, .scope_name = "S1", .amount_minor = 900}), Day(2));
    const Status s = ledger.runner().CatchUp();
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(),
               Catch::Contains("price_book cannot apply event " + std::to_string(bad)));
    CHECK_THAT(s.message(), Catch::Contains("scope.level: unknown level"));
    PriceQuery q{.sku = "4711", .store = "S1", .valid_at_ns = Day(3), .known_at_ns = Day(9)};
    CHECK(ledger.runner().price_book()->SellingPrice(q)->amount_minor == 1000);
  }
}

}  // namespace
}  // namespace tillroll::testing
