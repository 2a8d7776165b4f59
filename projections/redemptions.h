#ifndef TILLROLL_PROJECTIONS_REDEMPTIONS_H_
#define TILLROLL_PROJECTIONS_REDEMPTIONS_H_

// redemptions: how many orders each promotion discounted, in all and per customer, for the
// checkout engine's caps (limits.total_redemptions, limits.redemptions_per_customer). A sale
// counts once per promotion it carries a discount of; a return does not give a redemption
// back (the order used it).
//
// Stored records: key U8('t') Str(promotion_id) → U64(orders); key U8('c') Str(promotion_id)
// Str(customer_id) → U64(orders). Queries read the stored state (the latest). Thread-safe.

#include <cstdint>
#include <memory>
#include <string_view>

#include "projections/projection.h"

namespace tillroll::projections {

struct RedemptionCount {
  std::int64_t orders = 0;
  std::int64_t customer_orders = 0;
};

class Redemptions final : public Projection {
 public:
  static constexpr std::string_view kName = "redemptions";
  static constexpr std::uint32_t kCodeVersion = 1;

  explicit Redemptions(std::shared_ptr<const StateReader> state) : state_(std::move(state)) {}
  std::string_view name() const override { return kName; }
  std::uint32_t code_version() const override { return kCodeVersion; }
  std::string_view stream_prefix() const override { return "order/"; }
  Status Apply(const LoggedEvent& logged, StateWriter& state) override;
  bool reads_while_applying() const override { return true; }

  // `customer_id` empty: customer_orders is 0.
  Result<RedemptionCount> Count(std::string_view promotion_id, std::string_view customer_id) const;

 private:
  std::shared_ptr<const StateReader> state_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_REDEMPTIONS_H_
