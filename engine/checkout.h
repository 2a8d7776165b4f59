#ifndef TILLROLL_ENGINE_CHECKOUT_H_
#define TILLROLL_ENGINE_CHECKOUT_H_

// The promotion engine: prices a cart with the promotions live for it, and quotes a return on
// the rule snapshots that priced the sale. Pure functions of their inputs (no clock, no I/O):
// the same cart and candidates give the same result, byte for byte once serialised.
//
// Money: int64 minor units of one currency; percentages in basis points; every rounding is
// half-up at the minor unit (DivideHalfUp).
//
// Lines and taxes. A line's price is qty × unit price, and holds its price-included percent
// taxes; price-excluded percent taxes come on top of the untaxed amount; rates add (no tax on
// tax). Fixed taxes are per unit, on top, and never discounted. Per line, rounded once per
// tax (Odoo's round per line): net = round(price × 10000 / (10000 + Σ included rates)), the
// included taxes are price − net, each excluded tax is round(net × rate); gross = net + taxes.
// A line's discountable amount is its gross without fixed taxes ("tax included").
//
// Promotions of Odoo origin (Candidate::odoo) follow Odoo 17's loyalty engine where it differs
// (tests/conformance/ODOO17.md has the source): the minimum amount is checked before the
// minimum quantity, and again at the promotion's turn, less the discounts of earlier
// coupon-triggered promotions when the rule is on every product; the cheapest item is the
// line with the lowest unit price; a discount on specific products sees an earlier fixed
// discount as used up first on the lines outside its own targets; each tax group's share of a
// discount is Odoo's reward line, round(group price in the unit price's terms × factor), its
// untaxed part and taxes computed from that; only the best percent-off-the-order survives.
//
// Eligibility of a candidate, checked in this order; the first failure is its not-applied
// reason: currency, window (rule.valid contains at_ns), channel, region, store (targeting),
// segment, coupon_missing (a presented code of conditions.coupon_program), budget_exhausted
// (budget_used ≥ budget), redemptions_exhausted, customer_redemptions_exhausted, min_quantity
// and min_amount (on the qualifying lines: include_skus / include_categories, all lines when
// both are empty, minus exclude_skus / exclude_categories; measured on the cart as priced,
// before any discount; min_amount with or without tax per min_amount_tax_included),
// no_target_in_cart (a rule with product conditions that no line qualifies for, or a reward
// on target_skus none of which is in the cart). A candidate that is not eligible takes
// no turn below, so that leaving out the candidates that cannot reach the cart (as
// CandidateIndex and the promotions projection do) prices the cart the same.
//
// Order and stacking:
//   1. Exclusive promotions first: each eligible one is evaluated alone on the cart; the one
//      with the largest discount applies (ties: lower stacking.priority, then promotion id) and
//      every other promotion is excluded_by_exclusive. Nothing else applies to an order an
//      exclusive promotion discounted.
//   2. Otherwise, in stacking.priority order (ties: promotion id), each promotion is evaluated
//      on the lines as discounted so far, so it sees the earlier ones. Of each stacking_group
//      at most one applies: the member with the largest discount when evaluated at the group's
//      first member's turn (ties as above); the others are excluded_by_stacking_group. A
//      member whose discount cannot exceed the best found before it (an AmountOff's amount,
//      a TieredSpend's tier reached, after the caps) is excluded so without being evaluated in
//      full: it is not told apart from one the floor price would have stopped. For
//      promotions of Odoo origin, percent-off-the-order rewards form one group as well: only
//      the best global discount is kept (not_better_than_global_discount).
//
// Rewards, on the target lines (Order: every line; CheapestItem: one unit of the qualifying
// line with the lowest discountable amount per unit; SpecificProducts: target_skus, or the
// qualifying lines when target_skus is empty), with D = their discountable amount left:
//   PercentOff      round(D × percent_bps / 10000);
//   AmountOff       min(amount_minor, D);
//   TieredSpend     the discount of the highest tier whose threshold the qualifying amount
//                   (as for min_amount) reaches, min D; on the order;
//   BuyXGetY        the target units, pooled and sorted by unit price (highest first), form
//                   consecutive sets of buy_qty + get_qty; in each complete set its get_qty
//                   cheapest units get get_percent_bps off: round(Σ their discountable ×
//                   get_percent / 10000). Buy 2 get 1 on 10.00, 5.00, 5.00, 2.00, 2.00, 2.00:
//                   sets (10, 5, 5) and (2, 2, 2), 5.00 + 2.00 off. A cart of 5 units: one set,
//                   one unit discounted (the other two would need a third);
//   FixedBundlePrice the target units, pooled and sorted by unit price (highest first), form
//                   bundles of bundle_qty; each complete bundle costs bundle_price_minor: the
//                   discount is Σ(discountable of the bundled units) − bundles × price, if > 0;
//   FreeProduct     adds a line of free_sku (its price and taxes from the catalogue),
//                   free_qty × times, at 100% off; times = qualifying units / min_quantity
//                   (integer division) when min_quantity > 0, else 1.
// Then caps: limits.max_discount_per_order_minor, the budget left (budget − budget_used), and
// never below a line's floor price: a line's discount stops at gross − floor × qty unless the
// rule has floor_override_approved. A promotion whose discount ends up 0 is not applied (its
// reason: the cap that took it to 0, or no_target_in_cart).
//
// Materialising a discount: A is split over the target lines' tax groups (their included and
// excluded rates) by largest remainder of D per group; a group's share A_g is a discount of
// untaxed u_g = round(A_g × 10000 / (10000 + all its rates)) and taxes: A_g − u_g when all are
// included, else round(u_g × rate) per rate. u_g and the taxes are allocated to the group's
// lines by largest remainder of their shares (never below a line's own net or tax), so that
// every line's amounts add up exactly to the order's. A discount's funding split is by largest
// remainder of the rule's funding shares (retailer when the rule names none).
//
// Thread-safety: free functions, no shared state.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/event.h"
#include "engine/status.h"
#include "schemas/promotions_generated.h"

