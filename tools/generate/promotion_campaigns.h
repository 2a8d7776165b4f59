#ifndef TILLROLL_TOOLS_GENERATE_PROMOTION_CAMPAIGNS_H_
#define TILLROLL_TOOLS_GENERATE_PROMOTION_CAMPAIGNS_H_

// The promotions of the generated story: what a campaign's rule says (RuleSpec, the
// generator's form of events::PromotionRule), the state its workflow reached, and the planner
// that invents a campaign with its whole script of workflow steps on the day it is drafted.
//
// Scripts (D(k) = start of day k, p = the day drafted, window [D(s) + 06:00, D(e))):
//   every campaign: Drafted v1 on p 09:00-15:00, Submitted 20-90 min later;
//   happy:            Approved on p+1, Published on s 05:30, Expired on e 00:05;
//   rejected:         Rejected on p+1, nothing more;
//   rejected, amended: Rejected on p+1, Drafted/Submitted v2 on p+1 16:00, Approved v2 on p+2,
//                     Published v2 on s, Expired;
//   paused:           as happy, plus Paused on a day x at 12:00-15:00, Resumed x+1 06:30;
//   withdrawn:        as happy, but Withdrawn on a day in the window instead of Expired;
//   amended while live: as happy, plus Drafted/Submitted v2 on a day a in the window, Approved
//                     on a+1, Published v2 on a+2 05:30 (supersedes_version 1), then Expired.
// A campaign whose budget runs out is Expired ("budget exhausted") right after the sale that
// used it up, and the rest of its script is skipped. The rule's valid window is [D(s), D(e)).
// Not thread-safe.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/checkout.h"
#include "engine/event.h"
#include "tools/generate/catalogue.h"
#include "tools/generate/story.h"

namespace tillroll::generate {

// PercentOff on a category's SKUs; BuyXGetY and FixedBundlePrice on a few SKUs; AmountOff on
// the order above a minimum spend; TieredSpend on the order; an exclusive AmountOff that needs
// a coupon (a welcome coupon).
enum class CampaignKind : std::uint8_t {
  kCategoryPercent,
  kBuyXGetY,
  kBundle,
  kOrderAmountOff,
  kTieredSpend,
  kWelcomeCoupon,
};

inline constexpr std::string_view kRetailer = "retailer";
inline constexpr std::array<std::string_view, 3> kVendors{
    "vendor:acme-foods", "vendor:molkerei-nord", "vendor:frische-quelle"};

// Bits of RuleSpec::segment_mask and of a customer's segments.
inline constexpr std::uint8_t kLoyaltyGold = 1;
inline constexpr std::uint8_t kLoyaltySilver = 2;

struct FundingSplit {
  std::string_view party;  // kRetailer or one of kVendors
  std::int32_t share_bps = 0;
};

struct SpendTierSpec {
  std::int64_t threshold_minor = 0;
  std::int64_t discount_minor = 0;
};

struct RuleSpec {
  CampaignKind kind = CampaignKind::kCategoryPercent;
  std::int32_t category = -1;              // kCategoryPercent: conditions.include_categories
  std::vector<std::uint32_t> target_skus;  // sorted SKU indices: the reward's target_skus
  std::int32_t percent_bps = 0;
  std::int64_t amount_minor = 0;
  std::int64_t min_amount_minor = 0;  // gross (tax included)
  std::int32_t buy_qty = 0;
  std::int32_t get_qty = 0;
  std::int32_t get_percent_bps = 0;
  std::int32_t bundle_qty = 0;
  std::int64_t bundle_price_minor = 0;
  std::vector<SpendTierSpec> tiers;   // ascending thresholds
  bool coupon_required = false;       // the program is the promotion id
  std::uint8_t segment_mask = 0;      // 0: any customer
  std::uint8_t channel_mask = 0;      // bit per Channel; 0: every channel
  std::int32_t region = -1;           // -1: every region
  std::vector<std::uint32_t> stores;  // sorted store indices; empty: every store
  std::int32_t priority = 100;
  bool exclusive = false;
  std::string_view stacking_group;
  std::int64_t max_discount_per_order_minor = 0;
  std::int64_t budget_minor = 0;
  std::vector<FundingSplit> funding;  // sums to 10000 bps
  std::int64_t valid_from_ns = 0;
  std::int64_t valid_to_ns = 0;

