#include "tools/cli/submit_commands.h"

#include <fstream>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "engine/command_executor.h"
#include "engine/governance_config.h"
#include "engine/limits.h"
#include "engine/utc_time.h"
#include "projections/decision_state.h"
#include "projections/projection_runner.h"
#include "projections/query_json.h"
#include "tools/cli/exit_codes.h"
#include "tools/cli/terminal_output.h"

namespace tillroll::cli {
namespace {

using json = nlohmann::ordered_json;

// A line naming a known command whose fields are wrong: audited, never decided.
struct InvalidLine {
  std::size_t line_no = 0;
  ParsedCommand parsed;
};

// Reads every line as a command; prints each problem with its line. Nothing is decided when
// one line is not a command; the lines that name a known command are kept in `invalid`.
bool ReadCommands(std::istream& in, std::ostream& err, std::vector<Command>& commands,
                  std::vector<InvalidLine>& invalid) {
  EventJson json_converter;
  std::string line;
  std::size_t line_no = 0;
  bool ok = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (commands.size() == limits::kBatchEventsMax / 2) {
      err << "line " << line_no << ": one submit takes at most " << limits::kBatchEventsMax / 2
          << " commands; split the input\n";
      return false;
    }
    ParsedCommand parsed = ParseCommand(line, json_converter);
    for (const FieldProblem& p : parsed.problems) {
      err << "line " << line_no << ": " << (p.path.empty() ? "" : p.path + ": ") << p.reason
          << "\n";
      ok = false;
    }
    if (parsed.command) {
      commands.push_back(std::move(*parsed.command));
    } else if (parsed.named) {
      invalid.push_back({line_no, std::move(parsed)});
    }
  }
  return ok;
}

}  // namespace

int RunSubmit(const SubmitArgs& args, std::istream& stdin_stream, std::ostream& out,
              std::ostream& err) {
  Result<GovernanceConfig> config = LoadGovernanceConfig(args.config);
  if (!config.ok()) {
    return FailCommand(err, "submit",
                       config.status().code() == StatusCode::kNotFound
                           ? Status::InvalidArgument("--config: " + config.status().message())
                           : config.status());
  }
  Result<Principal> principal = config->Find(args.principal);
  if (!principal.ok()) return FailCommand(err, "submit", principal.status());
  std::ifstream file;
  if (!args.file.empty() && args.file != "-") {
    file.open(args.file);
    if (!file)
      return FailCommand(err, "submit", Status::InvalidArgument("cannot read " + args.file));
  }
  std::vector<Command> commands;
  std::vector<InvalidLine> invalid;
  const bool well_formed = ReadCommands(file.is_open() ? file : stdin_stream, err, commands, invalid);
  if (!well_formed && invalid.empty()) {
    err << "tillroll submit: nothing was decided or appended\n";
    return kExitBadInput;
  }
  if (commands.empty() && well_formed)
    return FailCommand(err, "submit", Status::InvalidArgument("no command given"));

  Result<std::unique_ptr<EventLog>> log = EventLog::Open(args.data_dir);
  if (!log.ok()) return FailCommand(err, "submit", log.status());
  projections::RunnerOptions options;
  options.notice = [&err](std::string_view line) { err << "tillroll: " << line << "\n"; };
  Result<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Open(**log, args.data_dir / "projections", options);
  if (!runner.ok()) return FailCommand(err, "submit", runner.status());
  projections::LedgerDecisionState state(**log, **runner);
  SystemClock clock;
  CommandExecutor executor(**log, state, config->rules, clock,
                           [&runner] { return (*runner)->CatchUp(); });

  if (!well_formed) {
    // The attempts at known commands are audited; nothing is decided.
    for (const InvalidLine& line : invalid) {
      Result<Sequence> audited = executor.RecordInvalid(*principal, line.parsed);
      if (!audited.ok()) return FailCommand(err, "submit", audited.status());
      err << "line " << line.line_no << ": audited as a rejected attempt at seq " << *audited
          << "\n";
    }
    err << "tillroll submit: nothing was decided; only the invalid attempts were audited\n";
    return kExitBadInput;
  }

  // The expiry scheduler runs before any decision, so that a command sees ended promotions
  // as expired.
  Result<std::vector<Sequence>> expired = executor.ExpireDue();
  if (!expired.ok()) return FailCommand(err, "submit", expired.status());
  for (Sequence seq : *expired) err << "tillroll: recorded PromotionExpired at seq " << seq << "\n";

  Result<std::vector<SubmitOutcome>> outcomes =
      commands.size() == 1 ? [&]() -> Result<std::vector<SubmitOutcome>> {
    Result<SubmitOutcome> one = executor.Submit(*principal, commands.front());
    if (!one.ok()) return one.status();
    return std::vector<SubmitOutcome>{std::move(*one)};
  }()
      : executor.SubmitBatch(*principal, commands, args.partial);
  if (!outcomes.ok()) return FailCommand(err, "submit", outcomes.status());
  int exit_code = kExitOk;
  for (std::size_t i = 0; i < outcomes->size(); ++i) {
    const Decision& d = (*outcomes)[i].decision;
    out << OutcomeJson(commands[i], (*outcomes)[i]) << "\n";
    if (d.outcome != events::AuditOutcome::Rejected) continue;
    err << "tillroll submit: " << commands[i].spec().name
        << " rejected: " << (d.field.empty() ? "" : d.field + ": ") << d.reason << "\n";
    const int code = d.rejection == RejectionKind::kInvalid ? kExitBadInput : kExitConflict;
    if (exit_code == kExitOk || code == kExitConflict) exit_code = code;
  }
  return exit_code;
}

int RunAudit(const AuditArgs& args, std::ostream& out, std::ostream& err) {
  const std::string outcome_filter = projections::AuditOutcomeName(args.outcome).value_or("");
  if (!args.outcome.empty() && outcome_filter.empty()) {
    return FailCommand(err, "audit",
                       Status::InvalidArgument("--outcome: expected accepted, rejected or held"));
  }
  std::int64_t since_ns = 0;
  if (!args.since.empty()) {
    Result<std::int64_t> since = ParseUtcTimeNs(args.since);
    if (!since.ok())
      return FailCommand(err, "audit",
                         Status::InvalidArgument("--since: " + since.status().message()));
    since_ns = *since;
  }
  LogOptions options;
  options.create_if_missing = false;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(args.data_dir, options);
  if (!log.ok()) return FailCommand(err, "audit", log.status());
  Result<Sequence> from = (*log)->FirstRecordedAtOrAfter(since_ns);
  if (!from.ok()) return FailCommand(err, "audit", from.status());
  const projections::AuditFilter filter{args.principal, outcome_filter};
  json rows = json::array();
  Status scanned =
      (*log)->Replay(*from, (*log)->Head().seq + 1, [&](Sequence seq, std::string_view bytes) {
        std::optional<std::string> row = projections::AuditRowJson(seq, bytes, filter);
        if (!row) return true;
        if (args.format == "table") {
          rows.push_back(json::parse(*row));
        } else {
          out << *row << "\n";
        }
        return true;
      });
  if (!scanned.ok()) return FailCommand(err, "audit", scanned);
  if (args.format == "table") PrintTable(json{{"attempts", std::move(rows)}}.dump(), out);
  return kExitOk;
}

}  // namespace tillroll::cli
