#include "projections/cart_quote.h"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/json_writer.h"
#include "engine/utc_time.h"
#include "projections/cart_request.h"
#include "projections/folding.h"
#include "schemas/envelope_generated.h"

namespace tillroll::projections {
namespace {

using json = nlohmann::ordered_json;

Status Bad(const std::string& field, const std::string& reason) {
  return Status::InvalidArgument(field + ": " + reason);
}

void WriteTaxes(JsonWriter& w, const std::vector<checkout::TaxAmount>& taxes) {
  w.BeginArray();
  for (const checkout::TaxAmount& t : taxes) {
    w.BeginObject()
        .Str("tax_code", t.tax.tax_code)
        .Num("rate_bps", t.tax.rate_bps)
        .Flag("price_included", t.tax.price_included)
        .Num("fixed_amount_minor", t.tax.fixed_amount_minor)
        .Num("base_minor", t.base_minor)
        .Num("amount_minor", t.amount_minor)
        .EndObject();
  }
  w.EndArray();
}

void WriteFunding(JsonWriter& w, const std::vector<checkout::FundingAmount>& funding) {
  w.BeginArray();
  for (const checkout::FundingAmount& f : funding) {
    w.BeginObject().Str("party", f.party).Num("amount_minor", f.amount_minor).EndObject();
  }
  w.EndArray();
}

// A discount on one line, as a sale's DiscountAllocation records it.
void WriteAllocation(JsonWriter& w, const checkout::Allocation& a) {
  w.BeginObject()
      .Str("promotion_id", a.promotion_id)
      .Num("promotion_version", a.version)
      .Seq("rule_snapshot_seq", a.rule_snapshot_seq)
      .Num("amount_minor", a.amount_minor)
      .Num("net_minor", a.net_minor)
      .Num("tax_minor", a.tax_minor)
      .Key("funding");
  WriteFunding(w, a.funding);
  w.EndObject();
}

json AllocationJson(const checkout::Allocation& a) {
  JsonWriter w;
  WriteAllocation(w, a);
  return json::parse(w.Release());
}

// A promotion's discount over the whole cart (applied) or a return (clawed back).
void WritePromotionTotal(JsonWriter& w, const checkout::AppliedPromotion& a) {
  w.BeginObject()
      .Str("promotion_id", a.promotion_id)
      .Num("promotion_version", a.version)
      .Seq("rule_snapshot_seq", a.rule_snapshot_seq)
      .Num("amount_minor", a.amount_minor)
      .Key("funding");
  WriteFunding(w, a.funding);
  w.EndObject();
}

// A rule's funding split as DiscountAllocation.funding records it: party and share_bps.
json FundingSharesJson(const events::PromotionRule& rule) {
  json shares = json::array();
  if (rule.funding() != nullptr) {
    for (const events::FundingShare* share : *rule.funding()) {
      shares.push_back({{"party", View(share->party())}, {"share_bps", share->share_bps()}});
    }
  }
  return shares;
}

// A returned line, its fields as in ReturnRecorded's ReturnLine.
json ReturnLineJson(const checkout::ReturnLineQuote& l, json clawed_back) {
  return {{"line_no", l.line_no},
          {"sku", l.sku},
          {"qty", l.qty},
          {"refund_minor", l.refund_minor},
          {"refund_tax_minor", l.refund_tax_minor},
          {"discounts_clawed_back", std::move(clawed_back)}};
}

// The priced cart's members (the caller opens and closes the object).
void WritePricedCart(JsonWriter& w, const checkout::PricedCart& p) {
  w.Str("currency", p.currency).Key("lines").BeginArray();
  for (const checkout::PricedLine& l : p.lines) {
    w.BeginObject()
        .Num("line_no", l.line_no)
        .Str("sku", l.sku)
        .Num("qty", l.qty)
        .Num("unit_price_minor", l.unit_price_minor)
        .Seq("price_event_seq", l.price_seq)
        .Flag("free", l.free)
        .Num("gross_minor", l.gross_minor)
        .Num("discount_minor", l.discount_minor)
        .Num("net_minor", l.net_minor)
        .Num("tax_minor", l.tax_minor)
        .Num("total_minor", l.total_minor)
        .Key("taxes");
    WriteTaxes(w, l.taxes);
    w.Key("discounts").BeginArray();
    for (const checkout::Allocation& a : l.discounts) WriteAllocation(w, a);
    w.EndArray().EndObject();
  }
  w.EndArray().Key("applied").BeginArray();
  for (const checkout::AppliedPromotion& a : p.applied) WritePromotionTotal(w, a);
  w.EndArray().Key("not_applied").BeginArray();
  for (const checkout::NotApplied& n : p.not_applied) {
    w.BeginObject()
        .Str("promotion_id", n.promotion_id)
        .Num("promotion_version", n.version)
        .Str("reason", n.reason)
        .Str("detail", n.detail)
        .EndObject();
  }
  w.EndArray()
      .Key("totals")
      .BeginObject()
      .Num("subtotal_minor", p.subtotal_minor)
      .Num("discount_minor", p.discount_minor)
      .Num("net_minor", p.net_minor)
      .Num("tax_minor", p.tax_minor)
      .Num("total_minor", p.total_minor)
      .EndObject();
}

checkout::Product ProductOfSaleLine(const events::SaleLine& line) {
  checkout::Product p;
  if (line.taxes() != nullptr) {
    for (const events::TaxLine* t : *line.taxes()) {
      p.taxes.push_back({.tax_code = std::string(View(t->tax_code())),
                         .rate_bps = t->rate_bps(),
                         .price_included = t->price_included(),
                         .fixed_amount_minor = t->fixed_amount_minor()});
    }
  }
  return p;
}

}  // namespace

// A rule snapshot read from the log, owned and aligned.
struct RuleSnapshot {
  std::shared_ptr<const std::string> bytes;
  const events::PromotionRule* rule() const {
    return events::GetEvent(bytes->data())->payload_as_PromotionDrafted()->rule();
  }
};

struct CartQuoter::Priced {
  checkout::Cart cart;
  std::vector<std::string> coupon_codes;
  std::map<std::string, std::shared_ptr<const checkout::Product>, std::less<>> products;
  // The promotions live for the cart: the candidates' rules point into their bytes.
  std::vector<LivePromotion> live;
  std::vector<checkout::Candidate> candidates;
  checkout::PricedCart priced;
  json coupons = json::array();
  std::int64_t known_at_ns = 0;
};

Result<CartQuoter::Priced> CartQuoter::PriceJson(std::string_view cart_json, std::int64_t now_ns,
                                                 std::int64_t known_at_ns,
                                                 const Admit& admit) const {
  Priced out;
  out.known_at_ns = known_at_ns;
  if (Status s = ReadCartRequest(cart_json, now_ns, out.cart, out.coupon_codes); !s.ok()) {
    return s;
  }
  if (admit) {
    if (Status s = admit(out.cart); !s.ok()) return s;
  }
  if (Status s = Complete(out); !s.ok()) return s;
  return out;
}

Status CartQuoter::Complete(Priced& out) const {
  checkout::Cart& cart = out.cart;
  const std::int64_t known_at_ns = out.known_at_ns;
  auto price_book = runner_.price_book();
  auto products = runner_.products();
  for (std::size_t i = 0; i < cart.lines.size(); ++i) {
    checkout::CartLine& line = cart.lines[i];
    auto path = [i] { return "lines[" + std::to_string(i) + "]"; };
    const PriceQuery query{line.sku,   cart.channel, cart.region,
                           cart.store, cart.at_ns,   known_at_ns};
    if (line.override_reason.empty()) {
      Result<LinePrices> prices = price_book->CheckoutPrices(query);
      if (!prices.ok()) return Bad(path() + ".sku", prices.status().message());
      line.unit_price_minor = prices->selling_minor;
      line.price_seq = prices->selling_seq;
      line.floor_minor = prices->floor_minor;
    } else if (Result<PriceAnswer> floor = price_book->PriceOfType(query, events::PriceType::Floor);
               floor.ok()) {
      line.floor_minor = floor->amount_minor;
    }
    if (!out.products.contains(line.sku)) {
      std::shared_ptr<const checkout::Product> product =
          products->Find(line.sku, cart.at_ns, known_at_ns);
      if (product == nullptr) {
        return Bad(path() + ".sku", "no product definition of " + line.sku + " at that time");
      }
      out.products.emplace(line.sku, std::move(product));
    }
  }
  auto coupons = runner_.coupons();
  for (const std::string& code : out.coupon_codes) {
    Result<CouponCode> found = coupons->Find(code);
    std::string problem = !found.ok() ? "unknown code" : found->Unredeemable(cart.at_ns);
    if (found.ok() && problem.empty() && !found->customer_id.empty() &&
        found->customer_id != cart.customer_id) {
      problem = "the code belongs to another customer";
    }
    if (problem.empty()) cart.coupon_programs.push_back(found->program);
    json entry = {{"code", code}};
    if (found.ok()) entry["program"] = found->program;
    entry["valid"] = problem.empty();
    if (!problem.empty()) entry["problem"] = problem;
    out.coupons.push_back(std::move(entry));
  }

  // The promotions live for the cart that can concern what it holds, each with the budget it
  // has used and the orders it discounted so far.
  CartContents contents;
  for (const checkout::CartLine& line : cart.lines) {
    contents.skus.push_back(line.sku);
    for (const std::string& category : out.products.find(line.sku)->second->categories) {
      if (std::find(contents.categories.begin(), contents.categories.end(), category) ==
          contents.categories.end()) {
        contents.categories.push_back(category);
      }
    }
  }
  auto liabilities = runner_.liabilities();
  out.live = runner_.promotions()->LiveFor(
      {cart.channel, cart.region, cart.store, cart.at_ns, known_at_ns}, contents);
  out.candidates.reserve(out.live.size());
  for (LivePromotion& live : out.live) {
    if (live.rule == nullptr) continue;
    const checkout::RuleFacts& caps = *live.rule_facts;
    // The budget it has used matters only to a rule with a budget.
    std::int64_t used = 0;
    if (caps.budget_minor > 0) {
      if (Result<std::int64_t> budget =
              liabilities->BudgetUsed(live.promotion_id, cart.at_ns, known_at_ns);
          budget.ok()) {
        used = *budget;
      }
    }
    // The orders it discounted so far matter only to a rule with a redemption cap.
    RedemptionCount redeemed;
    if (caps.total_redemptions > 0 || caps.redemptions_per_customer > 0) {
      if (Result<RedemptionCount> count =
              runner_.redemptions()->Count(live.promotion_id, cart.customer_id);
          count.ok()) {
        redeemed = *count;
      }
    }
    out.candidates.push_back({.promotion_id = std::move(live.promotion_id),
                              .version = live.version,
                              .rule_snapshot_seq = live.rule_snapshot_seq,
                              .rule = live.rule,
                              .odoo = live.odoo,
                              .budget_used_minor = used,
                              .redemptions = redeemed.orders,
                              .customer_redemptions = redeemed.customer_orders,
                              .facts = live.rule_facts});
  }
  // Free-product rewards need their product's price and taxes.
  for (const checkout::Candidate& c : out.candidates) {
    const events::PromotionReward* reward = c.rule->reward();
    if (reward == nullptr || reward->kind() != events::RewardKind::FreeProduct) continue;
    const std::string sku(View(reward->free_sku()));
    if (sku.empty() || out.products.contains(sku)) continue;
    std::shared_ptr<const checkout::Product> defined = products->Find(sku, cart.at_ns, known_at_ns);
    Result<PriceAnswer> price = price_book->SellingPrice(
        {sku, cart.channel, cart.region, cart.store, cart.at_ns, known_at_ns});
    if (defined == nullptr || !price.ok()) continue;
    auto product = std::make_shared<checkout::Product>(*defined);
    product->unit_price_minor = price->amount_minor;
    product->price_seq = price->seq;
    out.products.emplace(sku, std::move(product));
  }
  const auto& catalogue = out.products;
  Result<checkout::PricedCart> priced = checkout::PriceCart(
      cart, out.candidates, [&catalogue](std::string_view sku) -> const checkout::Product* {
        const auto it = catalogue.find(sku);
        return it == catalogue.end() ? nullptr : it->second.get();
      });
  if (!priced.ok()) return priced.status();
  out.priced = std::move(*priced);
  return Status::Ok();
}

Result<checkout::PricedCart> CartQuoter::PriceCart(const checkout::Cart& cart,
                                                   std::vector<std::string> coupon_codes,
                                                   std::int64_t known_at_ns) const {
  Priced out;
  out.cart = cart;
  out.cart.coupon_programs.clear();
  out.coupon_codes = std::move(coupon_codes);
  out.known_at_ns = known_at_ns;
  if (Status s = Complete(out); !s.ok()) return s;
  return std::move(out.priced);
}

Result<std::string> CartQuoter::Price(std::string_view cart_json, std::int64_t now_ns,
                                      std::int64_t known_at_ns, const Admit& admit) const {
  Result<Priced> p = PriceJson(cart_json, now_ns, known_at_ns, admit);
  if (!p.ok()) return p.status();
  JsonWriter w;
  w.BeginObject();
  WritePricedCart(w, p->priced);
  w.Key("coupons").Raw(p->coupons.dump());
  w.Key("as_of")
      .BeginObject()
      .Str("at", FormatUtcTime(p->cart.at_ns))
      .Num("at_ns", p->cart.at_ns)
      .Str("known_at", FormatUtcTime(known_at_ns))
      .Num("known_at_ns", known_at_ns)
      .EndObject()
      .EndObject();
  return w.Release();
}

Result<std::string> CartQuoter::SaleCommand(std::string_view cart_json, std::string_view order_id,
                                            std::int64_t now_ns, std::int64_t known_at_ns) const {
  if (order_id.empty()) return Bad("order_id", "required");
  Result<Priced> p = PriceJson(cart_json, now_ns, known_at_ns);
  if (!p.ok()) return p.status();
  const checkout::PricedCart& priced = p->priced;
  std::map<std::string, const checkout::Candidate*> by_id;
  for (const checkout::Candidate& c : p->candidates) by_id[c.promotion_id] = &c;
  json lines = json::array();
  for (const checkout::PricedLine& l : priced.lines) {
    json discounts = json::array();
    for (const checkout::Allocation& a : l.discounts) {
      const checkout::Candidate* c = by_id[a.promotion_id];
      const json funding = c != nullptr ? FundingSharesJson(*c->rule) : json::array();
      discounts.push_back({{"promotion_id", a.promotion_id},
                           {"promotion_version", a.version},
                           {"rule_snapshot_seq", a.rule_snapshot_seq},
                           {"amount_minor", a.amount_minor},
                           {"funding", funding}});
    }
    json taxes = json::array();
    for (const checkout::TaxAmount& t : l.taxes) {
      taxes.push_back({{"tax_code", t.tax.tax_code},
                       {"rate_bps", t.tax.rate_bps},
                       {"price_included", t.tax.price_included},
                       {"fixed_amount_minor", t.tax.fixed_amount_minor},
                       {"base_minor", t.base_minor},
                       {"amount_minor", t.amount_minor}});
    }
    lines.push_back({{"line_no", l.line_no},
                     {"sku", l.sku},
                     {"qty", l.qty},
                     {"unit_price_minor", l.unit_price_minor},
                     {"price_event_seq", l.price_seq},
                     {"discounts", discounts},
                     {"taxes", taxes},
                     {"line_net_minor", l.net_minor},
                     {"line_tax_minor", l.tax_minor},
                     {"line_total_minor", l.total_minor}});
  }
  json args = {{"order_id", order_id},
               {"sold_at_ns", p->cart.at_ns},
               {"channel", p->cart.channel},
               {"store", p->cart.store},
               {"region", p->cart.region},
               {"currency", priced.currency},
               {"lines", lines},
               {"subtotal_minor", priced.subtotal_minor},
               {"discount_total_minor", priced.discount_minor},
               {"net_total_minor", priced.net_minor},
               {"tax_total_minor", priced.tax_minor},
               {"total_minor", priced.total_minor}};
  if (!p->cart.customer_id.empty() || !p->cart.segments.empty()) {
    args["customer"] = {{"customer_id", p->cart.customer_id}, {"segments", p->cart.segments}};
  }
  if (!p->coupon_codes.empty()) args["coupon_codes"] = p->coupon_codes;
  const json command = {{"command", "record_sale"},
                        {"idempotency_key", "sale:" + std::string(order_id)},
                        {"args", args}};
  return command.dump();
}

struct CartQuoter::Quoted {
  checkout::ReturnQuote quote;
  std::string currency, channel, store;
  Sequence sale_seq = 0;
  std::int64_t paid_minor = 0, refunded_before_minor = 0;
  std::map<std::string, json> funding_shares;  // per promotion, its rule's split
};

Result<CartQuoter::Quoted> CartQuoter::Quote(std::string_view order_id,
                                             std::span<const checkout::ReturnedQty> lines) const {
  Result<OrderRecord> order = runner_.orders()->Find(order_id, INT64_MAX);
  if (!order.ok()) return order.status();
  auto read = [this](Sequence seq) -> Result<std::string> {
    Result<std::vector<EventRecord>> events = log_.Read(seq, 1);
    if (!events.ok()) return events.status();
    if (events->empty()) return Status::NotFound("no event " + std::to_string(seq));
    return std::move(events->front().bytes);
  };
  Result<std::string> sale_bytes = read(order->sale_seq);
  if (!sale_bytes.ok()) return sale_bytes.status();
  const events::SaleRecorded* sale =
      events::GetEvent(sale_bytes->data())->payload_as_SaleRecorded();
  if (sale == nullptr || sale->lines() == nullptr) {
    return Status::Corruption("order " + std::string(order_id) + ": its sale event has no lines");
  }

  // The rule snapshots the sale's discounts cite.
  std::map<std::string, std::unique_ptr<RuleSnapshot>> snapshots;  // by promotion id
  std::vector<checkout::Candidate> candidates;
  for (const events::SaleLine* line : *sale->lines()) {
    if (line->discounts() == nullptr) continue;
    for (const events::DiscountAllocation* d : *line->discounts()) {
      const std::string id = d->promotion_id()->str();
      if (snapshots.contains(id)) continue;
      Result<std::string> rule = read(d->rule_snapshot_seq());
      if (!rule.ok()) return rule.status();
      const auto* drafted = events::GetEvent(rule->data())->payload_as_PromotionDrafted();
      if (drafted == nullptr || drafted->rule() == nullptr) {
        return Status::Corruption("order " + std::string(order_id) + ": seq " +
                                  std::to_string(d->rule_snapshot_seq()) +
                                  " is not the rule snapshot of " + id);
      }
      auto snapshot = std::make_unique<RuleSnapshot>();
      snapshot->bytes = std::make_shared<const std::string>(std::move(*rule));
      candidates.push_back({.promotion_id = id,
                            .version = d->promotion_version(),
                            .rule_snapshot_seq = d->rule_snapshot_seq(),
                            .rule = snapshot->rule(),
                            .odoo = checkout::FromOdoo(*drafted)});
      snapshots.emplace(id, std::move(snapshot));
    }
  }
  auto is_free_line = [&](const events::SaleLine& line) {
    if (line.line_total_minor() != 0 || line.discounts() == nullptr) return false;
    for (const events::DiscountAllocation* d : *line.discounts()) {
      const auto it = snapshots.find(d->promotion_id()->str());
      if (it == snapshots.end()) continue;
      const events::PromotionReward* reward = it->second->rule()->reward();
      if (reward != nullptr && reward->kind() == events::RewardKind::FreeProduct &&
          View(reward->free_sku()) == line.sku()->string_view()) {
        return true;
      }
    }
    return false;
  };

  // The cart as sold, the sale as priced, and the products as the sale taxed them.
  checkout::Cart cart{.currency = std::string(View(sale->currency())),
                      .channel = std::string(View(sale->channel())),
                      .region = std::string(View(sale->region())),
                      .store = std::string(View(sale->store())),
                      .at_ns = sale->sold_at_ns()};
  if (sale->customer() != nullptr) {
    cart.customer_id = std::string(View(sale->customer()->customer_id()));
    if (sale->customer()->segments() != nullptr) {
      for (const auto* s : *sale->customer()->segments()) cart.segments.push_back(s->str());
    }
  }
  if (sale->coupon_codes() != nullptr) {
    for (const auto* code : *sale->coupon_codes()) {
      if (Result<CouponCode> c = runner_.coupons()->Find(code->string_view()); c.ok()) {
        cart.coupon_programs.push_back(c->program);
      }
    }
  }
  std::map<std::string, checkout::Product, std::less<>> products;
  checkout::PricedCart sold;
  sold.currency = cart.currency;
  std::map<std::string, std::int64_t> applied;
  for (const events::SaleLine* line : *sale->lines()) {
    const std::string sku = line->sku()->str();
    checkout::Product product = ProductOfSaleLine(*line);
    if (std::shared_ptr<const checkout::Product> defined =
            runner_.products()->Find(sku, sale->sold_at_ns(), INT64_MAX)) {
      product.categories = defined->categories;
    }
    product.unit_price_minor = line->unit_price_minor();
    product.price_seq = line->price_event_seq();
    products.emplace(sku, product);
    checkout::PricedLine priced{.line_no = line->line_no(),
                                .sku = sku,
                                .qty = line->qty(),
                                .unit_price_minor = line->unit_price_minor(),
                                .price_seq = line->price_event_seq(),
                                .net_minor = line->line_net_minor(),
                                .tax_minor = line->line_tax_minor(),
                                .total_minor = line->line_total_minor()};
    if (line->discounts() != nullptr) {
      for (const events::DiscountAllocation* d : *line->discounts()) {
        priced.discounts.push_back({.promotion_id = d->promotion_id()->str(),
                                    .version = d->promotion_version(),
                                    .rule_snapshot_seq = d->rule_snapshot_seq(),
                                    .amount_minor = d->amount_minor()});
        applied[d->promotion_id()->str()] += d->amount_minor();
      }
    }
    if (!is_free_line(*line)) {
      cart.lines.push_back({.sku = sku,
                            .qty = line->qty(),
                            .unit_price_minor = line->unit_price_minor(),
                            .price_seq = line->price_event_seq()});
    }
    sold.lines.push_back(std::move(priced));
  }
  for (const checkout::Candidate& c : candidates) {
    sold.applied.push_back({.promotion_id = c.promotion_id,
                            .version = c.version,
                            .rule_snapshot_seq = c.rule_snapshot_seq,
                            .amount_minor = applied[c.promotion_id]});
  }
  sold.total_minor = sale->total_minor();
  sold.tax_minor = sale->tax_total_minor();
  if (cart.lines.size() != sale->lines()->size()) {
    // Line numbers of the cart must be the sale's: free lines come last in a priced sale.
    for (std::size_t i = 0; i < cart.lines.size(); ++i) {
      if (sale->lines()->Get(static_cast<flatbuffers::uoffset_t>(i))->line_no() !=
          static_cast<std::int32_t>(i + 1)) {
        return Status::Unavailable("order " + std::string(order_id) +
                                   ": its free lines are not last; it cannot be quoted");
      }
    }
  }

  // What earlier returns took back.
  checkout::EarlierReturns earlier;
  std::map<std::string, std::int64_t> clawed;
  for (const OrderRecord::Return& ret : order->returns) {
    Result<std::string> bytes = read(ret.seq);
    if (!bytes.ok()) return bytes.status();
    const events::ReturnRecorded* r = events::GetEvent(bytes->data())->payload_as_ReturnRecorded();
    if (r == nullptr) continue;
    earlier.refunded_minor += r->refund_total_minor();
    if (r->lines() == nullptr) continue;
    for (const events::ReturnLine* l : *r->lines()) {
      earlier.returned.push_back({l->line_no(), l->qty()});
      earlier.refunded_tax_minor += l->refund_tax_minor();
      if (l->discounts_clawed_back() == nullptr) continue;
      for (const events::DiscountAllocation* d : *l->discounts_clawed_back()) {
        clawed[d->promotion_id()->str()] += d->amount_minor();
      }
    }
  }
  for (const auto& [id, amount] : clawed)
    earlier.clawed_back.push_back({.promotion_id = id, .amount_minor = amount});

  Result<checkout::ReturnQuote> quote = checkout::QuoteReturn(
      cart, candidates,
      [&products](std::string_view sku) -> const checkout::Product* {
        const auto it = products.find(sku);
        return it == products.end() ? nullptr : &it->second;
      },
      sold, earlier, lines);
  if (!quote.ok()) return quote.status();
  Quoted out{.quote = std::move(*quote),
             .currency = cart.currency,
             .channel = cart.channel,
             .store = cart.store,
             .sale_seq = order->sale_seq,
             .paid_minor = sold.total_minor,
             .refunded_before_minor = earlier.refunded_minor};
  for (const checkout::Candidate& c : candidates) {
    out.funding_shares[c.promotion_id] = FundingSharesJson(*c.rule);
  }
  return out;
}

Result<checkout::ReturnQuote> CartQuoter::QuoteOf(
    std::string_view order_id, std::span<const checkout::ReturnedQty> lines) const {
  Result<Quoted> quoted = Quote(order_id, lines);
  if (!quoted.ok()) return quoted.status();
  return std::move(quoted->quote);
}

Result<std::string> CartQuoter::QuoteReturn(std::string_view order_id,
                                            std::span<const checkout::ReturnedQty> lines) const {
  Result<Quoted> quoted = Quote(order_id, lines);
  if (!quoted.ok()) return quoted.status();
  const checkout::ReturnQuote& quote = quoted->quote;
  json out_lines = json::array();
  for (const checkout::ReturnLineQuote& l : quote.lines) {
    json clawed_back = json::array();
    for (const checkout::Allocation& a : l.clawed_back) clawed_back.push_back(AllocationJson(a));
    out_lines.push_back(ReturnLineJson(l, std::move(clawed_back)));
  }
  JsonWriter clawed;
  clawed.BeginArray();
  for (const checkout::AppliedPromotion& c : quote.clawbacks) WritePromotionTotal(clawed, c);
  clawed.EndArray();
  const json clawbacks = json::parse(clawed.Release());
  const json out = {{"order_id", order_id},
                    {"sale_seq", quoted->sale_seq},
                    {"currency", quoted->currency},
                    {"paid_minor", quoted->paid_minor},
                    {"refunded_before_minor", quoted->refunded_before_minor},
                    {"refund_minor", quote.refund_minor},
                    {"refund_tax_minor", quote.refund_tax_minor},
                    {"lines", out_lines},
                    {"clawbacks", clawbacks},
                    {"kept_total_minor", quote.kept.total_minor}};
  return out.dump();
}

Result<std::string> CartQuoter::ReturnCommand(std::string_view order_id,
                                              std::span<const checkout::ReturnedQty> lines,
                                              std::string_view return_id, std::string_view reason,
                                              std::int64_t now_ns) const {
  if (return_id.empty()) return Bad("return_id", "required");
  Result<Quoted> quoted = Quote(order_id, lines);
  if (!quoted.ok()) return quoted.status();
  json out_lines = json::array();
  for (const checkout::ReturnLineQuote& l : quoted->quote.lines) {
    json clawed_back = json::array();
    for (const checkout::Allocation& a : l.clawed_back) {
      clawed_back.push_back({{"promotion_id", a.promotion_id},
                             {"promotion_version", a.version},
                             {"rule_snapshot_seq", a.rule_snapshot_seq},
                             {"amount_minor", a.amount_minor},
                             {"funding", quoted->funding_shares[a.promotion_id]}});
    }
    out_lines.push_back(ReturnLineJson(l, std::move(clawed_back)));
  }
  const json args = {{"return_id", return_id},
                     {"order_id", order_id},
                     {"returned_at_ns", now_ns},
                     {"channel", quoted->channel},
                     {"store", quoted->store},
                     {"lines", out_lines},
                     {"refund_total_minor", quoted->quote.refund_minor},
                     {"currency", quoted->currency},
                     {"reason", reason}};
  return json{{"command", "record_return"},
              {"idempotency_key", "return:" + std::string(return_id)},
              {"args", args}}
      .dump();
}

}  // namespace tillroll::projections
