#include "engine/command.h"

#include <nlohmann/json.hpp>

namespace tillroll {
namespace {

using events::Payload;
using nlohmann::json;

constexpr CommandSpec kSpecs[] = {
    {CommandType::kSetPrice, "set_price", Payload::PriceSet, "pricing_manager"},
    {CommandType::kRetractPrice, "retract_price", Payload::PriceRetracted, "pricing_manager"},
    {CommandType::kApprovePriceChange, "approve_price_change", Payload::PriceChangeApproved,
     "pricing_approver"},
    {CommandType::kRejectPriceChange, "reject_price_change", Payload::PriceChangeRejected,
     "pricing_approver"},
    {CommandType::kDraftPromotion, "draft_promotion", Payload::PromotionDrafted, "promo_author"},
    {CommandType::kAmendPromotion, "amend_promotion", Payload::PromotionDrafted, "promo_author"},
    {CommandType::kSubmitPromotion, "submit_promotion", Payload::PromotionSubmitted,
     "promo_author"},
    {CommandType::kApprovePromotion, "approve_promotion", Payload::PromotionApproved,
     "promo_approver"},
    {CommandType::kRejectPromotion, "reject_promotion", Payload::PromotionRejected,
     "promo_approver"},
    {CommandType::kPublishPromotion, "publish_promotion", Payload::PromotionPublished,
     "promo_author promo_approver"},
    {CommandType::kPausePromotion, "pause_promotion", Payload::PromotionPaused,
     "promo_author promo_approver"},
    {CommandType::kResumePromotion, "resume_promotion", Payload::PromotionResumed,
     "promo_author promo_approver"},
    {CommandType::kWithdrawPromotion, "withdraw_promotion", Payload::PromotionWithdrawn,
     "promo_author promo_approver"},
    {CommandType::kIssueCoupons, "issue_coupons", Payload::CouponIssued, "promo_author"},
    {CommandType::kVoidCoupon, "void_coupon", Payload::CouponVoided, "promo_author"},
    {CommandType::kRecordSale, "record_sale", Payload::SaleRecorded, "checkout"},
    {CommandType::kRecordReturn, "record_return", Payload::ReturnRecorded, "returns_desk checkout"},
    {CommandType::kRecordSettlement, "record_settlement", Payload::LiabilitySettled, "finance"},
    {CommandType::kSetAuthorityRule, "set_authority_rule", Payload::AuthorityRuleSet, "admin"},
    {CommandType::kGrantRole, "grant_role", Payload::RoleGranted, "admin"},
    {CommandType::kRevokeRole, "revoke_role", Payload::RoleRevoked, "admin"},
    {CommandType::kDefineProduct, "define_product", Payload::ProductDefined, "pricing_manager"},
};

// Payload fields that tillroll assigns; a command that sets them is refused.
struct AssignedField {
  CommandType type;
  const char* field;
};
constexpr AssignedField kAssigned[] = {
    {CommandType::kDraftPromotion, "version"},
    {CommandType::kAmendPromotion, "version"},
    {CommandType::kPublishPromotion, "rule_snapshot_seq"},
    {CommandType::kPublishPromotion, "supersedes_version"},
    {CommandType::kSetPrice, "proposal_id"},  // only an approved proposal's price carries it
};

std::string ArgsPath(const std::string& payload_path) {
  constexpr std::string_view kPayload = "payload";
  if (payload_path.rfind(kPayload, 0) == 0) return "args" + payload_path.substr(kPayload.size());
  return payload_path;
}

}  // namespace

std::span<const CommandSpec> CommandSpecs() { return kSpecs; }

const CommandSpec& SpecOf(CommandType type) {
  const CommandSpec& spec = kSpecs[static_cast<std::size_t>(type)];
  TR_ASSERT(spec.type == type);
  return spec;
}

ParsedCommand ParseCommand(std::string_view line, EventJson& converter) {
  if (std::optional<FieldProblem> problem = JsonTextProblem(line)) {
    return ParsedCommand{.problems = {std::move(*problem)}};
  }
  return ParseCommandDocument(json::parse(line, nullptr, false), converter);
}

ParsedCommand ParseCommandDocument(json doc, EventJson& converter) {
  ParsedCommand parsed;
  auto problem = [&](std::string path, std::string reason) {
    parsed.problems.push_back({std::move(path), std::move(reason)});
  };
  if (doc.is_discarded() || !doc.is_object()) {
    problem("", "not a JSON object");
    return parsed;
  }
  Command command;
  const CommandSpec* spec = nullptr;
  if (!doc.contains("command") || !doc["command"].is_string()) {
    problem("command", "required: the command's name, e.g. \"set_price\"");
  } else {
    const std::string name = doc["command"].get<std::string>();
    for (const CommandSpec& s : kSpecs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) problem("command", "unknown command '" + name + "'");
    if (spec != nullptr) parsed.named = spec->type;
  }
  if (!doc.contains("idempotency_key") || !doc["idempotency_key"].is_string() ||
      doc["idempotency_key"].get<std::string>().empty()) {
    problem("idempotency_key", "required: a non-empty string chosen by the sender");
  } else {
    command.idempotency_key = doc["idempotency_key"].get<std::string>();
  }
  if (doc.contains("expected_version")) {
    if (!doc["expected_version"].is_number_integer() ||
        doc["expected_version"].get<std::int64_t>() < -1) {
      problem("expected_version", "expected an integer >= -1");
    } else {
      command.expected_version = doc["expected_version"].get<std::int64_t>();
    }
  }
  if (doc.contains("correlation_id")) {
    if (!doc["correlation_id"].is_string()) {
      problem("correlation_id", "expected a string");
    } else {
      command.correlation_id = doc["correlation_id"].get<std::string>();
      parsed.correlation_id = command.correlation_id;
    }
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "command" && key != "idempotency_key" && key != "expected_version" &&
        key != "correlation_id" && key != "args") {
      problem(key, "unknown field");
    }
  }
  if (!doc.contains("args") || !doc["args"].is_object()) {
    problem("args", "required: an object with the fields of the command's payload");
    return parsed;
  }
  if (spec == nullptr) return parsed;
  command.type = spec->type;
  for (const AssignedField& f : kAssigned) {
    if (f.type == spec->type && doc["args"].contains(f.field)) {
      problem(std::string("args.") + f.field, "assigned by tillroll; leave it out");
    }
  }
  command.args_json = doc["args"].dump();
  json event = {{"stream", "command"},
                {"payload_type", events::EnumNamePayload(spec->args)},
                {"payload", std::move(doc["args"])}};
  EventJson::Parsed args = converter.ParseUnsealedDocument(std::move(event));
  for (FieldProblem& p : args.problems) problem(ArgsPath(p.path), std::move(p.reason));
  if (!parsed.problems.empty()) return parsed;
  command.args = std::move(args.bytes);
  parsed.command = std::move(command);
  return parsed;
}

Result<Command> CommandFromEvent(CommandType type, std::string_view unsealed_event,
                                 EventJson& converter) {
  Result<std::string> event_json = converter.ToJson(unsealed_event);
  if (!event_json.ok()) return event_json.status();
  json args = json::parse(*event_json)["payload"];
  for (const AssignedField& f : kAssigned) {
    if (f.type == type) args.erase(f.field);
  }
  const json event = {{"stream", "command"},
                      {"payload_type", events::EnumNamePayload(SpecOf(type).args)},
                      {"payload", args}};
  EventJson::Parsed parsed = converter.ParseUnsealed(event.dump());
  if (!parsed.ok()) {
    return Status::InvalidArgument("args." + parsed.problems.front().path + ": " +
                                   parsed.problems.front().reason);
  }
  Command command{.type = type, .args_json = args.dump(), .args = std::move(parsed.bytes)};
  return command;
}

}  // namespace tillroll
