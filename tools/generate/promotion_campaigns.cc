#include "tools/generate/promotion_campaigns.h"

#include <algorithm>
#include <cstdio>

namespace tillroll::generate {
namespace {

enum class Script : std::uint8_t {
  kHappy,
  kRejected,
  kRejectedThenAmended,
  kPausedResumed,
  kWithdrawn,
  kAmendedWhileLive
};

// Category target lists stay well inside the event size limit on any catalogue.
constexpr std::size_t kCategoryTargetSkusMax = 500;

std::string Euros(std::int64_t minor) {
  char text[32];
  std::snprintf(text, sizeof(text), "%lld.%02lld EUR", static_cast<long long>(minor / 100),
                static_cast<long long>(minor % 100));
  return text;
}

std::int64_t RoundDownTo(std::int64_t value, std::int64_t step) {
  return std::max(step, value / step * step);
}

std::vector<std::uint32_t> PopularSkus(std::size_t wanted, const Catalogue& catalogue,
                                       Random& random) {
  std::vector<std::uint32_t> skus;
  for (std::size_t tries = 0; skus.size() < wanted && tries < 8 * wanted; ++tries) {
    const std::uint32_t sku = catalogue.PopularSku(random);
    if (std::find(skus.begin(), skus.end(), sku) == skus.end()) skus.push_back(sku);
  }
  std::sort(skus.begin(), skus.end());
  return skus;
}

void FillCategoryPercent(RuleSpec& rule, Campaign& campaign, const Catalogue& catalogue,
                         Random& random) {
  do {
    rule.category = static_cast<std::int32_t>(random.Below(kCategories.size()));
  } while (catalogue.SkusIn(static_cast<std::uint32_t>(rule.category)).empty());
  const auto& skus = catalogue.SkusIn(static_cast<std::uint32_t>(rule.category));
  rule.target_skus.assign(skus.begin(), skus.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                           skus.size(), kCategoryTargetSkusMax)));
  rule.percent_bps = 500 + 100 * static_cast<std::int32_t>(random.Below(11));
  if (random.Chance(0.3)) rule.max_discount_per_order_minor = 500 + 100 * random.Between(0, 10);
  rule.coupon_required = random.Chance(0.1);
  const std::string_view category = kCategories[static_cast<std::size_t>(rule.category)].name;
  campaign.name = std::to_string(rule.percent_bps / 100) + "% off " + std::string(category);
  campaign.description = campaign.name + " (" + std::to_string(rule.target_skus.size()) + " SKUs)" +
                         (rule.coupon_required ? " with a coupon" : "");
}

void FillMultiBuy(RuleSpec& rule, Campaign& campaign, const Catalogue& catalogue, Random& random) {
  rule.target_skus = PopularSkus(1 + random.Below(4), catalogue, random);
  const bool half_price = random.Chance(0.5);
  rule.buy_qty = half_price ? 2 : 5;
  rule.get_qty = 1;
  rule.get_percent_bps = half_price ? 5000 : kBpsWhole;
  campaign.name = half_price ? "Buy 2, get the 3rd at half price" : "Buy 5, get 1 free";
  campaign.description =
      campaign.name + " on " + std::to_string(rule.target_skus.size()) + " selected products";
}

void FillBundle(RuleSpec& rule, Campaign& campaign, const Catalogue& catalogue, Random& random) {
  // One SKU per bundle: a bundle price over SKUs of different prices would cut the dearer
  // one far below its floor.
  rule.target_skus = PopularSkus(1, catalogue, random);
  const Sku& sku = catalogue.skus()[rule.target_skus[0]];
  rule.bundle_qty = random.Chance(0.5) ? 2 : 3;
  rule.bundle_price_minor =
      ShelfPrice(static_cast<double>(rule.bundle_qty * sku.list_minor) * 0.88, 1);
  if (rule.bundle_price_minor >= rule.bundle_qty * sku.list_minor) {
    rule.bundle_price_minor = rule.bundle_qty * sku.list_minor - 1;
  }
  campaign.name = std::to_string(rule.bundle_qty) + " for " + Euros(rule.bundle_price_minor);
  campaign.description = campaign.name + ": " + sku.id;
}

