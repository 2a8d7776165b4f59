// Decide(): see governance.h for the order of the checks and the policy they implement.

#include <algorithm>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/governance.h"

namespace tillroll {
namespace {

using events::AuditOutcome;
using events::Payload;
using events::PriceType;
using json = nlohmann::json;

constexpr std::string_view kAdmin = "admin";

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : s->string_view();
}

bool IsCurrency(std::string_view code) {
  return code.size() == 3 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Builds one decision; the helpers return false once it is a rejection.
class Decider {
 public:
  Decider(const Command& command, const Principal& principal, const DecisionState& state,
          const GovernanceRules& rules, std::int64_t now_ns)
      : c_(command), p_(principal), s_(state), rules_(rules), now_ns_(now_ns) {}

  Decision Run();

 private:
  bool Reject(RejectionKind kind, std::string field, std::string reason, std::string rule = {}) {
    d_.outcome = AuditOutcome::Rejected;
    d_.rejection = kind;
    d_.field = std::move(field);
    d_.reason = std::move(reason);
    d_.rule = std::move(rule);
    d_.events.clear();
    return false;
  }
  bool Invalid(std::string field, std::string reason) {
    return Reject(RejectionKind::kInvalid, std::move(field), std::move(reason));
  }
  // A checkout error ("lines[0].sku: unknown product ...") as a rejection of args.<field>.
  bool InvalidArgs(const Status& status) {
    const std::string& message = status.message();
    const std::size_t colon = message.find(": ");
    return colon == std::string::npos
               ? Invalid("args", message)
               : Invalid("args." + message.substr(0, colon), message.substr(colon + 2));
  }
  bool Refused(std::string reason, std::string rule = "workflow") {
    return Reject(RejectionKind::kRefused, "", std::move(reason), std::move(rule));
  }
  // Adds a decided event. Empty strings of the payload are left out, as the log's own JSON
  // leaves them out.
  void Emit(std::string stream, Payload type, json payload) {
    for (auto it = payload.begin(); it != payload.end();) {
      it = it->is_string() && it->get_ref<const std::string&>().empty() ? payload.erase(it)
                                                                         : std::next(it);
    }
    const std::int64_t version = ExpectedVersion(stream);
    d_.events.push_back({std::move(stream), version, type, payload.dump()});
  }
  // Adds a decided event whose payload is the command's args as sent. Args with an empty
  // string somewhere (or what looks like one) go through Emit, which leaves empty strings out.
  void EmitArgs(std::string stream) {
    if (c_.args_json.find("\"\"") != std::string::npos) {
      Emit(std::move(stream), c_.spec().args, Args());
      return;
    }
    const std::int64_t version = ExpectedVersion(stream);
    d_.events.push_back({std::move(stream), version, c_.spec().args, c_.args_json,
                         /*args_payload=*/true});
  }
  // The version `stream` will have before the next event decided on it.
  std::int64_t ExpectedVersion(std::string_view stream) const {
    auto version = static_cast<std::int64_t>(s_.StreamVersion(stream));
    for (const EventDraft& e : d_.events) {
      if (e.stream == stream) ++version;
    }
    return version;
  }
  json Args() const { return json::parse(c_.args_json); }
  const events::Event& args() const { return c_.args_event(); }

  // The proposal an approval or rejection decides, read once per decision.
  const std::optional<DecisionState::Proposal>& ProposalOf(std::string_view id);
  Place PlaceOfCommand();
  bool CheckRoles();
  bool CheckExpectedVersion();
  bool CheckAuthority(std::string_view family, std::optional<PriceType> type,
                      std::string_view channel, std::string_view region);
  bool ValidateScopeAndWindow(const events::Scope* scope, const events::ValidWindow* valid);
  // Whether `name` (at `path`) is one of the configured channels, regions or stores.
  bool CheckPlace(const std::string& path, std::string_view kind,
                  const std::vector<std::string>& known, std::string_view name);
  bool CheckPlaces(const std::string& path, std::string_view kind,
                   const std::vector<std::string>& known,
                   const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* names);
  bool ValidateRule(const events::PromotionRule* rule);

  bool SetPrice();
  bool RetractPrice();
  bool DecideProposal(bool approve);
  bool DraftPromotion(bool amend);
  bool PromotionStep();
  bool Publish(const DecisionState::Promotion& promotion, const DecisionState::PromotionVersion& v);
  bool PassThrough();
  bool RecordSale(const events::SaleRecorded& sale);
  bool VerifySalePrices(const events::SaleRecorded& sale);
  bool VerifyReturn(const events::ReturnRecorded& ret);
  bool DefineProduct(const events::ProductDefined& product);

  const Command& c_;
  const Principal& p_;
  const DecisionState& s_;
  const GovernanceRules& rules_;
  std::int64_t now_ns_;
  Decision d_;
  std::optional<DecisionState::Proposal> proposal_;
  bool proposal_read_ = false;
};

std::string SubjectOf(const Command& c) {
  const events::Event& e = c.args_event();
  switch (e.payload_type()) {
    case Payload::PriceSet:
      return "price/" + e.payload_as_PriceSet()->sku()->str();
    case Payload::PriceRetracted:
      return "price/" + e.payload_as_PriceRetracted()->sku()->str();
    case Payload::CouponIssued:
      return "coupon/" + e.payload_as_CouponIssued()->program()->str();
    case Payload::CouponVoided:
      return "coupon/" + e.payload_as_CouponVoided()->program()->str();
    case Payload::SaleRecorded:
      return "order/" + e.payload_as_SaleRecorded()->order_id()->str();
    case Payload::ReturnRecorded:
      return "order/" + e.payload_as_ReturnRecorded()->order_id()->str();
    case Payload::LiabilitySettled:
      return "liability/" + e.payload_as_LiabilitySettled()->promotion_id()->str();
    case Payload::AuthorityRuleSet:
      return "governance/authority";
    case Payload::RoleGranted:
    case Payload::RoleRevoked:
      return "governance/roles";
    case Payload::ProductDefined:
      return "product/" + e.payload_as_ProductDefined()->sku()->str();
    default:
      break;
  }
  // The promotion payloads all start with promotion_id; the proposals' subject comes later.
  const auto* table = reinterpret_cast<const flatbuffers::Table*>(e.payload());
  const auto* id = table->GetPointer<const flatbuffers::String*>(4);
  if (id == nullptr) return "";
  return (e.payload_type() == Payload::PriceChangeApproved ||
          e.payload_type() == Payload::PriceChangeRejected)
             ? std::string()
             : "promo/" + id->str();
}

Place PlaceOfScope(const events::Scope* scope) {
  if (scope == nullptr) return {};
  switch (scope->level()) {
    case events::ScopeLevel::Channel:
      return {std::string(View(scope->channel())), "", ""};
    case events::ScopeLevel::Region:
      return {"", std::string(View(scope->region())), ""};
    case events::ScopeLevel::Store:
      return {"", "", std::string(View(scope->store()))};
    default:
      return {};
  }
}

// A proposal's scope as its FlatBuffers JSON writes it (level by name, names as strings).
Place PlaceOfScope(const json& scope) {
  if (!scope.is_object()) return {};
  auto text = [&](const char* key) {
    return scope.contains(key) && scope[key].is_string() ? scope[key].get<std::string>() : "";
  };
  const std::string level = text("level");
  if (level == "Channel") return {text("channel"), "", ""};
  if (level == "Region") return {"", text("region"), ""};
  if (level == "Store") return {"", "", text("store")};
  return {};
}

const std::optional<DecisionState::Proposal>& Decider::ProposalOf(std::string_view id) {
  if (!proposal_read_) {
    proposal_ = s_.FindProposal(id);
    proposal_read_ = true;
  }
  return proposal_;
}

// Where the command acts (see Place).
Place Decider::PlaceOfCommand() {
  const events::Event& e = args();
  if (const auto* price = e.payload_as_PriceSet()) return PlaceOfScope(price->scope());
  if (const auto* retract = e.payload_as_PriceRetracted()) return PlaceOfScope(retract->scope());
  if (const auto* sale = e.payload_as_SaleRecorded()) {
    return {std::string(View(sale->channel())), std::string(View(sale->region())),
            std::string(View(sale->store()))};
  }
  if (const auto* ret = e.payload_as_ReturnRecorded()) {
    return {std::string(View(ret->channel())), "", std::string(View(ret->store()))};
  }
  if (c_.type == CommandType::kApprovePriceChange || c_.type == CommandType::kRejectPriceChange) {
    const std::string_view id =
        c_.type == CommandType::kApprovePriceChange
            ? e.payload_as_PriceChangeApproved()->proposal_id()->string_view()
            : e.payload_as_PriceChangeRejected()->proposal_id()->string_view();
    if (const auto& proposal = ProposalOf(id)) {
      const json proposed = json::parse(proposal->proposal_json, nullptr, false);
      if (proposed.is_object() && proposed.contains("scope")) return PlaceOfScope(proposed["scope"]);
    }
  }
  return {};
}

bool Decider::CheckRoles() {
  const Place place = PlaceOfCommand();
  d_.roles = HeldRoles(p_, s_, now_ns_, &place);
  const std::string_view allowed = c_.spec().roles;
  d_.acting_role = std::string(AllowedRole(allowed, d_.roles));
  if (!d_.acting_role.empty()) return true;
  std::string why = p_.id + " holds none of them";
  // Held, but granted only elsewhere: say where.
  for (const RoleHolding& holding : s_.GrantedRoles(p_.id, now_ns_)) {
    if (!AllowedRole(allowed, {holding.role}).empty()) {
      why = p_.id + " holds " + holding.role + " only at " + holding.Describe() +
            (place.channel.empty() && place.region.empty() && place.store.empty()
                 ? ", and " + std::string(c_.spec().name) + " acts ledger-wide"
                 : "");
      break;
    }
  }
  return Reject(RejectionKind::kForbidden, "",
                std::string(c_.spec().name) + " needs the role " + std::string(allowed) + "; " +
                    why,
                "roles:" + std::string(c_.spec().name));
}

bool Decider::CheckExpectedVersion() {
  if (c_.expected_version < 0 || d_.subject.empty()) return true;
  const std::uint64_t version = s_.StreamVersion(d_.subject);
  if (static_cast<std::uint64_t>(c_.expected_version) == version) return true;
  return Reject(RejectionKind::kRefused, "expected_version",
                "stream " + d_.subject + " is at version " + std::to_string(version) +
                    ", the command expected " + std::to_string(c_.expected_version),
                "expected_version");
}

bool Decider::CheckAuthority(std::string_view family, std::optional<PriceType> type,
                             std::string_view channel, std::string_view region) {
  const DecisionState::AuthorityVerdict verdict =
      s_.Authority(p_.source_system, family, type, channel, region, now_ns_);
  if (verdict.allowed) return true;
  std::string what = std::string(family);
  if (type) what += " (" + std::string(events::EnumNamePriceType(*type)) + ")";
  if (!channel.empty()) what += " on channel " + std::string(channel);
  if (!region.empty()) what += " in region " + std::string(region);
  return Reject(RejectionKind::kForbidden, type ? "args.price_type" : "",
                "source system '" + p_.source_system + "' may not write " + what + ": " +
                    (verdict.rule_id.empty() ? "no authority rule allows it"
                                             : "authority rule " + verdict.rule_id + " forbids it"),
                "authority:" + (verdict.rule_id.empty() ? "none" : verdict.rule_id));
}

bool Decider::CheckPlace(const std::string& path, std::string_view kind,
                         const std::vector<std::string>& known, std::string_view name) {
  if (known.empty() || name.empty() || std::find(known.begin(), known.end(), name) != known.end()) {
    return true;
  }
  return Invalid(path, "unknown " + std::string(kind) + " '" + std::string(name) +
                           "': not in the configured " + std::string(kind) + "s");
}

bool Decider::CheckPlaces(
    const std::string& path, std::string_view kind, const std::vector<std::string>& known,
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* names) {
  if (names == nullptr) return true;
  for (flatbuffers::uoffset_t i = 0; i < names->size(); ++i) {
    if (!CheckPlace(path + "[" + std::to_string(i) + "]", kind, known,
                    names->Get(i)->string_view())) {
      return false;
    }
  }
  return true;
}

bool Decider::ValidateScopeAndWindow(const events::Scope* scope, const events::ValidWindow* valid) {
  if (scope != nullptr && scope->level() != events::ScopeLevel::Global) {
    const std::string_view name =
        scope->level() == events::ScopeLevel::Channel  ? View(scope->channel())
        : scope->level() == events::ScopeLevel::Region ? View(scope->region())
                                                       : View(scope->store());
    if (name.empty()) {
      const std::string level = events::EnumNameScopeLevel(scope->level());
      return Invalid("args.scope", "a " + level + " scope needs its " + level + " name");
    }
    const bool ok = scope->level() == events::ScopeLevel::Channel
                        ? CheckPlace("args.scope.channel", "channel", rules_.channels, name)
                    : scope->level() == events::ScopeLevel::Region
                        ? CheckPlace("args.scope.region", "region", rules_.regions, name)
                        : CheckPlace("args.scope.store", "store", rules_.stores, name);
    if (!ok) return false;
  }
  if (valid != nullptr && valid->to_ns() != 0 && valid->to_ns() <= valid->from_ns()) {
    return Invalid("args.valid.to_ns", "must be after valid.from_ns (or 0 for open-ended)");
  }
  return true;
}

bool Decider::SetPrice() {
  const events::PriceSet& price = *args().payload_as_PriceSet();
  if (!IsCurrency(View(price.currency()))) {
    return Invalid("args.currency", "expected an ISO 4217 code like \"EUR\"");
  }
  if (price.amount_minor() < 0) return Invalid("args.amount_minor", "a price cannot be negative");
  if (!ValidateScopeAndWindow(price.scope(), price.valid())) return false;
  const events::Scope* scope = price.scope();
  const std::string_view channel = scope != nullptr && scope->level() == events::ScopeLevel::Channel
                                       ? View(scope->channel())
                                       : "";
  const std::string_view region =
      scope != nullptr && scope->level() == events::ScopeLevel::Region ? View(scope->region()) : "";
  if (!CheckAuthority("price", price.price_type(), channel, region)) return false;

  const bool selling =
      price.price_type() == PriceType::List || price.price_type() == PriceType::Markdown;
  if (!selling) {
    EmitArgs(d_.subject);
    return true;
  }
  const std::int64_t at_ns =
      price.valid() != nullptr ? std::max(now_ns_, price.valid()->from_ns()) : now_ns_;
  const std::string_view sku = price.sku()->string_view();
  // A markdown is measured against the selling price it replaces: the markdown in force, else
  // the list price.
  auto old_price = s_.PriceInForce(sku, price.price_type(), scope, at_ns);
  if (!old_price && price.price_type() == PriceType::Markdown) {
    old_price = s_.PriceInForce(sku, PriceType::List, scope, at_ns);
  }
  const auto floor = s_.PriceInForce(sku, PriceType::Floor, scope, at_ns);
  const auto cost = s_.PriceInForce(sku, PriceType::Cost, scope, at_ns);
  std::string why;
  std::int64_t change_bps = 0;
  if (old_price && old_price->amount_minor > 0) {
    // In 128 bits, then clamped to the field's int32: any move that large is far over the line.
    const __int128 exact = static_cast<__int128>(price.amount_minor() - old_price->amount_minor) *
                           10'000 / old_price->amount_minor;
    change_bps = static_cast<std::int64_t>(std::clamp<__int128>(
        exact, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
    if (std::abs(change_bps) > rules_.price_change_bps_max) {
      why = "moves the price by " + std::to_string(change_bps) + " bps, more than " +
            std::to_string(rules_.price_change_bps_max);
    }
  }
  if (why.empty() && floor && price.amount_minor() < floor->amount_minor) {
    why = "below the floor price " + std::to_string(floor->amount_minor);
  }
  if (why.empty() && cost && price.amount_minor() < cost->amount_minor) {
    why = "below cost " + std::to_string(cost->amount_minor);
  }
  if (why.empty()) {
    EmitArgs(d_.subject);
    return true;
  }
  json payload = Args();
  payload["proposal_id"] = "proposal:" + p_.id + ":" + c_.idempotency_key;
  payload["approval_reason"] = why;
  payload["old_amount_minor"] = old_price ? old_price->amount_minor : 0;
  payload["old_price_seq"] = old_price ? old_price->seq : 0;
  payload["change_bps"] = change_bps;
  d_.outcome = AuditOutcome::HeldForApproval;
  d_.reason = "held for a pricing_approver: " + why;
  d_.rule = "four_eyes:price_change";
  Emit(d_.subject, Payload::PriceChangeProposed, payload);
  return true;
}

bool Decider::RetractPrice() {
  const events::PriceRetracted& r = *args().payload_as_PriceRetracted();
  if (!ValidateScopeAndWindow(r.scope(), r.valid())) return false;
  if (!CheckAuthority("price", r.price_type(), "", "")) return false;
  EmitArgs(d_.subject);
  return true;
}

bool Decider::DecideProposal(bool approve) {
  const events::Event& e = args();
  const std::string_view id =
      approve ? e.payload_as_PriceChangeApproved()->proposal_id()->string_view()
              : e.payload_as_PriceChangeRejected()->proposal_id()->string_view();
  const auto& proposal = ProposalOf(id);
  if (!proposal) return Refused("no price change proposal " + std::string(id), "four_eyes");
  d_.subject = "price/" + proposal->sku;
  if (!CheckExpectedVersion()) return false;
  if (proposal->state != "pending") {
    return Refused("proposal " + std::string(id) + " is already " + proposal->state, "four_eyes");
  }
  if (proposal->proposer == p_.id) {
    return Reject(RejectionKind::kForbidden, "args.proposal_id",
                  p_.id + " proposed " + std::string(id) + " and cannot also decide it",
                  "separation_of_duties");
  }
  if (!approve) {
    Emit(d_.subject, Payload::PriceChangeRejected, Args());
    return true;
  }
  Emit(d_.subject, Payload::PriceChangeApproved, Args());
  json proposed = json::parse(proposal->proposal_json);
  json price;
  for (const char* field : {"sku", "price_type", "scope", "amount_minor", "currency", "valid",
                            "reason", "source_ref", "proposal_id"}) {
    if (proposed.contains(field)) price[field] = proposed[field];
  }
  Emit(d_.subject, Payload::PriceSet, price);
  return true;
}

bool Decider::ValidateRule(const events::PromotionRule* rule) {
  if (!IsCurrency(View(rule->currency()))) {
    return Invalid("args.rule.currency", "expected an ISO 4217 code like \"EUR\"");
  }
  if (rule->valid() != nullptr && rule->valid()->to_ns() != 0 &&
      rule->valid()->to_ns() <= rule->valid()->from_ns()) {
    return Invalid("args.rule.valid.to_ns", "must be after valid.from_ns (or 0 for no end)");
  }
  if (const events::PromotionTargeting* t = rule->targeting()) {
    if (!CheckPlaces("args.rule.targeting.channels", "channel", rules_.channels, t->channels()) ||
        !CheckPlaces("args.rule.targeting.regions", "region", rules_.regions, t->regions()) ||
        !CheckPlaces("args.rule.targeting.stores", "store", rules_.stores, t->stores())) {
      return false;
    }
  }
  const events::PromotionReward* r = rule->reward();
  if (r == nullptr) return Invalid("args.rule.reward", "required");
  using events::RewardKind;
  switch (r->kind()) {
    case RewardKind::PercentOff:
      if (r->percent_bps() <= 0 || r->percent_bps() > 10'000) {
        return Invalid("args.rule.reward.percent_bps", "must be in 1..10000");
      }
      break;
    case RewardKind::AmountOff:
      if (r->amount_minor() <= 0) return Invalid("args.rule.reward.amount_minor", "must be > 0");
      break;
    case RewardKind::BuyXGetY:
      if (r->buy_qty() <= 0) return Invalid("args.rule.reward.buy_qty", "must be at least 1");
      if (r->get_qty() <= 0) return Invalid("args.rule.reward.get_qty", "must be at least 1");
      if (r->get_percent_bps() <= 0 || r->get_percent_bps() > 10'000) {
        return Invalid("args.rule.reward.get_percent_bps", "must be in 1..10000");
      }
      break;
    case RewardKind::FixedBundlePrice:
      if (r->bundle_qty() < 2) return Invalid("args.rule.reward.bundle_qty", "must be at least 2");
      if (r->bundle_price_minor() <= 0) {
        return Invalid("args.rule.reward.bundle_price_minor", "must be > 0");
      }
      break;
    case RewardKind::FreeProduct:
      if (View(r->free_sku()).empty()) return Invalid("args.rule.reward.free_sku", "required");
      if (r->free_qty() <= 0) return Invalid("args.rule.reward.free_qty", "must be at least 1");
      break;
    case RewardKind::TieredSpend: {
      if (r->tiers() == nullptr || r->tiers()->size() == 0) {
        return Invalid("args.rule.reward.tiers", "at least one tier");
      }
      std::int64_t last = -1;
      for (flatbuffers::uoffset_t i = 0; i < r->tiers()->size(); ++i) {
        const auto* tier = r->tiers()->Get(i);
        const std::string path = "args.rule.reward.tiers[" + std::to_string(i) + "]";
        if (tier->threshold_minor() <= last) {
          return Invalid(path + ".threshold_minor", "tiers must ascend");
        }
        if (tier->discount_minor() <= 0) return Invalid(path + ".discount_minor", "must be > 0");
        last = tier->threshold_minor();
      }
      break;
    }
  }
  if (r->target() == events::RewardTarget::SpecificProducts &&
      (r->target_skus() == nullptr || r->target_skus()->size() == 0)) {
    return Invalid("args.rule.reward.target_skus", "SpecificProducts needs at least one SKU");
  }
  if (rule->funding() != nullptr && rule->funding()->size() > 0) {
    std::int64_t total = 0;
    for (const auto* share : *rule->funding()) total += share->share_bps();
    if (total != 10'000) {
      return Invalid("args.rule.funding",
                     "shares add up to " + std::to_string(total) + " bps, not 10000");
    }
  }
  return true;
}

bool Decider::DraftPromotion(bool amend) {
  const events::PromotionDrafted& draft = *args().payload_as_PromotionDrafted();
  if (!ValidateRule(draft.rule())) return false;
  if (!CheckAuthority("promotion", std::nullopt, "", "")) return false;
  const auto promotion = s_.FindPromotion(draft.promotion_id()->string_view());
  if (!amend && promotion) {
    return Refused("promotion " + draft.promotion_id()->str() +
                   " exists; amend_promotion drafts its next version");
  }
  if (amend && !promotion) {
    return Refused("promotion " + draft.promotion_id()->str() + " does not exist; draft it first");
  }
  if (amend && promotion->live_version == 0 && !promotion->versions.empty() &&
      (promotion->versions.back().state == "withdrawn" ||
       promotion->versions.back().state == "expired")) {
    return Refused("promotion " + draft.promotion_id()->str() + " is " +
                   promotion->versions.back().state + "; it cannot be amended");
  }
  json payload = Args();
  payload["version"] = promotion ? promotion->versions.size() + 1 : 1;
  Emit(d_.subject, Payload::PromotionDrafted, payload);
  return true;
}

std::string SecondApprovalReason(const events::PromotionRule& rule, const GovernanceRules& rules) {
  const events::PromotionReward* r = rule.reward();
  const std::int32_t percent = r == nullptr                                  ? 0
                               : r->kind() == events::RewardKind::PercentOff ? r->percent_bps()
                               : r->kind() == events::RewardKind::BuyXGetY
                                   ? r->get_percent_bps() / 2
                                   : 0;
  return tillroll::SecondApprovalReason(
      percent, rule.valid() != nullptr && rule.valid()->to_ns() != 0,
      rule.limits() != nullptr && rule.limits()->budget_minor() != 0, rules);
}

bool Decider::Publish(const DecisionState::Promotion& promotion,
                      const DecisionState::PromotionVersion& v) {
  const events::PromotionRule& rule =
      *events::GetEvent(v.drafted_event.data())->payload_as_PromotionDrafted()->rule();
  const std::string second = SecondApprovalReason(rule, rules_);
  const std::size_t needed = second.empty() ? 1 : 2;
  if (v.approvers.size() < needed) {
    return Refused("version " + std::to_string(v.version) + " has " +
                       std::to_string(v.approvers.size()) + " approval(s) and needs " +
                       std::to_string(needed) + (second.empty() ? "" : " because " + second),
                   "four_eyes:promotion");
  }
  const events::PromotionPublished& p = *args().payload_as_PromotionPublished();
  const events::ValidWindow* window = p.window();
  if (window == nullptr) return Invalid("args.window", "required: when the promotion is live");
  if (window->to_ns() != 0 && window->to_ns() <= window->from_ns()) {
    return Invalid("args.window.to_ns", "must be after window.from_ns");
  }
  if (rule.valid() != nullptr &&
      (window->from_ns() < rule.valid()->from_ns() ||
       (rule.valid()->to_ns() != 0 &&
        (window->to_ns() == 0 || window->to_ns() > rule.valid()->to_ns())))) {
    return Invalid("args.window", "must lie inside the rule's valid window");
  }
  json payload = Args();
  payload["rule_snapshot_seq"] = v.drafted_seq;
  if (promotion.live_version != 0 && promotion.live_version != v.version) {
    payload["supersedes_version"] = promotion.live_version;
  }
  Emit(d_.subject, Payload::PromotionPublished, payload);
  return true;
}

bool Decider::PromotionStep() {
  const json payload = Args();
  const std::string id = payload.value("promotion_id", "");
  const std::uint32_t version = payload.value("version", 0u);
  const auto promotion = s_.FindPromotion(id);
  if (!promotion) return Refused("no promotion " + id);
  if (version == 0 || version > promotion->versions.size()) {
    return Invalid("args.version", "promotion " + id + " has versions 1.." +
                                       std::to_string(promotion->versions.size()));
  }
  const DecisionState::PromotionVersion& v = promotion->versions[version - 1];
  const std::string name(c_.spec().name);
  auto needs = [&](std::initializer_list<std::string_view> states) {
    for (std::string_view s : states) {
      if (v.state == s) return true;
    }
    std::string list;
    for (std::string_view s : states) list += (list.empty() ? "" : " or ") + std::string(s);
    return Refused("promotion " + id + " version " + std::to_string(version) + " is " + v.state +
                   "; " + name + " needs it " + list);
  };
  const bool approval =
      c_.type == CommandType::kApprovePromotion || c_.type == CommandType::kRejectPromotion;
  if (approval && v.author == p_.id) {
    return Reject(RejectionKind::kForbidden, "args.version",
                  p_.id + " drafted version " + std::to_string(version) +
                      " and cannot also approve or reject it",
                  "separation_of_duties");
  }
  switch (c_.type) {
    case CommandType::kSubmitPromotion:
      if (!needs({"drafted"})) return false;
      break;
    case CommandType::kApprovePromotion:
      if (!needs({"submitted", "approved"})) return false;
      if (std::find(v.approvers.begin(), v.approvers.end(), p_.id) != v.approvers.end()) {
        return Reject(RejectionKind::kForbidden, "",
                      p_.id + " already approved version " + std::to_string(version),
                      "separation_of_duties");
      }
      break;
    case CommandType::kRejectPromotion:
      if (!needs({"submitted", "approved"})) return false;
      break;
    case CommandType::kPublishPromotion:
      if (!needs({"approved"})) return false;
      return Publish(*promotion, v);
    case CommandType::kPausePromotion:
      if (!needs({"published"})) return false;
      break;
    case CommandType::kResumePromotion:
      if (!needs({"paused"})) return false;
      break;
    case CommandType::kWithdrawPromotion:
      if (!needs({"published", "paused"})) return false;
      break;
    default:
      TR_ASSERT(false);
  }
  Emit(d_.subject, c_.spec().args, payload);
  return true;
}

bool Decider::PassThrough() {
  const events::Event& e = args();
  if (const auto* sale = e.payload_as_SaleRecorded()) {
    if (!IsCurrency(View(sale->currency()))) {
      return Invalid("args.currency", "expected an ISO 4217 code like \"EUR\"");
    }
    if (sale->lines() == nullptr || sale->lines()->size() == 0) {
      return Invalid("args.lines", "a sale needs at least one line");
    }
    if (!CheckPlace("args.channel", "channel", rules_.channels, View(sale->channel())) ||
        !CheckPlace("args.region", "region", rules_.regions, View(sale->region())) ||
        !CheckPlace("args.store", "store", rules_.stores, View(sale->store()))) {
      return false;
    }
    for (flatbuffers::uoffset_t i = 0; i < sale->lines()->size(); ++i) {
      const auto* line = sale->lines()->Get(i);
      const std::string path = "args.lines[" + std::to_string(i) + "]";
      if (line->qty() <= 0) return Invalid(path + ".qty", "must be at least 1");
      if (line->unit_price_minor() < 0) return Invalid(path + ".unit_price_minor", "negative");
      if (!s_.SkuKnown(line->sku()->string_view())) {
        return Invalid(path + ".sku", "unknown SKU '" + line->sku()->str() +
                                          "': the price book has no price for it");
      }
    }
    if (s_.OrderExists(sale->order_id()->string_view())) {
      return Refused("order " + sale->order_id()->str() + " is already recorded", "orders");
    }
    return RecordSale(*sale);
  } else if (const auto* ret = e.payload_as_ReturnRecorded()) {
    if (!CheckPlace("args.channel", "channel", rules_.channels, View(ret->channel())) ||
        !CheckPlace("args.store", "store", rules_.stores, View(ret->store()))) {
      return false;
    }
    if (!s_.OrderExists(ret->order_id()->string_view())) {
      return Invalid("args.order_id", "no sale recorded for order " + ret->order_id()->str());
    }
    if (ret->lines() == nullptr || ret->lines()->size() == 0) {
      return Invalid("args.lines", "a return needs at least one line");
    }
    if (rules_.verify_sales && !VerifyReturn(*ret)) return false;
  } else if (const auto* settled = e.payload_as_LiabilitySettled()) {
    if (!IsCurrency(View(settled->currency()))) {
      return Invalid("args.currency", "expected an ISO 4217 code like \"EUR\"");
    }
    if (View(settled->party()).empty()) return Invalid("args.party", "required");
  } else if (const auto* issued = e.payload_as_CouponIssued()) {
    if (!CheckAuthority("coupon", std::nullopt, "", "")) return false;
    if (issued->codes() == nullptr || issued->codes()->size() == 0) {
      return Invalid("args.codes", "at least one code");
    }
    for (flatbuffers::uoffset_t i = 0; i < issued->codes()->size(); ++i) {
      const std::string_view code = issued->codes()->Get(i)->string_view();
      if (code.empty()) return Invalid("args.codes[" + std::to_string(i) + "]", "empty code");
      if (const auto known = s_.FindCoupon(code, now_ns_)) {
        return Invalid(
            "args.codes[" + std::to_string(i) + "]",
            "code " + std::string(code) + " was already issued by program " + known->program);
      }
    }
  } else if (const auto* voided = e.payload_as_CouponVoided()) {
    if (!CheckAuthority("coupon", std::nullopt, "", "")) return false;
    const auto known = s_.FindCoupon(voided->code()->string_view(), now_ns_);
    if (!known || known->program != voided->program()->string_view()) {
      return Invalid("args.code", "program " + voided->program()->str() + " issued no code " +
                                      voided->code()->str());
    }
    if (known->voided)
      return Refused("code " + voided->code()->str() + " is already void", "coupons");
  } else if (const auto* product = e.payload_as_ProductDefined()) {
    if (!DefineProduct(*product)) return false;
  } else if (const auto* rule = e.payload_as_AuthorityRuleSet()) {
    if (View(rule->source_system()).empty()) return Invalid("args.source_system", "required");
    if (View(rule->event_family()).empty()) return Invalid("args.event_family", "required");
  }
  EmitArgs(d_.subject);
  return true;
}

// A product's taxes must be usable at checkout: rates in 0..100%, fixed amounts not negative.
// The ERP that owns products must be allowed by the authority matrix (family "product").
bool Decider::DefineProduct(const events::ProductDefined& product) {
  if (product.sku()->size() == 0) return Invalid("args.sku", "required");
  if (!ValidateScopeAndWindow(nullptr, product.valid())) return false;
  if (!CheckAuthority("product", std::nullopt, "", "")) return false;
  if (product.taxes() == nullptr) return true;
  for (flatbuffers::uoffset_t i = 0; i < product.taxes()->size(); ++i) {
    const events::TaxRate* tax = product.taxes()->Get(i);
    const std::string path = "args.taxes[" + std::to_string(i) + "]";
    if (tax->rate_bps() < 0 || tax->rate_bps() > 10'000) {
      return Invalid(path + ".rate_bps", "must be in 0..10000");
    }
    if (tax->fixed_amount_minor() < 0) return Invalid(path + ".fixed_amount_minor", "negative");
    if (tax->rate_bps() == 0 && tax->fixed_amount_minor() == 0) {
      return Invalid(path, "a tax needs a rate or a fixed amount");
    }
  }
  return true;
}

// The sale as sent against the cart priced again: every line's unit price, price event,
// discount and total, and the order's totals. The first difference refuses it.
bool Decider::VerifySalePrices(const events::SaleRecorded& sale) {
  const std::optional<Result<checkout::PricedCart>> priced = s_.PriceSale(sale);
  if (!priced) return true;
  if (!priced->ok()) return InvalidArgs(priced->status());
  const checkout::PricedCart& cart = **priced;
  auto differs = [&](const std::string& field, std::int64_t sent, std::int64_t ledger) {
    return Reject(RejectionKind::kRefused, field,
                  "the sale says " + std::to_string(sent) + ", the ledger prices " +
                      std::to_string(ledger) + "; price the cart again",
                  "checkout:reprice");
  };
  const auto& lines = *sale.lines();
  if (lines.size() != cart.lines.size()) {
    return Refused("the sale has " + std::to_string(lines.size()) +
                       " lines, the ledger prices the cart with " +
                       std::to_string(cart.lines.size()) + "; price the cart again",
                   "checkout:reprice");
  }
  for (flatbuffers::uoffset_t i = 0; i < lines.size(); ++i) {
    const events::SaleLine& sent = *lines.Get(i);
    const checkout::PricedLine& ledger = cart.lines[i];
    const std::string path = "args.lines[" + std::to_string(i) + "]";
    if (sent.sku()->string_view() != ledger.sku) {
      return Refused(path + ".sku: the ledger's line " + std::to_string(i + 1) + " is " +
                         ledger.sku + "; price the cart again",
                     "checkout:reprice");
    }
    if (sent.unit_price_minor() != ledger.unit_price_minor) {
      return differs(path + ".unit_price_minor", sent.unit_price_minor(), ledger.unit_price_minor);
    }
    if (sent.price_event_seq() != ledger.price_seq) {
      return differs(path + ".price_event_seq", static_cast<std::int64_t>(sent.price_event_seq()),
                     static_cast<std::int64_t>(ledger.price_seq));
    }
    std::int64_t discount = 0;
    if (sent.discounts() != nullptr) {
      for (const auto* d : *sent.discounts()) discount += d->amount_minor();
    }
    if (discount != ledger.discount_minor) {
      return differs(path + ".discounts", discount, ledger.discount_minor);
    }
    if (sent.line_total_minor() != ledger.total_minor) {
      return differs(path + ".line_total_minor", sent.line_total_minor(), ledger.total_minor);
    }
  }
  if (sale.total_minor() != cart.total_minor) {
    return differs("args.total_minor", sale.total_minor(), cart.total_minor);
  }
  if (sale.discount_total_minor() != cart.discount_minor) {
    return differs("args.discount_total_minor", sale.discount_total_minor(), cart.discount_minor);
  }
  return true;
}

// The return as sent against the ledger's quote: the refund in total and per line, and the
// discount clawed back per promotion. The first difference refuses it.
bool Decider::VerifyReturn(const events::ReturnRecorded& ret) {
  const std::optional<Result<checkout::ReturnQuote>> quoted = s_.QuoteReturn(ret);
  if (!quoted) return true;
  if (!quoted->ok()) return InvalidArgs(quoted->status());
  const checkout::ReturnQuote& quote = **quoted;
  auto differs = [&](const std::string& field, std::int64_t sent, std::int64_t ledger) {
    return Reject(RejectionKind::kRefused, field,
                  "the return says " + std::to_string(sent) + ", the ledger quotes " +
                      std::to_string(ledger) + "; quote the return again",
                  "checkout:requote");
  };
  if (ret.refund_total_minor() != quote.refund_minor) {
    return differs("args.refund_total_minor", ret.refund_total_minor(), quote.refund_minor);
  }
  std::map<std::string, std::int64_t> clawed;
  for (flatbuffers::uoffset_t i = 0; i < ret.lines()->size(); ++i) {
    const events::ReturnLine& line = *ret.lines()->Get(i);
    if (i < quote.lines.size() && line.refund_minor() != quote.lines[i].refund_minor) {
      return differs("args.lines[" + std::to_string(i) + "].refund_minor", line.refund_minor(),
                     quote.lines[i].refund_minor);
    }
    if (line.discounts_clawed_back() == nullptr) continue;
    for (const auto* d : *line.discounts_clawed_back())
      clawed[d->promotion_id()->str()] += d->amount_minor();
  }
  for (const checkout::AppliedPromotion& back : quote.clawbacks) {
    if (clawed[back.promotion_id] != back.amount_minor) {
      return differs("args.lines.discounts_clawed_back[" + back.promotion_id + "]",
                     clawed[back.promotion_id], back.amount_minor);
    }
    clawed.erase(back.promotion_id);
  }
  for (const auto& [id, amount] : clawed) {
    if (amount != 0) return differs("args.lines.discounts_clawed_back[" + id + "]", amount, 0);
  }
  return true;
}

// The sale, and a CouponRedeemed on each redeemed code's program stream in the same append: a
// code unknown, void, used up, out of its window or personal to another customer is refused.
bool Decider::RecordSale(const events::SaleRecorded& sale) {
  if (rules_.verify_sales && !VerifySalePrices(sale)) return false;
  EmitArgs(d_.subject);
  if (sale.coupon_codes() == nullptr) return true;
  const std::string_view customer =
      sale.customer() != nullptr ? View(sale.customer()->customer_id()) : "";
  for (flatbuffers::uoffset_t i = 0; i < sale.coupon_codes()->size(); ++i) {
    const std::string path = "args.coupon_codes[" + std::to_string(i) + "]";
    const std::string_view code = sale.coupon_codes()->Get(i)->string_view();
    for (flatbuffers::uoffset_t j = 0; j < i; ++j) {
      if (sale.coupon_codes()->Get(j)->string_view() == code) {
        return Invalid(path, "code " + std::string(code) + " is listed twice");
      }
    }
    const auto coupon = s_.FindCoupon(code, sale.sold_at_ns() != 0 ? sale.sold_at_ns() : now_ns_);
    if (!coupon) return Invalid(path, "unknown coupon code " + std::string(code));
    if (!coupon->unredeemable.empty()) return Refused(coupon->unredeemable, "coupons");
    if (!coupon->customer_id.empty() && coupon->customer_id != customer) {
      return Refused("code " + std::string(code) + " belongs to another customer", "coupons");
    }
    json redeemed = {
        {"program", coupon->program}, {"code", code}, {"order_id", sale.order_id()->string_view()}};
    if (!customer.empty()) redeemed["customer_id"] = customer;
    Emit("coupon/" + coupon->program, Payload::CouponRedeemed, redeemed);
  }
  return true;
}

Decision Decider::Run() {
  d_.subject = SubjectOf(c_);
  if (!CheckRoles()) return d_;
  if (c_.type != CommandType::kApprovePriceChange && c_.type != CommandType::kRejectPriceChange &&
      !CheckExpectedVersion()) {
    return d_;
  }
  d_.outcome = AuditOutcome::Accepted;
  switch (c_.type) {
    case CommandType::kSetPrice:
      SetPrice();
      break;
    case CommandType::kRetractPrice:
      RetractPrice();
      break;
    case CommandType::kApprovePriceChange:
    case CommandType::kRejectPriceChange:
      DecideProposal(c_.type == CommandType::kApprovePriceChange);
      break;
    case CommandType::kDraftPromotion:
    case CommandType::kAmendPromotion:
      DraftPromotion(c_.type == CommandType::kAmendPromotion);
      break;
    case CommandType::kSubmitPromotion:
    case CommandType::kApprovePromotion:
    case CommandType::kRejectPromotion:
    case CommandType::kPublishPromotion:
    case CommandType::kPausePromotion:
    case CommandType::kResumePromotion:
    case CommandType::kWithdrawPromotion:
      PromotionStep();
      break;
    default:
      PassThrough();
      break;
  }
  return d_;
}

}  // namespace

std::string SecondApprovalReason(std::int32_t reward_percent_bps, bool has_end, bool has_budget,
                                 const GovernanceRules& rules) {
  if (reward_percent_bps > rules.promotion_percent_bps_max) {
    return "its reward of " + std::to_string(reward_percent_bps) + " bps is above " +
           std::to_string(rules.promotion_percent_bps_max);
  }
  if (!has_end) return "it has no end date";
  if (!has_budget) return "it has no budget";
  return "";
}

bool RoleHolding::HoldsAt(const Place& place) const {
  auto listed = [](const std::vector<std::string>& names, const std::string& name) {
    return !name.empty() && std::find(names.begin(), names.end(), name) != names.end();
  };
  return everywhere || listed(channels, place.channel) || listed(regions, place.region) ||
         listed(stores, place.store);
}

std::string RoleHolding::Describe() const {
  if (everywhere) return "everywhere";
  std::string out;
  auto add = [&](const char* kind, const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      out += (out.empty() ? "" : ", ") + std::string(kind) + " " + name;
    }
  };
  add("channel", channels);
  add("region", regions);
  add("store", stores);
  return out;
}

std::vector<std::string> HeldRoles(const Principal& principal, const DecisionState& state,
                                   std::int64_t now_ns, const Place* at) {
  std::vector<std::string> roles = principal.roles;
  for (RoleHolding& holding : state.GrantedRoles(principal.id, now_ns)) {
    if (at != nullptr && !holding.HoldsAt(*at)) continue;
    if (std::find(roles.begin(), roles.end(), holding.role) == roles.end()) {
      roles.push_back(std::move(holding.role));
    }
  }
  std::sort(roles.begin(), roles.end());
  return roles;
}

std::string_view AllowedRole(std::string_view allowed, const std::vector<std::string>& held) {
  for (const std::string& role : held) {
    for (std::size_t at = 0; at < allowed.size();) {
      const std::size_t end = std::min(allowed.find(' ', at), allowed.size());
      if (allowed.substr(at, end - at) == role) return role;
      at = end + 1;
    }
  }
  return {};
}

Decision Decide(const Command& command, const Principal& principal, const DecisionState& state,
                const GovernanceRules& rules, std::int64_t now_ns) {
  return Decider(command, principal, state, rules, now_ns).Run();
}

}  // namespace tillroll
