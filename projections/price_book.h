#ifndef TILLROLL_PROJECTIONS_PRICE_BOOK_H_
#define TILLROLL_PROJECTIONS_PRICE_BOOK_H_

// price_book: every price decision per SKU (PriceSet, PriceRetracted), on both time axes, and
// the resolution of the price in force.
//
// Which price is in force for (sku, price type, scope) at valid time v, as known at record time
// k: among the decisions recorded at or before k, the latest PriceSet whose [from, to) holds v,
// unless a later retraction recorded at or before k covers v and names it (or names no set, which
// retracts every earlier set of that type and scope). So a later decision overwrites its own
// window only, and a retraction uncovers whatever applied before.
//
// The selling price at (sku, channel, region, store): the most specific scope with a Markdown in
// force (store, region, channel, global), else the most specific scope with a List price.
//
// Stored record: key Str(sku) U64(seq); value U8(kind) U8(price type) U8(scope level)
// Str(scope name) I64(from_ns) I64(to_ns) I64(amount_minor) Str(currency) I64(recorded_at_ns)
// U64(retracted_seq). The whole book is also held in memory (loaded on open) for lookups.
//
// Thread-safety: queries may run on any thread while the runner applies events.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/string_map.h"
#include "projections/projection.h"

namespace tillroll::projections {

// What a checkout line needs from the book.
struct LinePrices {
  std::int64_t selling_minor = 0;
  Sequence selling_seq = 0;       // the PriceSet of the selling price
  std::int64_t floor_minor = -1;  // -1: no Floor price in force
};

struct PriceQuery {
  std::string_view sku;
  std::string_view channel;  // empty: no channel-scoped price applies
  std::string_view region;
  std::string_view store;
  std::int64_t valid_at_ns = 0;
  std::int64_t known_at_ns = INT64_MAX;
};

// A price in force and the decision it came from.
struct PriceAnswer {
  std::string sku;
  events::PriceType price_type = events::PriceType::List;
  events::ScopeLevel scope_level = events::ScopeLevel::Global;
  std::string scope_name;  // the channel, region or store; empty for global
  std::int64_t amount_minor = 0;
  std::string currency;
  std::int64_t valid_from_ns = 0;
  std::int64_t valid_to_ns = 0;  // 0: open-ended
  Sequence seq = 0;              // the PriceSet that produced this price
  std::int64_t recorded_at_ns = 0;
};

class PriceBook final : public Projection {
 public:
  static constexpr std::string_view kName = "price_book";
  // 2: folds only its own streams (stream_prefix).
  static constexpr std::uint32_t kCodeVersion = 2;

  std::string_view name() const override { return kName; }
  std::uint32_t code_version() const override { return kCodeVersion; }
  std::string_view stream_prefix() const override { return "price/"; }
  Status Apply(const LoggedEvent& logged, StateWriter& state) override;
  Status Load(const StateReader& state) override;

  // The selling price (markdown beats list, most specific scope first). NotFound when the SKU
  // has no price decision known at known_at, or none in force at valid_at.
  Result<PriceAnswer> SellingPrice(const PriceQuery& query) const;
  // The price of one type (e.g. Cost, Floor) by the most specific scope. NotFound as above.
  Result<PriceAnswer> PriceOfType(const PriceQuery& query, events::PriceType type) const;

  // The selling and Floor prices of a cart line in one lookup. NotFound as SellingPrice.
  Result<LinePrices> CheckoutPrices(const PriceQuery& query) const;

  std::size_t sku_count() const;
  // Whether any price decision for the SKU was ever recorded.
  bool Knows(std::string_view sku) const;

 private:
  struct Decision {
    Sequence seq = 0;
    Sequence retracted_seq = 0;
    std::int64_t recorded_at_ns = 0;
    std::int64_t from_ns = 0;
    std::int64_t to_ns = 0;  // INT64_MAX when open-ended
    std::int64_t amount_minor = 0;
    // Running bounds over the decision's timeline (see Timeline).
    std::int64_t suffix_min_from_ns = 0;  // min from_ns of this and every later decision
    std::int64_t prefix_max_end_ns = 0;   // max to_ns of this and every earlier decision
    std::uint32_t scope_id = 0;
    char currency[3] = {};
    events::PriceType type = events::PriceType::List;
    bool retraction = false;
  };
  struct ScopeKey {
    events::ScopeLevel level;
    std::string name;
  };
  // The decisions of one (price type, scope) of a SKU in sequence order, with two running
  // bounds that let a lookup skip, by binary search and an early stop, every decision that
  // cannot hold its valid time: a lookup costs O(log n) plus the few decisions near it,
  // however long the history.
  struct Timeline {
    events::PriceType type = events::PriceType::List;
    std::uint32_t scope_id = 0;
    std::vector<Decision> decisions;
    void Add(Decision d);
  };
  using SkuTimelines = std::vector<Timeline>;
  static const Decision* InForce(const Timeline& timeline, std::int64_t valid_at_ns,
                                 std::int64_t known_at_ns);

  Status Absorb(std::string_view key, std::string_view value);
  std::optional<std::uint32_t> FindScope(events::ScopeLevel level, std::string_view name) const;
  std::uint32_t InternScope(events::ScopeLevel level, std::string_view name);
  PriceAnswer Answer(std::string_view sku, const Decision& d) const;
  Result<PriceAnswer> Resolve(const PriceQuery& query,
                              std::span<const events::PriceType> types) const;
  // The scopes of a query, most specific first (a scope the book never saw is empty).
  using RankedScopes = std::array<std::optional<std::uint32_t>, 4>;
  RankedScopes Rank(const PriceQuery& query) const;
  // The first type in `types` in force at its most specific scope; null if none. Lock held.
  static const Decision* Find(const SkuTimelines& timelines, const RankedScopes& ranked,
                              std::span<const events::PriceType> types, const PriceQuery& query);
  Status ApplySet(Sequence seq, const events::Event& event, StateWriter& state);
  Status ApplyRetracted(Sequence seq, const events::Event& event, StateWriter& state);

  mutable std::shared_mutex mu_;
  StringMap<SkuTimelines> skus_;
  std::vector<ScopeKey> scopes_;
  // Scope ids by level, then by name.
  std::array<StringMap<std::uint32_t>, static_cast<std::size_t>(events::ScopeLevel::MAX) + 1>
      scope_ids_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_PRICE_BOOK_H_
