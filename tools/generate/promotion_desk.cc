#include "tools/generate/promotion_desk.h"

#include <algorithm>
#include <array>

#include "engine/utc_time.h"

namespace tillroll::generate {
namespace {

using StringOffsets = std::vector<flatbuffers::Offset<flatbuffers::String>>;

constexpr std::array<std::string_view, 4> kRejectReasons{
    "margin too thin after funding", "overlaps a running national campaign",
    "vendor funding not confirmed in writing", "budget above the quarter's plan"};

template <typename Range, typename Name>
StringOffsets Strings(flatbuffers::FlatBufferBuilder& fbb, const Range& range, Name name) {
  StringOffsets offsets;
  offsets.reserve(range.size());
  for (const auto& item : range) {
    const std::string_view text = name(item);
    offsets.push_back(fbb.CreateString(text.data(), text.size()));
  }
  return offsets;
}

StringOffsets Segments(flatbuffers::FlatBufferBuilder& fbb, std::uint8_t mask) {
  StringOffsets offsets;
  if ((mask & kLoyaltyGold) != 0) offsets.push_back(fbb.CreateString("loyalty-gold"));
  if ((mask & kLoyaltySilver) != 0) offsets.push_back(fbb.CreateString("loyalty-silver"));
  return offsets;
}

events::RewardKind RewardKindOf(CampaignKind kind) {
  switch (kind) {
    case CampaignKind::kCategoryPercent:
      return events::RewardKind::PercentOff;
    case CampaignKind::kBuyXGetY:
      return events::RewardKind::BuyXGetY;
    case CampaignKind::kBundle:
      return events::RewardKind::FixedBundlePrice;
    case CampaignKind::kTieredSpend:
      return events::RewardKind::TieredSpend;
    case CampaignKind::kOrderAmountOff:
    case CampaignKind::kWelcomeCoupon:
      return events::RewardKind::AmountOff;
  }
  return events::RewardKind::AmountOff;
}

flatbuffers::Offset<events::PromotionConditions> BuildConditions(
    flatbuffers::FlatBufferBuilder& fbb, const RuleSpec& rule, const Campaign& campaign,
    const Catalogue& catalogue) {
  auto sku_name = [&catalogue](std::uint32_t sku) -> std::string_view {
    return catalogue.skus()[sku].id;
  };
  StringOffsets include_skus;
  StringOffsets include_categories;
  std::int32_t min_quantity = 0;
  if (rule.kind == CampaignKind::kCategoryPercent) {
    include_categories.push_back(
        fbb.CreateString(kCategories[static_cast<std::size_t>(rule.category)].name.data()));
  } else if (rule.IsProductLevel()) {
    include_skus = Strings(fbb, rule.target_skus, sku_name);
    min_quantity =
        rule.kind == CampaignKind::kBundle ? rule.bundle_qty : rule.buy_qty + rule.get_qty;
  }
  const StringOffsets segments = Segments(fbb, rule.segment_mask);
  return events::CreatePromotionConditionsDirect(
      fbb, min_quantity, rule.min_amount_minor, /*min_amount_tax_included=*/true, &include_skus,
      &include_categories, nullptr, nullptr, &segments, rule.coupon_required,
      rule.coupon_required ? campaign.id.c_str() : nullptr);
}

flatbuffers::Offset<events::PromotionReward> BuildReward(flatbuffers::FlatBufferBuilder& fbb,
                                                         const RuleSpec& rule,
                                                         const Catalogue& catalogue) {
  auto sku_name = [&catalogue](std::uint32_t sku) -> std::string_view {
    return catalogue.skus()[sku].id;
  };
  const StringOffsets target_skus = Strings(fbb, rule.target_skus, sku_name);
  std::vector<flatbuffers::Offset<events::SpendTier>> tiers;
  for (const SpendTierSpec& tier : rule.tiers) {
    tiers.push_back(events::CreateSpendTier(fbb, tier.threshold_minor, tier.discount_minor));
  }
  const auto target =
      rule.IsProductLevel() ? events::RewardTarget::SpecificProducts : events::RewardTarget::Order;
  return events::CreatePromotionRewardDirect(
      fbb, RewardKindOf(rule.kind), target, rule.IsProductLevel() ? &target_skus : nullptr,
      rule.percent_bps, rule.amount_minor, rule.buy_qty, rule.get_qty, rule.get_percent_bps,
      rule.bundle_qty, rule.bundle_price_minor, nullptr, 0, tiers.empty() ? nullptr : &tiers);
}

flatbuffers::Offset<events::PromotionRule> BuildRule(flatbuffers::FlatBufferBuilder& fbb,
                                                     const RuleSpec& rule, const Campaign& campaign,
                                                     const Catalogue& catalogue) {
  const auto conditions = BuildConditions(fbb, rule, campaign, catalogue);
  const auto reward = BuildReward(fbb, rule, catalogue);
  StringOffsets channels;
  for (std::uint32_t c = 0; c < kChannels.size(); ++c) {
    if (((rule.channel_mask >> c) & 1u) != 0) {
      channels.push_back(fbb.CreateString(kChannels[c].data()));
    }
  }
  StringOffsets regions;
  if (rule.region >= 0) {
    regions.push_back(fbb.CreateString(kRegions[static_cast<std::size_t>(rule.region)].data()));
  }
  const StringOffsets stores = Strings(
      fbb, rule.stores,
      [&catalogue](std::uint32_t s) -> std::string_view { return catalogue.stores()[s].id; });
  const auto targeting = events::CreatePromotionTargetingDirect(fbb, &channels, &regions, &stores);
  const std::string group(rule.stacking_group);
  const auto stacking =
      events::CreatePromotionStackingDirect(fbb, rule.priority, rule.exclusive, group.c_str());
  const auto limits = events::CreatePromotionLimits(fbb, rule.max_discount_per_order_minor, 0, 0,
                                                    rule.budget_minor);
  std::vector<flatbuffers::Offset<events::FundingShare>> funding;
  for (const FundingSplit& share : rule.funding) {
    funding.push_back(events::CreateFundingShareDirect(fbb, share.party.data(), share.share_bps));
  }
  const auto valid = events::CreateValidWindow(fbb, rule.valid_from_ns, rule.valid_to_ns);
  return events::CreatePromotionRuleDirect(fbb, conditions, reward, targeting, stacking, limits,
                                           &funding, valid, kCurrency.data(),
                                           /*floor_override_approved=*/false);
}

}  // namespace

std::uint32_t PromotionDesk::Add(Campaign campaign) {
  for (CampaignVersion& version : campaign.versions) {
    version.unsettled_minor.assign(version.rule.funding.size(), 0);
  }
  campaigns_.push_back(std::move(campaign));
  return static_cast<std::uint32_t>(campaigns_.size() - 1);
}

void PromotionDesk::RunStep(std::uint32_t index, std::uint32_t step_index, std::int64_t at_ns) {
  Campaign& campaign = campaigns_[index];
  const Step step = campaign.script[step_index];
  if (campaign.ended) return;
  const std::uint32_t live_version = campaign.published_version;
  switch (step.kind) {
    case StepKind::kDraft:
      return EmitDraft(campaign, step.version, at_ns);
    case StepKind::kSubmit:
      return EmitTransition(campaign, step.kind, step.version, "ready for review", at_ns);
    case StepKind::kApprove:
      if (campaign.author == kPromoLeadAuthor && step.version == 1) {
        AttemptSelfApproval(campaign, at_ns);
      }
      EmitTransition(campaign, step.kind, step.version,
                     "approved: margin, funding and overlaps checked", at_ns);
      if (NeedsSecondApproval(campaign.versions[step.version - 1].rule)) {
        EmitTransition(campaign, step.kind, step.version,
                       "second approval: above the four-eyes threshold", at_ns, /*second=*/true);
      }
      return;
    case StepKind::kReject:
      EmitTransition(campaign, step.kind, step.version,
                     kRejectReasons[random_.Below(kRejectReasons.size())], at_ns);
      AttemptPublish(campaign, step.version, at_ns);
      return;
    case StepKind::kPublish:
      EmitPublish(campaign, step, at_ns);
      // Now and then the platform sends the publication twice; the second is refused.
      if (campaign.number % 5 == 1) AttemptPublish(campaign, step.version, at_ns);
      return;
    case StepKind::kPause:
      if (live_version == 0 || campaign.paused) return;
      campaign.paused = true;
      return EmitTransition(campaign, step.kind, live_version, "supplier out of stock", at_ns);
    case StepKind::kResume:
      if (!campaign.paused) return;
      campaign.paused = false;
      return EmitTransition(campaign, step.kind, live_version, "stock replenished", at_ns);
    case StepKind::kWithdraw:
    case StepKind::kExpire:
      if (live_version == 0) return;
      EmitTransition(
          campaign, step.kind, live_version,
          step.kind == StepKind::kWithdraw ? "vendor cancelled the campaign" : "window ended",
          at_ns);
      return EndCampaign(index);
  }
}

void PromotionDesk::EmitDraft(Campaign& campaign, std::uint32_t version, std::int64_t at_ns) {
  CampaignVersion& draft = campaign.versions[version - 1];
  TR_ASSERT(draft.number == version && draft.snapshot_seq == 0);
  flatbuffers::FlatBufferBuilder rule_fbb(1024);
  rule_fbb.Finish(BuildRule(rule_fbb, draft.rule, campaign, catalogue_));
  draft.rule_bytes = std::make_shared<const std::string>(
      reinterpret_cast<const char*>(rule_fbb.GetBufferPointer()), rule_fbb.GetSize());
  draft.rule_facts = std::make_shared<const checkout::RuleFacts>(*draft.engine_rule());
  auto& fbb = sink_.Begin();
  const auto rule = BuildRule(fbb, draft.rule, campaign, catalogue_);
  text_ = campaign.description;
  if (version > 1) {
    text_ += " (v" + std::to_string(version) +
             (campaign.published_version == 0 ? ": reworked after review)"
                                              : ": more budget while live)");
  }
  const std::string origin = "promotion-platform:campaign:" + campaign.id.substr(6);
  const auto payload =
      events::CreatePromotionDraftedDirect(fbb, campaign.id.c_str(), version, campaign.name.c_str(),
                                           text_.c_str(), rule, origin.c_str());
  correlation_id_ = "promo-" + campaign.id + "-v" + std::to_string(version);
  draft.snapshot_seq =
      sink_.Emit({.at_ns = at_ns,
                  .actor = &kPromoAuthors[campaign.author],
                  .stream = campaign.stream,
                  .expected_version = static_cast<std::int64_t>(campaign.stream_version),
                  .correlation_id = correlation_id_},
                 events::Payload::PromotionDrafted, payload.Union());
  ++campaign.stream_version;
}

void PromotionDesk::EmitPublish(Campaign& campaign, const Step& step, std::int64_t at_ns) {
  const CampaignVersion& version = campaign.versions[step.version - 1];
  TR_ASSERT(version.snapshot_seq != 0);
  TR_ASSERT(step.supersedes == campaign.published_version);
  auto& fbb = sink_.Begin();
  const auto window = events::CreateValidWindow(fbb, step.window_from_ns, campaign.window_to_ns);
  const auto payload = events::CreatePromotionPublishedDirect(
      fbb, campaign.id.c_str(), step.version, window, version.snapshot_seq, step.supersedes);
  correlation_id_ = "promo-" + campaign.id + "-v" + std::to_string(step.version);
  sink_.Emit({.at_ns = at_ns,
              .actor = &kPromotionPlatform,
              .stream = campaign.stream,
              .expected_version = static_cast<std::int64_t>(campaign.stream_version),
              .correlation_id = correlation_id_},
             events::Payload::PromotionPublished, payload.Union());
  ++campaign.stream_version;
  campaign.published_version = step.version;
  campaign.window_from_ns = step.window_from_ns;
  const auto index = static_cast<std::uint32_t>(&campaign - campaigns_.data());
  const auto at = std::lower_bound(published_.begin(), published_.end(), index);
  if (at == published_.end() || *at != index) published_.insert(at, index);
  if (version.rule.coupon_required && campaign.codes_issued == 0) IssueCoupons(campaign, at_ns);
}

bool PromotionDesk::NeedsSecondApproval(const RuleSpec& rule) {
  const std::int32_t percent_bps = rule.kind == CampaignKind::kCategoryPercent ? rule.percent_bps
                                   : rule.kind == CampaignKind::kBuyXGetY ? rule.get_percent_bps / 2
                                                                          : 0;
  return !SecondApprovalReason(percent_bps, rule.valid_to_ns != 0, rule.budget_minor != 0,
                               GovernanceRules{})
              .empty();
}

void PromotionDesk::AttemptSelfApproval(const Campaign& campaign, std::int64_t at_ns) {
  auto& fbb = sink_.Begin();
  const auto payload =
      events::CreatePromotionApprovedDirect(fbb, campaign.id.c_str(), 1, "looks good to me");
  sink_.Attempt({.at_ns = at_ns,
                 .actor = &kPromoLead,
                 .stream = campaign.stream,
                 .correlation_id = correlation_id_},
                events::Payload::PromotionApproved, payload.Union(),
                CommandType::kApprovePromotion);
}

void PromotionDesk::AttemptPublish(const Campaign& campaign, std::uint32_t version,
                                   std::int64_t at_ns) {
  auto& fbb = sink_.Begin();
  const auto window = events::CreateValidWindow(fbb, at_ns, campaign.window_to_ns);
  const auto payload =
      events::CreatePromotionPublishedDirect(fbb, campaign.id.c_str(), version, window, 0, 0);
  sink_.Attempt({.at_ns = at_ns,
                 .actor = &kPromotionPlatform,
                 .stream = campaign.stream,
                 .correlation_id = correlation_id_},
                events::Payload::PromotionPublished, payload.Union(),
                CommandType::kPublishPromotion);
}

void PromotionDesk::EmitTransition(Campaign& campaign, StepKind kind, std::uint32_t version,
                                   std::string_view text, std::int64_t at_ns, bool second) {
  auto& fbb = sink_.Begin();
  const std::string note(text);
  const char* id = campaign.id.c_str();
  flatbuffers::Offset<void> payload;
  events::Payload type = events::Payload::NONE;
  const Actor* actor = &kPromoAuthors[campaign.author];
  switch (kind) {
    case StepKind::kSubmit:
      payload = events::CreatePromotionSubmittedDirect(fbb, id, version, note.c_str()).Union();
      type = events::Payload::PromotionSubmitted;
      break;
    case StepKind::kApprove:
      payload = events::CreatePromotionApprovedDirect(fbb, id, version, note.c_str()).Union();
      type = events::Payload::PromotionApproved;
      actor = &kPromoApprovers[(campaign.approver + (second ? 1 : 0)) % kPromoApprovers.size()];
      break;
    case StepKind::kReject:
      payload = events::CreatePromotionRejectedDirect(fbb, id, version, note.c_str()).Union();
      type = events::Payload::PromotionRejected;
      actor = &kPromoApprovers[campaign.approver];
      break;
    case StepKind::kPause:
      payload = events::CreatePromotionPausedDirect(fbb, id, version, note.c_str()).Union();
      type = events::Payload::PromotionPaused;
      break;
    case StepKind::kResume:
      payload = events::CreatePromotionResumedDirect(fbb, id, version, note.c_str()).Union();
      type = events::Payload::PromotionResumed;
      break;
    case StepKind::kWithdraw:
      payload = events::CreatePromotionWithdrawnDirect(fbb, id, version, note.c_str()).Union();
      type = events::Payload::PromotionWithdrawn;
      break;
    case StepKind::kExpire:
      payload = events::CreatePromotionExpiredDirect(fbb, id, version, note.c_str()).Union();
      type = events::Payload::PromotionExpired;
      actor = &kPromotionPlatform;
      break;
    case StepKind::kDraft:
    case StepKind::kPublish:
      TR_ASSERT(false && "drafts and publications have their own events");
  }
  correlation_id_ = "promo-" + campaign.id + "-v" + std::to_string(version);
  sink_.Emit({.at_ns = at_ns,
              .actor = actor,
              .stream = campaign.stream,
              .expected_version = static_cast<std::int64_t>(campaign.stream_version),
              .correlation_id = correlation_id_},
             type, payload);
  ++campaign.stream_version;
}

void PromotionDesk::EndCampaign(std::uint32_t index) {
  Campaign& campaign = campaigns_[index];
  campaign.ended = true;
  campaign.paused = false;
  std::erase(published_, index);
}

void PromotionDesk::Grant(std::uint32_t index, std::int64_t amount_minor, int sign) {
  TR_ASSERT(amount_minor > 0);
  Campaign& campaign = campaigns_[index];
  campaign.used_minor += sign * amount_minor;
  TR_ASSERT(campaign.used_minor >= 0);
  TR_ASSERT(campaign.published_version == 0 || sign < 0 || campaign.budget_left_minor() >= 0);
}

void PromotionDesk::Accrue(std::uint32_t index, std::uint32_t version, std::int64_t amount_minor,
                           int sign) {
  CampaignVersion& accrued = campaigns_[index].versions[version - 1];
  // The parties' shares add up to the discount exactly: largest remainder over the split.
  share_weights_.clear();
  for (const FundingSplit& share : accrued.rule.funding) share_weights_.push_back(share.share_bps);
  share_amounts_ = AllocateLargestRemainder(amount_minor, share_weights_);
  for (std::size_t i = 0; i < accrued.rule.funding.size(); ++i) {
    if (accrued.rule.funding[i].party == kRetailer) continue;
    accrued.unsettled_minor[i] += sign * share_amounts_[i];
  }
}

void PromotionDesk::WithdrawIfBudgetSpent(std::uint32_t index, std::int64_t at_ns) {
  Campaign& campaign = campaigns_[index];
  if (campaign.ended || campaign.published_version == 0) return;
  if (campaign.budget_left_minor() * 100 > campaign.live().rule.budget_minor) return;
  // A manual step: the ledger's scheduler expires promotions at the end of their window only.
  EmitTransition(campaign, StepKind::kWithdraw, campaign.published_version, "budget exhausted",
                 at_ns);
  EndCampaign(index);
}

std::string PromotionDesk::CouponCode(std::uint32_t index, std::uint32_t code) const {
  // Unique by the code number at the end; the hashed part makes codes unguessable-looking.
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::uint64_t hash = seed_ ^ (static_cast<std::uint64_t>(index) << 32) ^ code;
  hash = (hash ^ (hash >> 30)) * 0xbf58476d1ce4e5b9ULL;
  hash = (hash ^ (hash >> 27)) * 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  std::string text = campaigns_[index].id + "-";
  for (int i = 0; i < 4; ++i, hash >>= 5) text.push_back(kAlphabet[hash & 31]);
  do {
    text.push_back(kAlphabet[code & 31]);
    code >>= 5;
  } while (code != 0);
  return text;
}

std::string PromotionDesk::NextCouponCode(std::uint32_t index) const {
  const Campaign& campaign = campaigns_[index];
  TR_ASSERT(campaign.codes_used < campaign.codes_issued);
  return CouponCode(index, campaign.codes_used);
}

void PromotionDesk::IssueCoupons(Campaign& campaign, std::int64_t at_ns) {
  const auto index = static_cast<std::uint32_t>(&campaign - campaigns_.data());
  std::vector<std::string> codes;
  codes.reserve(coupon_batch_codes_);
  for (std::uint32_t i = 0; i < coupon_batch_codes_; ++i) {
    codes.push_back(CouponCode(index, campaign.codes_issued + i));
  }
  auto& fbb = sink_.Begin();
  const StringOffsets code_offsets =
      Strings(fbb, codes, [](const std::string& code) -> std::string_view { return code; });
  const auto valid = events::CreateValidWindow(fbb, campaign.window_from_ns, campaign.window_to_ns);
  const auto payload = events::CreateCouponIssuedDirect(fbb, campaign.id.c_str(), &code_offsets,
                                                        nullptr, /*max_redemptions=*/1, valid);
  correlation_id_ = "coupons-" + campaign.id;
  sink_.Emit({.at_ns = at_ns,
              .actor = &kPromotionPlatform,
              .stream = campaign.coupon_stream,
              .expected_version = static_cast<std::int64_t>(campaign.coupon_stream_version),
              .correlation_id = correlation_id_},
             events::Payload::CouponIssued, payload.Union());
  ++campaign.coupon_stream_version;
  campaign.codes_issued += coupon_batch_codes_;
}

void PromotionDesk::RedeemCoupon(std::uint32_t index, std::string_view order_id,
                                 std::string_view customer_id, const Actor& checkout,
                                 std::string_view sale_key, std::int64_t at_ns) {
  Campaign& campaign = campaigns_[index];
  const std::string code = NextCouponCode(index);
  const std::string order(order_id);
  const std::string customer(customer_id);
  const std::string causation(sale_key);
  correlation_id_ = "order-" + order;
  auto& fbb = sink_.Begin();
  const auto payload =
      events::CreateCouponRedeemedDirect(fbb, campaign.id.c_str(), code.c_str(), order.c_str(),
                                         customer.empty() ? nullptr : customer.c_str());
  sink_.Emit({.at_ns = at_ns,
              .actor = &checkout,
              .stream = campaign.coupon_stream,
              .expected_version = static_cast<std::int64_t>(campaign.coupon_stream_version),
              .correlation_id = correlation_id_,
              .causation_id = causation},
             events::Payload::CouponRedeemed, payload.Union());
  ++campaign.coupon_stream_version;
  ++campaign.codes_used;
  if (campaign.codes_used < campaign.codes_issued && random_.Chance(0.01)) {
    const std::string leaked = NextCouponCode(index);
    auto& void_fbb = sink_.Begin();
    const auto voided = events::CreateCouponVoidedDirect(
        void_fbb, campaign.id.c_str(), leaked.c_str(), "code posted on a deal forum");
    correlation_id_ = "coupons-" + campaign.id;
    sink_.Emit({.at_ns = at_ns,
                .actor = &kPromotionPlatform,
                .stream = campaign.coupon_stream,
                .expected_version = static_cast<std::int64_t>(campaign.coupon_stream_version),
                .correlation_id = correlation_id_},
               events::Payload::CouponVoided, voided.Union());
    ++campaign.coupon_stream_version;
    ++campaign.codes_used;
  }
  if (campaign.codes_used == campaign.codes_issued) IssueCoupons(campaign, at_ns);
}

void PromotionDesk::Settle(std::int64_t period_from_ns, std::int64_t period_to_ns,
                           std::int64_t at_ns) {
  for (Campaign& campaign : campaigns_) {
    for (CampaignVersion& version : campaign.versions) {
      for (std::size_t i = 0; i < version.rule.funding.size(); ++i) {
        const std::int64_t amount_minor = version.unsettled_minor[i];
        if (amount_minor == 0) continue;
        version.unsettled_minor[i] = 0;
        const std::string erp_reference = "odoo:account.move:" + std::to_string(++erp_move_);
        const std::string party(version.rule.funding[i].party);
        auto& fbb = sink_.Begin();
        const auto period = events::CreateValidWindow(fbb, period_from_ns, period_to_ns);
        const auto payload = events::CreateLiabilitySettledDirect(
            fbb, campaign.id.c_str(), version.number, party.c_str(), kCurrency.data(), amount_minor,
            period, erp_reference.c_str());
        correlation_id_ = "settlement-" + FormatUtcTime(period_to_ns).substr(0, 10);
        sink_.Emit(
            {.at_ns = at_ns,
             .actor = &kFinance,
             .stream = campaign.liability_stream,
             .expected_version = static_cast<std::int64_t>(campaign.liability_stream_version),
             .correlation_id = correlation_id_},
            events::Payload::LiabilitySettled, payload.Union());
        ++campaign.liability_stream_version;
      }
    }
  }
}

}  // namespace tillroll::generate
