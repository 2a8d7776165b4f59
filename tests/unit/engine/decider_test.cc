// Decide(): each governance rule (roles, authority, four eyes, separation of duties, the
// promotion workflow, validation, expected versions) is shown by a command it rejects and one
// it lets through. Decide is pure, so every test sets the fields of an in-memory DecisionState,
// parses command lines with ParseCommand as `tillroll submit` does, and checks the outcome, the
// rejection's kind, field and rule, and the events decided: type, stream, expected version and
// payload fields read back as JSON, each checked against its schema as the executor would.

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/command.h"
#include "engine/event_json.h"
#include "engine/governance.h"
#include "tests/support/domain_events.h"

namespace tillroll::testing {
namespace {

using events::AuditOutcome;
using events::Payload;
using events::PriceType;
using json = nlohmann::json;

// The present as the test sets it. Prices ignore scope and time: one per (sku, type).
class FakeState final : public DecisionState {
 public:
  std::map<std::string, std::uint64_t, std::less<>> stream_versions;
  std::map<std::pair<std::string, PriceType>, Price> prices;
  std::map<std::string, Proposal, std::less<>> proposals;
  std::map<std::string, Promotion, std::less<>> promotions;
  // (source system, family, price type name or "") → verdict; no entry: no rule matched.
  std::map<std::tuple<std::string, std::string, std::string>, AuthorityVerdict> authority;
  std::map<std::string, std::vector<RoleHolding>, std::less<>> granted_roles;
  std::set<std::string, std::less<>> orders;
  std::map<std::string, Coupon, std::less<>> coupons;

