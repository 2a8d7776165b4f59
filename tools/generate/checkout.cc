#include "tools/generate/checkout.h"

#include <algorithm>
#include <array>
#include <cstdio>

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
          std::max<std::size_t>(2000, 3000 * catalogue.stores().size()))) {}

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
  FillBasket(context, at_ns);
  pricer_.Price(lines_, candidates_, desk_, discounts_);
  granted_.clear();
  for (const LineDiscount& discount : discounts_) {
    const Campaign& campaign = desk_.campaign(discount.campaign);
    granted_.push_back({campaign.published_version, campaign.live().snapshot_seq});
  }
  ComputeTotals();
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

void Checkout::FillBasket(const SaleContext& context, std::int64_t at_ns) {
  const std::uint32_t wanted = LineCount(random_);
  lines_.clear();
  for (std::uint32_t tries = 0; lines_.size() < wanted && tries < 4 * wanted; ++tries) {
    const std::uint32_t sku = catalogue_.PopularSku(random_);
    if (std::any_of(lines_.begin(), lines_.end(),
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
    const ResolvedPrice price = book_.SellingPrice(sku, context, at_ns);
    lines_.push_back({sku, qty, price.amount_minor, price.seq, qty * price.amount_minor,
                      catalogue_.CategoryOf(sku).vat_bps});
  }
}

void Checkout::ComputeTotals() {
  totals_.assign(lines_.size(), {});
  for (const LineDiscount& discount : discounts_) {
    totals_[discount.line].discount_minor += discount.amount_minor;
  }
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    LineTotals& totals = totals_[i];
    totals.total_minor = lines_[i].gross_minor - totals.discount_minor;
    TR_ASSERT(totals.total_minor > 0);
    totals.tax_minor = IncludedTaxMinor(totals.total_minor, lines_[i].vat_bps);
  }
}

flatbuffers::Offset<events::DiscountAllocation> Checkout::BuildAllocation(
    flatbuffers::FlatBufferBuilder& fbb, std::uint32_t campaign, std::uint32_t version,
    Sequence snapshot_seq, std::int64_t amount_minor) {
  const Campaign& promotion = desk_.campaign(campaign);
  funding_offsets_.clear();
  for (const FundingSplit& share : promotion.versions[version - 1].rule.funding) {
    funding_offsets_.push_back(
        events::CreateFundingShareDirect(fbb, share.party.data(), share.share_bps));
  }
  return events::CreateDiscountAllocationDirect(fbb, promotion.id.c_str(), version, snapshot_seq,
                                                amount_minor, &funding_offsets_);
}

flatbuffers::Offset<events::SaleLine> Checkout::BuildSaleLine(flatbuffers::FlatBufferBuilder& fbb,
                                                              std::size_t line) {
  allocation_offsets_.clear();
  for (std::size_t k = 0; k < discounts_.size(); ++k) {
    const LineDiscount& discount = discounts_[k];
    if (discount.line != line) continue;
    allocation_offsets_.push_back(BuildAllocation(fbb, discount.campaign, granted_[k].version,
                                                  granted_[k].snapshot_seq, discount.amount_minor));
  }
  const BasketLine& basket_line = lines_[line];
  const LineTotals& totals = totals_[line];
  const Category& category = catalogue_.CategoryOf(basket_line.sku);
  const std::int64_t net_minor = totals.total_minor - totals.tax_minor;
  const std::vector<flatbuffers::Offset<events::TaxLine>> taxes{
      events::CreateTaxLineDirect(fbb, category.tax_code.data(), category.vat_bps,
                                  /*price_included=*/true, 0, net_minor, totals.tax_minor)};
  return events::CreateSaleLineDirect(
      fbb, static_cast<std::int32_t>(line + 1), catalogue_.skus()[basket_line.sku].id.c_str(),
      basket_line.qty, basket_line.unit_minor, basket_line.price_seq, &allocation_offsets_, &taxes,
      net_minor, totals.tax_minor, totals.total_minor);
}

void Checkout::EmitSale(const SaleContext& context, std::int64_t at_ns) {
  auto& fbb = sink_.Begin();
  line_offsets_.clear();
  std::int64_t subtotal = 0, discount_total = 0, tax_total = 0, total = 0;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    line_offsets_.push_back(BuildSaleLine(fbb, i));
    subtotal += lines_[i].gross_minor;
    discount_total += totals_[i].discount_minor;
    tax_total += totals_[i].tax_minor;
    total += totals_[i].total_minor;
  }
  flatbuffers::Offset<events::Customer> customer = 0;
  if (!customer_id_.empty()) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> segments;
    if ((customer_segments_ & kLoyaltyGold) != 0)
      segments.push_back(fbb.CreateString("loyalty-gold"));
    if ((customer_segments_ & kLoyaltySilver) != 0) {
      segments.push_back(fbb.CreateString("loyalty-silver"));
    }
    customer = events::CreateCustomerDirect(fbb, customer_id_.c_str(), &segments);
  }
  coupon_code_.clear();
  std::vector<flatbuffers::Offset<flatbuffers::String>> coupon_codes;
  if (presented_coupon_ >= 0 &&
      std::any_of(discounts_.begin(), discounts_.end(), [this](const LineDiscount& d) {
        return d.campaign == static_cast<std::uint32_t>(presented_coupon_);
      })) {
    coupon_code_ = desk_.NextCouponCode(static_cast<std::uint32_t>(presented_coupon_));
    coupon_codes.push_back(fbb.CreateString(coupon_code_));
  }
  const char* store = context.store >= 0
                          ? catalogue_.stores()[static_cast<std::size_t>(context.store)].id.c_str()
                          : nullptr;
  const char* region =
      context.region >= 0 ? kRegions[static_cast<std::size_t>(context.region)].data() : nullptr;
  const auto payload = events::CreateSaleRecordedDirect(
      fbb, order_id_.c_str(), at_ns, kChannels[context.channel].data(), store, region, customer,
      kCurrency.data(), &line_offsets_, subtotal, discount_total, total - tax_total, tax_total,
      total, coupon_codes.empty() ? nullptr : &coupon_codes);
  sink_.Emit({.at_ns = at_ns,
              .actor = &CheckoutActor(context.channel),
              .stream = stream_,
              .expected_version = 0,
              .correlation_id = correlation_id_},
             events::Payload::SaleRecorded, payload.Union());
}

