// The command path over a real ledger: the executor decides on projections it catches up, and
// appends the audit record with the decided events. Proves that a concurrent change of a stream
// between deciding and appending makes it decide again on the new state (never a decision on
// stale state), and that the expiry scheduler records PromotionExpired once, when the published
// window has ended; and that the audit record and the decided events carry the actor, roles,
// args hash, correlation and causation a reader of the audit trail relies on.

#include "engine/command_executor.h"

#include <nlohmann/json.hpp>

#include "engine/event_chain.h"
#include "engine/limits.h"
#include "projections/decision_state.h"
#include "tests/unit/projections/ledger_fixture.h"

namespace tillroll::testing {
namespace {

using json = nlohmann::json;

const Principal kAuthor{"user:mira.schulz", {"promo_author"}, "promotion-platform"};
const Principal kApprover{"user:lena.vogt", {"promo_approver"}, "promotion-platform"};
const Principal kAdmin{"user:greta.hansen", {"admin"}, "tillroll-admin"};

Command Parse(std::string_view name, const json& args, const std::string& key) {
  EventJson converter;
  ParsedCommand parsed = ParseCommand(
      json{{"command", name}, {"idempotency_key", key}, {"args", args}}.dump(), converter);
  INFO((parsed.problems.empty()
            ? ""
            : parsed.problems.front().path + ": " + parsed.problems.front().reason));
  REQUIRE(parsed.command.has_value());
  return std::move(*parsed.command);
}

TEST_CASE("Commands: a parsed document gives what its line gives, and an overlong line is refused",
          "[commands]") {
  EventJson converter;
  const std::vector<json> lines = {
      {{"command", "set_price"},
       {"idempotency_key", "k-1"},
       {"expected_version", 2},
       {"args",
        {{"sku", "SKU-1"}, {"price_type", "List"}, {"amount_minor", 1299}, {"currency", "EUR"}}}},
      {{"command", "set_price"}, {"idempotency_key", "k-2"}, {"args", {{"sku", 7}}}},
      {{"command", "no_such_command"}, {"args", json::object()}},
      {{"command", "set_price"}, {"idempotency_key", "k-3"}, {"bogus", true}},
      json::array({1, 2})};
  for (const json& line : lines) {
    INFO(line.dump());
    const ParsedCommand from_line = ParseCommand(line.dump(), converter);
    const ParsedCommand from_document = ParseCommandDocument(line, converter);
    REQUIRE(from_document.command.has_value() == from_line.command.has_value());
    if (from_line.command) {
      CHECK(from_document.command->args == from_line.command->args);
      CHECK(from_document.command->args_json == from_line.command->args_json);
      CHECK(from_document.command->idempotency_key == from_line.command->idempotency_key);
      CHECK(from_document.command->expected_version == from_line.command->expected_version);
    }
    REQUIRE(from_document.problems.size() == from_line.problems.size());
    for (std::size_t i = 0; i < from_line.problems.size(); ++i) {
      CHECK(from_document.problems[i].path == from_line.problems[i].path);
      CHECK(from_document.problems[i].reason == from_line.problems[i].reason);
    }
  }
  // The first line is a command; padded past the line limit, its text is refused unparsed.
  const std::string padded = lines.front().dump() + std::string(limits::kJsonLineBytesMax, ' ');
  const ParsedCommand refused = ParseCommand(padded, converter);
  CHECK_FALSE(refused.command.has_value());
  REQUIRE(refused.problems.size() == 1);
  CHECK(refused.problems.front().reason.find("longer than") != std::string::npos);
}

class CommandLedger {
 public:
  CommandLedger()
      : state_(ledger_.log(), ledger_.runner()),
        executor_(ledger_.log(), state_, GovernanceRules{}, ledger_.clock(),
                  [this] { return CatchUp(); }) {}

  SubmitOutcome Submit(const Principal& p, std::string_view name, const json& args) {
    Result<SubmitOutcome> outcome =
        executor_.Submit(p, Parse(name, args, "k" + std::to_string(++keys_)));
    INFO((outcome.ok() ? "" : outcome.status().ToString()));
    REQUIRE(outcome.ok());
    return std::move(*outcome);
  }

