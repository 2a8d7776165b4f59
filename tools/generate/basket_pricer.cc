#include "tools/generate/basket_pricer.h"

#include <algorithm>
#include <numeric>

namespace tillroll::generate {
namespace {

std::int64_t ProductLineDiscount(const RuleSpec& rule, const BasketLine& line) {
  if (!rule.Targets(line.sku)) return 0;
  switch (rule.kind) {
    case CampaignKind::kCategoryPercent:
      return DivideHalfUp(line.gross_minor * rule.percent_bps, kBpsWhole);
    case CampaignKind::kBuyXGetY: {
      const std::int64_t groups = line.qty / (rule.buy_qty + rule.get_qty);
      return DivideHalfUp(groups * rule.get_qty * line.unit_minor * rule.get_percent_bps,
                          kBpsWhole);
    }
    case CampaignKind::kBundle: {
      const std::int64_t bundles = line.qty / rule.bundle_qty;
      return std::max<std::int64_t>(
          0, bundles * (rule.bundle_qty * line.unit_minor - rule.bundle_price_minor));
    }
    default:
      return 0;
  }
}

// The order-level discount `rule` gives for `spend_minor`; 0 if the basket does not qualify.
std::int64_t OrderDiscount(const RuleSpec& rule, std::int64_t spend_minor) {
  if (rule.kind == CampaignKind::kTieredSpend) {
    std::int64_t discount = 0;
    for (const SpendTierSpec& tier : rule.tiers) {
      if (spend_minor >= tier.threshold_minor) discount = tier.discount_minor;
    }
    return discount;
  }
  return spend_minor >= rule.min_amount_minor ? rule.amount_minor : 0;
}

}  // namespace

std::int64_t BasketPricer::BudgetLeft(std::uint32_t campaign, const PromotionDesk& desk) const {
  std::int64_t left = desk.campaign(campaign).budget_left_minor();
  for (const auto& [pending_campaign, amount_minor] : pending_) {
    if (pending_campaign == campaign) left -= amount_minor;
  }
  return left;
}

void BasketPricer::AddPending(std::uint32_t campaign, std::int64_t amount_minor) {
  for (auto& [pending_campaign, pending_minor] : pending_) {
    if (pending_campaign == campaign) {
      pending_minor += amount_minor;
      return;
    }
  }
  pending_.emplace_back(campaign, amount_minor);
}

void BasketPricer::Price(const std::vector<BasketLine>& lines,
                         const std::vector<std::uint32_t>& candidates, const PromotionDesk& desk,
                         std::vector<LineDiscount>& discounts) {
  discounts.clear();
  pending_.clear();
  if (candidates.empty() || lines.empty()) return;
  if (!PriceExclusive(lines, candidates, desk, discounts)) {
    PriceProducts(lines, candidates, desk, discounts);
    PriceOrder(lines, candidates, desk, discounts);
  }
  std::stable_sort(discounts.begin(), discounts.end(),
                   [](const LineDiscount& x, const LineDiscount& y) { return x.line < y.line; });
}

void BasketPricer::Allocate(std::uint32_t campaign, std::int64_t total,
                            std::vector<LineDiscount>& discounts) {
  shares_ = AllocateLargestRemainder(total, weights_);
  for (std::size_t i = 0; i < shares_.size(); ++i) {
    if (shares_[i] > 0) discounts.push_back({static_cast<std::uint32_t>(i), campaign, shares_[i]});
  }
  AddPending(campaign, total);
}

bool BasketPricer::PriceExclusive(const std::vector<BasketLine>& lines,
                                  const std::vector<std::uint32_t>& candidates,
                                  const PromotionDesk& desk, std::vector<LineDiscount>& discounts) {
  weights_.clear();
  for (const BasketLine& line : lines) weights_.push_back(line.gross_minor);
  const std::int64_t spend = std::accumulate(weights_.begin(), weights_.end(), std::int64_t{0});
  std::uint32_t best = 0;
  std::int64_t best_discount = 0;
  for (const std::uint32_t campaign : candidates) {
    const RuleSpec& rule = desk.campaign(campaign).live().rule;
    if (!rule.exclusive) continue;
    const std::int64_t discount = OrderDiscount(rule, spend);
    // Each line keeps a positive total: the discount is at most a tenth of the minimum spend.
    if (discount <= 0 || discount * 2 >= spend || discount > BudgetLeft(campaign, desk)) continue;
    if (discount > best_discount) {
      best = campaign;
      best_discount = discount;
    }
  }
  if (best_discount == 0) return false;
  Allocate(best, best_discount, discounts);
  return true;
}

void BasketPricer::PriceProducts(const std::vector<BasketLine>& lines,
                                 const std::vector<std::uint32_t>& candidates,
                                 const PromotionDesk& desk, std::vector<LineDiscount>& discounts) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::uint32_t best = 0;
    std::int64_t best_discount = 0;
    for (const std::uint32_t campaign : candidates) {
      const RuleSpec& rule = desk.campaign(campaign).live().rule;
      if (!rule.IsProductLevel()) continue;
      const std::int64_t discount = ProductLineDiscount(rule, lines[i]);
      if (discount <= 0 || discount >= lines[i].gross_minor ||
          discount > BudgetLeft(campaign, desk)) {
        continue;
      }
      if (discount > best_discount) {
        best = campaign;
        best_discount = discount;
      }
    }
    if (best_discount == 0) continue;
    discounts.push_back({static_cast<std::uint32_t>(i), best, best_discount});
    AddPending(best, best_discount);
  }
  CapPerOrder(desk, discounts);
}

void BasketPricer::CapPerOrder(const PromotionDesk& desk, std::vector<LineDiscount>& discounts) {
  for (auto& [campaign, granted_minor] : pending_) {
    const std::int64_t cap = desk.campaign(campaign).live().rule.max_discount_per_order_minor;
    if (cap == 0 || granted_minor <= cap) continue;
    weights_.clear();
    for (const LineDiscount& d : discounts) {
      if (d.campaign == campaign) weights_.push_back(d.amount_minor);
    }
    shares_ = AllocateLargestRemainder(cap, weights_);
    std::size_t next = 0;
    for (LineDiscount& d : discounts) {
      if (d.campaign == campaign) d.amount_minor = shares_[next++];
    }
    granted_minor = cap;
  }
  std::erase_if(discounts, [](const LineDiscount& d) { return d.amount_minor == 0; });
}

void BasketPricer::PriceOrder(const std::vector<BasketLine>& lines,
                              const std::vector<std::uint32_t>& candidates,
                              const PromotionDesk& desk, std::vector<LineDiscount>& discounts) {
  weights_.clear();
  for (const BasketLine& line : lines) weights_.push_back(line.gross_minor);
  for (const LineDiscount& d : discounts) weights_[d.line] -= d.amount_minor;
  const std::int64_t spend = std::accumulate(weights_.begin(), weights_.end(), std::int64_t{0});
  std::uint32_t best = 0;
  std::int64_t best_discount = 0;
  for (const std::uint32_t campaign : candidates) {
    const RuleSpec& rule = desk.campaign(campaign).live().rule;
    if (rule.IsProductLevel() || rule.exclusive) continue;
    const std::int64_t discount = OrderDiscount(rule, spend);
    if (discount <= 0 || discount * 2 >= spend || discount > BudgetLeft(campaign, desk)) continue;
    if (discount > best_discount) {
      best = campaign;
      best_discount = discount;
    }
  }
  if (best_discount > 0) Allocate(best, best_discount, discounts);
}

}  // namespace tillroll::generate
