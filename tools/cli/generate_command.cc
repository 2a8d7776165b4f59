#include "tools/cli/generate_command.h"

#include <chrono>
#include <ostream>

#include "engine/clock.h"
#include "engine/command_executor.h"
#include "engine/event_log.h"
#include "engine/utc_time.h"
#include "projections/decision_state.h"
#include "projections/projection_runner.h"
#include "tools/cli/exit_codes.h"
#include "tools/cli/terminal_output.h"
#include "tools/generate/history_generator.h"

namespace tillroll::cli {
int RunGenerate(const GenerateArgs& args, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  if (std::filesystem::exists(args.out, ec) && !std::filesystem::is_empty(args.out, ec)) {
    return FailCommand(
        err, "generate",
        Status::InvalidArgument("--out: " + args.out.string() +
                                " is not empty; a history goes into a fresh folder"));
  }
  if (args.skus == 0 || args.stores == 0 || args.days == 0) {
    return FailCommand(err, "generate",
                       Status::InvalidArgument("--skus, --stores and --days must be at least 1"));
  }
  ManualClock clock(0);
  // The generator drives the clock through the simulated days; durability comes from the
  // final flush on close, not from a sync per batch.
  Result<std::unique_ptr<EventLog>> log =
      EventLog::Open(args.out, {.clock = &clock, .sync = false});
  if (!log.ok()) return FailCommand(err, "generate", log.status());
  generate::HistoryOptions options;
  options.sku_count = args.skus;
  options.store_count = args.stores;
  options.day_count = args.days;
  options.seed = args.seed;
  options.sales_per_store_day = args.sales_per_store_day;
  const bool terminal = StderrIsTerminal();
  // No progress lines while the front door catches up after every command; the bulk way's
  // one catch-up at the end reports its progress.
  Result<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Open(**log, args.out / "projections", {});
  if (!runner.ok()) return FailCommand(err, "generate", runner.status());
  projections::LedgerDecisionState state(**log, **runner);
  CommandExecutor executor(**log, state, generate::StoryRules(options), clock,
                           [&runner] { return (*runner)->CatchUp(); });

  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  Result<generate::HistoryReport> report = generate::GenerateHistory(
      **log, clock, options,
      [&](std::uint64_t events) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_report < std::chrono::seconds(1)) return;
        last_report = now;
        err << (terminal ? "\r" : "") << "generated " << events << " events"
            << (terminal ? "   " : "\n") << std::flush;
      },
      args.bulk ? nullptr : &executor);
  if (!report.ok()) return FailCommand(err, "generate", report.status());
  if (terminal) err << "\n";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.bulk) {
    // Reopened with progress lines: catching up on a big bulk history takes a while.
    runner->reset();
    projections::RunnerOptions runner_options;
    runner_options.progress = ProgressPrinter(err, terminal);
    runner = projections::ProjectionRunner::Open(**log, args.out / "projections", runner_options);
    if (!runner.ok()) return FailCommand(err, "generate", runner.status());
  }
  if (Status s = (*runner)->CatchUp(); !s.ok()) return FailCommand(err, "generate", s);

  out << "{\"events\":" << report->event_count << ",\"price_events\":" << report->price_events
      << ",\"promotion_events\":" << report->promotion_events
      << ",\"coupon_events\":" << report->coupon_events << ",\"sales\":" << report->sale_count
      << ",\"returns\":" << report->return_count
      << ",\"rejected_attempts\":" << report->rejected_attempts
      << ",\"settlements\":" << report->settlement_count << ",\"first_day\":\""
      << FormatUtcTime(report->first_day_ns) << "\",\"last_day\":\""
      << FormatUtcTime(report->last_day_ns) << "\",\"seconds\":" << seconds << "}\n";
  return kExitOk;
}

}  // namespace tillroll::cli