  // Runs once before the next decision, after the state caught up: a concurrent writer.
  std::function<void()> before_next_decision;
  LedgerFixture& ledger() { return ledger_; }
  CommandExecutor& executor() { return executor_; }
  int catch_ups = 0;

 private:
  Status CatchUp() {
    ++catch_ups;
    Status s = ledger_.runner().CatchUp();
    if (before_next_decision) {
      auto concurrent = std::move(before_next_decision);
      before_next_decision = nullptr;
      concurrent();
    }
    return s;
  }

  LedgerFixture ledger_;
  projections::LedgerDecisionState state_;
  CommandExecutor executor_;
  int keys_ = 0;
};

json Rule(std::int64_t to_ns) {
  return {{"reward", {{"kind", "PercentOff"}, {"percent_bps", 1000}}},
          {"valid", {{"from_ns", Day(0)}, {"to_ns", to_ns}}},
          {"limits", {{"budget_minor", 100000}}},
          {"currency", "EUR"}};
}

void AllowPromotions(CommandLedger& c) {
  const SubmitOutcome rule = c.Submit(kAdmin, "set_authority_rule",
                                      {{"rule_id", "promo-platform"},
                                       {"source_system", "promotion-platform"},
                                       {"event_family", "promotion"},
                                       {"allow", true}});
  REQUIRE(rule.decision.outcome == events::AuditOutcome::Accepted);
}

TEST_CASE("CommandExecutor: a stream changed after deciding makes it decide again",
          "[governance]") {
  CommandLedger c;
  AllowPromotions(c);
  REQUIRE(c.Submit(kAuthor, "draft_promotion",
                   {{"promotion_id", "P"}, {"name", "10%"}, {"rule", Rule(Day(30))}})
              .decision.outcome == events::AuditOutcome::Accepted);
  // Between the catch-up and the append, another writer drafts version 2 on the same stream.
  c.before_next_decision = [&] {
    c.ledger().Append(PromotionDraftedEvent({.id = "P", .version = 2}), Day(0));
  };
  const int catch_ups = c.catch_ups;
  const SubmitOutcome amended =
      c.Submit(kAuthor, "amend_promotion",
               {{"promotion_id", "P"}, {"name", "12%"}, {"rule", Rule(Day(30))}});
  CHECK(amended.decision.outcome == events::AuditOutcome::Accepted);
  CHECK(c.catch_ups == catch_ups + 2);  // decided twice
  c.ledger().CatchUp();
  auto view = c.ledger().runner().promotions()->Describe("P", INT64_MAX);
  REQUIRE(view.ok());
  REQUIRE(view->versions.size() == 3);  // the concurrent version 2, then ours as version 3
  CHECK(view->versions[2].name == "12%");
}

TEST_CASE(
    "CommandExecutor: the audit record and the decided event say who acted, in which role, on "
    "which args and request",
    "[governance]") {
  CommandLedger c;
  AllowPromotions(c);
  const json args = {{"promotion_id", "P"}, {"name", "10%"}, {"rule", Rule(Day(30))}};
  Command command = Parse("draft_promotion", args, "draft-P");
  command.correlation_id = "req-42";
  Result<SubmitOutcome> outcome = c.executor().Submit(kAuthor, command);
  REQUIRE(outcome.ok());
  REQUIRE(outcome->decision.outcome == events::AuditOutcome::Accepted);
  REQUIRE(outcome->events.size() == 1);

  Result<std::vector<EventRecord>> read = c.ledger().log().Read(outcome->audit_seq, 2);
  REQUIRE(read.ok());
  REQUIRE(read->size() == 2);
  const events::Event* audit = events::GetEvent((*read)[0].bytes.data());
  CHECK(audit->stream()->str() == "audit/user:mira.schulz");
  CHECK(audit->idempotency_key()->str() == "audit:user:mira.schulz:draft-P");
  CHECK(audit->correlation_id()->str() == "req-42");
  CHECK(audit->actor()->principal()->str() == "user:mira.schulz");
  CHECK(audit->actor()->role()->str() == "promo_author");
  CHECK(audit->actor()->source_system()->str() == "promotion-platform");
  const events::CommandAudited* audited = audit->payload_as_CommandAudited();
  REQUIRE(audited != nullptr);
  CHECK(audited->command()->str() == "draft_promotion");
  CHECK(audited->principal()->str() == "user:mira.schulz");
  REQUIRE(audited->roles() != nullptr);
  REQUIRE(audited->roles()->size() == 1);
  CHECK(audited->roles()->Get(0)->str() == "promo_author");
  CHECK(audited->subject()->str() == "promo/P");
  CHECK(audited->event_count() == 1);
  CHECK(audited->args_sha256()->str() == Sha256(command.args_json).ToHex());
  // An accepted attempt has no reason, field, rule or rejection: left out, not empty.
  CHECK(audited->reason() == nullptr);
  CHECK(audited->field() == nullptr);
  CHECK(audited->rule() == nullptr);
  CHECK(audited->rejection() == events::AuditRejection::None);

  const events::Event* drafted = events::GetEvent((*read)[1].bytes.data());
  CHECK((*read)[1].seq == outcome->events[0].seq);
  CHECK(drafted->stream()->str() == "promo/P");
  CHECK(drafted->idempotency_key()->str() == "draft-P#1");
  CHECK(drafted->causation_id()->str() == "audit:user:mira.schulz:draft-P");
  CHECK(drafted->correlation_id()->str() == "req-42");
  CHECK(drafted->actor()->role()->str() == "promo_author");
  REQUIRE(drafted->payload_as_PromotionDrafted() != nullptr);
  CHECK(drafted->payload_as_PromotionDrafted()->name()->str() == "10%");
}

TEST_CASE(
    "CommandExecutor: a command sent again is answered as first decided, a rejection with its kind",
    "[governance]") {
  CommandLedger c;
  AllowPromotions(c);
  json zero = Rule(Day(30));
  zero["reward"]["percent_bps"] = 0;
  const Command invalid =
      Parse("draft_promotion", {{"promotion_id", "P"}, {"name", "0%"}, {"rule", zero}}, "bad-1");
  const Command forbidden = Parse("set_authority_rule",
                                  {{"rule_id", "pos-prices"},
                                   {"source_system", "pos"},
                                   {"event_family", "price"},
                                   {"allow", true}},
                                  "not-mine-1");
  for (const auto& [command, kind] : {std::pair{&invalid, RejectionKind::kInvalid},
                                      std::pair{&forbidden, RejectionKind::kForbidden}}) {
    INFO(command->spec().name);
    Result<SubmitOutcome> first = c.executor().Submit(kAuthor, *command);
    REQUIRE(first.ok());
    CHECK(first->decision.outcome == events::AuditOutcome::Rejected);
    CHECK(first->decision.rejection == kind);
    CHECK_FALSE(first->duplicate);
    Result<SubmitOutcome> again = c.executor().Submit(kAuthor, *command);
    REQUIRE(again.ok());
    CHECK(again->duplicate);
    CHECK(again->audit_seq == first->audit_seq);
    CHECK(again->decision.rejection == kind);  // so HTTP answers 400 or 403 again, not 422
    CHECK(again->decision.field == first->decision.field);
  }
}

TEST_CASE("CommandExecutor: the scheduler expires a published version once its window ended",
          "[governance]") {
  CommandLedger c;
  c.ledger().clock().Set(Day(1));
  AllowPromotions(c);
  const json id = {{"promotion_id", "P"}, {"version", 1}};
  REQUIRE(c.Submit(kAuthor, "draft_promotion",
                   {{"promotion_id", "P"}, {"name", "10%"}, {"rule", Rule(Day(30))}})
              .decision.outcome == events::AuditOutcome::Accepted);
  c.Submit(kAuthor, "submit_promotion", id);
  c.Submit(kApprover, "approve_promotion", id);
  json publish = id;
  publish["window"] = {{"from_ns", Day(1)}, {"to_ns", Day(3)}};
  const SubmitOutcome published = c.Submit(kAuthor, "publish_promotion", publish);
  INFO(published.decision.reason);
  REQUIRE(published.decision.outcome == events::AuditOutcome::Accepted);

  c.ledger().clock().Set(Day(2));
  Result<std::vector<Sequence>> expired = c.executor().ExpireDue();
  REQUIRE(expired.ok());
  CHECK(expired->empty());
  c.ledger().clock().Set(Day(3));
  expired = c.executor().ExpireDue();
  REQUIRE(expired.ok());
  REQUIRE(expired->size() == 1);
  c.ledger().CatchUp();
  CHECK(c.ledger().runner().promotions()->Describe("P", INT64_MAX)->versions[0].state == "expired");
  expired = c.executor().ExpireDue();  // idempotent
  REQUIRE(expired.ok());
  CHECK(expired->empty());
  // A resume after expiry names the state.
  const SubmitOutcome resumed = c.Submit(kAuthor, "resume_promotion", id);
  CHECK(resumed.decision.outcome == events::AuditOutcome::Rejected);
  CHECK_THAT(resumed.decision.reason, Catch::Contains("is expired"));
}

}  // namespace
}  // namespace tillroll::testing

