#include "tools/generate/checkout.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

namespace tillroll::generate {
namespace {

constexpr double kReturnChance = 0.05;
constexpr double kKnownCustomerAtTillChance = 0.4;
constexpr double kCouponShownChance = 0.15;
constexpr std::array<std::string_view, 5> kReturnReasons{"changed mind", "damaged in transit",
                                                         "quality issue", "wrong item delivered",
                                                         "best-before date passed"};

std::uint32_t LineCount(Random& random) {
  static constexpr std::array<std::uint32_t, 6> kCumulativePercent{30, 55, 73, 85, 93, 100};
  const std::uint64_t roll = random.Below(100);
  std::uint32_t count = 1;
  while (roll >= kCumulativePercent[count - 1]) ++count;
  return count;
}

std::int32_t Quantity(Random& random) {
  static constexpr std::array<std::uint32_t, 6> kCumulativePercent{70, 88, 96, 98, 99, 100};
  const std::uint64_t roll = random.Below(100);
  std::int32_t qty = 1;
  while (roll >= kCumulativePercent[static_cast<std::size_t>(qty - 1)]) ++qty;
  return qty;
}

}  // namespace

Checkout::Checkout(const Catalogue& catalogue, const PriceBook& book, PromotionDesk& desk,
                   EventSink& sink, Agenda& agenda, Random& random, std::int64_t first_day_ns)
    : catalogue_(catalogue),
      book_(book),
      desk_(desk),
      sink_(sink),
      agenda_(agenda),
      random_(random),
      first_day_ns_(first_day_ns),
      customer_count_(static_cast<std::uint32_t>(
          std::max<std::size_t>(2000, 3000 * catalogue.stores().size()))) {
  // The products as the price desk defines them (ProductDefined): a category and its VAT,
  // included in shelf prices.
  const auto sku_count = static_cast<std::uint32_t>(catalogue_.skus().size());
  products_.reserve(sku_count);
  for (std::uint32_t i = 0; i < sku_count; ++i) {
    const Category& category = catalogue_.CategoryOf(i);
    products_.push_back(
        {.categories = {std::string(category.name)},
         .taxes = {{std::string(category.tax_code), category.vat_bps, /*price_included=*/true, 0}}});
    sku_index_.emplace(catalogue_.skus()[i].id, i);
  }
  product_lookup_ = [this](std::string_view sku) -> const checkout::Product* {
    const auto it = sku_index_.find(sku);
    return it == sku_index_.end() ? nullptr : &products_[it->second];
  };
}

const Actor& Checkout::CheckoutActor(std::uint32_t channel) {
  switch (channel) {
    case kWeb:
      return kWebshop;
    case kMarketplace:
      return kMarketplaceGateway;
    default:
      return kPosGateway;
  }
}

std::uint32_t Checkout::CampaignOf(std::string_view promotion_id) const {
  // "PROMO-<number>", numbered from 1 in the order the desk took them.
  std::uint32_t number = 0;
  for (const char c : promotion_id.substr(promotion_id.find('-') + 1)) {
    number = number * 10 + static_cast<std::uint32_t>(c - '0');
  }
  TR_ASSERT(number >= 1 && desk_.campaign(number - 1).id == promotion_id);
  return number - 1;
}

void Checkout::RecordSale(const SaleContext& context, std::int64_t at_ns) {
  ++order_count_;
  static constexpr std::array<char, 3> kOrderPrefix{'R', 'W', 'M'};
  char id[32];
  std::snprintf(id, sizeof(id), "%c-%09llu", kOrderPrefix[context.channel],
                static_cast<unsigned long long>(order_count_));
  order_id_ = id;
  stream_ = "order/" + order_id_;
  correlation_id_ = "order-" + order_id_;
  ChooseCustomer(context);
  FindCandidates(context, at_ns);
  FillBasket();
  Price(context, at_ns);
  EmitSale(context, at_ns);
  Commit(context, at_ns);
  if (random_.Chance(kReturnChance)) PlanReturn(context, at_ns);
}

void Checkout::ChooseCustomer(const SaleContext& context) {
  customer_id_.clear();
  customer_segments_ = 0;
  if (context.channel == kPos && !random_.Chance(kKnownCustomerAtTillChance)) return;
  const std::uint32_t number = 1 + random_.Below32(customer_count_);
  char id[32];
  std::snprintf(id, sizeof(id), "C-%07u", number);
  customer_id_ = id;
  // A customer's segment is a property of the customer: the same on every visit.
  const std::uint32_t bucket = (number * 2654435761u) % 10;
  customer_segments_ = static_cast<std::uint8_t>(bucket == 0   ? kLoyaltyGold
                                                 : bucket <= 3 ? kLoyaltySilver
                                                               : 0);
}

void Checkout::FindCandidates(const SaleContext& context, std::int64_t at_ns) {
  candidates_.clear();
  coupon_offers_.clear();
  presented_coupon_ = -1;
  for (const std::uint32_t index : desk_.published()) {
    const Campaign& campaign = desk_.campaign(index);
    if (!campaign.IsLive(at_ns)) continue;
    const RuleSpec& rule = campaign.live().rule;
    if (!rule.Reaches(context, customer_segments_)) continue;
    (rule.coupon_required ? coupon_offers_ : candidates_).push_back(index);
  }
  if (coupon_offers_.empty() || !random_.Chance(kCouponShownChance)) return;
  const std::uint32_t shown = coupon_offers_[random_.Below(coupon_offers_.size())];
  presented_coupon_ = shown;
  candidates_.insert(std::lower_bound(candidates_.begin(), candidates_.end(), shown), shown);
}

void Checkout::FillBasket() {
  const std::uint32_t wanted = LineCount(random_);
  basket_.clear();
  for (std::uint32_t tries = 0; basket_.size() < wanted && tries < 4 * wanted; ++tries) {
    const std::uint32_t sku = catalogue_.PopularSku(random_);
    if (std::any_of(basket_.begin(), basket_.end(),
                    [sku](const BasketLine& line) { return line.sku == sku; })) {
      continue;
    }
    std::int32_t qty = Quantity(random_);
    // Multi-buy offers sell in their multiples.
    for (const std::uint32_t index : candidates_) {
      const RuleSpec& rule = desk_.campaign(index).live().rule;
      const bool multi_buy =
          rule.kind == CampaignKind::kBuyXGetY || rule.kind == CampaignKind::kBundle;
      if (!multi_buy || !rule.Targets(sku) || !random_.Chance(0.5)) continue;
      qty = rule.kind == CampaignKind::kBuyXGetY
                ? rule.buy_qty + rule.get_qty
                : rule.bundle_qty * (1 + static_cast<std::int32_t>(random_.Below(2)));
      break;
    }
    basket_.push_back({sku, qty});
  }
}

void Checkout::Price(const SaleContext& context, std::int64_t at_ns) {
  cart_ = checkout::Cart{};
  cart_.currency = std::string(kCurrency);
  cart_.channel = std::string(kChannels[context.channel]);
  if (context.region >= 0) cart_.region = kRegions[static_cast<std::size_t>(context.region)];
  if (context.store >= 0) cart_.store = catalogue_.stores()[static_cast<std::size_t>(context.store)].id;
  cart_.customer_id = customer_id_;
  if ((customer_segments_ & kLoyaltyGold) != 0) cart_.segments.push_back("loyalty-gold");
  if ((customer_segments_ & kLoyaltySilver) != 0) cart_.segments.push_back("loyalty-silver");
  if (presented_coupon_ >= 0) {
    cart_.coupon_programs.push_back(desk_.campaign(static_cast<std::uint32_t>(presented_coupon_)).id);
  }
  cart_.at_ns = at_ns;
  for (const BasketLine& line : basket_) {
    const Sku& sku = catalogue_.skus()[line.sku];
    const ResolvedPrice price = book_.SellingPrice(line.sku, context, at_ns);
    cart_.lines.push_back({.sku = sku.id,
                           .qty = line.qty,
                           .unit_price_minor = price.amount_minor,
                           .price_seq = price.seq,
                           .floor_minor = sku.floor_minor});
  }
  engine_candidates_.clear();
  for (const std::uint32_t index : candidates_) {
    const Campaign& campaign = desk_.campaign(index);
    engine_candidates_.push_back({.promotion_id = campaign.id,
                                  .version = campaign.published_version,
                                  .rule_snapshot_seq = campaign.live().snapshot_seq,
                                  .rule = campaign.live().engine_rule(),
                                  .budget_used_minor = campaign.used_minor,
                                  .facts = campaign.live().rule_facts.get()});
  }
  Result<checkout::PricedCart> priced =
      checkout::PriceCart(cart_, engine_candidates_, product_lookup_);
  TR_ASSERT(priced.ok());
  priced_ = std::move(*priced);
  for (const checkout::PricedLine& line : priced_.lines) {
    TR_ASSERT(!line.free && line.total_minor > 0);
  }
}

flatbuffers::Offset<events::DiscountAllocation> Checkout::BuildAllocation(
    flatbuffers::FlatBufferBuilder& fbb, const checkout::Allocation& allocation) {
  const Campaign& promotion = desk_.campaign(CampaignOf(allocation.promotion_id));
  funding_offsets_.clear();
  for (const FundingSplit& share : promotion.versions[allocation.version - 1].rule.funding) {
    funding_offsets_.push_back(
        events::CreateFundingShareDirect(fbb, share.party.data(), share.share_bps));
  }
  return events::CreateDiscountAllocationDirect(fbb, promotion.id.c_str(), allocation.version,
                                                allocation.rule_snapshot_seq,
                                                allocation.amount_minor, &funding_offsets_);
}

void Checkout::EmitSale(const SaleContext& context, std::int64_t at_ns) {
  auto& fbb = sink_.Begin();
  line_offsets_.clear();
  for (const checkout::PricedLine& line : priced_.lines) {
    allocation_offsets_.clear();
    for (const checkout::Allocation& allocation : line.discounts) {
      allocation_offsets_.push_back(BuildAllocation(fbb, allocation));
    }
    std::vector<flatbuffers::Offset<events::TaxLine>> taxes;
    for (const checkout::TaxAmount& tax : line.taxes) {
      taxes.push_back(events::CreateTaxLineDirect(fbb, tax.tax.tax_code.c_str(), tax.tax.rate_bps,
                                                  tax.tax.price_included,
                                                  tax.tax.fixed_amount_minor, tax.base_minor,
                                                  tax.amount_minor));
    }
    line_offsets_.push_back(events::CreateSaleLineDirect(
        fbb, line.line_no, line.sku.c_str(), line.qty, line.unit_price_minor, line.price_seq,
        &allocation_offsets_, &taxes, line.net_minor, line.tax_minor, line.total_minor));
  }
  flatbuffers::Offset<events::Customer> customer = 0;
  if (!customer_id_.empty()) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> segments;
    for (const std::string& segment : cart_.segments) segments.push_back(fbb.CreateString(segment));
    customer = events::CreateCustomerDirect(fbb, customer_id_.c_str(), &segments);
  }
  coupon_code_.clear();
  std::vector<flatbuffers::Offset<flatbuffers::String>> coupon_codes;
  if (presented_coupon_ >= 0) {
    const auto shown = static_cast<std::uint32_t>(presented_coupon_);
    const std::string& program = desk_.campaign(shown).id;
    if (std::any_of(priced_.applied.begin(), priced_.applied.end(),
                    [&](const checkout::AppliedPromotion& a) { return a.promotion_id == program; })) {
      coupon_code_ = desk_.NextCouponCode(shown);
      coupon_codes.push_back(fbb.CreateString(coupon_code_));
    }
  }
  const char* store = context.store >= 0
                          ? catalogue_.stores()[static_cast<std::size_t>(context.store)].id.c_str()
                          : nullptr;
  const char* region =
      context.region >= 0 ? kRegions[static_cast<std::size_t>(context.region)].data() : nullptr;
  const auto payload = events::CreateSaleRecordedDirect(
      fbb, order_id_.c_str(), at_ns, kChannels[context.channel].data(), store, region, customer,
      kCurrency.data(), &line_offsets_, priced_.subtotal_minor, priced_.discount_minor,
      priced_.net_minor, priced_.tax_minor, priced_.total_minor,
      coupon_codes.empty() ? nullptr : &coupon_codes);
  sink_.Emit({.at_ns = at_ns,
              .actor = &CheckoutActor(context.channel),
              .stream = stream_,
              .expected_version = 0,
              .correlation_id = correlation_id_},
             events::Payload::SaleRecorded, payload.Union());
}

