#include "engine/command_executor.h"

#include <map>

#include "engine/event_builder.h"
#include "engine/event_chain.h"
#include "engine/event_json.h"
#include "engine/json_writer.h"

namespace tillroll {
namespace {

// Building a schema parser costs more than deciding a command: one per thread, reused (an
// EventJson is not thread-safe).
EventJson& ThreadConverter() {
  thread_local EventJson converter;
  return converter;
}

// Decisions made again when a concurrent writer changed a stream between deciding and appending.
constexpr int kDecideAttemptsMax = 4;

bool IsIdempotencyConflict(const Status& s) {
  return s.code() == StatusCode::kConflict &&
         s.message().find("idempotency key") != std::string::npos;
}

events::AuditRejection AuditRejectionOf(RejectionKind kind) {
  switch (kind) {
    case RejectionKind::kInvalid:
      return events::AuditRejection::Invalid;
    case RejectionKind::kForbidden:
      return events::AuditRejection::Forbidden;
    case RejectionKind::kRefused:
      return events::AuditRejection::Refused;
    case RejectionKind::kNone:
      break;
  }
  return events::AuditRejection::None;
}

// Who acted, as the envelope of the events an attempt appends.
Envelope ActorEnvelope(const Principal& principal, const Decision& decision) {
  return {.principal = principal.id,
          .role = decision.acting_role,
          .source_system = principal.source_system};
}

// The audit record of an attempt at `command_name` as decided, unsealed, on the principal's
// audit stream; `idempotency_key` is empty for an attempt that used none. Empty strings are
// left out, as the log's own JSON leaves them out.
std::string AuditRecord(const Principal& principal, std::string_view command_name,
                        const Decision& decision, std::string_view args_sha256,
                        std::string_view idempotency_key, std::string_view correlation_id) {
  flatbuffers::FlatBufferBuilder fbb(1024);
  auto text = [&fbb](std::string_view s) {
    return s.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(s);
  };
  std::vector<flatbuffers::Offset<flatbuffers::String>> role_names;
  role_names.reserve(decision.roles.size());
  for (const std::string& role : decision.roles) role_names.push_back(fbb.CreateString(role));
  const auto roles = fbb.CreateVector(role_names);
  const auto command = fbb.CreateString(command_name);
  const auto principal_id = text(principal.id);
  const auto source_system = text(principal.source_system);
  const auto subject = text(decision.subject);
  const auto reason = text(decision.reason);
  const auto field = text(decision.field);
  const auto rule = text(decision.rule);
  const auto args_hash = text(args_sha256);
  events::CommandAuditedBuilder audited(fbb);
  audited.add_command(command);
  audited.add_principal(principal_id);
  audited.add_roles(roles);
  audited.add_source_system(source_system);
  audited.add_subject(subject);
  audited.add_outcome(decision.outcome);
  audited.add_reason(reason);
  audited.add_field(field);
  audited.add_rule(rule);
  audited.add_event_count(static_cast<std::uint32_t>(decision.events.size()));
  audited.add_args_sha256(args_hash);
  if (decision.outcome == events::AuditOutcome::Rejected) {
    audited.add_rejection(AuditRejectionOf(decision.rejection));
  }
  const auto payload = audited.Finish();
  const std::string stream = "audit/" + principal.id;
  Envelope envelope = ActorEnvelope(principal, decision);
  envelope.stream = stream;
  envelope.idempotency_key = idempotency_key;
  envelope.correlation_id = correlation_id;
  return FinishUnsealedEvent(fbb, envelope, events::Payload::CommandAudited, payload.Union());
}

}  // namespace

CommandExecutor::CommandExecutor(EventLog& log, const DecisionState& state, GovernanceRules rules,
                                 Clock& clock, std::function<Status()> catch_up)
    : log_(log), state_(state), rules_(rules), clock_(clock), catch_up_(std::move(catch_up)) {}

Result<std::vector<std::string>> CommandExecutor::Build(const Principal& principal,
                                                        const Command& command,
                                                        const Decision& decision) const {
  const std::string audit_key = "audit:" + principal.id + ":" + command.idempotency_key;
  std::vector<std::string> events;
  events.reserve(1 + decision.events.size());
  events.push_back(AuditRecord(principal, command.spec().name, decision,
                               Sha256(command.args_json).ToHex(), audit_key,
                               command.correlation_id));
  for (std::size_t i = 0; i < decision.events.size(); ++i) {
    const EventDraft& draft = decision.events[i];
    const std::string key = command.idempotency_key + "#" + std::to_string(i + 1);
    Envelope envelope = ActorEnvelope(principal, decision);
    envelope.stream = draft.stream;
    envelope.expected_version = draft.expected_version;
    envelope.idempotency_key = key;
    envelope.correlation_id = command.correlation_id;
    envelope.causation_id = audit_key;
    Result<std::string> event =
        draft.args_payload ? ThreadConverter().UnsealedWithPayloadOf(envelope, command.args)
                           : ThreadConverter().UnsealedFromPayload(
                                 envelope, events::EnumNamePayload(draft.type), draft.payload_json);
    if (!event.ok()) {
      return Status::Internal("decided event does not match its schema: " +
                              event.status().message());
    }
    events.push_back(std::move(*event));
  }
  return events;
}

Result<std::optional<SubmitOutcome>> CommandExecutor::Recorded(const Principal& principal,
                                                               const Command& command) const {
  Result<std::optional<Sequence>> audit_seq =
      log_.SeqOfIdempotencyKey("audit:" + principal.id + ":" + command.idempotency_key);
  if (!audit_seq.ok()) return audit_seq.status();
  if (!audit_seq->has_value()) return std::optional<SubmitOutcome>();
  Result<std::vector<EventRecord>> read = log_.Read(**audit_seq, 1);
  if (!read.ok()) return read.status();
  if (read->empty()) return Status::Corruption("the audit record of an idempotency key is missing");
  const events::CommandAudited* audited =
      events::GetEvent(read->front().bytes.data())->payload_as_CommandAudited();
  if (audited == nullptr || audited->command()->string_view() != command.spec().name) {
    return Status::Conflict("idempotency key '" + command.idempotency_key +
                            "' was used for another command");
  }
  // Records from before args_sha256 existed carry none: the command name is all they compare.
  if (audited->args_sha256() != nullptr &&
      audited->args_sha256()->string_view() != Sha256(command.args_json).ToHex()) {
    return Status::Conflict("idempotency key '" + command.idempotency_key +
                            "' was used for the same command with other args");
  }
  SubmitOutcome outcome;
  outcome.duplicate = true;
  outcome.audit_seq = **audit_seq;
  Decision& d = outcome.decision;
  d.outcome = audited->outcome();
  auto text = [](const flatbuffers::String* t) { return t == nullptr ? "" : t->str(); };
  d.subject = text(audited->subject());
  d.reason = text(audited->reason());
  d.field = text(audited->field());
  d.rule = text(audited->rule());
  if (d.outcome == events::AuditOutcome::Rejected) {
    switch (audited->rejection()) {
      case events::AuditRejection::Invalid:
        d.rejection = RejectionKind::kInvalid;
        break;
      case events::AuditRejection::Forbidden:
        d.rejection = RejectionKind::kForbidden;
        break;
      default:  // Refused, or a record from before the kind was kept
        d.rejection = RejectionKind::kRefused;
        break;
    }
  }
  for (std::uint32_t i = 1; i <= audited->event_count(); ++i) {
    outcome.events.push_back({**audit_seq + i, 0, true});
  }
  return std::optional<SubmitOutcome>(std::move(outcome));
}

Result<SubmitOutcome> CommandExecutor::Submit(const Principal& principal, const Command& command) {
  // Sent again: the attempt recorded first is the answer, whatever the ledger decides today.
  Result<std::optional<SubmitOutcome>> recorded = Recorded(principal, command);
  if (!recorded.ok()) return recorded.status();
  if (recorded->has_value()) return std::move(**recorded);
  Status last_conflict;
  for (int attempt = 0; attempt < kDecideAttemptsMax; ++attempt) {
    if (Status s = catch_up_(); !s.ok()) return Status::Unavailable(s.message());
    SubmitOutcome outcome;
    outcome.decision = Decide(command, principal, state_, rules_, clock_.NowNs());
    Result<std::vector<std::string>> events = Build(principal, command, outcome.decision);
    if (!events.ok()) return events.status();
    Result<std::vector<AppendOutcome>> appended = log_.Append(std::move(*events));
    if (!appended.ok()) {
      if (appended.status().code() != StatusCode::kConflict) return appended.status();
      if (IsIdempotencyConflict(appended.status())) {
        return Status::Conflict("idempotency key '" + command.idempotency_key +
                                "' was used by an earlier attempt that was decided otherwise");
      }
      last_conflict = appended.status();
      continue;  // a stream moved on: decide again on the new state
    }
    outcome.audit_seq = appended->front().seq;
    outcome.duplicate = appended->front().duplicate;
    outcome.events.assign(appended->begin() + 1, appended->end());
    return outcome;
  }
  return Status::Conflict("the streams kept changing while deciding: " + last_conflict.message());
}

Result<std::vector<SubmitOutcome>> CommandExecutor::SubmitBatch(const Principal& principal,
                                                                std::span<const Command> commands,
                                                                bool partial) {
  std::vector<SubmitOutcome> outcomes;
  if (partial) {
    for (const Command& command : commands) {
      Result<SubmitOutcome> outcome = Submit(principal, command);
      if (!outcome.ok()) return outcome.status();
      outcomes.push_back(std::move(*outcome));
    }
    return outcomes;
  }
  // A batch sent again is answered from its records; a batch that reuses some keys only is not
  // the same batch.
  std::size_t recorded_count = 0;
  for (const Command& command : commands) {
    Result<std::optional<SubmitOutcome>> recorded = Recorded(principal, command);
    if (!recorded.ok()) return recorded.status();
    if (!recorded->has_value()) continue;
    ++recorded_count;
    outcomes.push_back(std::move(**recorded));
  }
  if (recorded_count == commands.size()) return outcomes;
  if (recorded_count != 0) {
    return Status::Conflict(std::to_string(recorded_count) + " of the batch's " +
                            std::to_string(commands.size()) +
                            " idempotency keys were used before; a batch is sent again whole");
  }
  if (Status s = catch_up_(); !s.ok()) return Status::Unavailable(s.message());
  const std::int64_t now_ns = clock_.NowNs();
  std::size_t failed = 0;
  for (const Command& command : commands) {
    outcomes.push_back({Decide(command, principal, state_, rules_, now_ns)});
    if (outcomes.back().decision.outcome == events::AuditOutcome::Rejected && failed == 0) {
      failed = outcomes.size();
    }
  }
  // Rows of one stream follow each other: their expected versions chain within the batch.
  std::map<std::string, std::int64_t> next_version;
  for (SubmitOutcome& o : outcomes) {
    if (failed != 0 && o.decision.outcome != events::AuditOutcome::Rejected) {
      o.decision.outcome = events::AuditOutcome::Rejected;
      o.decision.rejection = RejectionKind::kRefused;
      o.decision.reason = "the batch is atomic and row " + std::to_string(failed) + " was rejected";
      o.decision.rule = "batch";
      o.decision.events.clear();
    }
    for (EventDraft& e : o.decision.events) {
      auto [it, fresh] = next_version.try_emplace(e.stream, e.expected_version);
      e.expected_version = it->second++;
    }
  }
  std::vector<std::string> batch;
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    Result<std::vector<std::string>> events = Build(principal, commands[i], outcomes[i].decision);
    if (!events.ok()) return events.status();
    sizes.push_back(events->size());
    for (std::string& e : *events) batch.push_back(std::move(e));
  }
  Result<std::vector<AppendOutcome>> appended = log_.Append(std::move(batch));
  if (!appended.ok()) return appended.status();
  std::size_t at = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    outcomes[i].audit_seq = (*appended)[at].seq;
    outcomes[i].duplicate = (*appended)[at].duplicate;
    outcomes[i].events.assign(appended->begin() + static_cast<std::ptrdiff_t>(at + 1),
                              appended->begin() + static_cast<std::ptrdiff_t>(at + sizes[i]));
    at += sizes[i];
  }
  return outcomes;
}

