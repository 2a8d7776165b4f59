#ifndef TILLROLL_PROJECTIONS_CART_QUOTE_H_
#define TILLROLL_PROJECTIONS_CART_QUOTE_H_

// Cart quotes and return quotes against the ledger: the checkout engine (engine/checkout.h)
// fed from the projections. A cart is priced with the selling and Floor prices of the price
// book at its place and time, the promotions live there with their rule snapshots, the
// budget each has used so far (liabilities), the orders it discounted, in all and for this
// customer (redemptions), the coupon codes presented (coupons) and the
// products' categories and taxes (products), all as known at known_at. A return is quoted on
// the recorded sale: its lines, unit prices and taxes, and the rule snapshots its discounts
// cite, never today's.
//
// A cart is one JSON object:
//   {"currency": "EUR", "channel": "pos", "region": "de-north", "store": "store-01",
//    "customer": {"customer_id": "C-1", "segments": ["loyalty-gold"]},
//    "coupon_codes": ["WELCOME-7K2P"], "at": "2026-03-10T12:00:00Z" (or UTC ns; default now),
//    "lines": [{"sku": "SKU-000002", "qty": 2},
//              {"sku": "SKU-000003", "qty": 1, "unit_price_minor": 199,
//               "override_reason": "damaged packaging"}]}
//
// Answers are one line of JSON with stable field order: the same cart against the same ledger
// position gives the same bytes. Thread-safe as the projections are.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/checkout.h"
#include "engine/event_log.h"
#include "projections/projection_runner.h"

namespace tillroll::projections {

class CartQuoter {
 public:
  // Both must outlive the quoter.
  CartQuoter(const EventLog& log, const ProjectionRunner& runner) : log_(log), runner_(runner) {}

  // The priced cart as JSON. InvalidArgument with the field path for a malformed cart, an
  // unknown SKU, a SKU without a selling price or product definition then.
  // `admit`, when given, sees the parsed cart before it is priced; a status it returns is
  // returned as is (the HTTP API refuses a store outside the caller's scope there).
  using Admit = std::function<Status(const checkout::Cart&)>;
  Result<std::string> Price(std::string_view cart_json, std::int64_t now_ns,
                            std::int64_t known_at_ns, const Admit& admit = {}) const;

  // The record_sale command (engine/command.h) that records the cart as priced, as order
  // `order_id` with idempotency key "sale:<order_id>".
  Result<std::string> SaleCommand(std::string_view cart_json, std::string_view order_id,
                                  std::int64_t now_ns, std::int64_t known_at_ns) const;

  // `cart` priced as it stands: lines with an override_reason keep their unit price, the others
  // get the price book's; `coupon_codes` are checked and unlock their programs.
  Result<checkout::PricedCart> PriceCart(const checkout::Cart& cart,
                                         std::vector<std::string> coupon_codes,
                                         std::int64_t known_at_ns) const;

  // A quote for returning `lines` of a recorded order (after its earlier returns). NotFound
  // for an unknown order; InvalidArgument for a line or quantity it does not have to return.
  Result<std::string> QuoteReturn(std::string_view order_id,
                                  std::span<const checkout::ReturnedQty> lines) const;
  // The same quote, as the engine gives it.
  Result<checkout::ReturnQuote> QuoteOf(std::string_view order_id,
                                        std::span<const checkout::ReturnedQty> lines) const;
  // The record_return command that records the quote as return `return_id` (idempotency key
  // "return:<return_id>"), returned at now_ns for `reason`.
  Result<std::string> ReturnCommand(std::string_view order_id,
                                    std::span<const checkout::ReturnedQty> lines,
                                    std::string_view return_id, std::string_view reason,
                                    std::int64_t now_ns) const;

 private:
  struct Priced;
  struct Quoted;
  Result<Quoted> Quote(std::string_view order_id,
                       std::span<const checkout::ReturnedQty> lines) const;
  Result<Priced> PriceJson(std::string_view cart_json, std::int64_t now_ns,
                           std::int64_t known_at_ns, const Admit& admit = {}) const;
  // Prices, floors, products, coupons and candidates for out.cart, then prices it.
  Status Complete(Priced& out) const;

  const EventLog& log_;
  const ProjectionRunner& runner_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_CART_QUOTE_H_