void FillOrderReward(RuleSpec& rule, Campaign& campaign, Random& random) {
  if (rule.kind == CampaignKind::kOrderAmountOff) {
    rule.min_amount_minor = 1500 + 500 * random.Between(0, 7);
    rule.amount_minor =
        RoundDownTo(static_cast<std::int64_t>(static_cast<double>(rule.min_amount_minor) *
                                              random.Real(0.05, 0.10)),
                    50);
    rule.coupon_required = random.Chance(0.5);
    campaign.name = Euros(rule.amount_minor) + " off from " + Euros(rule.min_amount_minor);
  } else if (rule.kind == CampaignKind::kTieredSpend) {
    const std::int64_t base = 2000 + 500 * random.Between(0, 3);
    rule.tiers = {{base, RoundDownTo(base * 5 / 100, 10)},
                  {base * 5 / 2, RoundDownTo(base * 5 / 2 * 7 / 100, 10)},
                  {base * 5, RoundDownTo(base * 5 * 9 / 100, 10)}};
    campaign.name = "Spend more, save more from " + Euros(base);
  } else {
    TR_ASSERT(rule.kind == CampaignKind::kWelcomeCoupon);
    rule.min_amount_minor = 3000 + 500 * random.Between(0, 4);
    rule.amount_minor = RoundDownTo(rule.min_amount_minor / 10, 50);
    rule.coupon_required = true;
    rule.exclusive = true;
    rule.priority = 50;
    rule.stacking_group = "exclusive";
    campaign.name = "Welcome coupon: " + Euros(rule.amount_minor) + " off";
  }
  if (!rule.exclusive) {
    rule.priority = 200;
    rule.stacking_group = "order";
  }
  campaign.description = campaign.name + (rule.coupon_required ? ", coupon required" : "");
}

void FillTargeting(RuleSpec& rule, const Catalogue& catalogue, Random& random) {
  const double roll = random.Unit();
  if (roll < 0.5) return;  // everywhere
  if (roll < 0.75 && !catalogue.stores().empty()) {
    rule.channel_mask = 1u << kPos;
    const double where = random.Unit();
    const std::size_t store_count = catalogue.stores().size();
    if (where < 0.3) {
      rule.region = static_cast<std::int32_t>(catalogue.stores()[random.Below(store_count)].region);
    } else if (where < 0.5 && store_count >= 2) {
      const std::size_t wanted = std::min<std::size_t>(store_count, 2 + random.Below(3));
      while (rule.stores.size() < wanted) {
        const std::uint32_t store = random.Below32(static_cast<std::uint32_t>(store_count));
        if (std::find(rule.stores.begin(), rule.stores.end(), store) == rule.stores.end()) {
          rule.stores.push_back(store);
        }
      }
      std::sort(rule.stores.begin(), rule.stores.end());
    }
  } else if (roll < 0.9) {
    rule.channel_mask = 1u << kWeb;
  } else {
    rule.channel_mask = (1u << kWeb) | (1u << kMarketplace);
  }
}

void FillFundingAndLimits(RuleSpec& rule, const PlanInput& input, std::int64_t window_days,
                          Random& random) {
  if (random.Chance(0.5)) {
    rule.funding = {{kRetailer, kBpsWhole}};
  } else {
    static constexpr std::array<std::int32_t, 4> kVendorShares{5000, 6000, 7000, kBpsWhole};
    const std::int32_t vendor_bps = kVendorShares[random.Below(kVendorShares.size())];
    rule.funding = {{kVendors[random.Below(kVendors.size())], vendor_bps}};
    if (vendor_bps < kBpsWhole) rule.funding.push_back({kRetailer, kBpsWhole - vendor_bps});
  }
  if (rule.kind != CampaignKind::kWelcomeCoupon && random.Chance(0.25)) {
    rule.segment_mask = static_cast<std::uint8_t>(
        random.Chance(0.6) ? kLoyaltyGold : kLoyaltyGold | kLoyaltySilver);
  }
  const double budget =
      input.sales_per_day * static_cast<double>(window_days) * random.Real(5.0, 40.0);
  rule.budget_minor =
      RoundDownTo(std::max<std::int64_t>(5000, static_cast<std::int64_t>(budget)), 100);
}

RuleSpec Amended(const RuleSpec& rule, bool after_rejection) {
  // After a rejection: a smaller discount and budget. While live: more of both.
  RuleSpec amended = rule;
  if (rule.percent_bps != 0) {
    amended.percent_bps = after_rejection ? std::max(500, rule.percent_bps - 200)
                                          : std::min(1500, rule.percent_bps + 200);
  }
  amended.budget_minor =
      RoundDownTo(after_rejection ? rule.budget_minor * 4 / 5 : rule.budget_minor * 3 / 2, 100);
  return amended;
}

