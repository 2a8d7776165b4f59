#ifndef TILLROLL_TOOLS_GENERATE_BASKET_PRICER_H_
#define TILLROLL_TOOLS_GENERATE_BASKET_PRICER_H_

// How the generated tills grant promotions on a basket: the generator's reading of the rule
// schema, applied in the order of the rules' stacking priorities.
//  1. Exclusive promotions (priority 50, group "exclusive", AmountOff above a minimum spend):
//     the largest one the gross basket qualifies for applies alone.
//  2. Otherwise, product promotions (priority 100, group "product"): per line, the one with the
//     largest discount. PercentOff: half-up(line gross × percent_bps / 10000). BuyXGetY: in a
//     line, every buy_qty + get_qty units give get_qty units get_percent_bps off. Fixed bundle:
//     in a line, every bundle_qty units cost bundle_price_minor. A promotion's per-order cap
//     (max_discount_per_order_minor) scales its line discounts down by largest remainder.
//  3. Then order promotions (priority 200, group "order"): the largest of AmountOff (spend ≥
//     min_amount_minor) and TieredSpend (the highest tier reached), where spend = Σ line gross
//     − product discounts (tax included).
// An order-level discount is allocated to lines by largest remainder of their amounts (gross
// for exclusive ones, after product discounts otherwise). A promotion only applies if its
// discount fits its remaining budget and leaves every line a positive total. Ties go to the
// lower campaign index. Not thread-safe (scratch buffers).

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/event.h"
#include "tools/generate/promotion_desk.h"

namespace tillroll::generate {

struct BasketLine {
  std::uint32_t sku = 0;
  std::int32_t qty = 0;
  std::int64_t unit_minor = 0;
  Sequence price_seq = 0;
  std::int64_t gross_minor = 0;  // qty × unit_minor
  std::int32_t vat_bps = 0;
};

struct LineDiscount {
  std::uint32_t line = 0;  // index into the basket's lines
  std::uint32_t campaign = 0;
  std::int64_t amount_minor = 0;  // > 0
};

class BasketPricer {
 public:
  // Fills `discounts` (cleared first) for `lines`, sorted by line, from `candidates`: the
  // campaigns live for this sale (targeting, segment and coupon already checked), in index
  // order.
  void Price(const std::vector<BasketLine>& lines, const std::vector<std::uint32_t>& candidates,
             const PromotionDesk& desk, std::vector<LineDiscount>& discounts);

 private:
  bool PriceExclusive(const std::vector<BasketLine>& lines,
                      const std::vector<std::uint32_t>& candidates, const PromotionDesk& desk,
                      std::vector<LineDiscount>& discounts);
  void PriceProducts(const std::vector<BasketLine>& lines,
                     const std::vector<std::uint32_t>& candidates, const PromotionDesk& desk,
                     std::vector<LineDiscount>& discounts);
  void CapPerOrder(const PromotionDesk& desk, std::vector<LineDiscount>& discounts);
  void PriceOrder(const std::vector<BasketLine>& lines,
                  const std::vector<std::uint32_t>& candidates, const PromotionDesk& desk,
                  std::vector<LineDiscount>& discounts);
  // Allocates `total` of `campaign` over `weights_` and appends the non-zero shares.
  void Allocate(std::uint32_t campaign, std::int64_t total, std::vector<LineDiscount>& discounts);
  std::int64_t BudgetLeft(std::uint32_t campaign, const PromotionDesk& desk) const;
  void AddPending(std::uint32_t campaign, std::int64_t amount_minor);

  std::vector<std::pair<std::uint32_t, std::int64_t>> pending_;  // granted in this basket
  std::vector<std::int64_t> weights_;
  std::vector<std::int64_t> shares_;
};

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_BASKET_PRICER_H_
