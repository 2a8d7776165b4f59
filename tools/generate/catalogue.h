#ifndef TILLROLL_TOOLS_GENERATE_CATALOGUE_H_
#define TILLROLL_TOOLS_GENERATE_CATALOGUE_H_

// The retailer of the generated story: its SKUs (category, tax, cost, floor, current list
// price, how often the price moves, how popular it is), channels, regions and stores; and the
// PriceBook, the generator's own fold of the prices it emitted, which tells a sale the selling
// price in force and the PriceSet it came from.
//
// Price resolution (what the generated sales charge): a Markdown in force wins over List; within
// a price type the most specific scope wins (store ▸ region ▸ channel ▸ global); within one
// (type, scope) the latest PriceSet (highest seq) whose valid window holds the time and that is
// not retracted wins. Web and marketplace sales have no store and no region.
//
// Not thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.h"
#include "schemas/envelope_generated.h"
#include "tools/generate/story.h"

namespace tillroll::generate {

struct Category {
  std::string_view name;
  std::string_view tax_code;
  std::int32_t vat_bps;
  std::int64_t cost_min_minor;
  std::int64_t cost_max_minor;
};

inline constexpr std::array<Category, 12> kCategories{{
    {"dairy", "DE-VAT-7", 700, 40, 400},
    {"bakery", "DE-VAT-7", 700, 30, 300},
    {"produce/fruit", "DE-VAT-7", 700, 50, 400},
    {"pantry/oil", "DE-VAT-7", 700, 150, 900},
    {"snacks", "DE-VAT-7", 700, 50, 300},
    {"frozen", "DE-VAT-7", 700, 100, 700},
    {"pet", "DE-VAT-7", 700, 80, 1500},
    {"beverages/juice", "DE-VAT-19", 1900, 60, 350},
    {"beverages/water", "DE-VAT-19", 1900, 15, 120},
    {"household", "DE-VAT-19", 1900, 80, 900},
    {"personal-care", "DE-VAT-19", 1900, 60, 800},
    {"electronics/small", "DE-VAT-19", 1900, 500, 6000},
}};

enum Channel : std::uint32_t { kPos = 0, kWeb = 1, kMarketplace = 2 };
// The id of the store at `index` (0-based): "store-01", ...
std::string StoreId(std::size_t index);

inline constexpr std::array<std::string_view, 3> kChannels{"pos", "web", "marketplace"};
inline constexpr std::array<std::string_view, 2> kRegions{"de-north", "de-south"};

// Selling prices stay within these multiples of cost, so that no promotion of the story takes
// a line below its Floor price (Floor = cost × kFloorOverCost).
inline constexpr double kFloorOverCost = 1.05;
inline constexpr double kListOverCostMin = 1.8;
inline constexpr double kListOverCostMax = 2.6;

struct Sku {
  std::string id;      // "SKU-000001"
  std::string stream;  // "price/SKU-000001"
  std::uint32_t category = 0;
  std::int64_t cost_minor = 0;
  std::int64_t floor_minor = 0;
  std::int64_t list_minor = 0;       // the global List price in force now
  double change_per_day = 0;         // chance that the List price changes on a given day
  bool has_list_override = false;    // a channel, region or store List price exists
  std::uint64_t stream_version = 0;  // events on `stream` so far
};

struct Store {
  std::string id;  // "store-01"
  std::uint32_t region = 0;
  std::string clerk_principal;  // "user:clerk.store-01"
  Actor returns_clerk;
};

// Where a sale happens. region and store are -1 when the sale has none.
struct SaleContext {
  std::uint32_t channel = kPos;
  std::int32_t region = -1;
  std::int32_t store = -1;
};

class Catalogue {
 public:
  Catalogue(std::size_t sku_count, std::size_t store_count, Random& random);
  Catalogue(const Catalogue&) = delete;
  Catalogue& operator=(const Catalogue&) = delete;

  std::vector<Sku>& skus() { return skus_; }
  const std::vector<Sku>& skus() const { return skus_; }
  const std::vector<Store>& stores() const { return stores_; }
  const Category& CategoryOf(std::uint32_t sku) const { return kCategories[skus_[sku].category]; }
  // Sorted SKU indices of a category.
  const std::vector<std::uint32_t>& SkusIn(std::uint32_t category) const {
    return by_category_[category];
  }
  // A SKU drawn by popularity: a few sell a lot, most rarely (Zipf, s = 1).
  std::uint32_t PopularSku(Random& random) const;
  const Actor& web_returns_clerk() const { return kWebReturnsClerk; }

 private:
  static constexpr Actor kWebReturnsClerk{"user:clerk.webshop", kReturnsDeskRole, "ecommerce"};

  std::vector<Sku> skus_;
  std::vector<Store> stores_;
  std::vector<std::vector<std::uint32_t>> by_category_;
  std::vector<double> popularity_cdf_;      // by popularity rank
  std::vector<std::uint32_t> sku_by_rank_;  // popularity rank → SKU index
};

// A scope as indices into kChannels, kRegions or the catalogue's stores.
struct ScopeRef {
  events::ScopeLevel level = events::ScopeLevel::Global;
  std::uint32_t index = 0;
};

struct PriceRecord {
  std::int64_t amount_minor = 0;
  std::int64_t from_ns = 0;
  std::int64_t to_ns = 0;  // 0: open-ended
  Sequence seq = 0;        // the PriceSet's global_seq
  bool retracted = false;
};

struct ResolvedPrice {
  std::int64_t amount_minor = 0;
  Sequence seq = 0;
};

class PriceBook {
 public:
  explicit PriceBook(std::size_t sku_count) : skus_(sku_count) {}

  // Only List and Markdown prices are kept: they are what sales charge.
  void Add(std::uint32_t sku, events::PriceType type, ScopeRef scope, const PriceRecord& record);
  // Marks the PriceSet `seq` retracted; nothing if it was pruned (it no longer matters). Only
  // windows with an end are retracted in this story (Prune relies on it).
  void Retract(std::uint32_t sku, events::PriceType type, ScopeRef scope, Sequence seq);
  // The selling price of `sku` at `at_ns` for a sale in `context`. Every SKU has a global List
  // price from the first day, so there always is one.
  ResolvedPrice SellingPrice(std::uint32_t sku, const SaleContext& context,
                             std::int64_t at_ns) const;
  // True if a Markdown is in force for `sku` at `at_ns`.
  bool HasMarkdown(std::uint32_t sku, std::int64_t at_ns) const;
  // Forgets what cannot matter from `today_ns` on: windows that ended, and records shadowed
  // by a later open-ended one that is already in force. Sales are never in the past.
  void Prune(std::int64_t today_ns);

 private:
  struct ScopedPrices {
    events::PriceType type = events::PriceType::List;
    ScopeRef scope;
    std::vector<PriceRecord> records;  // in seq order
  };

  static const PriceRecord* InForce(const ScopedPrices& prices, std::int64_t at_ns);
  static void PruneRecords(std::vector<PriceRecord>& records, std::int64_t today_ns);

  std::vector<std::vector<ScopedPrices>> skus_;
};

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_CATALOGUE_H_