void Checkout::Commit(const SaleContext& context, std::int64_t at_ns) {
  for (std::size_t k = 0; k < discounts_.size(); ++k) {
    desk_.Grant(discounts_[k].campaign, discounts_[k].amount_minor);
    desk_.Accrue(discounts_[k].campaign, granted_[k].version, discounts_[k].amount_minor, +1);
  }
  if (!coupon_code_.empty()) {
    desk_.RedeemCoupon(static_cast<std::uint32_t>(presented_coupon_), order_id_, customer_id_,
                       CheckoutActor(context.channel), sink_.last_key(), at_ns);
  }
  for (std::size_t k = 0; k < discounts_.size(); ++k) {
    desk_.WithdrawIfBudgetSpent(discounts_[k].campaign, at_ns);
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
  const std::size_t first = random_.Below(lines_.size());
  std::vector<std::size_t> chosen{first};
  if (lines_.size() >= 2 && random_.Chance(0.2)) {
    chosen.push_back((first + 1 + random_.Below(lines_.size() - 1)) % lines_.size());
    std::sort(chosen.begin(), chosen.end());
  }
  for (const std::size_t i : chosen) {
    const std::int32_t sold = lines_[i].qty;
    const std::int32_t qty =
        random_.Chance(0.7)
            ? sold
            : 1 + static_cast<std::int32_t>(random_.Below32(static_cast<std::uint32_t>(sold)));
    auto portion = [sold, qty](std::int64_t amount_minor) {
      return qty == sold ? amount_minor : DivideHalfUp(amount_minor * qty, sold);
    };
    ReturnedLine& line = planned.lines.emplace_back(ReturnedLine{static_cast<std::int32_t>(i + 1),
                                                                 lines_[i].sku,
                                                                 qty,
                                                                 portion(totals_[i].total_minor),
                                                                 portion(totals_[i].tax_minor),
                                                                 {}});
    for (std::size_t k = 0; k < discounts_.size(); ++k) {
      if (discounts_[k].line != i) continue;
      const std::int64_t clawed_minor = portion(discounts_[k].amount_minor);
      if (clawed_minor == 0) continue;
      line.clawbacks.push_back(
          {discounts_[k].campaign, granted_[k].version, granted_[k].snapshot_seq, clawed_minor});
    }
  }
  const std::int64_t sale_day = (at_ns - first_day_ns_) / kNsPerDay;
  const std::int64_t return_day = sale_day + 1 + random_.Between(0, 13);
  const std::int64_t return_ns = first_day_ns_ + return_day * kNsPerDay + 9 * kNsPerHour +
                                 random_.Between(0, 10 * 3600 - 1) * kNsPerSecond;
  agenda_.Push(return_ns, HappeningKind::kReturn, slot);
}

void Checkout::RecordReturn(std::uint32_t slot, std::int64_t at_ns) {
  PlannedReturn& planned = returns_[slot];
  auto& fbb = sink_.Begin();
  std::vector<flatbuffers::Offset<events::ReturnLine>> lines;
  std::int64_t refund_total = 0;
  for (const ReturnedLine& line : planned.lines) {
    allocation_offsets_.clear();
    for (const Clawback& clawback : line.clawbacks) {
      allocation_offsets_.push_back(BuildAllocation(fbb, clawback.campaign, clawback.version,
                                                    clawback.snapshot_seq, clawback.amount_minor));
      desk_.Accrue(clawback.campaign, clawback.version, clawback.amount_minor, -1);
    }
    lines.push_back(events::CreateReturnLineDirect(
        fbb, line.line_no, catalogue_.skus()[line.sku].id.c_str(), line.qty, line.refund_minor,
        line.refund_tax_minor, &allocation_offsets_));
    refund_total += line.refund_minor;
  }
  const SaleContext& context = planned.context;
  const bool at_till = context.channel == kPos;
  const std::string return_id = "RET-" + planned.order_id;
  const auto payload = events::CreateReturnRecordedDirect(
      fbb, return_id.c_str(), planned.order_id.c_str(), at_ns, kChannels[context.channel].data(),
      at_till ? catalogue_.stores()[static_cast<std::size_t>(context.store)].id.c_str() : nullptr,
      &lines, refund_total, kCurrency.data(),
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