namespace tillroll::checkout {

struct Tax {
  std::string tax_code;
  std::int32_t rate_bps = 0;
  bool price_included = false;
  std::int64_t fixed_amount_minor = 0;  // per unit, on top
};

struct Product {
  std::vector<std::string> categories;
  std::vector<Tax> taxes;
  std::int64_t unit_price_minor = 0;  // for a free-product reward line
  Sequence price_seq = 0;
};

// The catalogue the cart is priced against; nullptr for an unknown SKU.
using ProductLookup = std::function<const Product*(std::string_view sku)>;

struct CartLine {
  std::string sku;
  std::int32_t qty = 0;
  std::int64_t unit_price_minor = 0;
  Sequence price_seq = 0;         // the PriceSet the unit price came from; 0 when overridden
  std::int64_t floor_minor = -1;  // the Floor price per unit in force; -1: none
  std::string override_reason;    // set when the unit price was given by the till
};

struct Cart {
  std::string currency;
  std::string channel, region, store;
  std::string customer_id;
  std::vector<std::string> segments;
  std::vector<std::string> coupon_programs;  // the programs of the codes presented and valid
  std::int64_t at_ns = 0;
  std::vector<CartLine> lines;
};

// What the engine reads of a rule snapshot for every cart it is considered for, gathered once
// per snapshot into one small object: a cart is priced against hundreds of live promotions,
// and the checks made for each of them (eligibility, limits, stacking) read this object rather
// than the FlatBuffers tables spread over the rule's bytes. The rule's SKU lists
// (conditions.include_skus and exclude_skus, reward.target_skus) are made quick to match against
// the cart's lines: a long list as a hash set, so that a rule that lists a whole category SKU by
// SKU (as Odoo programs do) is matched in constant time per line; a short one (up to kScanned
// entries) as the hash of each entry, in list order, so that its strings are not hashed again for
// every cart. Views into the rule, which must outlive it.
struct RuleFacts {
  static constexpr std::size_t kScanned = 16;
  explicit RuleFacts(const events::PromotionRule& rule);

