// promotions: tests walk promotions through their workflow on chosen days and check each
// version's state, who approved it, the live set at a store and moment on both time axes, and
// that the rule snapshot is the drafted event itself.

#include "projections/promotions.h"

#include "engine/event_log.h"
#include "tests/unit/projections/ledger_fixture.h"

namespace tillroll::testing {
namespace {

using events::Payload;
using projections::PlaceAndTime;

std::vector<std::string> LiveIds(const projections::Promotions& p, const PlaceAndTime& where) {
  std::vector<std::string> ids;
  for (const auto& live : p.Live(where)) {
    ids.push_back(live.promotion_id + "@" + std::to_string(live.version));
  }
  return ids;
}

using Ids = std::vector<std::string>;

TEST_CASE("Promotions: the workflow - amendments and the live set on both time axes",
          "[promotions]") {
  LedgerFixture ledger;
  const Sequence v1 = ledger.Append(
      PromotionDraftedEvent({.stores = {"store-12"}, .valid_from_ns = Day(0)}), Day(1));
  ledger.Append(PromotionStepEvent(Payload::PromotionSubmitted, "SPRING-10", 1, "user:ann"),
                Day(1));
  ledger.Append(PromotionStepEvent(Payload::PromotionApproved, "SPRING-10", 1, "user:bob"), Day(2));
  ledger.Append(PromotionPublishedEvent("SPRING-10", 1, Day(3), Day(20), v1), Day(2));
  ledger.Append(PromotionStepEvent(Payload::PromotionPaused, "SPRING-10", 1), Day(5));
  ledger.Append(PromotionStepEvent(Payload::PromotionResumed, "SPRING-10", 1), Day(6));
  // An amendment: version 2 needs approval again; version 1 stays live until 2 is published.
  const Sequence v2 = ledger.Append(
      PromotionDraftedEvent(
          {.version = 2, .name = "Spring 15%", .stores = {"store-12"}, .percent_bps = 1500}),
      Day(7));
  ledger.Append(PromotionStepEvent(Payload::PromotionSubmitted, "SPRING-10", 2, "user:ann"),
                Day(7));
  ledger.Append(PromotionStepEvent(Payload::PromotionApproved, "SPRING-10", 2, "user:cy"), Day(8));
  ledger.Append(PromotionPublishedEvent("SPRING-10", 2, Day(9), Day(20), v2), Day(9));
  ledger.Append(PromotionDraftedEvent({.id = "WEB-5", .channels = {"web"}}), Day(1));
  ledger.CatchUp();
  auto promotions = ledger.runner().promotions();

  PlaceAndTime at{
      .channel = "pos", .store = "store-12", .valid_at_ns = Day(4), .known_at_ns = Day(30)};
  CHECK(LiveIds(*promotions, at) == Ids{"SPRING-10@1"});
  at.valid_at_ns = Day(5) + 1;  // paused
  CHECK(LiveIds(*promotions, at).empty());
  at.valid_at_ns = Day(8);
  CHECK(LiveIds(*promotions, at) == Ids{"SPRING-10@1"});
  at.valid_at_ns = Day(10);
  CHECK(LiveIds(*promotions, at) == Ids{"SPRING-10@2"});
  // As known on day 8, day 10 was still going to run version 1.
  at.known_at_ns = Day(8);
  CHECK(LiveIds(*promotions, at) == Ids{"SPRING-10@1"});
  // Targeting: another store, and before the window.
  at = {.channel = "pos", .store = "store-7", .valid_at_ns = Day(4), .known_at_ns = Day(30)};
  CHECK(LiveIds(*promotions, at).empty());
  at = {.channel = "pos", .store = "store-12", .valid_at_ns = Day(2), .known_at_ns = Day(30)};
  CHECK(LiveIds(*promotions, at).empty());

  Result<projections::PromotionView> view = promotions->Describe("SPRING-10", Day(30));
  REQUIRE(view.ok());
  CHECK(view->live_version == 2);
  REQUIRE(view->versions.size() == 2);
  CHECK(view->versions[0].state == "superseded");
  CHECK(view->versions[1].state == "published");
  CHECK(view->versions[1].rule_snapshot_seq == v2);
  const auto& steps = view->versions[1].steps;
  REQUIRE(steps.size() == 4);
  CHECK(steps[2].step == projections::PromotionStep::kApproved);
  CHECK(steps[2].principal == "user:cy");
  CHECK(steps[2].recorded_at_ns == Day(8));
  // The rule snapshot is the drafted event exactly as the log holds it.
  Result<std::vector<EventRecord>> drafted = ledger.log().Read(v2, 1);
  REQUIRE(drafted.ok());
  CHECK(view->versions[1].rule_event == drafted->front().bytes);

  Result<projections::PromotionView> before = promotions->Describe("SPRING-10", Day(7) + 1);
  REQUIRE(before.ok());
  CHECK(before->versions[1].state == "submitted");
  CHECK(before->live_version == 1);
  CHECK(promotions->Describe("SPRING-10", Day(0)).status().code() == StatusCode::kNotFound);
  CHECK(promotions->Describe("NOPE", Day(30)).status().code() == StatusCode::kNotFound);
}

TEST_CASE("Promotions: a withdrawn or expired version is no longer live", "[promotions]") {
  LedgerFixture ledger;
  const Sequence a = ledger.Append(PromotionDraftedEvent({.id = "A"}), Day(1));
  ledger.Append(PromotionPublishedEvent("A", 1, Day(1), 0, a), Day(1));
  const Sequence b = ledger.Append(PromotionDraftedEvent({.id = "B"}), Day(1));
  ledger.Append(PromotionPublishedEvent("B", 1, Day(1), Day(4), b), Day(1));
  ledger.Append(PromotionStepEvent(Payload::PromotionWithdrawn, "A", 1), Day(3));
  ledger.Append(PromotionStepEvent(Payload::PromotionExpired, "B", 1), Day(4));
  ledger.CatchUp();
  auto promotions = ledger.runner().promotions();
  CHECK(LiveIds(*promotions, {.valid_at_ns = Day(2), .known_at_ns = Day(9)}) == Ids{"A@1", "B@1"});
  CHECK(LiveIds(*promotions, {.valid_at_ns = Day(3) + 1, .known_at_ns = Day(9)}) == Ids{"B@1"});
  CHECK(LiveIds(*promotions, {.valid_at_ns = Day(5), .known_at_ns = Day(9)}).empty());
  CHECK(promotions->Describe("A", Day(9))->versions[0].state == "withdrawn");
}

TEST_CASE(
    "Promotions: the live set for a cart holds those on its SKUs or categories or on "
    "every product, in id order",
    "[promotions]") {
  LedgerFixture ledger;
  auto publish = [&](const PromotionSpec& spec) {
    const Sequence drafted = ledger.Append(PromotionDraftedEvent(spec), Day(1));
    ledger.Append(PromotionPublishedEvent(spec.id, spec.version, Day(1), 0, drafted), Day(1));
  };
  // Drafted out of id order, so that later ids land before earlier ones in the index.
  publish({.id = "M-DAIRY", .include_categories = {"dairy"}});
  publish({.id = "B-SKU", .include_skus = {"4711"}});
  publish({.id = "Z-ALL"});
  publish({.id = "A-WEB", .channels = {"web"}});
  publish({.id = "C-AMENDED", .include_skus = {"9999"}});
  // A second version on another category, drafted and not published: the promotion can reach
  // a cart through either version's products.
  ledger.Append(
      PromotionDraftedEvent({.id = "C-AMENDED", .version = 2, .include_categories = {"bakery"}}),
      Day(2));
  ledger.CatchUp();
  auto promotions = ledger.runner().promotions();
  auto live_for = [&](std::vector<std::string_view> skus,
                      std::vector<std::string_view> categories) {
    Ids ids;
    for (const auto& live :
         promotions->LiveFor({.channel = "pos", .valid_at_ns = Day(3), .known_at_ns = Day(9)},
                             {.skus = std::move(skus), .categories = std::move(categories)})) {
      ids.push_back(live.promotion_id + "@" + std::to_string(live.version));
    }
    return ids;
  };
  CHECK(live_for({"4711"}, {"dairy"}) == Ids{"B-SKU@1", "M-DAIRY@1", "Z-ALL@1"});
  CHECK(live_for({"1234"}, {"frozen"}) == Ids{"Z-ALL@1"});
  CHECK(live_for({"9999"}, {}) == Ids{"C-AMENDED@1", "Z-ALL@1"});
  CHECK(live_for({}, {"bakery"}) == Ids{"C-AMENDED@1", "Z-ALL@1"});
  // Everything live at the place, for comparison: the web-only one is not.
  CHECK(LiveIds(*promotions, {.channel = "pos", .valid_at_ns = Day(3), .known_at_ns = Day(9)}) ==
        Ids{"B-SKU@1", "C-AMENDED@1", "M-DAIRY@1", "Z-ALL@1"});
}

TEST_CASE(
    "Promotions: the live set for a cart agrees with the live set at every moment on both time "
    "axes",
    "[promotions]") {
  // LiveFor reads what every step comes to from a summary kept per promotion, and folds the
  // steps itself only for a moment known before the last one; Live always folds them.
  LedgerFixture ledger;  // appended in record-time order
  const Sequence a = ledger.Append(PromotionDraftedEvent({.id = "A"}), Day(1));
  ledger.Append(PromotionPublishedEvent("A", 1, Day(1), 0, a), Day(1));
  const Sequence b = ledger.Append(PromotionDraftedEvent({.id = "B"}), Day(1));
  ledger.Append(PromotionPublishedEvent("B", 1, Day(2), Day(4), b), Day(1));
  const Sequence c = ledger.Append(PromotionDraftedEvent({.id = "C", .channels = {"web"}}), Day(1));
  const Sequence d =
      ledger.Append(PromotionDraftedEvent({.id = "D", .stores = {"store-7"}}), Day(1));
  ledger.Append(PromotionPublishedEvent("D", 1, Day(1), 0, d), Day(1));
  const Sequence e1 = ledger.Append(PromotionDraftedEvent({.id = "E"}), Day(1));
  ledger.Append(PromotionPublishedEvent("E", 1, Day(1), 0, e1), Day(1));
  ledger.Append(PromotionPublishedEvent("C", 1, Day(1), 0, c), Day(2));
  ledger.Append(PromotionStepEvent(Payload::PromotionPaused, "A", 1), Day(3));
  const Sequence e2 =
      ledger.Append(PromotionDraftedEvent({.id = "E", .version = 2, .percent_bps = 1500}), Day(4));
  ledger.Append(PromotionPublishedEvent("E", 2, Day(5), 0, e2), Day(4));
  ledger.Append(PromotionStepEvent(Payload::PromotionResumed, "A", 1), Day(5));
  ledger.Append(PromotionStepEvent(Payload::PromotionWithdrawn, "D", 1), Day(6));
  ledger.CatchUp();
  auto promotions = ledger.runner().promotions();
  auto described = [](const std::vector<projections::LivePromotion>& live) {
    Ids ids;
    for (const auto& p : live) {
      ids.push_back(p.promotion_id + "@" + std::to_string(p.version) + " from " +
                    std::to_string(p.window_from_ns) + " to " + std::to_string(p.window_to_ns) +
                    " rule " + std::to_string(p.rule_snapshot_seq));
    }
    return ids;
  };
  std::size_t moments_with_live = 0;
  for (const std::string_view channel : {"pos", "web"}) {
    for (const std::string_view store : {"", "store-7"}) {
      for (int valid = 0; valid <= 8; ++valid) {
        for (int known = 0; known <= 8; ++known) {
          const PlaceAndTime where{.channel = channel,
                                   .store = store,
                                   .valid_at_ns = Day(valid) + 1,
                                   .known_at_ns = Day(known) + 1};
          const Ids expected = described(promotions->Live(where));
          INFO(channel << " " << store << " valid day " << valid << " known day " << known);
          CHECK(described(promotions->LiveFor(where, {})) == expected);
          if (!expected.empty()) ++moments_with_live;
        }
      }
    }
  }
  CHECK(moments_with_live > 100);
  // Spot checks of what both say.
  CHECK(LiveIds(*promotions, {.channel = "pos", .valid_at_ns = Day(3) + 1}) == Ids{"B@1", "E@1"});
  CHECK(LiveIds(*promotions, {.channel = "web", .store = "store-7", .valid_at_ns = Day(5) + 1}) ==
        Ids{"A@1", "C@1", "D@1", "E@2"});
  CHECK(LiveIds(*promotions, {.channel = "web",
                              .store = "store-7",
                              .valid_at_ns = Day(5) + 1,
                              .known_at_ns = Day(3) + 1}) == Ids{"C@1", "D@1", "E@1"});
}

TEST_CASE("Promotions: publishing with a rule snapshot that is not the version's draft stops",
          "[promotions]") {
  LedgerFixture ledger;
  const Sequence v1 = ledger.Append(PromotionDraftedEvent({}), Day(1));
  const Sequence bad =
      ledger.Append(PromotionPublishedEvent("SPRING-10", 1, Day(1), 0, v1 + 7), Day(1));
  const Status s = ledger.runner().CatchUp();
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK_THAT(s.message(), Catch::Contains("promotions cannot apply event " + std::to_string(bad)));
  CHECK_THAT(s.message(), Catch::Contains("rule_snapshot_seq"));
}

}  // namespace
}  // namespace tillroll::testing
