#ifndef TILLROLL_PROJECTIONS_DECISION_STATE_H_
#define TILLROLL_PROJECTIONS_DECISION_STATE_H_

// The command decider's view of the present (engine/governance.h), answered by the runner's
// projections as far as they have caught up, and stream versions as of that same point.
// Thread-safe as the projections are.

#include "engine/event_log.h"
#include "engine/governance.h"
#include "projections/projection_runner.h"

namespace tillroll::projections {

class LedgerDecisionState final : public DecisionState {
 public:
  // Both must outlive this.
  LedgerDecisionState(const EventLog& log, const ProjectionRunner& runner)
      : log_(log), runner_(runner) {}

  std::uint64_t StreamVersion(std::string_view stream) const override;
  std::optional<Price> PriceInForce(std::string_view sku, events::PriceType type,
                                    const events::Scope* scope, std::int64_t at_ns) const override;
  std::optional<Proposal> FindProposal(std::string_view proposal_id) const override;
  std::optional<Promotion> FindPromotion(std::string_view promotion_id) const override;
  AuthorityVerdict Authority(std::string_view source_system, std::string_view family,
                             std::optional<events::PriceType> price_type, std::string_view channel,
                             std::string_view region, std::int64_t at_ns) const override;
  std::vector<RoleHolding> GrantedRoles(std::string_view principal,
                                        std::int64_t at_ns) const override;
  bool OrderExists(std::string_view order_id) const override;
  bool SkuKnown(std::string_view sku) const override;
  std::optional<Coupon> FindCoupon(std::string_view code, std::int64_t at_ns) const override;
  std::optional<Result<checkout::PricedCart>> PriceSale(
      const events::SaleRecorded& sale) const override;
  std::optional<Result<checkout::ReturnQuote>> QuoteReturn(
      const events::ReturnRecorded& ret) const override;
  std::vector<EndedVersion> EndedPromotions(std::int64_t now_ns) const override;

 private:
  const EventLog& log_;
  const ProjectionRunner& runner_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_DECISION_STATE_H_
