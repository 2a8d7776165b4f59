#ifndef TILLROLL_ENGINE_COMMAND_H_
#define TILLROLL_ENGINE_COMMAND_H_

// Commands: one per business action, the only way decisions enter the ledger. A command is one
// JSON object:
//
//   {"command": "set_price", "idempotency_key": "pe-run-881:4711", "expected_version": 3,
//    "correlation_id": "req-1", "args": { ...the payload's fields... }}
//
// `args` is the FlatBuffers JSON of the payload the command is about (schemas/*.fbs), so the
// schemas stay the one contract: set_price takes a PriceSet, draft_promotion a
// PromotionDrafted, approve_promotion a PromotionApproved, and so on (CommandSpecs()). Fields
// the ledger assigns (a draft's version, a publish's rule_snapshot_seq) must be left out.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event_json.h"
#include "schemas/envelope_generated.h"

namespace tillroll {

enum class CommandType : std::uint8_t {
  kSetPrice,
  kRetractPrice,
  kApprovePriceChange,
  kRejectPriceChange,
  kDraftPromotion,
  kAmendPromotion,
  kSubmitPromotion,
  kApprovePromotion,
  kRejectPromotion,
  kPublishPromotion,
  kPausePromotion,
  kResumePromotion,
  kWithdrawPromotion,
  kIssueCoupons,
  kVoidCoupon,
  kRecordSale,
  kRecordReturn,
  kRecordSettlement,
  kSetAuthorityRule,
  kGrantRole,
  kRevokeRole,
  kDefineProduct,
};

struct CommandSpec {
  CommandType type;
  std::string_view name;   // "set_price"
  events::Payload args;    // the payload `args` holds
  std::string_view roles;  // the roles that may send it, space-separated
};
std::span<const CommandSpec> CommandSpecs();
const CommandSpec& SpecOf(CommandType type);

struct Command {
  CommandType type = CommandType::kSetPrice;
  std::string idempotency_key;
  std::int64_t expected_version = -1;  // of the stream the command writes; -1 = not checked
  std::string correlation_id;
  std::string args_json;  // `args` as strict JSON
  std::string args;       // an unsealed Event carrying `args` as its payload (a typed view)

  const CommandSpec& spec() const { return SpecOf(type); }
  const events::Event& args_event() const { return *events::GetEvent(args.data()); }
};

struct ParsedCommand {
  std::optional<Command> command;      // when problems is empty
  std::vector<FieldProblem> problems;  // paths like "args.amount_minor"
  // What the line named even when it has problems: the command (when it is one tillroll
  // knows) and its correlation id (empty when missing or not a string). An attempt at a known
  // command is audited even when its fields are wrong (CommandExecutor::RecordInvalid).
  std::optional<CommandType> named;
  std::string correlation_id;
};

// Parses one command. `json` is reused across calls (not thread-safe, like EventJson).
ParsedCommand ParseCommand(std::string_view line, EventJson& json);
// The same for a document already parsed from a text that JsonTextProblem passed (the
// service's request bodies): its args become the event without being printed and parsed again.
ParsedCommand ParseCommandDocument(nlohmann::json doc, EventJson& json);

// The command of `type` whose args are the payload of an unsealed event (EventBuilder), with
// the fields the ledger assigns left out; for callers that build payloads in FlatBuffers (the
// history generator). The caller sets the idempotency key and correlation id. InvalidArgument
// when the payload is not the command's.
Result<Command> CommandFromEvent(CommandType type, std::string_view unsealed_event,
                                 EventJson& converter);

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_COMMAND_H_
