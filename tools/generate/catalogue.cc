#include "tools/generate/catalogue.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace tillroll::generate {
namespace {

std::string NumberedId(const char* format, std::size_t number) {
  char text[32];
  std::snprintf(text, sizeof(text), format, number);
  return text;
}

// A random permutation of [0, n) (Fisher-Yates on our own Random, for portability).
std::vector<std::uint32_t> Shuffled(std::size_t n, Random& random) {
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  for (std::size_t i = n; i > 1; --i) {
    std::swap(order[i - 1], order[random.Below(i)]);
  }
  return order;
}

bool ScopeMatches(ScopeRef scope, const SaleContext& context) {
  switch (scope.level) {
    case events::ScopeLevel::Global:
      return true;
    case events::ScopeLevel::Channel:
      return scope.index == context.channel;
    case events::ScopeLevel::Region:
      return context.region >= 0 && scope.index == static_cast<std::uint32_t>(context.region);
    case events::ScopeLevel::Store:
      return context.store >= 0 && scope.index == static_cast<std::uint32_t>(context.store);
  }
  return false;
}

}  // namespace

std::string StoreId(std::size_t index) { return NumberedId("store-%02zu", index + 1); }

Catalogue::Catalogue(std::size_t sku_count, std::size_t store_count, Random& random)
    : by_category_(kCategories.size()) {
  skus_.resize(sku_count);
  // Price volatility is Zipf-like over a random order: a few SKUs change almost daily, most
  // never change after day 0.
  const std::vector<std::uint32_t> volatility_rank = Shuffled(sku_count, random);
  for (std::size_t i = 0; i < sku_count; ++i) {
    Sku& sku = skus_[i];
    sku.id = NumberedId("SKU-%06zu", i + 1);
    sku.stream = "price/" + sku.id;
    sku.category = random.Below32(static_cast<std::uint32_t>(kCategories.size()));
    const Category& category = kCategories[sku.category];
    sku.cost_minor = random.Between(category.cost_min_minor, category.cost_max_minor);
    sku.floor_minor =
        static_cast<std::int64_t>(std::ceil(static_cast<double>(sku.cost_minor) * kFloorOverCost));
    sku.list_minor = ShelfPrice(static_cast<double>(sku.cost_minor) * random.Real(1.9, 2.4),
                                static_cast<std::int64_t>(std::ceil(
                                    static_cast<double>(sku.cost_minor) * kListOverCostMin)));
    const double rank = static_cast<double>(volatility_rank[i]) + 1.0;
    sku.change_per_day = std::min(0.5, 0.8 * std::pow(rank, -1.2));
    by_category_[sku.category].push_back(static_cast<std::uint32_t>(i));
  }
  sku_by_rank_ = Shuffled(sku_count, random);
  popularity_cdf_.resize(sku_count);
  double total = 0;
  for (std::size_t rank = 0; rank < sku_count; ++rank) {
    total += 1.0 / static_cast<double>(rank + 1);
    popularity_cdf_[rank] = total;
  }
  stores_.resize(store_count);
  for (std::size_t i = 0; i < store_count; ++i) {
    Store& store = stores_[i];
    store.id = StoreId(i);
    store.region = 2 * i < store_count ? 0u : 1u;
    store.clerk_principal = "user:clerk." + store.id;
  }
  // The views point into strings that no longer move: stores_ is complete.
  for (Store& store : stores_) {
    store.returns_clerk = {store.clerk_principal, kReturnsDeskRole, "pos"};
  }
}

std::uint32_t Catalogue::PopularSku(Random& random) const {
  const double target = random.Unit() * popularity_cdf_.back();
  auto it = std::upper_bound(popularity_cdf_.begin(), popularity_cdf_.end(), target);
  if (it == popularity_cdf_.end()) --it;
  return sku_by_rank_[static_cast<std::size_t>(it - popularity_cdf_.begin())];
}

void PriceBook::Add(std::uint32_t sku, events::PriceType type, ScopeRef scope,
                    const PriceRecord& record) {
  TR_ASSERT(type == events::PriceType::List || type == events::PriceType::Markdown);
  for (ScopedPrices& prices : skus_[sku]) {
    if (prices.type == type && prices.scope.level == scope.level &&
        prices.scope.index == scope.index) {
      TR_ASSERT(prices.records.empty() || prices.records.back().seq < record.seq);
      prices.records.push_back(record);
      return;
    }
  }
  skus_[sku].push_back({type, scope, {record}});
}

void PriceBook::Retract(std::uint32_t sku, events::PriceType type, ScopeRef scope, Sequence seq) {
  for (ScopedPrices& prices : skus_[sku]) {
    if (prices.type != type || prices.scope.level != scope.level ||
        prices.scope.index != scope.index) {
      continue;
    }
    for (PriceRecord& record : prices.records) {
      if (record.seq != seq) continue;
      // Pruning relies on this: an open-ended record is never taken back.
      TR_ASSERT(record.to_ns != 0);
      record.retracted = true;
    }
  }
}

const PriceRecord* PriceBook::InForce(const ScopedPrices& prices, std::int64_t at_ns) {
  for (auto it = prices.records.rbegin(); it != prices.records.rend(); ++it) {
    if (!it->retracted && it->from_ns <= at_ns && (it->to_ns == 0 || at_ns < it->to_ns)) {
      return &*it;
    }
  }
  return nullptr;
}

ResolvedPrice PriceBook::SellingPrice(std::uint32_t sku, const SaleContext& context,
                                      std::int64_t at_ns) const {
  for (const events::PriceType type : {events::PriceType::Markdown, events::PriceType::List}) {
    const PriceRecord* best = nullptr;
    auto best_level = events::ScopeLevel::Global;
    for (const ScopedPrices& prices : skus_[sku]) {
      if (prices.type != type || !ScopeMatches(prices.scope, context)) continue;
      if (best != nullptr && prices.scope.level <= best_level) continue;
      if (const PriceRecord* record = InForce(prices, at_ns)) {
        best = record;
        best_level = prices.scope.level;
      }
    }
    if (best != nullptr) return {best->amount_minor, best->seq};
  }
  TR_ASSERT(false && "every SKU has a global List price");
  return {};
}

bool PriceBook::HasMarkdown(std::uint32_t sku, std::int64_t at_ns) const {
  for (const ScopedPrices& prices : skus_[sku]) {
    if (prices.type == events::PriceType::Markdown && InForce(prices, at_ns) != nullptr) {
      return true;
    }
  }
  return false;
}

void PriceBook::PruneRecords(std::vector<PriceRecord>& records, std::int64_t today_ns) {
  // The latest open-ended record already in force shadows every earlier one from today on.
  std::size_t first_kept = 0;
  for (std::size_t i = records.size(); i-- > 0;) {
    const PriceRecord& r = records[i];
    if (!r.retracted && r.to_ns == 0 && r.from_ns <= today_ns) {
      first_kept = i;
      break;
    }
  }
  std::size_t out = 0;
  for (std::size_t i = first_kept; i < records.size(); ++i) {
    const PriceRecord& r = records[i];
    if (r.to_ns != 0 && r.to_ns <= today_ns) continue;
    records[out++] = r;
  }
  records.resize(out);
}

void PriceBook::Prune(std::int64_t today_ns) {
  for (std::vector<ScopedPrices>& sku : skus_) {
    for (ScopedPrices& prices : sku) {
      if (prices.records.size() > 1 || (!prices.records.empty() && prices.records[0].to_ns != 0)) {
        PruneRecords(prices.records, today_ns);
      }
    }
  }
}

}  // namespace tillroll::generate
