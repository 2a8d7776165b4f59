#ifndef TILLROLL_TOOLS_GENERATE_PROMOTION_DESK_H_
#define TILLROLL_TOOLS_GENERATE_PROMOTION_DESK_H_

// Carries out the campaigns' scripts (promotion_campaigns.h) and what follows from them:
//  - workflow events on "promo/<id>", each with the stream's exact expected version; drafts and
//    submissions by the author, decisions by an approver (never the author), publication,
//    pause, resumption, withdrawal and expiry by the promotion platform (pause, resumption
//    and withdrawal by the author);
//  - coupons on "coupon/<id>" (program = promotion id): CouponIssued in batches of bearer
//    codes when a coupon promotion is first published and whenever its codes run out,
//    CouponRedeemed for a sale that used one, now and then a CouponVoided (a leaked code);
//  - settlements on "liability/<id>": on the 1st of each month, one LiabilitySettled per
//    (promotion, version, vendor) whose share of discounts granted minus clawed back in the
//    period (by sold_at / returned_at) is not zero; negative: a credit to the vendor. A party's
//    share of one DiscountAllocation is its largest-remainder part of the amount over the
//    rule's funding split (ties to the earlier share), so the shares add up exactly.
// Not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/governance.h"
#include "tools/generate/event_sink.h"
#include "tools/generate/promotion_campaigns.h"

namespace tillroll::generate {

class PromotionDesk {
 public:
  // `coupon_batch_codes`: codes per CouponIssued.
  PromotionDesk(const Catalogue& catalogue, EventSink& sink, Random& random, std::uint64_t seed,
                std::uint32_t coupon_batch_codes)
      : catalogue_(catalogue),
        sink_(sink),
        random_(random),
        seed_(seed),
        coupon_batch_codes_(coupon_batch_codes) {}
  PromotionDesk(const PromotionDesk&) = delete;
  PromotionDesk& operator=(const PromotionDesk&) = delete;

  // Takes a planned campaign; returns its index.
  std::uint32_t Add(Campaign campaign);
  const Campaign& campaign(std::uint32_t index) const { return campaigns_[index]; }
  // Campaigns published and not ended, in index order (paused ones included).
  const std::vector<std::uint32_t>& published() const { return published_; }

  // Runs step `step` of campaign `index`; a step of an ended campaign is skipped.
  void RunStep(std::uint32_t index, std::uint32_t step, std::int64_t at_ns);

  // Books a discount granted by the live version against its budget (sign +1), or one a return
  // clawed back (-1).
  void Grant(std::uint32_t index, std::int64_t amount_minor, int sign = +1);
  // Books the funders' shares of a discount granted (sign +1) or clawed back (-1) on `version`
  // for the next settlement.
  void Accrue(std::uint32_t index, std::uint32_t version, std::int64_t amount_minor, int sign);
  // Withdraws the campaign if its budget is (nearly) used up.
  void WithdrawIfBudgetSpent(std::uint32_t index, std::int64_t at_ns);

  // The next unused code of a coupon campaign (one always exists while it is published).
  std::string NextCouponCode(std::uint32_t index) const;
  // Redeems that code for `order_id`; may void a leaked code and issue a fresh batch after it.
  void RedeemCoupon(std::uint32_t index, std::string_view order_id, std::string_view customer_id,
                    const Actor& checkout, std::string_view sale_key, std::int64_t at_ns);

  // Settles the vendors' shares for sales and returns in [period_from_ns, period_to_ns).
  void Settle(std::int64_t period_from_ns, std::int64_t period_to_ns, std::int64_t at_ns);

 private:
  void EmitDraft(Campaign& campaign, std::uint32_t version, std::int64_t at_ns);
  void EmitPublish(Campaign& campaign, const Step& step, std::int64_t at_ns);
  // Submitted, Approved, Rejected, Paused, Resumed, Withdrawn or Expired.
  // `second`: the approval by the other approver that the four-eyes rule asks for.
  void EmitTransition(Campaign& campaign, StepKind kind, std::uint32_t version,
                      std::string_view text, std::int64_t at_ns, bool second = false);
  // Whether the ledger's four-eyes rule (default thresholds) wants two approvers for it.
  static bool NeedsSecondApproval(const RuleSpec& rule);
  // Bad attempts the ledger must refuse (front door only): the lead approving her own draft,
  // the platform publishing a version that was just rejected or is already published.
  void AttemptSelfApproval(const Campaign& campaign, std::int64_t at_ns);
  void AttemptPublish(const Campaign& campaign, std::uint32_t version, std::int64_t at_ns);
  void IssueCoupons(Campaign& campaign, std::int64_t at_ns);
  void EndCampaign(std::uint32_t index);
  std::string CouponCode(std::uint32_t index, std::uint32_t code) const;

  const Catalogue& catalogue_;
  EventSink& sink_;
  Random& random_;
  const std::uint64_t seed_;
  const std::uint32_t coupon_batch_codes_;
  std::vector<Campaign> campaigns_;
  std::vector<std::uint32_t> published_;
  std::uint64_t erp_move_ = 5000;
  std::string correlation_id_;
  std::string text_;
  std::vector<std::int64_t> share_weights_;
  std::vector<std::int64_t> share_amounts_;
};

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_PROMOTION_DESK_H_
