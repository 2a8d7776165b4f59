#ifndef TILLROLL_TOOLS_GENERATE_CHECKOUT_H_
#define TILLROLL_TOOLS_GENERATE_CHECKOUT_H_

// The tills, the web shop and the marketplace of the generated story, on "order/<order_id>".
// They price with tillroll's own checkout engine (engine/checkout.h), as a till calling the
// ledger would, so the sales and returns they record are the ones the ledger prices:
//  - SaleRecorded (expected version 0): 1-6 lines of distinct SKUs drawn by popularity, each at
//    the selling price in force (PriceBook) with that PriceSet's seq and the SKU's Floor price;
//    priced by checkout::PriceCart against the promotions live for the sale (their drafted
//    rules, the budget each has used so far), with the products' categories and VAT as the
//    catalogue defines them. The lines, discounts (promotion id, version, rule snapshot seq,
//    the rule's funding), taxes and totals are the engine's. A customer id (and loyalty
//    segments) on 40% of till sales and every online sale. A sale may present one coupon of a
//    live coupon promotion; it is redeemed (CouponRedeemed) only if that promotion granted a
//    discount.
//  - ReturnRecorded (expected version 1) for about 5% of sales, 1-14 days later: one or two
//    lines, part or all of their quantity, quoted by checkout::QuoteReturn on the sale's own
//    rules as the ledger quotes it (refund, tax and discounts clawed back per line); at most
//    one return per order.
// Orders: "R-<n>" at the tills, "W-<n>" web, "M-<n>" marketplace. Not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/checkout.h"
#include "tools/generate/agenda.h"
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
  struct PlannedReturn {
    std::string order_id;
    SaleContext context;
    std::vector<checkout::ReturnedQty> lines;
    // The sale as the engine priced it, and the rules its discounts came from.
    checkout::Cart cart;
    checkout::PricedCart sale;
    std::vector<checkout::Candidate> candidates;
  };
  // One line of the basket being sold, before pricing.
  struct BasketLine {
    std::uint32_t sku = 0;
    std::int32_t qty = 0;
  };

  void ChooseCustomer(const SaleContext& context);
  void FindCandidates(const SaleContext& context, std::int64_t at_ns);
  void FillBasket();
  // The basket priced by the engine into priced_.
  void Price(const SaleContext& context, std::int64_t at_ns);
  void EmitSale(const SaleContext& context, std::int64_t at_ns);
  flatbuffers::Offset<events::DiscountAllocation> BuildAllocation(
      flatbuffers::FlatBufferBuilder& fbb, const checkout::Allocation& allocation);
  void Commit(const SaleContext& context, std::int64_t at_ns);
  void PlanReturn(const SaleContext& context, std::int64_t at_ns);
  // The campaign of a promotion id of this story.
  std::uint32_t CampaignOf(std::string_view promotion_id) const;
  static const Actor& CheckoutActor(std::uint32_t channel);

  const Catalogue& catalogue_;
  const PriceBook& book_;
  PromotionDesk& desk_;
  EventSink& sink_;
  Agenda& agenda_;
  Random& random_;
  const std::int64_t first_day_ns_;
  const std::uint32_t customer_count_;
  std::uint64_t order_count_ = 0;
  // The catalogue as the engine sees it (as the ledger's products projection holds it).
  std::vector<checkout::Product> products_;
  std::unordered_map<std::string_view, std::uint32_t> sku_index_;
  checkout::ProductLookup product_lookup_;

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
  std::vector<BasketLine> basket_;
  checkout::Cart cart_;
  std::vector<checkout::Candidate> engine_candidates_;  // parallel to candidates_
  checkout::PricedCart priced_;
  std::vector<flatbuffers::Offset<events::SaleLine>> line_offsets_;
  std::vector<flatbuffers::Offset<events::DiscountAllocation>> allocation_offsets_;
  std::vector<flatbuffers::Offset<events::FundingShare>> funding_offsets_;

  std::vector<PlannedReturn> returns_;
  std::vector<std::uint32_t> free_returns_;
};

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_CHECKOUT_H_
