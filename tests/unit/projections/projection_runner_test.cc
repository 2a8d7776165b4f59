// The runner: over a randomized, seeded history (TILLROLL_SEED replays one), the state built
// live — in steps, while following the log — has the same digest as a rebuild from sequence 1,
// in place or side by side, and as the state reloaded after a restart. A side-by-side rebuild
// keeps the serving state answering until the swap, and state written by another code version
// is rebuilt on open.

#include "projections/projection_runner.h"

#include <deque>
#include <map>
#include <random>
#include <thread>

#include "projections/projection_store.h"
#include "tests/support/projection_digests.h"
#include "tests/unit/projections/ledger_fixture.h"

namespace tillroll::testing {
namespace {

using events::Payload;
using events::PriceType;
using events::ScopeLevel;
using projections::ProjectionRunner;
using projections::RebuildMode;

// Appends `count` random but consistent events: prices over scopes and windows (with
// corrections and retractions), promotions through their workflow, sales with discounts and
// returns, settlements.
class RandomHistory {
 public:
  RandomHistory(LedgerFixture& ledger, std::uint64_t seed) : ledger_(ledger), rng_(seed) {}

  void Append(int count) {
    for (int i = 0; i < count; ++i) {
      now_ns_ += Pick(1, 3600) * 1'000'000'000LL;
      switch (Pick(0, 9)) {
        case 0:
        case 1:
        case 2:
        case 3:
          SetPrice();
          break;
        case 4:
          Retract();
          break;
        case 5:
          PromotionStep();
          break;
        case 6:
        case 7:
          Sale();
          break;
        case 8:
          Return();
          break;
        default:
          ledger_.Append(LiabilitySettledEvent("P" + std::to_string(Pick(0, 3)), 1, "vendor:acme",
                                               Pick(1, 500)),
                         now_ns_);
      }
    }
  }

