#include "tests/support/domain_events.h"

#include "engine/event_builder.h"

namespace tillroll::testing {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

Offset<events::Scope> MakeScope(FlatBufferBuilder& fbb, events::ScopeLevel level,
                                std::string_view name) {
  const std::string n(name);
  switch (level) {
    case events::ScopeLevel::Channel:
      return events::CreateScopeDirect(fbb, level, n.c_str());
    case events::ScopeLevel::Region:
      return events::CreateScopeDirect(fbb, level, nullptr, n.c_str());
    case events::ScopeLevel::Store:
      return events::CreateScopeDirect(fbb, level, nullptr, nullptr, n.c_str());
    default:
      return events::CreateScopeDirect(fbb, level);
  }
}

std::vector<Offset<flatbuffers::String>> Strings(FlatBufferBuilder& fbb,
                                                 const std::vector<std::string>& values) {
  std::vector<Offset<flatbuffers::String>> out;
  for (const std::string& v : values) out.push_back(fbb.CreateString(v));
  return out;
}

Offset<flatbuffers::Vector<Offset<events::DiscountAllocation>>> Discounts(
    FlatBufferBuilder& fbb, const SaleSpec& spec, std::int64_t amount_minor) {
  if (amount_minor == 0) return 0;
  std::vector<Offset<events::FundingShare>> shares = {
      events::CreateFundingShareDirect(fbb, "vendor:acme", spec.vendor_share_bps),
      events::CreateFundingShareDirect(fbb, "retailer", 10'000 - spec.vendor_share_bps)};
  std::vector<Offset<events::DiscountAllocation>> discounts = {
      events::CreateDiscountAllocationDirect(fbb, std::string(spec.promotion_id).c_str(),
                                             spec.promotion_version, spec.rule_snapshot_seq,
                                             amount_minor, &shares)};
  return fbb.CreateVector(discounts);
}

std::string Finish(FlatBufferBuilder& fbb, std::string_view stream, events::Payload type,
                   Offset<void> payload, std::string_view principal = "user:ann") {
  return FinishUnsealedEvent(fbb, {.stream = stream, .principal = principal}, type, payload);
}

}  // namespace

std::string PriceSetEvent(const PriceDecisionSpec& spec) {
  FlatBufferBuilder fbb;
  const std::string sku(spec.sku);
  auto scope = MakeScope(fbb, spec.level, spec.scope_name);
  auto valid = events::CreateValidWindow(fbb, spec.from_ns, spec.to_ns);
  auto price = events::CreatePriceSetDirect(fbb, sku.c_str(), spec.type, scope, spec.amount_minor,
                                            std::string(spec.currency).c_str(), valid);
  return Finish(fbb, "price/" + sku, events::Payload::PriceSet, price.Union());
}

std::string PriceRetractedEvent(const PriceDecisionSpec& spec, std::uint64_t retracted_seq) {
  FlatBufferBuilder fbb;
  const std::string sku(spec.sku);
  auto scope = MakeScope(fbb, spec.level, spec.scope_name);
  auto valid = events::CreateValidWindow(fbb, spec.from_ns, spec.to_ns);
  auto retracted = events::CreatePriceRetractedDirect(fbb, sku.c_str(), spec.type, scope, valid,
                                                      "wrong price", retracted_seq);
  return Finish(fbb, "price/" + sku, events::Payload::PriceRetracted, retracted.Union());
}

std::string PromotionDraftedEvent(const PromotionSpec& spec, std::string_view author) {
  FlatBufferBuilder fbb;
  const std::string id(spec.id);
  auto channels = Strings(fbb, spec.channels);
  auto stores = Strings(fbb, spec.stores);
  auto targeting =
      events::CreatePromotionTargetingDirect(fbb, spec.channels.empty() ? nullptr : &channels,
                                             nullptr, spec.stores.empty() ? nullptr : &stores);
  auto reward = events::CreatePromotionReward(fbb, events::RewardKind::PercentOff,
                                              events::RewardTarget::Order, 0, spec.percent_bps);
  std::vector<Offset<events::FundingShare>> funding = {
      events::CreateFundingShareDirect(fbb, "vendor:acme", 5000),
      events::CreateFundingShareDirect(fbb, "retailer", 5000)};
  auto valid = events::CreateValidWindow(fbb, spec.valid_from_ns, spec.valid_to_ns);
  Offset<events::PromotionConditions> conditions;
  if (!spec.include_skus.empty() || !spec.include_categories.empty()) {
    auto skus = Strings(fbb, spec.include_skus);
    auto categories = Strings(fbb, spec.include_categories);
    conditions = events::CreatePromotionConditionsDirect(
        fbb, 0, 0, false, spec.include_skus.empty() ? nullptr : &skus,
        spec.include_categories.empty() ? nullptr : &categories);
  }
  auto rule = events::CreatePromotionRuleDirect(fbb, conditions, reward, targeting, 0, 0, &funding,
                                                valid, "EUR");
  auto drafted = events::CreatePromotionDraftedDirect(fbb, id.c_str(), spec.version,
                                                      std::string(spec.name).c_str(), "", rule);
  return Finish(fbb, "promo/" + id, events::Payload::PromotionDrafted, drafted.Union(), author);
}

std::string PromotionStepEvent(events::Payload step, std::string_view id, std::uint32_t version,
                               std::string_view principal) {
  FlatBufferBuilder fbb;
  const std::string promotion_id(id);
  const char* p = promotion_id.c_str();
  Offset<void> payload;
  switch (step) {
    case events::Payload::PromotionSubmitted:
      payload = events::CreatePromotionSubmittedDirect(fbb, p, version).Union();
      break;
    case events::Payload::PromotionApproved:
      payload = events::CreatePromotionApprovedDirect(fbb, p, version, "ok").Union();
      break;
    case events::Payload::PromotionRejected:
      payload = events::CreatePromotionRejectedDirect(fbb, p, version, "no").Union();
      break;
    case events::Payload::PromotionPaused:
      payload = events::CreatePromotionPausedDirect(fbb, p, version, "stock-out").Union();
      break;
    case events::Payload::PromotionResumed:
      payload = events::CreatePromotionResumedDirect(fbb, p, version, "restocked").Union();
      break;
    case events::Payload::PromotionWithdrawn:
      payload = events::CreatePromotionWithdrawnDirect(fbb, p, version, "ended").Union();
      break;
    default:
      payload = events::CreatePromotionExpiredDirect(fbb, p, version, "window ended").Union();
      step = events::Payload::PromotionExpired;
      break;
  }
  return Finish(fbb, "promo/" + promotion_id, step, payload, principal);
}

std::string PromotionPublishedEvent(std::string_view id, std::uint32_t version,
                                    std::int64_t from_ns, std::int64_t to_ns,
                                    std::uint64_t rule_snapshot_seq) {
  FlatBufferBuilder fbb;
  const std::string promotion_id(id);
  auto window = events::CreateValidWindow(fbb, from_ns, to_ns);
  auto published = events::CreatePromotionPublishedDirect(fbb, promotion_id.c_str(), version,
                                                          window, rule_snapshot_seq);
  return Finish(fbb, "promo/" + promotion_id, events::Payload::PromotionPublished,
                published.Union(), "user:bob");
}

std::string SaleRecordedEvent(const SaleSpec& spec) {
  FlatBufferBuilder fbb;
  const std::string order_id(spec.order_id);
  auto discounts = Discounts(fbb, spec, spec.discount_minor);
  const std::int64_t total = spec.qty * spec.unit_price_minor - spec.discount_minor;
  std::vector<Offset<events::SaleLine>> lines = {
      events::CreateSaleLine(fbb, 1, fbb.CreateString(spec.sku), spec.qty, spec.unit_price_minor,
                             spec.price_event_seq, discounts, 0, total, 0, total)};
  auto sale = events::CreateSaleRecordedDirect(
      fbb, order_id.c_str(), spec.sold_at_ns, "pos", "store-12", "de-north", 0, "EUR", &lines,
      spec.qty * spec.unit_price_minor, spec.discount_minor, total, 0, total);
  return Finish(fbb, "order/" + order_id, events::Payload::SaleRecorded, sale.Union(),
                "service:pos-gateway");
}

std::string ReturnRecordedEvent(const SaleSpec& sale, std::string_view return_id,
                                std::int64_t returned_at_ns, std::int32_t qty,
                                std::int64_t refund_minor, std::int64_t discount_minor) {
  FlatBufferBuilder fbb;
  const std::string order_id(sale.order_id);
  auto clawed_back = Discounts(fbb, sale, discount_minor);
  std::vector<Offset<events::ReturnLine>> lines = {events::CreateReturnLine(
      fbb, 1, fbb.CreateString(sale.sku), qty, refund_minor, 0, clawed_back)};
  auto ret = events::CreateReturnRecordedDirect(fbb, std::string(return_id).c_str(),
                                                order_id.c_str(), returned_at_ns, "pos", "store-12",
                                                &lines, refund_minor, "EUR", "damaged");
  return Finish(fbb, "order/" + order_id, events::Payload::ReturnRecorded, ret.Union(),
                "user:desk");
}

std::string LiabilitySettledEvent(std::string_view promotion_id, std::uint32_t version,
                                  std::string_view party, std::int64_t amount_minor) {
  FlatBufferBuilder fbb;
  const std::string id(promotion_id);
  auto settled =
      events::CreateLiabilitySettledDirect(fbb, id.c_str(), version, std::string(party).c_str(),
                                           "EUR", amount_minor, 0, "odoo:account.move:1");
  return Finish(fbb, "liability/" + id, events::Payload::LiabilitySettled, settled.Union(),
                "user:fin");
}

std::string PublicationEvent(events::Payload kind, std::string_view artifact,
                             std::string_view destination, std::uint32_t attempt) {
  FlatBufferBuilder fbb;
  const std::string a(artifact);
  const std::string d(destination);
  Offset<void> payload;
  switch (kind) {
    case events::Payload::PublicationRequested:
      payload = events::CreatePublicationRequestedDirect(fbb, a.c_str(), d.c_str(), 1).Union();
      break;
    case events::Payload::PublicationAcknowledged:
      payload = events::CreatePublicationAcknowledgedDirect(fbb, a.c_str(), d.c_str(), 1, attempt,
                                                            "ext-1")
                    .Union();
      break;
    case events::Payload::PublicationFailed:
      payload = events::CreatePublicationFailedDirect(fbb, a.c_str(), d.c_str(), 1, attempt,
                                                      "timeout", Day(40))
                    .Union();
      break;
    default:
      kind = events::Payload::PublicationDeadLettered;
      payload = events::CreatePublicationDeadLetteredDirect(fbb, a.c_str(), d.c_str(), 1, attempt,
                                                            "gave up")
                    .Union();
      break;
  }
  return Finish(fbb, "publication/" + d, kind, payload, "service:outbox");
}

}  // namespace tillroll::testing