Result<Sequence> CommandExecutor::RecordInvalid(const Principal& principal,
                                                const ParsedCommand& parsed) {
  TR_ASSERT(parsed.named.has_value() && !parsed.problems.empty());
  if (Status s = catch_up_(); !s.ok()) return Status::Unavailable(s.message());
  Decision decision;
  decision.outcome = events::AuditOutcome::Rejected;
  decision.rejection = RejectionKind::kInvalid;
  decision.field = parsed.problems.front().path;
  for (const FieldProblem& p : parsed.problems) {
    decision.reason +=
        (decision.reason.empty() ? "" : "; ") + (p.path.empty() ? "" : p.path + ": ") + p.reason;
  }
  decision.roles = HeldRoles(principal, state_, clock_.NowNs());
  std::vector<std::string> batch;
  batch.push_back(
      AuditRecord(principal, SpecOf(*parsed.named).name, decision, "", "", parsed.correlation_id));
  Result<std::vector<AppendOutcome>> appended = log_.Append(std::move(batch));
  if (!appended.ok()) return appended.status();
  return appended->front().seq;
}

Result<std::vector<Sequence>> CommandExecutor::ExpireDue() {
  if (Status s = catch_up_(); !s.ok()) return Status::Unavailable(s.message());
  std::vector<Sequence> appended;
  for (const DecisionState::EndedVersion& ended : state_.EndedPromotions(clock_.NowNs())) {
    const std::string stream = "promo/" + ended.promotion_id;
    const std::string key =
        "expire:" + ended.promotion_id + ":" + std::to_string(ended.version);
    flatbuffers::FlatBufferBuilder fbb;
    const auto expired = events::CreatePromotionExpiredDirect(fbb, ended.promotion_id.c_str(),
                                                              ended.version, "window ended");
    std::string event = FinishUnsealedEvent(
        fbb,
        {.stream = stream,
         .expected_version = static_cast<std::int64_t>(state_.StreamVersion(stream)),
         .idempotency_key = key,
         .principal = "tillroll:scheduler",
         .source_system = "tillroll"},
        events::Payload::PromotionExpired, expired.Union());
    std::vector<std::string> batch;
    batch.push_back(std::move(event));
    Result<std::vector<AppendOutcome>> outcome = log_.Append(std::move(batch));
    if (!outcome.ok()) {
      if (outcome.status().code() == StatusCode::kConflict) continue;
      return outcome.status();
    }
    if (!outcome->front().duplicate) appended.push_back(outcome->front().seq);
  }
  return appended;
}