  // Read for every cart, first, so that they share the object's first cache lines.
  bool windowed = false;   // rule.valid is set: from_ns <= at < to_ns (to_ns 0: open)
  bool targeted = false;   // lists channels, regions or stores
  bool segmented = false;  // lists customer segments
  bool coupon_required = false;
  bool min_amount_tax_included = true;  // as measured: true when the rule has no conditions
  bool on_every_line = true;            // no include or exclude lists: every line qualifies
  bool product_conditions = false;      // include_skus or include_categories
  bool exclusive = false;
  std::int32_t priority = 0;
  std::int64_t valid_from_ns = 0, valid_to_ns = 0;
  std::int64_t budget_minor = 0;
  std::int64_t max_discount_per_order_minor = 0;
  std::int32_t total_redemptions = 0, redemptions_per_customer = 0;
  std::int32_t min_quantity = 0;
  std::int64_t min_amount_minor = 0;
  std::string currency;

  struct SkuList {
    std::unordered_set<std::string_view> set;  // a long list's entries
    std::vector<std::size_t> hashes;           // a short list's: std::hash of each entry
    bool empty() const { return set.empty() && hashes.empty(); }
  };
  SkuList include_skus, exclude_skus, target_skus;

  // Where the rule applies (views into it): an empty list does not restrict.
  std::vector<std::string_view> channels, regions, stores;
  // "channel", "region" or "store": the first part of a place the rule leaves out; "" when it
  // applies there.
  std::string_view PlaceRefusal(std::string_view channel, std::string_view region,
                                std::string_view store) const;
};

// A promotion version live for the cart, with what the ledger knows of its use so far.
struct Candidate {
  std::string promotion_id;
  std::uint32_t version = 0;
  Sequence rule_snapshot_seq = 0;
  const events::PromotionRule* rule = nullptr;  // must outlive the call
  bool odoo = false;                            // origin "odoo:...": Odoo 17 semantics
  std::int64_t budget_used_minor = 0;
  std::int64_t redemptions = 0;
  std::int64_t customer_redemptions = 0;
  // At most this much discount; -1: no cap of its own (a return's re-pricing caps each
  // promotion at what it gave on the sale).
  std::int64_t cap_minor = -1;
  // RuleFacts(*rule), kept by the caller per rule snapshot (must outlive the call); optional:
  // without it, PriceCart gathers them for the call.
  const RuleFacts* facts = nullptr;
};

struct FundingAmount {
  std::string party;
  std::int64_t amount_minor = 0;
};

// One promotion's discount on one line.
struct Allocation {
  std::string promotion_id;
  std::uint32_t version = 0;
  Sequence rule_snapshot_seq = 0;
  std::int64_t amount_minor = 0;  // tax included: net_minor + tax_minor
  std::int64_t net_minor = 0;
  std::int64_t tax_minor = 0;
  std::vector<FundingAmount> funding;
};

struct TaxAmount {
  Tax tax;
  std::int64_t base_minor = 0;
  std::int64_t amount_minor = 0;
};

struct PricedLine {
  std::int32_t line_no = 0;  // 1-based, in cart order; free-product lines follow
  std::string sku;
  std::int32_t qty = 0;
  std::int64_t unit_price_minor = 0;
  Sequence price_seq = 0;
  bool free = false;                // added by a FreeProduct reward
  std::int64_t gross_minor = 0;     // before discounts, tax included, fixed taxes too
  std::int64_t discount_minor = 0;  // Σ discounts[].amount_minor
  std::int64_t net_minor = 0;       // after discounts, untaxed
  std::int64_t tax_minor = 0;       // after discounts
  std::int64_t total_minor = 0;     // net + tax: what the customer pays for it
  std::vector<TaxAmount> taxes;     // after discounts
  std::vector<Allocation> discounts;
};

struct AppliedPromotion {
  std::string promotion_id;
  std::uint32_t version = 0;
  Sequence rule_snapshot_seq = 0;
  std::int64_t amount_minor = 0;
  std::vector<FundingAmount> funding;
  std::size_t candidate = 0;  // its index in the candidates given to PriceCart
};

struct NotApplied {
  std::string promotion_id;
  std::uint32_t version = 0;
  std::string_view reason;    // a code listed above (a literal: it outlives every cart)
  std::string detail;         // for people
  std::size_t candidate = 0;  // its index in the candidates given to PriceCart
};

struct PricedCart {
  std::string currency;
  std::vector<PricedLine> lines;
  std::vector<AppliedPromotion> applied;  // in the order they were applied
  std::vector<NotApplied> not_applied;
  std::int64_t subtotal_minor = 0;  // Σ gross before discounts
  std::int64_t discount_minor = 0;
  std::int64_t net_minor = 0;
  std::int64_t tax_minor = 0;
  std::int64_t total_minor = 0;
};

// The SKUs and categories a rule is on, for finding the rules that can concern a cart: its
// conditions' include_skus and include_categories, or without them its reward's target_skus.
// With none of them it is on every product (everywhere). A rule on products reaches only a cart
// holding one of them: for any other it is not eligible (no_target_in_cart). Views into the rule.
struct RuleReach {
  bool everywhere = false;
  std::vector<std::string_view> skus, categories;
};
RuleReach ReachOf(const events::PromotionRule& rule);

// Whether a promotion came from Odoo (its origin "odoo:..."): priced with Odoo 17's semantics
// (Candidate::odoo).
bool FromOdoo(const events::PromotionDrafted& drafted);

// The live promotions of a ledger position, sorted in application order once and indexed by
// the SKUs and categories they are restricted to, so that a cart is priced against the ones
// that can concern it: those on every product, and those on a SKU or category in the cart
// (the others would only be refused with no_target_in_cart). Immutable; thread-safe.
class CandidateIndex {
 public:
  explicit CandidateIndex(std::vector<Candidate> candidates);
  // In application order; they point into the index.
  std::vector<const Candidate*> For(const Cart& cart, const ProductLookup& products) const;
  std::size_t size() const { return candidates_.size(); }

