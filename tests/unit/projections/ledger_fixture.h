#ifndef TILLROLL_TESTS_UNIT_PROJECTIONS_LEDGER_FIXTURE_H_
#define TILLROLL_TESTS_UNIT_PROJECTIONS_LEDGER_FIXTURE_H_

// A ledger in a temporary folder with a manual clock, and its projections.

#include <catch2/catch.hpp>

#include "engine/clock.h"
#include "engine/event_log.h"
#include "projections/projection_runner.h"
#include "tests/support/domain_events.h"
#include "tests/support/test_support.h"

namespace tillroll::testing {

class LedgerFixture {
 public:
  LedgerFixture() { Open(); }

  // Appends one event recorded at `recorded_at_ns` and returns its sequence.
  Sequence Append(std::string event, std::int64_t recorded_at_ns) {
    clock_.Set(recorded_at_ns);
    std::vector<std::string> batch;
    batch.push_back(std::move(event));
    Result<std::vector<AppendOutcome>> outcome = log_->Append(std::move(batch));
    REQUIRE(outcome.ok());
    return outcome->front().seq;
  }

  void CatchUp() {
    const Status s = runner_->CatchUp();
    INFO(s.ToString());
    REQUIRE(s.ok());
  }

  // Closes and opens the log and the projections, as a restarted process would.
  void Reopen() {
    Close();
    Open();
  }
  void Close() {
    runner_.reset();
    log_.reset();
  }
  void Open(projections::RunnerOptions options = {}) {
    Result<std::unique_ptr<EventLog>> log =
        EventLog::Open(ledger_dir(), {.clock = &clock_, .sync = false});
    REQUIRE(log.ok());
    log_ = std::move(*log);
    Result<std::unique_ptr<projections::ProjectionRunner>> runner =
        projections::ProjectionRunner::Open(*log_, ledger_dir() / "projections", options);
    INFO(runner.status().ToString());
    REQUIRE(runner.ok());
    runner_ = std::move(*runner);
  }

  EventLog& log() { return *log_; }
  projections::ProjectionRunner& runner() { return *runner_; }
  ManualClock& clock() { return clock_; }
  std::filesystem::path ledger_dir() const { return dir_.path() / "ledger"; }

 private:
  TempDir dir_;
  ManualClock clock_{Day(0)};
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
};

}  // namespace tillroll::testing

#endif  // TILLROLL_TESTS_UNIT_PROJECTIONS_LEDGER_FIXTURE_H_