Script ChooseScript(Random& random) {
  const double roll = random.Unit();
  if (roll < 0.55) return Script::kHappy;
  if (roll < 0.63) return Script::kRejected;
  if (roll < 0.73) return Script::kRejectedThenAmended;
  if (roll < 0.83) return Script::kPausedResumed;
  if (roll < 0.90) return Script::kWithdrawn;
  return Script::kAmendedWhileLive;
}

// Drafted and Submitted of `version` on day `day` from `earliest_offset_ns`, within `span_ns`.
void AddDraftAndSubmit(std::vector<Step>& script, std::int64_t day_ns, std::uint32_t version,
                       std::int64_t earliest_offset_ns, std::int64_t span_ns, Random& random) {
  const std::int64_t draft_ns = day_ns + earliest_offset_ns + random.Between(0, span_ns);
  script.push_back({.at_ns = draft_ns, .kind = StepKind::kDraft, .version = version});
  script.push_back({.at_ns = draft_ns + random.Between(20, 60) * kNsPerMinute,
                    .kind = StepKind::kSubmit,
                    .version = version});
}

std::int64_t DecisionNs(std::int64_t day_ns, Random& random) {
  return day_ns + 10 * kNsPerHour + random.Between(0, 5 * 60) * kNsPerMinute;
}

}  // namespace

bool RuleSpec::Targets(std::uint32_t sku) const {
  return std::binary_search(target_skus.begin(), target_skus.end(), sku);
}

bool RuleSpec::Reaches(const SaleContext& context, std::uint8_t segments) const {
  if (channel_mask != 0 && ((channel_mask >> context.channel) & 1u) == 0) return false;
  if (region >= 0 && context.region != region) return false;
  if (!stores.empty() &&
      (context.store < 0 || !std::binary_search(stores.begin(), stores.end(),
                                                static_cast<std::uint32_t>(context.store)))) {
    return false;
  }
  return segment_mask == 0 || (segment_mask & segments) != 0;
}

namespace {

RuleSpec PlanRule(Campaign& campaign, const PlanInput& input, std::int64_t window_days,
                  const Catalogue& catalogue, Random& random) {
  RuleSpec rule;
  const double roll = random.Unit();
  rule.kind = roll < 0.30   ? CampaignKind::kCategoryPercent
              : roll < 0.45 ? CampaignKind::kBuyXGetY
              : roll < 0.55 ? CampaignKind::kBundle
              : roll < 0.75 ? CampaignKind::kOrderAmountOff
              : roll < 0.90 ? CampaignKind::kTieredSpend
                            : CampaignKind::kWelcomeCoupon;
  if (rule.IsProductLevel()) {
    rule.stacking_group = "product";
    if (rule.kind == CampaignKind::kCategoryPercent) {
      FillCategoryPercent(rule, campaign, catalogue, random);
    } else if (rule.kind == CampaignKind::kBuyXGetY) {
      FillMultiBuy(rule, campaign, catalogue, random);
    } else {
      FillBundle(rule, campaign, catalogue, random);
    }
  } else {
    FillOrderReward(rule, campaign, random);
  }
  FillTargeting(rule, catalogue, random);
  FillFundingAndLimits(rule, input, window_days, random);
  return rule;
}

// The live part of a script: publish on day `s`, the optional pause / withdrawal / amendment,
// and the expiry on day `e`.
void PlanLiveSteps(Campaign& campaign, Script script, std::uint32_t published_version,
                   std::int64_t s, std::int64_t e, std::int64_t first_day_ns, Random& random) {
  auto day_ns = [first_day_ns](std::int64_t day) { return first_day_ns + day * kNsPerDay; };
  std::vector<Step>& steps = campaign.script;
  steps.push_back({.at_ns = day_ns(s) + kPublishOffsetNs,
                   .kind = StepKind::kPublish,
                   .version = published_version,
                   .window_from_ns = day_ns(s) + kWindowOpenOffsetNs});
  const std::int64_t length = e - s;
  if (script == Script::kPausedResumed) {
    const std::int64_t x = s + random.Between(0, length - 3);
    steps.push_back({.at_ns = day_ns(x) + 12 * kNsPerHour + random.Between(0, 180) * kNsPerMinute,
                     .kind = StepKind::kPause});
    steps.push_back({.at_ns = day_ns(x + 1) + kResumeOffsetNs, .kind = StepKind::kResume});
  } else if (script == Script::kWithdrawn) {
    const std::int64_t y = s + random.Between(0, length - 2);
    steps.push_back({.at_ns = day_ns(y) + 13 * kNsPerHour + random.Between(0, 120) * kNsPerMinute,
                     .kind = StepKind::kWithdraw});
    return;  // withdrawn for good: no expiry
  } else if (script == Script::kAmendedWhileLive) {
    const std::int64_t a = s + random.Between(0, length - 4);
    campaign.versions.push_back({2, Amended(campaign.versions[0].rule, false), 0, {}});
    AddDraftAndSubmit(steps, day_ns(a), 2, 9 * kNsPerHour, 6 * kNsPerHour, random);
    steps.push_back(
        {.at_ns = DecisionNs(day_ns(a + 1), random), .kind = StepKind::kApprove, .version = 2});
    steps.push_back({.at_ns = day_ns(a + 2) + kPublishOffsetNs,
                     .kind = StepKind::kPublish,
                     .version = 2,
                     .window_from_ns = day_ns(a + 2) + kWindowOpenOffsetNs,
                     .supersedes = 1});
  }
  steps.push_back({.at_ns = day_ns(e) + 5 * kNsPerMinute, .kind = StepKind::kExpire});
}

}  // namespace