void Checkout::Commit(const SaleContext& context, std::int64_t at_ns) {
  for (const checkout::PricedLine& line : priced_.lines) {
    for (const checkout::Allocation& allocation : line.discounts) {
      const std::uint32_t campaign = CampaignOf(allocation.promotion_id);
      desk_.Grant(campaign, allocation.amount_minor);
      desk_.Accrue(campaign, allocation.version, allocation.amount_minor, +1);
    }
  }
  if (!coupon_code_.empty()) {
    desk_.RedeemCoupon(static_cast<std::uint32_t>(presented_coupon_), order_id_, customer_id_,
                       CheckoutActor(context.channel), sink_.last_key(), at_ns);
  }
  for (const checkout::AppliedPromotion& applied : priced_.applied) {
    desk_.WithdrawIfBudgetSpent(CampaignOf(applied.promotion_id), at_ns);
  }
}

void Checkout::PlanReturn(const SaleContext& context, std::int64_t at_ns) {
  std::uint32_t slot = 0;
  if (free_returns_.empty()) {
    slot = static_cast<std::uint32_t>(returns_.size());
    returns_.emplace_back();
  } else {
    slot = free_returns_.back();
    free_returns_.pop_back();
  }
  PlannedReturn& planned = returns_[slot];
  planned.order_id = order_id_;
  planned.context = context;
  planned.lines.clear();
  const std::size_t first = random_.Below(basket_.size());
  std::vector<std::size_t> chosen{first};
  if (basket_.size() >= 2 && random_.Chance(0.2)) {
    chosen.push_back((first + 1 + random_.Below(basket_.size() - 1)) % basket_.size());
    std::sort(chosen.begin(), chosen.end());
  }
  for (const std::size_t i : chosen) {
    const std::int32_t sold = basket_[i].qty;
    const std::int32_t qty =
        random_.Chance(0.7)
            ? sold
            : 1 + static_cast<std::int32_t>(random_.Below32(static_cast<std::uint32_t>(sold)));
    planned.lines.push_back({static_cast<std::int32_t>(i + 1), qty});
  }
  // The sale as the ledger reads it back from its event to quote a return: the cart as sold
  // (no Floor prices: the sale's discounts already respect them), the codes it redeemed, and
  // the rule snapshots its discounts cite.
  planned.cart = cart_;
  for (checkout::CartLine& line : planned.cart.lines) line.floor_minor = -1;
  planned.cart.coupon_programs.clear();
  if (!coupon_code_.empty()) {
    planned.cart.coupon_programs.push_back(
        desk_.campaign(static_cast<std::uint32_t>(presented_coupon_)).id);
  }
  planned.sale = priced_;
  planned.candidates.clear();
  for (const checkout::AppliedPromotion& applied : priced_.applied) {
    const Campaign& campaign = desk_.campaign(CampaignOf(applied.promotion_id));
    planned.candidates.push_back(
        {.promotion_id = applied.promotion_id,
         .version = applied.version,
         .rule_snapshot_seq = applied.rule_snapshot_seq,
         .rule = campaign.versions[applied.version - 1].engine_rule(),
         .facts = campaign.versions[applied.version - 1].rule_facts.get()});
  }
  const std::int64_t sale_day = (at_ns - first_day_ns_) / kNsPerDay;
  const std::int64_t return_day = sale_day + 1 + random_.Between(0, 13);
  const std::int64_t return_ns = first_day_ns_ + return_day * kNsPerDay + 9 * kNsPerHour +
                                 random_.Between(0, 10 * 3600 - 1) * kNsPerSecond;
  agenda_.Push(return_ns, HappeningKind::kReturn, slot);
}