  std::uint64_t StreamVersion(std::string_view stream) const override {
    const auto it = stream_versions.find(stream);
    return it == stream_versions.end() ? 0 : it->second;
  }
  std::optional<Price> PriceInForce(std::string_view sku, PriceType type, const events::Scope*,
                                    std::int64_t) const override {
    const auto it = prices.find({std::string(sku), type});
    if (it == prices.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Proposal> FindProposal(std::string_view proposal_id) const override {
    const auto it = proposals.find(proposal_id);
    if (it == proposals.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Promotion> FindPromotion(std::string_view promotion_id) const override {
    const auto it = promotions.find(promotion_id);
    if (it == promotions.end()) return std::nullopt;
    return it->second;
  }
  AuthorityVerdict Authority(std::string_view source_system, std::string_view family,
                             std::optional<PriceType> price_type, std::string_view,
                             std::string_view, std::int64_t) const override {
    const auto it = authority.find({std::string(source_system), std::string(family),
                                    price_type ? events::EnumNamePriceType(*price_type) : ""});
    return it == authority.end() ? AuthorityVerdict{} : it->second;
  }
  std::vector<RoleHolding> GrantedRoles(std::string_view principal, std::int64_t) const override {
    const auto it = granted_roles.find(principal);
    return it == granted_roles.end() ? std::vector<RoleHolding>() : it->second;
  }
  bool OrderExists(std::string_view order_id) const override {
    return orders.find(order_id) != orders.end();
  }
  std::optional<Coupon> FindCoupon(std::string_view code, std::int64_t) const override {
    const auto it = coupons.find(code);
    if (it == coupons.end()) return std::nullopt;
    return it->second;
  }
};

const Principal kPricingEngine{"service:pricing-engine", {"pricing_manager"}, "pricing-engine"};
const Principal kOdoo{"service:odoo", {"pricing_manager"}, "odoo"};
const Principal kAnna{"user:anna.berg", {"pricing_approver"}, "tillroll-console"};
const Principal kTom{"user:tom.richter", {"pricing_approver"}, "tillroll-console"};
const Principal kMira{"user:mira.schulz", {"promo_author"}, "promotion-platform"};
const Principal kLena{"user:lena.vogt", {"promo_approver"}, "promotion-platform"};
const Principal kPaul{"user:paul.roth", {"promo_approver"}, "promotion-platform"};
const Principal kAdmin{"user:greta.hansen", {"admin"}, "tillroll-admin"};

constexpr std::int64_t kNowNs = Day(10);
constexpr char kPromotion[] = "SPRING-10";
constexpr char kPromoStream[] = "promo/SPRING-10";

// A command line as `submit` reads it.
std::string Line(std::string_view command, const json& args, std::string_view key = "key-1") {
  return json{{"command", command}, {"idempotency_key", key}, {"args", args}}.dump();
}

ParsedCommand ParseLine(const std::string& line) {
  static EventJson converter;
  return ParseCommand(line, converter);
}

Command Parse(const std::string& line) {
  ParsedCommand parsed = ParseLine(line);
  std::string problems;
  for (const FieldProblem& p : parsed.problems) problems += p.path + ": " + p.reason + "\n";
  INFO(line << "\n" << problems);
  REQUIRE(parsed.problems.empty());
  REQUIRE(parsed.command.has_value());
  return std::move(*parsed.command);
}

Decision Run(const std::string& line, const Principal& principal, const FakeState& state,
             const GovernanceRules& rules = {}) {
  return Decide(Parse(line), principal, state, rules, kNowNs);
}

json PriceArgs(std::int64_t amount_minor, std::string_view type = "List",
               std::string_view sku = "4711") {
  return {{"sku", sku}, {"price_type", type}, {"amount_minor", amount_minor}, {"currency", "EUR"}};
}

void CheckRejected(const Decision& d, RejectionKind kind, const std::string& field,
                   const std::string& rule) {
  INFO("reason: " << d.reason);
  CHECK(d.outcome == AuditOutcome::Rejected);
  CHECK(d.rejection == kind);
  CHECK(d.field == field);
  CHECK(d.rule == rule);
  CHECK_FALSE(d.reason.empty());
  CHECK(d.events.empty());
}

// Event `i` of the decision, checked for its type, stream and expected version and against its
// payload's schema (as the executor builds it); returns its payload.
json EventAt(const Decision& d, std::size_t i, Payload type, const std::string& stream,
             std::int64_t expected_version) {
  REQUIRE(d.events.size() > i);
  const EventDraft& e = d.events[i];
  CHECK(e.type == type);
  CHECK(e.stream == stream);
  CHECK(e.expected_version == expected_version);
  json payload = json::parse(e.payload_json);
  static EventJson converter;
  const EventJson::Parsed parsed = converter.ParseUnsealed(json{
      {"stream", e.stream},
      {"expected_version", e.expected_version},
      {"payload_type", events::EnumNamePayload(e.type)},
      {"payload", payload}}.dump());
  std::string problems;
  for (const FieldProblem& p : parsed.problems) problems += p.path + ": " + p.reason + "\n";
  INFO(problems);
  CHECK(parsed.ok());
  return payload;
}

void CheckAccepted(const Decision& d, std::size_t event_count) {
  INFO("reason: " << d.reason << " field: " << d.field << " rule: " << d.rule);
  CHECK(d.outcome == AuditOutcome::Accepted);
  CHECK(d.rejection == RejectionKind::kNone);
  CHECK(d.events.size() == event_count);
}

// The pricing engine may write every price type; list price 1000 is in force at stream
// version 3.
FakeState PricingState() {
  FakeState state;
  for (const char* type : {"List", "Markdown", "Cost", "Floor"}) {
    state.authority[{"pricing-engine", "price", type}] = {true, "pricing-engine"};
  }
  state.stream_versions["price/4711"] = 3;
  state.prices[{"4711", PriceType::List}] = {1000, 7};
  return state;
}

TEST_CASE("Decide: set_price needs a role the command allows - a role granted by events counts",
          "[governance]") {
  FakeState state = PricingState();
  state.authority[{"promotion-platform", "price", "List"}] = {true, "promo-prices"};
  const std::string line = Line("set_price", PriceArgs(1100));

  const Decision author = Run(line, kMira, state);
  CheckRejected(author, RejectionKind::kForbidden, "", "roles:set_price");
  CHECK_THAT(author.reason, Catch::Contains("pricing_manager"));
  CHECK(author.roles == std::vector<std::string>{"promo_author"});
  CheckRejected(Run(line, kAdmin, state), RejectionKind::kForbidden, "", "roles:set_price");

  state.granted_roles["user:mira.schulz"] = {{.role = "pricing_manager", .everywhere = true}};
  const Decision granted = Run(line, kMira, state);
  CheckAccepted(granted, 1);
  CHECK(granted.roles == std::vector<std::string>{"pricing_manager", "promo_author"});
  CHECK(granted.subject == "price/4711");
  const json price = EventAt(granted, 0, Payload::PriceSet, "price/4711", 3);
  CHECK(price["amount_minor"] == 1100);
  CHECK(price["price_type"] == "List");
}

TEST_CASE("Decide: a role granted for some stores or channels counts only there", "[governance]") {
  FakeState state = PricingState();
  state.authority[{"promotion-platform", "price", "List"}] = {true, "promo-prices"};
  state.granted_roles["user:mira.schulz"] = {
      {.role = "pricing_manager", .channels = {"web"}, .stores = {"store-02"}}};
  auto at = [](json price, json scope) {
    price["scope"] = std::move(scope);
    return Line("set_price", price);
  };

  const Decision own_store =
      Run(at(PriceArgs(1100), {{"level", "Store"}, {"store", "store-02"}}), kMira, state);
  CheckAccepted(own_store, 1);
  CHECK(own_store.acting_role == "pricing_manager");
  CheckAccepted(Run(at(PriceArgs(1100), {{"level", "Channel"}, {"channel", "web"}}), kMira, state),
                1);

  const Decision other_store =
      Run(at(PriceArgs(1100), {{"level", "Store"}, {"store", "store-01"}}), kMira, state);
  CheckRejected(other_store, RejectionKind::kForbidden, "", "roles:set_price");
  CHECK_THAT(other_store.reason,
             Catch::Contains("holds pricing_manager only at channel web, store store-02"));
  CHECK(other_store.roles == std::vector<std::string>{"promo_author"});

  const Decision global = Run(Line("set_price", PriceArgs(1100)), kMira, state);
  CheckRejected(global, RejectionKind::kForbidden, "", "roles:set_price");
  CHECK_THAT(global.reason, Catch::Contains("set_price acts ledger-wide"));

  // A role held everywhere holds at every store too.
  state.granted_roles["user:mira.schulz"] = {{.role = "pricing_manager", .everywhere = true}};
  CheckAccepted(Run(at(PriceArgs(1100), {{"level", "Store"}, {"store", "store-01"}}), kMira, state),
                1);
}

TEST_CASE("Decide: a source system writes only the prices an authority rule allows",
          "[governance]") {
  FakeState state;
  state.authority[{"odoo", "price", "List"}] = {false, "odoo-deny"};
  state.authority[{"odoo", "price", "Cost"}] = {true, "odoo"};
  state.stream_versions["price/4711"] = 2;

  const Decision denied = Run(Line("set_price", PriceArgs(900, "List")), kOdoo, state);
  CheckRejected(denied, RejectionKind::kForbidden, "args.price_type", "authority:odoo-deny");
  CHECK_THAT(denied.reason, Catch::Contains("'odoo'"));

  const Decision unmatched = Run(Line("set_price", PriceArgs(900, "Markdown")), kOdoo, state);
  CheckRejected(unmatched, RejectionKind::kForbidden, "args.price_type", "authority:none");
  CHECK_THAT(unmatched.reason, Catch::Contains("no authority rule allows it"));

  const Decision allowed = Run(Line("set_price", PriceArgs(640, "Cost")), kOdoo, state);
  CheckAccepted(allowed, 1);
  const json cost = EventAt(allowed, 0, Payload::PriceSet, "price/4711", 2);
  CHECK(cost["price_type"] == "Cost");
  CHECK(cost["amount_minor"] == 640);

  // Promotions have no price type: the rejection names no field.
  const json rule = {{"reward", {{"kind", "PercentOff"}, {"percent_bps", 1000}}},
                     {"currency", "EUR"}};
  const std::string draft =
      Line("draft_promotion", {{"promotion_id", kPromotion}, {"name", "Spring"}, {"rule", rule}});
  CheckRejected(Run(draft, kMira, state), RejectionKind::kForbidden, "", "authority:none");
  state.authority[{"promotion-platform", "promotion", ""}] = {true, "promotion-platform"};
  CheckAccepted(Run(draft, kMira, state), 1);
}

TEST_CASE("Decide: a selling-price move above the threshold is held for a pricing_approver",
          "[governance]") {
  const FakeState state = PricingState();
  const GovernanceRules rules{.price_change_bps_max = 2000};

  // +20% exactly is within the threshold.
  const Decision at_threshold =
      Run(Line("set_price", PriceArgs(1200)), kPricingEngine, state, rules);
  CheckAccepted(at_threshold, 1);
  CHECK(EventAt(at_threshold, 0, Payload::PriceSet, "price/4711", 3)["amount_minor"] == 1200);

  const Decision above =
      Run(Line("set_price", PriceArgs(1201), "run-9:4711"), kPricingEngine, state, rules);
  INFO(above.reason);
  CHECK(above.outcome == AuditOutcome::HeldForApproval);
  CHECK(above.rejection == RejectionKind::kNone);
  CHECK(above.rule == "four_eyes:price_change");
  REQUIRE(above.events.size() == 1);
  const json proposal = EventAt(above, 0, Payload::PriceChangeProposed, "price/4711", 3);
  CHECK(proposal["proposal_id"] == "proposal:service:pricing-engine:run-9:4711");
  CHECK(proposal["amount_minor"] == 1201);
  CHECK(proposal["change_bps"] == 2010);
  CHECK(proposal["old_amount_minor"] == 1000);
  CHECK(proposal["old_price_seq"] == 7);
  CHECK(proposal["approval_reason"] == "moves the price by 2010 bps, more than 2000");

  // A cut is measured the same way: -20% passes, -30% is held.
  CheckAccepted(Run(Line("set_price", PriceArgs(800)), kPricingEngine, state, rules), 1);
  const Decision cut = Run(Line("set_price", PriceArgs(700)), kPricingEngine, state, rules);
  CHECK(cut.outcome == AuditOutcome::HeldForApproval);
  CHECK(EventAt(cut, 0, Payload::PriceChangeProposed, "price/4711", 3)["change_bps"] == -3000);

  // A stricter policy holds what the default lets through.
  const Decision strict = Run(Line("set_price", PriceArgs(1200)), kPricingEngine, state,
                              GovernanceRules{.price_change_bps_max = 1000});
  CHECK(strict.outcome == AuditOutcome::HeldForApproval);
}

TEST_CASE("Decide: a price below the floor or below cost is held - a cost price never is",
          "[governance]") {
  FakeState state = PricingState();
  state.prices[{"4711", PriceType::Floor}] = {960, 8};
  const std::string line = Line("set_price", PriceArgs(950));

  const Decision below_floor = Run(line, kPricingEngine, state);
  CHECK(below_floor.outcome == AuditOutcome::HeldForApproval);
  const json floor_proposal =
      EventAt(below_floor, 0, Payload::PriceChangeProposed, "price/4711", 3);
  CHECK(floor_proposal["approval_reason"] == "below the floor price 960");
  CHECK(floor_proposal["change_bps"] == -500);
  CheckAccepted(Run(Line("set_price", PriceArgs(960)), kPricingEngine, state), 1);

  state.prices.erase({"4711", PriceType::Floor});
  state.prices[{"4711", PriceType::Cost}] = {980, 9};
  const Decision below_cost = Run(line, kPricingEngine, state);
  CHECK(below_cost.outcome == AuditOutcome::HeldForApproval);
  CHECK(EventAt(below_cost, 0, Payload::PriceChangeProposed, "price/4711", 3)["approval_reason"] ==
        "below cost 980");
  CheckAccepted(Run(Line("set_price", PriceArgs(980)), kPricingEngine, state), 1);

  // A first price has nothing to move from: only floor and cost apply.
  CheckAccepted(Run(Line("set_price", PriceArgs(5000, "List", "42")), kPricingEngine, state), 1);

  // Cost is not a selling price: a 90% move is accepted at once.
  const Decision cost = Run(Line("set_price", PriceArgs(98, "Cost")), kPricingEngine, state);
  CheckAccepted(cost, 1);
  CHECK(EventAt(cost, 0, Payload::PriceSet, "price/4711", 3)["amount_minor"] == 98);
}

TEST_CASE("Decide: a held proposal fits its schema however far the price moves", "[governance]") {
  FakeState state = PricingState();
  state.prices[{"4711", PriceType::List}] = {1, 7};
  // 1 → 1000000 is 9999990000 bps: change_bps (an int) is clamped, and the change is held.
  const Decision rise = Run(Line("set_price", PriceArgs(1'000'000)), kPricingEngine, state);
  CHECK(rise.outcome == AuditOutcome::HeldForApproval);
  EventAt(rise, 0, Payload::PriceChangeProposed, "price/4711", 3);
}

FakeState ProposalState(const std::string& proposer) {
  FakeState state = PricingState();
  state.stream_versions["price/4711"] = 4;  // the proposal is event 4
  const json proposed = {{"proposal_id", "P-1"},
                         {"sku", "4711"},
                         {"price_type", "List"},
                         {"amount_minor", 700},
                         {"currency", "EUR"},
                         {"reason", "clearance"},
                         {"approval_reason", "30% cut"},
                         {"old_amount_minor", 1000},
                         {"old_price_seq", 7},
                         {"change_bps", -3000}};
  state.proposals["P-1"] = {"P-1", "4711", proposer, "pending", proposed.dump()};
  return state;
}

TEST_CASE("Decide: a price proposal is decided by a pricing_approver other than its proposer",
          "[governance]") {
  FakeState state = ProposalState("user:anna.berg");
  const std::string approve = Line("approve_price_change", {{"proposal_id", "P-1"}});

  // Anna may approve prices but proposed this one herself.
  const Principal anna_managing{
      kAnna.id, {"pricing_approver", "pricing_manager"}, kAnna.source_system};
  const Decision own = Run(approve, anna_managing, state);
  CheckRejected(own, RejectionKind::kForbidden, "args.proposal_id", "separation_of_duties");
  CHECK(own.subject == "price/4711");

  // The proposer without the approver role is stopped earlier, by its roles.
  CheckRejected(Run(approve, kPricingEngine, ProposalState(kPricingEngine.id)),
                RejectionKind::kForbidden, "", "roles:approve_price_change");

  const Decision approved = Run(approve, kTom, state);
  CheckAccepted(approved, 2);
  CHECK(approved.subject == "price/4711");
  CHECK(EventAt(approved, 0, Payload::PriceChangeApproved, "price/4711", 4)["proposal_id"] ==
        "P-1");
  const json price = EventAt(approved, 1, Payload::PriceSet, "price/4711", 5);
  CHECK(price["proposal_id"] == "P-1");
  CHECK(price["amount_minor"] == 700);
  CHECK(price["price_type"] == "List");
  CHECK(price["reason"] == "clearance");
  CHECK_FALSE(price.contains("change_bps"));
  CHECK_FALSE(price.contains("approval_reason"));

  const Decision rejected = Run(
      Line("reject_price_change", {{"proposal_id", "P-1"}, {"reason", "too deep"}}), kTom, state);
  CheckAccepted(rejected, 1);
  CHECK(EventAt(rejected, 0, Payload::PriceChangeRejected, "price/4711", 4)["reason"] ==
        "too deep");

  state.proposals["P-1"].state = "approved";
  const Decision again = Run(approve, kTom, state);
  CheckRejected(again, RejectionKind::kRefused, "", "four_eyes");
  CHECK_THAT(again.reason, Catch::Contains("already approved"));
  CheckRejected(Run(Line("approve_price_change", {{"proposal_id", "P-404"}}), kTom, state),
                RejectionKind::kRefused, "", "four_eyes");
}

// A promotion rule: percent off the order, valid Day(1)..to_ns, with a budget unless 0.
json Rule(std::int32_t percent_bps, std::int64_t to_ns = Day(30),
          std::int64_t budget_minor = 100'000) {
  json rule = {
      {"reward", {{"kind", "PercentOff"}, {"target", "Order"}, {"percent_bps", percent_bps}}},
      {"funding", json::array({{{"party", "vendor:acme"}, {"share_bps", 6000}},
                               {{"party", "retailer"}, {"share_bps", 4000}}})},
      {"valid", {{"from_ns", Day(1)}, {"to_ns", to_ns}}},
      {"currency", "EUR"}};
  if (budget_minor != 0) rule["limits"] = {{"budget_minor", budget_minor}};
  return rule;
}

// The bytes of version `version`'s PromotionDrafted, unsealed, as the state keeps them.
std::string DraftedEvent(const json& rule, std::uint32_t version) {
  static EventJson converter;
  const EventJson::Parsed parsed = converter.ParseUnsealed(
      json{{"stream", kPromoStream},
           {"payload_type", "PromotionDrafted"},
           {"payload", {{"promotion_id", kPromotion}, {"version", version}, {"rule", rule}}}}
          .dump());
  REQUIRE(parsed.ok());
  return parsed.bytes;
}

DecisionState::PromotionVersion Version(std::uint32_t version, std::string state,
                                        std::vector<std::string> approvers = {},
                                        const json& rule = Rule(1000)) {
  return {version,       std::move(state),           kMira.id, std::move(approvers),
          100 + version, DraftedEvent(rule, version)};
}

// SPRING-10 with the given versions at stream version 6.
FakeState PromotionState(std::vector<DecisionState::PromotionVersion> versions,
                         std::uint32_t live_version = 0) {
  FakeState state;
  state.authority[{"promotion-platform", "promotion", ""}] = {true, "promotion-platform"};
  state.stream_versions[kPromoStream] = 6;
  state.promotions[kPromotion] = {std::move(versions), live_version};
  return state;
}

std::string Step(std::string_view command, std::uint32_t version) {
  return Line(command, {{"promotion_id", kPromotion}, {"version", version}});
}

std::string Publish(std::uint32_t version, std::int64_t from_ns = Day(2),
                    std::int64_t to_ns = Day(20)) {
  return Line("publish_promotion", {{"promotion_id", kPromotion},
                                    {"version", version},
                                    {"window", {{"from_ns", from_ns}, {"to_ns", to_ns}}}});
}

std::string Draft(std::string_view command, const json& rule) {
  return Line(command, {{"promotion_id", kPromotion}, {"name", "Spring 10%"}, {"rule", rule}});
}

TEST_CASE("Decide: draft assigns version 1 and amend the next - drafting twice is refused",
          "[governance]") {
  FakeState fresh = PromotionState({});
  fresh.promotions.clear();
  fresh.stream_versions.erase(kPromoStream);
  const Decision drafted = Run(Draft("draft_promotion", Rule(1000)), kMira, fresh);
  CheckAccepted(drafted, 1);
  CHECK(drafted.subject == kPromoStream);
  const json first = EventAt(drafted, 0, Payload::PromotionDrafted, kPromoStream, 0);
  CHECK(first["version"] == 1);
  CHECK(first["rule"]["reward"]["percent_bps"] == 1000);
  CheckRejected(Run(Draft("amend_promotion", Rule(1000)), kMira, fresh), RejectionKind::kRefused,
                "", "workflow");

  // Amending while version 1 is live drafts version 2 and leaves version 1 alone.
  const FakeState live = PromotionState({Version(1, "published", {kLena.id})}, 1);
  const Decision existing = Run(Draft("draft_promotion", Rule(1000)), kMira, live);
  CheckRejected(existing, RejectionKind::kRefused, "", "workflow");
  CHECK_THAT(existing.reason, Catch::Contains("amend_promotion"));
  const Decision amended = Run(Draft("amend_promotion", Rule(2000)), kMira, live);
  CheckAccepted(amended, 1);
  const json second = EventAt(amended, 0, Payload::PromotionDrafted, kPromoStream, 6);
  CHECK(second["version"] == 2);
  CHECK(second["rule"]["reward"]["percent_bps"] == 2000);

  const FakeState three = PromotionState(
      {Version(1, "published", {kLena.id}), Version(2, "rejected"), Version(3, "drafted")}, 1);
  CHECK(EventAt(Run(Draft("amend_promotion", Rule(1500)), kMira, three), 0,
                Payload::PromotionDrafted, kPromoStream, 6)["version"] == 4);

  const FakeState withdrawn = PromotionState({Version(1, "withdrawn", {kLena.id})});
  const Decision ended = Run(Draft("amend_promotion", Rule(1000)), kMira, withdrawn);
  CheckRejected(ended, RejectionKind::kRefused, "", "workflow");
  CHECK_THAT(ended.reason, Catch::Contains("is withdrawn"));
}

TEST_CASE("Decide: each promotion step needs its state and an illegal one names the current",
          "[governance]") {
  struct Case {
    const char* command;
    const char* allowed_from;
    const char* refused_from;
    Payload emitted;
  };
  const Case cases[] = {
      {"submit_promotion", "drafted", "published", Payload::PromotionSubmitted},
      {"pause_promotion", "published", "approved", Payload::PromotionPaused},
      {"resume_promotion", "paused", "published", Payload::PromotionResumed},
      {"withdraw_promotion", "published", "drafted", Payload::PromotionWithdrawn},
      {"withdraw_promotion", "paused", "submitted", Payload::PromotionWithdrawn},
      {"reject_promotion", "submitted", "drafted", Payload::PromotionRejected},
  };
  for (const Case& c : cases) {
    INFO(c.command << " from " << c.allowed_from);
    const Principal& sender = std::string_view(c.command) == "reject_promotion" ? kLena : kMira;
    const Decision ok =
        Run(Step(c.command, 1), sender, PromotionState({Version(1, c.allowed_from)}));
    CheckAccepted(ok, 1);
    const json step = EventAt(ok, 0, c.emitted, kPromoStream, 6);
    CHECK(step["promotion_id"] == kPromotion);
    CHECK(step["version"] == 1);

    const Decision refused =
        Run(Step(c.command, 1), sender, PromotionState({Version(1, c.refused_from)}));
    CheckRejected(refused, RejectionKind::kRefused, "", "workflow");
    CHECK_THAT(refused.reason, Catch::Contains(std::string("is ") + c.refused_from));
  }

  const Decision missing =
      Run(Step("submit_promotion", 2), kMira, PromotionState({Version(1, "drafted")}));
  CheckRejected(missing, RejectionKind::kInvalid, "args.version", "");
  FakeState none = PromotionState({});
  none.promotions.clear();
  CheckRejected(Run(Step("submit_promotion", 1), kMira, none), RejectionKind::kRefused, "",
                "workflow");
}

TEST_CASE("Decide: nobody approves their own promotion or one version twice", "[governance]") {
  // The author also holds the approver role, so only separation of duties stops her.
  const Principal mira_approving{kMira.id, {"promo_approver", "promo_author"}, kMira.source_system};
  const Decision own =
      Run(Step("approve_promotion", 1), mira_approving, PromotionState({Version(1, "submitted")}));
  CheckRejected(own, RejectionKind::kForbidden, "args.version", "separation_of_duties");
  CheckRejected(
      Run(Step("reject_promotion", 1), mira_approving, PromotionState({Version(1, "submitted")})),
      RejectionKind::kForbidden, "args.version", "separation_of_duties");

  const Decision first =
      Run(Step("approve_promotion", 1), kLena, PromotionState({Version(1, "submitted")}));
  CheckAccepted(first, 1);
  CHECK(EventAt(first, 0, Payload::PromotionApproved, kPromoStream, 6)["version"] == 1);

  const FakeState approved_once = PromotionState({Version(1, "approved", {kLena.id})});
  const Decision twice = Run(Step("approve_promotion", 1), kLena, approved_once);
  CheckRejected(twice, RejectionKind::kForbidden, "", "separation_of_duties");
  CHECK_THAT(twice.reason, Catch::Contains("already approved"));
  CheckAccepted(Run(Step("approve_promotion", 1), kPaul, approved_once), 1);
  CheckRejected(Run(Step("approve_promotion", 1), kLena, PromotionState({Version(1, "drafted")})),
                RejectionKind::kRefused, "", "workflow");
}

TEST_CASE(
    "Decide: publishing needs one approval - two above the percent threshold or "
    "without an end or a budget",
    "[governance]") {
  const GovernanceRules rules{.promotion_percent_bps_max = 3000};
  struct Case {
    const char* what;
    json rule;
    std::size_t approvals_needed;
    const char* because;
  };
  const Case cases[] = {
      {"10% with an end and a budget", Rule(1000), 1, ""},
      {"30% exactly", Rule(3000), 1, ""},
      {"30.01%", Rule(3001), 2, "above 3000"},
      {"40%", Rule(4000), 2, "above 3000"},
      {"no end date", Rule(1000, 0), 2, "no end date"},
      {"no budget", Rule(1000, Day(30), 0), 2, "no budget"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    if (c.approvals_needed == 2) {
      const Decision one = Run(Publish(1), kMira,
                               PromotionState({Version(1, "approved", {kLena.id}, c.rule)}), rules);
      CheckRejected(one, RejectionKind::kRefused, "", "four_eyes:promotion");
      CHECK_THAT(one.reason, Catch::Contains("needs 2"));
      CHECK_THAT(one.reason, Catch::Contains(c.because));
    }
    const std::vector<std::string> approvers = c.approvals_needed == 1
                                                   ? std::vector<std::string>{kLena.id}
                                                   : std::vector<std::string>{kLena.id, kPaul.id};
    const Decision published =
        Run(Publish(1), kMira, PromotionState({Version(1, "approved", approvers, c.rule)}), rules);
    CheckAccepted(published, 1);
    const json p = EventAt(published, 0, Payload::PromotionPublished, kPromoStream, 6);
    CHECK(p["rule_snapshot_seq"] == 101);
    CHECK_FALSE(p.contains("supersedes_version"));
  }

  // The helper's draft has no budget: it needs two approvers.
  FakeState no_budget = PromotionState({Version(1, "approved", {kLena.id})});
  no_budget.promotions[kPromotion].versions[0].drafted_event =
      PromotionDraftedEvent({.id = kPromotion, .valid_from_ns = Day(1), .valid_to_ns = Day(30)});
  const Decision helper = Run(Publish(1), kMira, no_budget, rules);
  CheckRejected(helper, RejectionKind::kRefused, "", "four_eyes:promotion");
  CHECK_THAT(helper.reason, Catch::Contains("no budget"));

  // Publishing needs an approved version at all.
  const Decision submitted =
      Run(Publish(1), kMira, PromotionState({Version(1, "submitted")}), rules);
  CheckRejected(submitted, RejectionKind::kRefused, "", "workflow");
  CHECK_THAT(submitted.reason, Catch::Contains("is submitted"));
}

TEST_CASE("Decide: publish snapshots the drafted rule and supersedes the live version",
          "[governance]") {
  // Version 2 was drafted while version 1 is live; version 1 stays live until 2 is published.
  const FakeState state = PromotionState(
      {Version(1, "published", {kLena.id}), Version(2, "approved", {kPaul.id}, Rule(1500))}, 1);
  const Decision published = Run(Publish(2), kLena, state);
  CheckAccepted(published, 1);
  const json p = EventAt(published, 0, Payload::PromotionPublished, kPromoStream, 6);
  CHECK(p["version"] == 2);
  CHECK(p["rule_snapshot_seq"] == 102);
  CHECK(p["supersedes_version"] == 1);

  // The window must be given and lie inside the rule's valid window.
  CheckRejected(
      Run(Line("publish_promotion", {{"promotion_id", kPromotion}, {"version", 2}}), kLena, state),
      RejectionKind::kInvalid, "args.window", "");
  CheckRejected(Run(Publish(2, Day(2), Day(40)), kLena, state), RejectionKind::kInvalid,
                "args.window", "");
  CheckRejected(Run(Publish(2, Day(5), Day(4)), kLena, state), RejectionKind::kInvalid,
                "args.window.to_ns", "");
}

TEST_CASE("Decide: invalid price arguments are rejected with their field path", "[governance]") {
  const FakeState state = PricingState();
  json args = PriceArgs(1100);
  args["currency"] = "EURO";
  CheckRejected(Run(Line("set_price", args), kPricingEngine, state), RejectionKind::kInvalid,
                "args.currency", "");
  args["currency"] = "eur";
  CheckRejected(Run(Line("set_price", args), kPricingEngine, state), RejectionKind::kInvalid,
                "args.currency", "");

  CheckRejected(Run(Line("set_price", PriceArgs(-1)), kPricingEngine, state),
                RejectionKind::kInvalid, "args.amount_minor", "");
  CheckAccepted(Run(Line("set_price", PriceArgs(1000)), kPricingEngine, state), 1);

  args = PriceArgs(1100);
  args["valid"] = {{"from_ns", Day(5)}, {"to_ns", Day(5)}};
  CheckRejected(Run(Line("set_price", args), kPricingEngine, state), RejectionKind::kInvalid,
                "args.valid.to_ns", "");
  args["valid"] = {{"from_ns", Day(5)}, {"to_ns", Day(6)}};
  const Decision windowed = Run(Line("set_price", args), kPricingEngine, state);
  CheckAccepted(windowed, 1);
  CHECK(EventAt(windowed, 0, Payload::PriceSet, "price/4711", 3)["valid"]["to_ns"] == Day(6));

  args = PriceArgs(1100);
  args["scope"] = {{"level", "Store"}};
  CheckRejected(Run(Line("set_price", args), kPricingEngine, state), RejectionKind::kInvalid,
                "args.scope", "");
  args["scope"]["store"] = "store-12";
  CheckAccepted(Run(Line("set_price", args), kPricingEngine, state), 1);
}

TEST_CASE("Decide: inconsistent promotion rules are rejected with their field path",
          "[governance]") {
  FakeState state = PromotionState({});
  state.promotions.clear();
  state.stream_versions.erase(kPromoStream);

  json rule = Rule(1000);
  rule["reward"] = {
      {"kind", "BuyXGetY"}, {"buy_qty", 0}, {"get_qty", 1}, {"get_percent_bps", 10000}};
  CheckRejected(Run(Draft("draft_promotion", rule), kMira, state), RejectionKind::kInvalid,
                "args.rule.reward.buy_qty", "");
  rule["reward"]["buy_qty"] = 2;
  CheckAccepted(Run(Draft("draft_promotion", rule), kMira, state), 1);

  rule = Rule(1000);
  rule["funding"][1]["share_bps"] = 3000;
  const Decision funding = Run(Draft("draft_promotion", rule), kMira, state);
  CheckRejected(funding, RejectionKind::kInvalid, "args.rule.funding", "");
  CHECK_THAT(funding.reason, Catch::Contains("9000"));
  rule["funding"][1]["share_bps"] = 4000;
  CheckAccepted(Run(Draft("draft_promotion", rule), kMira, state), 1);

  rule = Rule(1000);
  rule["reward"] = {{"kind", "TieredSpend"},
                    {"tiers", json::array({{{"threshold_minor", 5000}, {"discount_minor", 500}},
                                           {{"threshold_minor", 5000}, {"discount_minor", 900}}})}};
  CheckRejected(Run(Draft("draft_promotion", rule), kMira, state), RejectionKind::kInvalid,
                "args.rule.reward.tiers[1].threshold_minor", "");
  rule["reward"]["tiers"][1]["threshold_minor"] = 10000;
  const Decision tiered = Run(Draft("draft_promotion", rule), kMira, state);
  CheckAccepted(tiered, 1);
  CHECK(EventAt(tiered, 0, Payload::PromotionDrafted, kPromoStream, 0)["rule"]["reward"]["tiers"]
            .size() == 2);

  rule = Rule(1000);
  rule["currency"] = "EURO";
  CheckRejected(Run(Draft("draft_promotion", rule), kMira, state), RejectionKind::kInvalid,
                "args.rule.currency", "");
  rule = Rule(1000);
  rule["reward"]["percent_bps"] = 10001;
  CheckRejected(Run(Draft("draft_promotion", rule), kMira, state), RejectionKind::kInvalid,
                "args.rule.reward.percent_bps", "");
}

TEST_CASE("Decide: a command expecting another version of its stream is refused", "[governance]") {
  FakeState state = PricingState();  // price/4711 is at version 3
  json line = {{"command", "set_price"},
               {"idempotency_key", "key-1"},
               {"expected_version", 2},
               {"args", PriceArgs(1100)}};
  const Decision stale = Run(line.dump(), kPricingEngine, state);
  CheckRejected(stale, RejectionKind::kRefused, "expected_version", "expected_version");
  CHECK_THAT(stale.reason, Catch::Contains("is at version 3"));

  line["expected_version"] = 3;
  const Decision current = Run(line.dump(), kPricingEngine, state);
  CheckAccepted(current, 1);
  EventAt(current, 0, Payload::PriceSet, "price/4711", 3);

  // An approval checks the version of the price stream its proposal is about.
  state = ProposalState("service:pricing-engine");
  json approve = {{"command", "approve_price_change"},
                  {"idempotency_key", "key-2"},
                  {"expected_version", 3},
                  {"args", {{"proposal_id", "P-1"}}}};
  CheckRejected(Run(approve.dump(), kTom, state), RejectionKind::kRefused, "expected_version",
                "expected_version");
  approve["expected_version"] = 4;
  CheckAccepted(Run(approve.dump(), kTom, state), 2);
}

TEST_CASE("Decide: a sale redeems its coupon codes in the same decision - a bad code refuses it",
          "[governance][coupons]") {
  FakeState state;
  state.coupons["WELCOME-7K2P"] = {.program = "WELCOME"};
  state.coupons["VIP-ANNA"] = {.program = "VIP", .customer_id = "C-1"};
  state.coupons["USED-1"] = {.program = "WELCOME",
                             .unredeemable = "code USED-1 was already redeemed 1 time(s)"};
  state.stream_versions["coupon/WELCOME"] = 4;
  const Principal till{"service:pos-gateway", {"checkout"}, "pos"};
  auto sale = [](std::vector<std::string> codes, std::string_view customer = "") {
    json args = {
        {"order_id", "R-1"},
        {"currency", "EUR"},
        {"lines", {{{"line_no", 1}, {"sku", "4711"}, {"qty", 1}, {"unit_price_minor", 500}}}},
        {"coupon_codes", codes}};
    if (!customer.empty()) args["customer"] = {{"customer_id", customer}};
    return Line("record_sale", args);
  };

  const Decision ok = Run(sale({"WELCOME-7K2P", "VIP-ANNA"}, "C-1"), till, state);
  CheckAccepted(ok, 3);
  EventAt(ok, 0, Payload::SaleRecorded, "order/R-1", 0);
  const json welcome = EventAt(ok, 1, Payload::CouponRedeemed, "coupon/WELCOME", 4);
  CHECK(welcome["code"] == "WELCOME-7K2P");
  CHECK(welcome["order_id"] == "R-1");
  CHECK(welcome["customer_id"] == "C-1");
  CHECK(EventAt(ok, 2, Payload::CouponRedeemed, "coupon/VIP", 0)["program"] == "VIP");

  CheckRejected(Run(sale({"NOPE"}), till, state), RejectionKind::kInvalid, "args.coupon_codes[0]",
                "");
  CheckRejected(Run(sale({"WELCOME-7K2P", "WELCOME-7K2P"}), till, state), RejectionKind::kInvalid,
                "args.coupon_codes[1]", "");
  const Decision used = Run(sale({"USED-1"}), till, state);
  CheckRejected(used, RejectionKind::kRefused, "", "coupons");
  CHECK_THAT(used.reason, Catch::Contains("already redeemed"));
  CheckRejected(Run(sale({"VIP-ANNA"}, "C-2"), till, state), RejectionKind::kRefused, "",
                "coupons");
}

TEST_CASE("Decide: a code is issued once across programs and voided once",
          "[governance][coupons]") {
  FakeState state;
  state.authority[{"promotion-platform", "coupon", ""}] = {true, "promotion-platform-coupons"};
  state.coupons["SPRING-1"] = {.program = "SPRING"};
  state.coupons["SPRING-2"] = {.program = "SPRING", .voided = true};
  const Principal platform{"service:promotion-platform", {"promo_author"}, "promotion-platform"};
  CheckAccepted(
      Run(Line("issue_coupons", {{"program", "SUMMER"}, {"codes", {"SUMMER-1"}}}), platform, state),
      1);
  CheckRejected(
      Run(Line("issue_coupons", {{"program", "SUMMER"}, {"codes", {"SUMMER-2", "SPRING-1"}}}),
          platform, state),
      RejectionKind::kInvalid, "args.codes[1]", "");
  CheckAccepted(
      Run(Line("void_coupon", {{"program", "SPRING"}, {"code", "SPRING-1"}}), platform, state), 1);
  CheckRejected(
      Run(Line("void_coupon", {{"program", "SUMMER"}, {"code", "SPRING-1"}}), platform, state),
      RejectionKind::kInvalid, "args.code", "");
  CheckRejected(
      Run(Line("void_coupon", {{"program", "SPRING"}, {"code", "SPRING-2"}}), platform, state),
      RejectionKind::kRefused, "", "coupons");
}

TEST_CASE("Decide: a channel - region or store not in the configured places is invalid",
          "[governance]") {
  FakeState state = PricingState();
  GovernanceRules rules;
  rules.channels = {"pos", "web"};
  rules.stores = {"store-01"};  // regions: not configured, not checked
  auto price_at = [](const json& scope) {
    json args = PriceArgs(1050);
    args["scope"] = scope;
    return Line("set_price", args);
  };
  CheckAccepted(
      Run(price_at({{"level", "Store"}, {"store", "store-01"}}), kPricingEngine, state, rules), 1);
  CheckRejected(
      Run(price_at({{"level", "Store"}, {"store", "store-99"}}), kPricingEngine, state, rules),
      RejectionKind::kInvalid, "args.scope.store", "");
  CheckRejected(
      Run(price_at({{"level", "Channel"}, {"channel", "fax"}}), kPricingEngine, state, rules),
      RejectionKind::kInvalid, "args.scope.channel", "");
  CheckAccepted(
      Run(price_at({{"level", "Region"}, {"region", "anywhere"}}), kPricingEngine, state, rules),
      1);

  const Principal till{"service:pos-gateway", {"checkout"}, "pos"};
  json sale = {
      {"order_id", "R-1"},
      {"currency", "EUR"},
      {"channel", "pos"},
      {"store", "store-02"},
      {"lines", {{{"line_no", 1}, {"sku", "4711"}, {"qty", 1}, {"unit_price_minor", 500}}}}};
  CheckRejected(Run(Line("record_sale", sale), till, state, rules), RejectionKind::kInvalid,
                "args.store", "");
  sale["store"] = "store-01";
  CheckAccepted(Run(Line("record_sale", sale), till, state, rules), 1);
}

std::vector<std::string> ProblemPaths(const std::string& line) {
  std::vector<std::string> paths;
  for (const FieldProblem& p : ParseLine(line).problems) paths.push_back(p.path);
  return paths;
}

TEST_CASE("ParseCommand: each problem names its field path", "[governance]") {
  const json args = PriceArgs(1100);
  CHECK(ProblemPaths(Line("set_prices", args)) == std::vector<std::string>{"command"});
  CHECK_THAT(ParseLine(Line("set_prices", args)).problems.front().reason,
             Catch::Contains("unknown command 'set_prices'"));
  CHECK(ProblemPaths(json{{"command", "set_price"}, {"args", args}}.dump()) ==
        std::vector<std::string>{"idempotency_key"});
  CHECK(ProblemPaths(
            json{{"command", "set_price"}, {"idempotency_key", ""}, {"args", args}}.dump()) ==
        std::vector<std::string>{"idempotency_key"});
  CHECK(ProblemPaths(json{
            {"command", "set_price"}, {"idempotency_key", "k"}, {"colour", "red"}, {"args", args}}
                         .dump()) == std::vector<std::string>{"colour"});
  json wrong = args;
  wrong["amount_minor"] = "12.99";
  CHECK(ProblemPaths(Line("set_price", wrong)) == std::vector<std::string>{"args.amount_minor"});
  CHECK(ProblemPaths(R"({"command":"set_price","idempotency_key":"k"})") ==
        std::vector<std::string>{"args"});
  CHECK(ProblemPaths("not json") == std::vector<std::string>{""});

  const ParsedCommand ok = ParseLine(json{
      {"command", "set_price"},
      {"idempotency_key", "run-1:4711"},
      {"expected_version", 3},
      {"correlation_id", "req-1"},
      {"args", args}}.dump());
  REQUIRE(ok.problems.empty());
  REQUIRE(ok.command.has_value());
  CHECK(ok.command->type == CommandType::kSetPrice);
  CHECK(ok.command->idempotency_key == "run-1:4711");
  CHECK(ok.command->expected_version == 3);
  CHECK(ok.command->correlation_id == "req-1");
  CHECK(ok.command->args_event().payload_as_PriceSet()->amount_minor() == 1100);
}

TEST_CASE("ParseCommand: fields the ledger assigns are refused in args", "[governance]") {
  json draft = {{"promotion_id", kPromotion}, {"version", 3}, {"rule", Rule(1000)}};
  CHECK(ProblemPaths(Line("draft_promotion", draft)) == std::vector<std::string>{"args.version"});
  CHECK(ProblemPaths(Line("amend_promotion", draft)) == std::vector<std::string>{"args.version"});
  draft.erase("version");
  CHECK(ProblemPaths(Line("draft_promotion", draft)).empty());

  json publish = {{"promotion_id", kPromotion},
                  {"version", 1},
                  {"window", {{"from_ns", Day(2)}, {"to_ns", Day(20)}}},
                  {"rule_snapshot_seq", 42}};
  CHECK(ProblemPaths(Line("publish_promotion", publish)) ==
        std::vector<std::string>{"args.rule_snapshot_seq"});
  publish.erase("rule_snapshot_seq");
  publish["supersedes_version"] = 1;
  CHECK(ProblemPaths(Line("publish_promotion", publish)) ==
        std::vector<std::string>{"args.supersedes_version"});
  publish.erase("supersedes_version");
  CHECK(ProblemPaths(Line("publish_promotion", publish)).empty());
}

TEST_CASE("ParseCommand: set_price cannot claim to carry out a proposal", "[governance]") {
  // Only an approved proposal's price carries proposal_id; a sender cannot claim one.
  json args = PriceArgs(1100);
  args["proposal_id"] = "P-1";
  CHECK(ProblemPaths(Line("set_price", args)) == std::vector<std::string>{"args.proposal_id"});
}

}  // namespace
}  // namespace tillroll::testing