namespace tillroll::testing {
namespace {

TEST_CASE("CommandExecutor: a sale needs known SKUs - the ledger's own prices - a new order id",
          "[governance]") {
  CommandLedger c;
  const Sequence price_seq =
      c.ledger().Append(PriceSetEvent({.sku = "4711", .amount_minor = 1000}), Day(1));
  static EventJson converter;
  EventJson::Parsed product = converter.ParseUnsealed(
      json{{"stream", "product/4711"},
           {"payload_type", "ProductDefined"},
           {"payload",
            {{"sku", "4711"},
             {"taxes", {{{"tax_code", "VAT-19"}, {"rate_bps", 1900}, {"price_included", true}}}}}}}
          .dump());
  REQUIRE(product.ok());
  c.ledger().Append(std::move(product.bytes), Day(1));
  const Principal till{"service:pos-gateway", {"checkout"}, "pos"};
  auto sale = [&](const std::string& order_id, const std::string& sku, std::int64_t unit) {
    return json{{"order_id", order_id},
                {"sold_at_ns", Day(2)},
                {"channel", "pos"},
                {"currency", "EUR"},
                {"lines",
                 {{{"line_no", 1},
                   {"sku", sku},
                   {"qty", 1},
                   {"unit_price_minor", unit},
                   {"price_event_seq", price_seq},
                   {"line_total_minor", unit}}}},
                {"total_minor", unit}};
  };
  const SubmitOutcome unknown = c.Submit(till, "record_sale", sale("R-1", "9999", 1000));
  CHECK(unknown.decision.rejection == RejectionKind::kInvalid);
  CHECK(unknown.decision.field == "args.lines[0].sku");
  // A till that priced from a stale price list is refused: the ledger prices it again.
  const SubmitOutcome stale = c.Submit(till, "record_sale", sale("R-1", "4711", 900));
  CHECK(stale.decision.rejection == RejectionKind::kRefused);
  CHECK(stale.decision.rule == "checkout:reprice");
  CHECK(stale.decision.field == "args.lines[0].unit_price_minor");
  CHECK_THAT(stale.decision.reason, Catch::Contains("the ledger prices 1000"));
  CHECK(stale.events.empty());
  const SubmitOutcome sold = c.Submit(till, "record_sale", sale("R-1", "4711", 1000));
  INFO(sold.decision.reason);
  CHECK(sold.decision.outcome == events::AuditOutcome::Accepted);
  REQUIRE(sold.events.size() == 1);
  const SubmitOutcome again = c.Submit(till, "record_sale", sale("R-1", "4711", 1000));
  CHECK(again.decision.rejection == RejectionKind::kRefused);
  CHECK_THAT(again.decision.reason, Catch::Contains("already recorded"));
}

}  // namespace
}  // namespace tillroll::testing
