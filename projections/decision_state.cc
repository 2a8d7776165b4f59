#include "projections/decision_state.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/event_json.h"
#include "projections/cart_quote.h"
#include "projections/folding.h"

namespace tillroll::projections {

// The stream's version as of the projections' checkpoint, not the log's head: a decision is
// made on one consistent state, and events appended since make its append a conflict.
std::uint64_t LedgerDecisionState::StreamVersion(std::string_view stream) const {
  Result<StreamTip> tip = log_.TipOfStream(stream);
  // A failed read is an I/O error: the expected version then makes the append fail cleanly.
  if (!tip.ok()) return UINT64_MAX;
  const Sequence caught_up = runner_.CaughtUpSeq();
  if (tip->seq <= caught_up) return tip->version;  // the usual case: no event since
  std::uint64_t v = tip->version - 1;
  while (v > 0) {
    Result<std::vector<EventRecord>> event = log_.ReadStream(stream, v, 1);
    if (!event.ok() || event->empty()) return UINT64_MAX;
    if (event->front().seq <= caught_up) break;
    --v;
  }
  return v;
}

std::optional<DecisionState::Price> LedgerDecisionState::PriceInForce(std::string_view sku,
                                                                      events::PriceType type,
                                                                      const events::Scope* scope,
                                                                      std::int64_t at_ns) const {
  PriceQuery query{.sku = sku, .valid_at_ns = at_ns, .known_at_ns = INT64_MAX};
  if (scope != nullptr) {
    switch (scope->level()) {
      case events::ScopeLevel::Channel:
        query.channel = View(scope->channel());
        break;
      case events::ScopeLevel::Region:
        query.region = View(scope->region());
        break;
      case events::ScopeLevel::Store:
        query.store = View(scope->store());
        break;
      default:
        break;
    }
  }
  Result<PriceAnswer> answer = runner_.price_book()->PriceOfType(query, type);
  if (!answer.ok()) return std::nullopt;
  return Price{answer->amount_minor, answer->seq};
}

std::optional<DecisionState::Proposal> LedgerDecisionState::FindProposal(
    std::string_view proposal_id) const {
  std::optional<ProposalRecord> record = runner_.governance()->Proposal(proposal_id);
  if (!record) return std::nullopt;
  Proposal proposal{record->proposal_id, record->sku, record->proposer, record->state, "{}"};
  // Building a schema parser costs more than the lookup: one per thread, reused.
  thread_local EventJson json;
  Result<std::string> text = json.ToJson(record->proposal_event);
  if (text.ok()) {
    const auto event = nlohmann::json::parse(*text, nullptr, false);
    if (!event.is_discarded())
      proposal.proposal_json = event.value("payload", nlohmann::json()).dump();
  }
  return proposal;
}

std::optional<DecisionState::Promotion> LedgerDecisionState::FindPromotion(
    std::string_view promotion_id) const {
  Result<PromotionView> view = runner_.promotions()->Describe(promotion_id, INT64_MAX);
  if (!view.ok()) return std::nullopt;
  Promotion promotion;
  promotion.live_version = view->live_version;
  for (const PromotionVersionView& v : view->versions) {
    PromotionVersion version{v.version, v.state, "", {}, v.rule_snapshot_seq, v.rule_event};
    for (const PromotionStepRecord& step : v.steps) {
      if (step.step == PromotionStep::kDrafted) version.author = step.principal;
      if (step.step == PromotionStep::kSubmitted) version.approvers.clear();
      if (step.step == PromotionStep::kApproved &&
          std::find(version.approvers.begin(), version.approvers.end(), step.principal) ==
              version.approvers.end()) {
        version.approvers.push_back(step.principal);
      }
    }
    promotion.versions.push_back(std::move(version));
  }
  return promotion;
}

DecisionState::AuthorityVerdict LedgerDecisionState::Authority(
    std::string_view source_system, std::string_view family,
    std::optional<events::PriceType> price_type, std::string_view channel, std::string_view region,
    std::int64_t at_ns) const {
  AuthorityAnswer answer = runner_.governance()->Authority(source_system, family, price_type,
                                                           channel, region, at_ns, INT64_MAX);
  return {answer.allowed, std::move(answer.rule_id)};
}

std::vector<RoleHolding> LedgerDecisionState::GrantedRoles(std::string_view principal,
                                                           std::int64_t at_ns) const {
  return runner_.governance()->GrantedRoles(principal, at_ns);
}

bool LedgerDecisionState::SkuKnown(std::string_view sku) const {
  return runner_.price_book()->Knows(sku);
}

std::optional<DecisionState::Coupon> LedgerDecisionState::FindCoupon(std::string_view code,
                                                                     std::int64_t at_ns) const {
  Result<CouponCode> found = runner_.coupons()->Find(code);
  if (!found.ok()) return std::nullopt;
  return Coupon{.program = std::move(found->program),
                .customer_id = std::move(found->customer_id),
                .unredeemable = found->Unredeemable(at_ns),
                .voided = found->voided};
}

std::optional<Result<checkout::PricedCart>> LedgerDecisionState::PriceSale(
    const events::SaleRecorded& sale) const {
  checkout::Cart cart{.currency = std::string(View(sale.currency())),
                      .channel = std::string(View(sale.channel())),
                      .region = std::string(View(sale.region())),
                      .store = std::string(View(sale.store())),
                      .at_ns = sale.sold_at_ns()};
  if (sale.customer() != nullptr) {
    cart.customer_id = std::string(View(sale.customer()->customer_id()));
    if (sale.customer()->segments() != nullptr) {
      for (const auto* segment : *sale.customer()->segments())
        cart.segments.push_back(segment->str());
    }
  }
  for (const events::SaleLine* line : *sale.lines()) {
    const std::int64_t gross = static_cast<std::int64_t>(line->qty()) * line->unit_price_minor();
    // A line given away whole is a reward's free line: the rules add it again.
    if (line->line_total_minor() == 0 && gross > 0 && line->discounts() != nullptr &&
        line->discounts()->size() == 1 && line->discounts()->Get(0)->amount_minor() == gross) {
      continue;
    }
    cart.lines.push_back(
        {.sku = line->sku()->str(),
         .qty = line->qty(),
         .unit_price_minor = line->unit_price_minor(),
         .price_seq = line->price_event_seq(),
         .override_reason = line->price_event_seq() == 0 ? "recorded override" : ""});
  }
  std::vector<std::string> codes;
  if (sale.coupon_codes() != nullptr) {
    for (const auto* code : *sale.coupon_codes()) codes.push_back(code->str());
  }
  return CartQuoter(log_, runner_).PriceCart(cart, std::move(codes), INT64_MAX);
}

std::optional<Result<checkout::ReturnQuote>> LedgerDecisionState::QuoteReturn(
    const events::ReturnRecorded& ret) const {
  std::vector<checkout::ReturnedQty> lines;
  for (const events::ReturnLine* line : *ret.lines())
    lines.push_back({line->line_no(), line->qty()});
  return CartQuoter(log_, runner_).QuoteOf(ret.order_id()->string_view(), lines);
}

bool LedgerDecisionState::OrderExists(std::string_view order_id) const {
  return runner_.orders()->Find(order_id, INT64_MAX).ok();
}

std::vector<DecisionState::EndedVersion> LedgerDecisionState::EndedPromotions(
    std::int64_t now_ns) const {
  std::vector<EndedVersion> ended;
  auto promotions = runner_.promotions();
  for (const std::string& id : promotions->Ids(INT64_MAX)) {
    Result<PromotionView> view = promotions->Describe(id, INT64_MAX);
    if (!view.ok() || view->live_version == 0) continue;
    const PromotionVersionView& live = view->versions[view->live_version - 1];
    if (live.state != "published" && live.state != "paused") continue;
    std::int64_t window_end_ns = 0;
    for (const PromotionStepRecord& step : live.steps) {
      if (step.step == PromotionStep::kPublished) window_end_ns = step.window_to_ns;
    }
    if (window_end_ns != 0 && window_end_ns <= now_ns) ended.push_back({id, live.version});
  }
  return ended;
}

}  // namespace tillroll::projections