void Checkout::RecordReturn(std::uint32_t slot, std::int64_t at_ns) {
  PlannedReturn& planned = returns_[slot];
  Result<checkout::ReturnQuote> quote = checkout::QuoteReturn(
      planned.cart, planned.candidates, product_lookup_, planned.sale, {}, planned.lines);
  TR_ASSERT(quote.ok());
  auto& fbb = sink_.Begin();
  std::vector<flatbuffers::Offset<events::ReturnLine>> lines;
  for (const checkout::ReturnLineQuote& line : quote->lines) {
    allocation_offsets_.clear();
    for (const checkout::Allocation& clawback : line.clawed_back) {
      if (clawback.amount_minor == 0) continue;
      allocation_offsets_.push_back(BuildAllocation(fbb, clawback));
      const std::uint32_t campaign = CampaignOf(clawback.promotion_id);
      desk_.Accrue(campaign, clawback.version, clawback.amount_minor, -1);
      desk_.Grant(campaign, std::abs(clawback.amount_minor), clawback.amount_minor > 0 ? -1 : +1);
    }
    lines.push_back(events::CreateReturnLineDirect(fbb, line.line_no, line.sku.c_str(), line.qty,
                                                   line.refund_minor, line.refund_tax_minor,
                                                   &allocation_offsets_));
  }
  const SaleContext& context = planned.context;
  const bool at_till = context.channel == kPos;
  const std::string return_id = "RET-" + planned.order_id;
  const auto payload = events::CreateReturnRecordedDirect(
      fbb, return_id.c_str(), planned.order_id.c_str(), at_ns, kChannels[context.channel].data(),
      at_till ? catalogue_.stores()[static_cast<std::size_t>(context.store)].id.c_str() : nullptr,
      &lines, quote->refund_minor, kCurrency.data(),
      kReturnReasons[random_.Below(kReturnReasons.size())].data());
  stream_ = "order/" + planned.order_id;
  correlation_id_ = "order-" + planned.order_id;
  const Actor& clerk =
      at_till ? catalogue_.stores()[static_cast<std::size_t>(context.store)].returns_clerk
              : catalogue_.web_returns_clerk();
  sink_.Emit({.at_ns = at_ns,
              .actor = &clerk,
              .stream = stream_,
              .expected_version = 1,
              .correlation_id = correlation_id_},
             events::Payload::ReturnRecorded, payload.Union());
  free_returns_.push_back(slot);
}

}  // namespace tillroll::generate