  bool IsProductLevel() const {
    return kind == CampaignKind::kCategoryPercent || kind == CampaignKind::kBuyXGetY ||
           kind == CampaignKind::kBundle;
  }
  bool Targets(std::uint32_t sku) const;
  // Whether a sale in `context` by a customer in `segments` may get it (coupon aside).
  bool Reaches(const SaleContext& context, std::uint8_t segments) const;
};

struct CampaignVersion {
  std::uint32_t number = 1;
  RuleSpec rule;
  Sequence snapshot_seq = 0;  // global_seq of its PromotionDrafted, once emitted
  // The rule as drafted (a PromotionRule FlatBuffer, aligned), once emitted: what the
  // checkout engine prices with.
  std::shared_ptr<const std::string> rule_bytes;
  std::shared_ptr<const checkout::RuleFacts> rule_facts;  // of rule_bytes
  const events::PromotionRule* engine_rule() const {
    return flatbuffers::GetRoot<events::PromotionRule>(rule_bytes->data());
  }
  // Per rule.funding share: the party's share of discounts granted minus clawed back since
  // the last settlement (retailer shares stay 0).
  std::vector<std::int64_t> unsettled_minor;
};

enum class StepKind : std::uint8_t {
  kDraft,
  kSubmit,
  kApprove,
  kReject,
  kPublish,
  kPause,
  kResume,
  kWithdraw,
  kExpire
};

struct Step {
  std::int64_t at_ns = 0;
  StepKind kind = StepKind::kDraft;
  std::uint32_t version = 1;
  std::int64_t window_from_ns = 0;  // kPublish
  std::uint32_t supersedes = 0;     // kPublish
};

struct Campaign {
  std::uint32_t number = 0;      // 1, 2, ... in planning order
  std::string id;                // "PROMO-00001"; also its coupon program
  std::string stream;            // "promo/<id>"
  std::string coupon_stream;     // "coupon/<id>"
  std::string liability_stream;  // "liability/<id>"
  std::string name;
  std::string description;
  std::uint32_t author = 0;    // index into kPromoAuthors
  std::uint32_t approver = 0;  // index into kPromoApprovers
  std::vector<CampaignVersion> versions;
  std::vector<Step> script;  // in time order
  std::int64_t window_to_ns = 0;

  // What the emitted workflow reached.
  std::uint64_t stream_version = 0;
  std::uint32_t published_version = 0;  // 0: none
  std::int64_t window_from_ns = 0;
  bool paused = false;
  bool ended = false;  // withdrawn or expired
  // Discounts granted minus those clawed back by returns: the budget used, as the ledger's
  // liabilities projection counts it.
  std::int64_t used_minor = 0;

  std::uint64_t coupon_stream_version = 0;
  std::uint32_t codes_issued = 0;
  std::uint32_t codes_used = 0;  // redeemed or voided, in issue order
  std::uint64_t liability_stream_version = 0;

  const CampaignVersion& live() const { return versions[published_version - 1]; }
  bool IsLive(std::int64_t at_ns) const {
    return published_version != 0 && !paused && !ended && window_from_ns <= at_ns &&
           at_ns < window_to_ns;
  }
  std::int64_t budget_left_minor() const { return live().rule.budget_minor - used_minor; }
};

struct PlanInput {
  std::uint32_t number = 0;  // campaign number, for the id
  std::uint32_t day = 0;     // the day it is drafted
  std::int64_t first_day_ns = 0;
  double sales_per_day = 0;  // the whole story's, to size budgets and coupon batches
};

// Invents a campaign drafted on input.day: its rule(s) and its script.
Campaign PlanCampaign(const PlanInput& input, const Catalogue& catalogue, Random& random);

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_PROMOTION_CAMPAIGNS_H_
