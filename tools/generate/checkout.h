#ifndef TILLROLL_TOOLS_GENERATE_CHECKOUT_H_
#define TILLROLL_TOOLS_GENERATE_CHECKOUT_H_

// The tills, the web shop and the marketplace of the generated story, on "order/<order_id>":
//  - SaleRecorded (expected version 0): 1-6 lines of distinct SKUs drawn by popularity, each at
//    the selling price in force (PriceBook) with that PriceSet's seq; discounts from the
//    promotions live for the sale (BasketPricer) with promotion id, version, rule snapshot seq
//    and the rule's funding; one VAT line per line (gross prices: tax = half-up(total × rate /
//    (10000 + rate)), net = total − tax); totals summed from the lines. A customer id (and
//    loyalty segments) on 40% of till sales and every online sale. A sale may present one
//    coupon of a live coupon promotion; it is redeemed (CouponRedeemed) only if that
//    promotion granted a discount.
//  - ReturnRecorded (expected version 1) for about 5% of sales, 1-14 days later: one or two
//    lines, part or all of their quantity; refund = half-up(line total × qty returned / qty
//    sold), likewise its tax and every discount clawed back (all exact when the whole line
//    comes back); at most one return per order.
// Orders: "R-<n>" at the tills, "W-<n>" web, "M-<n>" marketplace. Not thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "tools/generate/agenda.h"
#include "tools/generate/basket_pricer.h"
#include "tools/generate/catalogue.h"
#include "tools/generate/event_sink.h"
#include "tools/generate/promotion_desk.h"

namespace tillroll::generate {

class Checkout {
 public:
  Checkout(const Catalogue& catalogue, const PriceBook& book, PromotionDesk& desk, EventSink& sink,
           Agenda& agenda, Random& random, std::int64_t first_day_ns);
  Checkout(const Checkout&) = delete;
  Checkout& operator=(const Checkout&) = delete;

  // Records a sale in `context` at `at_ns`; may put its return on the agenda.
  void RecordSale(const SaleContext& context, std::int64_t at_ns);
  // Records the return planned as `pending` (the agenda's kReturn happening).
  void RecordReturn(std::uint32_t pending, std::int64_t at_ns);

 private:
  struct Clawback {
    std::uint32_t campaign = 0;
    std::uint32_t version = 0;
    Sequence snapshot_seq = 0;
    std::int64_t amount_minor = 0;
  };
  struct ReturnedLine {
    std::int32_t line_no = 0;
    std::uint32_t sku = 0;
    std::int32_t qty = 0;
    std::int64_t refund_minor = 0;
    std::int64_t refund_tax_minor = 0;
    std::vector<Clawback> clawbacks;
  };
  struct PlannedReturn {
    std::string order_id;
    SaleContext context;
    std::vector<ReturnedLine> lines;
  };
  // What the sale charged per line, after discounts.
  struct LineTotals {
    std::int64_t discount_minor = 0;
    std::int64_t total_minor = 0;
    std::int64_t tax_minor = 0;
  };
  // The campaign version a discount came from, as of the sale.
  struct Granted {
    std::uint32_t version = 0;
    Sequence snapshot_seq = 0;
  };

  void ChooseCustomer(const SaleContext& context);
  void FindCandidates(const SaleContext& context, std::int64_t at_ns);
  void FillBasket(const SaleContext& context, std::int64_t at_ns);
  void ComputeTotals();
  void EmitSale(const SaleContext& context, std::int64_t at_ns);
  flatbuffers::Offset<events::SaleLine> BuildSaleLine(flatbuffers::FlatBufferBuilder& fbb,
                                                      std::size_t line);
  flatbuffers::Offset<events::DiscountAllocation> BuildAllocation(
      flatbuffers::FlatBufferBuilder& fbb, std::uint32_t campaign, std::uint32_t version,
      Sequence snapshot_seq, std::int64_t amount_minor);
  void Commit(const SaleContext& context, std::int64_t at_ns);
  void PlanReturn(const SaleContext& context, std::int64_t at_ns);
  static const Actor& CheckoutActor(std::uint32_t channel);

  const Catalogue& catalogue_;
  const PriceBook& book_;
  PromotionDesk& desk_;
  EventSink& sink_;
  Agenda& agenda_;
  Random& random_;
  const std::int64_t first_day_ns_;
  const std::uint32_t customer_count_;
  BasketPricer pricer_;
  std::uint64_t order_count_ = 0;

  // The sale being recorded.
  std::string order_id_;
  std::string stream_;
  std::string correlation_id_;
  std::string customer_id_;
  std::uint8_t customer_segments_ = 0;
  std::int64_t presented_coupon_ = -1;  // campaign whose coupon the customer shows
  std::string coupon_code_;
  std::vector<std::uint32_t> candidates_;
  std::vector<std::uint32_t> coupon_offers_;
  std::vector<BasketLine> lines_;
  std::vector<LineDiscount> discounts_;
  std::vector<Granted> granted_;  // parallel to discounts_
  std::vector<LineTotals> totals_;
  std::vector<flatbuffers::Offset<events::SaleLine>> line_offsets_;
  std::vector<flatbuffers::Offset<events::DiscountAllocation>> allocation_offsets_;
  std::vector<flatbuffers::Offset<events::FundingShare>> funding_offsets_;

  std::vector<PlannedReturn> returns_;
  std::vector<std::uint32_t> free_returns_;
};

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_CHECKOUT_H_
