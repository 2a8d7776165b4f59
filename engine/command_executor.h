#ifndef TILLROLL_ENGINE_COMMAND_EXECUTOR_H_
#define TILLROLL_ENGINE_COMMAND_EXECUTOR_H_

// The one command path (CLI `submit`, later HTTP): brings the decision state up to the log's
// head, decides (engine/governance.h), and appends the audit record of the attempt together
// with the decided events in one atomic batch. A rejected attempt appends only its audit
// record. Every decided event carries the expected version of its stream: when another writer
// changed one of them meanwhile, the executor decides again on the new state (a few times at
// most), so no decision is ever made on stale state.
//
// Idempotency: the audit record's key is "audit:<principal>:<command key>" and the k-th decided
// event's "<command key>#k". Sending a command again with its key appends nothing and answers
// with the outcome recorded the first time (marked duplicate), even if the ledger would decide
// differently today; the same key for another command is a Conflict. In an atomic batch that
// was refused, every row's key is used up by its audit record: send the corrected batch with
// new keys.
//
// Thread-safety: Submit may be called from any thread; the log serializes the appends.

#include <functional>
#include <span>
#include <vector>

#include "engine/clock.h"
#include "engine/event_log.h"
#include "engine/governance.h"

namespace tillroll {

struct SubmitOutcome {
  Decision decision;
  Sequence audit_seq = 0;
  std::vector<AppendOutcome> events;  // the decided events, in order, after the audit record
  bool duplicate = false;             // this very attempt had been recorded before
};

// "accepted", "held" or "rejected".
std::string_view OutcomeName(events::AuditOutcome outcome);

// One line of JSON for what became of a command: command, idempotency_key, outcome, subject,
// audit_seq, event_seqs, and reason, field, rule and duplicate when they apply. What `submit`
// prints and the HTTP API answers.
std::string OutcomeJson(const Command& command, const SubmitOutcome& outcome);
class JsonWriter;
// The members of OutcomeJson, written into the object `out` has open (the HTTP API puts its
// error and message before them).
void WriteOutcome(JsonWriter& out, const Command& command, const SubmitOutcome& outcome);

class CommandExecutor {
 public:
  // `catch_up` brings `state` up to the log's head (ProjectionRunner::CatchUp). All references
  // must outlive the executor.
  CommandExecutor(EventLog& log, const DecisionState& state, GovernanceRules rules, Clock& clock,
                  std::function<Status()> catch_up);

  // Decides and records one command. Ok for every decided outcome, accepted, held or rejected;
  // Conflict when the idempotency key was used by a different attempt or the streams kept
  // changing; Unavailable when the state cannot catch up or the append fails.
  Result<SubmitOutcome> Submit(const Principal& principal, const Command& command);

  // A batch (e.g. a price file). Atomic: all rows are decided on the same state, and unless
  // every row is accepted or held, none is applied and each row's audit record says why.
  // Partial: each row is decided and recorded on its own. One outcome per row, in order.
  Result<std::vector<SubmitOutcome>> SubmitBatch(const Principal& principal,
                                                 std::span<const Command> commands, bool partial);

  // An attempt at a known command whose fields are wrong (`parsed.named` set, `parsed.problems`
  // not empty): appends its audit record, Rejected as Invalid with every problem and the first
  // one's field, and decides nothing. The record carries no idempotency key: the key was not
  // used, and the corrected command may be sent with it. Returns the record's sequence.
  Result<Sequence> RecordInvalid(const Principal& principal, const ParsedCommand& parsed);

  // The expiry scheduler: records PromotionExpired ("window ended") for every published
  // version whose window has ended, as the principal "tillroll:scheduler". Idempotent (key
  // "expire:<promotion>:<version>"); a version changed meanwhile is left for the next run.
  // Returns the sequences appended.
  Result<std::vector<Sequence>> ExpireDue();

 private:
  // The outcome recorded for this principal's idempotency key, if any.
  Result<std::optional<SubmitOutcome>> Recorded(const Principal& principal,
                                                const Command& command) const;
  Result<std::vector<std::string>> Build(const Principal& principal, const Command& command,
                                         const Decision& decision) const;

  EventLog& log_;
  const DecisionState& state_;
  GovernanceRules rules_;
  Clock& clock_;
  std::function<Status()> catch_up_;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_COMMAND_EXECUTOR_H_