Campaign PlanCampaign(const PlanInput& input, const Catalogue& catalogue, Random& random) {
  Campaign campaign;
  char id[32];
  std::snprintf(id, sizeof(id), "PROMO-%05u", input.number);
  campaign.number = input.number;
  campaign.id = id;
  campaign.stream = "promo/" + campaign.id;
  campaign.coupon_stream = "coupon/" + campaign.id;
  campaign.liability_stream = "liability/" + campaign.id;
  campaign.author = random.Below32(static_cast<std::uint32_t>(kPromoAuthors.size()));
  campaign.approver = random.Below32(static_cast<std::uint32_t>(kPromoApprovers.size()));

  Script script = ChooseScript(random);
  if (input.number == 1) {
    // Every story's first campaign is the lead author's and gets approved, so that every
    // history holds her one attempt to approve her own draft (refused: separation of duties).
    campaign.author = kPromoLeadAuthor;
    script = Script::kHappy;
  }
  const std::int64_t p = input.day;
  const std::int64_t s =
      p + (script == Script::kRejectedThenAmended ? 3 : 2) + random.Between(0, 3);
  const std::int64_t e = s + 5 + random.Between(0, 16);
  auto day_ns = [&input](std::int64_t day) { return input.first_day_ns + day * kNsPerDay; };
  campaign.window_to_ns = day_ns(e);

  RuleSpec rule = PlanRule(campaign, input, e - s, catalogue, random);
  rule.valid_from_ns = day_ns(s);
  rule.valid_to_ns = day_ns(e);
  campaign.versions.push_back({1, rule, 0, {}});

  std::vector<Step>& steps = campaign.script;
  AddDraftAndSubmit(steps, day_ns(p), 1, 9 * kNsPerHour, 6 * kNsPerHour, random);
  if (script == Script::kRejected || script == Script::kRejectedThenAmended) {
    steps.push_back({.at_ns = DecisionNs(day_ns(p + 1), random), .kind = StepKind::kReject});
    if (script == Script::kRejected) return campaign;
    campaign.versions.push_back({2, Amended(rule, true), 0, {}});
    AddDraftAndSubmit(steps, day_ns(p + 1), 2, 16 * kNsPerHour, 30 * kNsPerMinute, random);
    steps.push_back(
        {.at_ns = DecisionNs(day_ns(p + 2), random), .kind = StepKind::kApprove, .version = 2});
    PlanLiveSteps(campaign, Script::kHappy, 2, s, e, input.first_day_ns, random);
    return campaign;
  }
  steps.push_back({.at_ns = DecisionNs(day_ns(p + 1), random), .kind = StepKind::kApprove});
  PlanLiveSteps(campaign, script, 1, s, e, input.first_day_ns, random);
  return campaign;
}

}  // namespace tillroll::generate