 private:
  std::vector<Candidate> candidates_;
  std::vector<std::unique_ptr<const RuleFacts>> facts_;  // those the candidates came without
  std::vector<std::size_t> everywhere_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_sku_, by_category_;
};

// InvalidArgument naming the field path for a cart that cannot be priced: an unknown SKU, a
// quantity below 1, a negative price, a product mixing included and excluded percent taxes,
// a candidate without a rule.
Result<PricedCart> PriceCart(const Cart& cart, std::span<const Candidate> candidates,
                             const ProductLookup& products);
// The same, on candidates held elsewhere (a CandidateIndex's); the indices in the answer
// (AppliedPromotion::candidate, NotApplied::candidate) are positions in `candidates`.
Result<PricedCart> PriceCart(const Cart& cart, std::span<const Candidate* const> candidates,
                             const ProductLookup& products);

// A return quote. The kept basket (the sale's lines minus everything returned, now and
// before) is priced again with the sale's own candidates (the rule snapshots that priced it;
// their budgets and redemption counts are not checked again, and no promotion gives more on
// the kept basket than it gave on the sale), at the sale's time and unit prices. The refund is
// what is still paid for the order minus what the kept basket costs: returning everything
// refunds exactly what was paid, over any number of partial returns.
struct ReturnedQty {
  std::int32_t line_no = 0;
  std::int32_t qty = 0;
};

struct ReturnLineQuote {
  std::int32_t line_no = 0;
  std::string sku;
  std::int32_t qty = 0;
  std::int64_t refund_minor = 0;
  std::int64_t refund_tax_minor = 0;
  std::vector<Allocation> clawed_back;  // discount no longer earned, per promotion
};

struct ReturnQuote {
  std::vector<ReturnLineQuote> lines;
  std::int64_t refund_minor = 0;
  std::int64_t refund_tax_minor = 0;
  // Per promotion: the discount granted on what the customer held before this return minus
  // the discount on what they keep (liabilities move by this).
  std::vector<AppliedPromotion> clawbacks;
  PricedCart kept;  // the kept basket as priced again
};

// What earlier returns of the order took back.
struct EarlierReturns {
  std::vector<ReturnedQty> returned;  // per line, summed
  std::int64_t refunded_minor = 0;
  std::int64_t refunded_tax_minor = 0;
  std::vector<AppliedPromotion> clawed_back;  // per promotion, summed
};

// `sale` as it was priced (and recorded); `cart` and `candidates` are the sale's. The free
// lines of the sale are not in `cart`: they follow from the rules. InvalidArgument for a line
// number or quantity the order does not have left to return.
Result<ReturnQuote> QuoteReturn(const Cart& cart, std::span<const Candidate> candidates,
                                const ProductLookup& products, const PricedCart& sale,
                                const EarlierReturns& earlier,
                                std::span<const ReturnedQty> returning);

}  // namespace tillroll::checkout

#endif  // TILLROLL_ENGINE_CHECKOUT_H_