std::string_view OutcomeName(events::AuditOutcome outcome) {
  switch (outcome) {
    case events::AuditOutcome::Accepted:
      return "accepted";
    case events::AuditOutcome::HeldForApproval:
      return "held";
    default:
      return "rejected";
  }
}

void WriteOutcome(JsonWriter& out, const Command& command, const SubmitOutcome& o) {
  out.Str("command", command.spec().name)
      .Str("idempotency_key", command.idempotency_key)
      .Str("outcome", OutcomeName(o.decision.outcome))
      .Str("subject", o.decision.subject)
      .Seq("audit_seq", o.audit_seq)
      .Key("event_seqs")
      .BeginArray();
  for (const AppendOutcome& e : o.events) out.Unsigned(e.seq);
  out.EndArray();
  if (!o.decision.reason.empty()) out.Str("reason", o.decision.reason);
  if (!o.decision.field.empty()) out.Str("field", o.decision.field);
  if (!o.decision.rule.empty()) out.Str("rule", o.decision.rule);
  if (o.duplicate) out.Flag("duplicate", true);
}

std::string OutcomeJson(const Command& command, const SubmitOutcome& outcome) {
  JsonWriter out;
  out.BeginObject();
  WriteOutcome(out, command, outcome);
  out.EndObject();
  return out.Release();
}

}  // namespace tillroll
