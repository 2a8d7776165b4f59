#ifndef TILLROLL_PROJECTIONS_PRODUCTS_H_
#define TILLROLL_PROJECTIONS_PRODUCTS_H_

// products: each SKU's categories and taxes (ProductDefined), as the checkout engine prices
// them, on both axes: the definition in force at valid_at among those recorded by known_at
// (a later definition replaces an earlier one from its valid.from_ns).
//
// Stored record per definition: key Str(sku) U64(seq), value I64(from_ns) I64(end_ns)
// I64(recorded_at_ns) U32(n) n×Str(category) U32(m) m×(Str(code) U32(rate_bps)
// U8(price_included) I64(fixed_amount_minor)). Held in memory; thread-safe.

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/checkout.h"
#include "engine/string_map.h"
#include "projections/projection.h"

namespace tillroll::projections {

class Products final : public Projection {
 public:
  static constexpr std::string_view kName = "products";
  static constexpr std::uint32_t kCodeVersion = 1;

  std::string_view name() const override { return kName; }
  std::uint32_t code_version() const override { return kCodeVersion; }
  std::string_view stream_prefix() const override { return "product/"; }
  Status Apply(const LoggedEvent& logged, StateWriter& state) override;
  Status Load(const StateReader& state) override;

  // The definition in force, shared and never changed; nullptr for a SKU not defined then.
  // `seq` is its event's.
  std::shared_ptr<const checkout::Product> Find(std::string_view sku, std::int64_t valid_at_ns,
                                                std::int64_t known_at_ns,
                                                Sequence* seq = nullptr) const;
  std::size_t size() const;

 private:
  struct Definition {
    Sequence seq = 0;
    std::int64_t from_ns = 0, end_ns = 0, recorded_at_ns = 0;
    std::shared_ptr<const checkout::Product> product;
  };
  Status Absorb(std::string_view key, std::string_view value);

  mutable std::shared_mutex mu_;
  StringMap<std::vector<Definition>> products_;  // per SKU, by seq
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_PRODUCTS_H_