 private:
  std::int64_t Pick(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  std::string Sku() { return "SKU-" + std::to_string(Pick(1, 12)); }

  PriceDecisionSpec RandomPrice() {
    static const char* kScopes[] = {"", "web", "de-north", "store-12"};
    const auto level = static_cast<ScopeLevel>(Pick(0, 3));
    const std::int64_t from = now_ns_ - Pick(-3, 3) * kDayNs;
    return {.sku = sku_buffer_ = Sku(),
            .type = static_cast<PriceType>(Pick(0, 3)),
            .level = level,
            .scope_name = kScopes[static_cast<int>(level)],
            .amount_minor = Pick(100, 5000),
            .from_ns = from,
            .to_ns = Pick(0, 1) == 0 ? 0 : from + Pick(1, 10) * kDayNs};
  }

  void SetPrice() {
    const PriceDecisionSpec spec = RandomPrice();
    const Sequence seq = ledger_.Append(PriceSetEvent(spec), now_ns_);
    sets_.push_back({spec, std::string(spec.sku), std::string(spec.scope_name), seq});
  }

  void Retract() {
    if (sets_.empty()) return SetPrice();
    SetRecord& r =
        sets_[static_cast<std::size_t>(Pick(0, static_cast<std::int64_t>(sets_.size()) - 1))];
    PriceDecisionSpec spec = r.spec;
    spec.sku = r.sku;
    spec.scope_name = r.scope;
    ledger_.Append(PriceRetractedEvent(spec, Pick(0, 1) == 0 ? r.seq : 0), now_ns_);
  }

  void PromotionStep() {
    const int p = static_cast<int>(Pick(0, 3));
    const std::string id = "P" + std::to_string(p);
    Promo& promo = promos_[p];
    if (promo.drafts == 0 || Pick(0, 4) == 0) {
      promo.draft_seq = ledger_.Append(
          PromotionDraftedEvent({.id = id, .version = ++promo.drafts, .valid_from_ns = Day(0)}),
          now_ns_);
      return;
    }
    static const Payload kSteps[] = {Payload::PromotionSubmitted, Payload::PromotionApproved,
                                     Payload::PromotionPaused, Payload::PromotionResumed,
                                     Payload::PromotionWithdrawn};
    if (Pick(0, 2) == 0) {
      ledger_.Append(PromotionPublishedEvent(id, promo.drafts, now_ns_ - kDayNs,
                                             now_ns_ + Pick(1, 20) * kDayNs, promo.draft_seq),
                     now_ns_);
    } else {
      ledger_.Append(PromotionStepEvent(kSteps[Pick(0, 4)], id, promo.drafts), now_ns_);
    }
  }

  SaleSpec RandomSale() {
    return {.order_id = order_ids_.emplace_back("R-" + std::to_string(order_ids_.size() + 1)),
            .sold_at_ns = now_ns_ - Pick(0, 600) * 1'000'000'000LL,
            .sku = "SKU-1",
            .qty = static_cast<std::int32_t>(Pick(1, 5)),
            .unit_price_minor = Pick(100, 2000),
            .price_event_seq = 1,
            .promotion_id = "P1",
            .rule_snapshot_seq = 1,
            .discount_minor = Pick(0, 99),
            .vendor_share_bps = static_cast<std::int32_t>(Pick(0, 10'000))};
  }

  void Sale() {
    sales_.push_back(RandomSale());
    ledger_.Append(SaleRecordedEvent(sales_.back()), now_ns_);
  }

  void Return() {
    if (sales_.empty()) return Sale();
    const SaleSpec& sale =
        sales_[static_cast<std::size_t>(Pick(0, static_cast<std::int64_t>(sales_.size()) - 1))];
    ledger_.Append(ReturnRecordedEvent(sale, "RET-" + std::to_string(++returns_), now_ns_, 1,
                                       sale.unit_price_minor, sale.discount_minor / sale.qty),
                   now_ns_);
  }

  struct SetRecord {
    PriceDecisionSpec spec;
    std::string sku;
    std::string scope;
    Sequence seq;
  };
  struct Promo {
    std::uint32_t drafts = 0;
    Sequence draft_seq = 0;
  };

  LedgerFixture& ledger_;
  std::mt19937_64 rng_;
  std::int64_t now_ns_ = Day(1);
  std::string sku_buffer_;
  std::vector<SetRecord> sets_;
  Promo promos_[4];
  std::deque<std::string> order_ids_;
  std::vector<SaleSpec> sales_;
  int returns_ = 0;
};

std::map<std::string, std::string> Digests(const ProjectionRunner& runner) {
  return testing::ProjectionDigests(runner);
}

TEST_CASE("ProjectionRunner: live state equals a rebuild - in place and side by side - and a reload",
          "[runner]") {
  const std::uint64_t seed = TestSeed("runner live equals rebuild");
  LedgerFixture ledger;
  RandomHistory history(ledger, seed);
  history.Append(300);
  ledger.CatchUp();
  history.Append(300);
  ledger.CatchUp();
  ledger.runner().StartFollowing();
  history.Append(400);
  const Sequence head = ledger.log().Head().seq;
  for (int i = 0; i < 500 && ledger.runner().CaughtUpSeq() < head; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ledger.runner().StopFollowing();
  for (const auto& state : ledger.runner().State()) {
    INFO(state.projection << ": " << state.error);
    REQUIRE(state.error.empty());
    REQUIRE(state.checkpoint == head);
  }
  const auto live = Digests(ledger.runner());

  for (std::string_view name : ProjectionRunner::Names()) {
    REQUIRE(ledger.runner().Rebuild(name, RebuildMode::kSideBySide).ok());
  }
  CHECK(Digests(ledger.runner()) == live);
  REQUIRE(ledger.runner().Rebuild("price_book", RebuildMode::kInPlace).ok());
  CHECK(Digests(ledger.runner()) == live);

  // The in-memory price book reloaded after a restart answers as the live one did.
  auto answers = [&] {
    std::vector<std::string> out;
    for (int sku = 1; sku <= 12; ++sku) {
      for (int day = 0; day < 20; ++day) {
        auto price =
            ledger.runner().price_book()->SellingPrice({.sku = "SKU-" + std::to_string(sku),
                                                        .channel = "web",
                                                        .region = "de-north",
                                                        .store = "store-12",
                                                        .valid_at_ns = Day(day),
                                                        .known_at_ns = Day(day + 2)});
        out.push_back(price.ok()
                          ? std::to_string(price->amount_minor) + "@" + std::to_string(price->seq)
                          : price.status().ToString());
      }
    }
    return out;
  };
  const std::vector<std::string> live_answers = answers();
  ledger.Reopen();
  CHECK(Digests(ledger.runner()) == live);
  CHECK(answers() == live_answers);

  // Rebuilds that read only each projection's streams through the stream index fold the same.
  ledger.Close();
  ledger.Open({.stream_index_events_min = 1, .stream_index_share_max_pct = 100});
  for (std::string_view name : ProjectionRunner::Names()) {
    REQUIRE(ledger.runner().Rebuild(name, RebuildMode::kInPlace).ok());
  }
  CHECK(Digests(ledger.runner()) == live);
  CHECK(answers() == live_answers);
  CHECK(ledger.runner().Rebuild("no_such", RebuildMode::kInPlace).code() == StatusCode::kNotFound);
}

TEST_CASE("ProjectionRunner: a side-by-side rebuild serves the old state until the swap",
          "[runner]") {
  LedgerFixture ledger;
  for (int i = 0; i < 50; ++i) {
    ledger.Append(PriceSetEvent({.amount_minor = 1000 + i, .from_ns = Day(1)}), Day(1) + i);
  }
  ledger.CatchUp();
  auto serving = ledger.runner().price_book();
  const projections::PriceQuery q{.sku = "4711", .valid_at_ns = Day(2)};
  bool checked_during_build = false;
  const Status rebuilt = ledger.runner().Rebuild(
      "price_book", RebuildMode::kSideBySide, [&](const projections::ApplyProgress& p) {
        if (!p.done) return;
        // The new generation has caught up but is not serving yet.
        CHECK(ledger.runner().price_book() == serving);
        CHECK(ledger.runner().price_book()->SellingPrice(q)->amount_minor == 1049);
        checked_during_build = true;
      });
  REQUIRE(rebuilt.ok());
  CHECK(checked_during_build);
  CHECK(ledger.runner().price_book() != serving);
  CHECK(ledger.runner().price_book()->SellingPrice(q)->amount_minor == 1049);
  // The old instance still answers for a reader that holds it.
  CHECK(serving->SellingPrice(q)->amount_minor == 1049);
  CHECK(ledger.runner().State()[0].generation == "price_book.2");
}

TEST_CASE("ProjectionRunner: state stored by another code version is rebuilt on open", "[runner]") {
  LedgerFixture ledger;
  ledger.Append(PriceSetEvent({.amount_minor = 1234, .from_ns = Day(1)}), Day(1));
  ledger.CatchUp();
  const auto before = Digests(ledger.runner());
  ledger.Close();
  {
    auto store = projections::ProjectionStore::Open(ledger.ledger_dir() / "projections");
    REQUIRE(store.ok());
    auto slot = (*store)->Serving("price_book");
    REQUIRE(slot.ok());
    REQUIRE((*slot)->NewBatch()->Commit(1, 99).ok());
  }
  std::vector<std::string> notices;
  ledger.Open({.notice = [&](std::string_view line) { notices.emplace_back(line); }});
  REQUIRE(notices.size() == 1);
  CHECK(notices[0] ==
        "rebuilding price_book: its state was built by code version 99, this is version 2");
  CHECK(Digests(ledger.runner()) == before);
  CHECK(ledger.runner()
            .price_book()
            ->SellingPrice({.sku = "4711", .valid_at_ns = Day(2)})
            ->amount_minor == 1234);
}

}  // namespace
}  // namespace tillroll::testing
