// Proves "a crash never applies an event twice or skips one" for projections. The test starts
// tillroll-projection-crash-child (projection_crash_child.cc), which follows the log with its
// projections while it appends, and kills it with SIGKILL 30..300 ms after it reports that it
// follows and its first batch is acknowledged. After every kill it opens the ledger, catches the projections up (an event applied
// twice would trip the projections' own order assertions; one skipped would leave the state
// short) and requires every projection's digest to equal the digest of a side-by-side rebuild
// from sequence 1. TILLROLL_CRASH_KILLS / 5 kills (default 20); TILLROLL_SEED replays them.

#include <map>
#include <random>
#include <thread>

#include "engine/event_log.h"
#include "projections/projection_runner.h"
#include "tests/crash/child_process.h"
#include "tests/support/projection_digests.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

using projections::ProjectionRunner;

std::map<std::string, std::string> Digests(const ProjectionRunner& runner) {
  return testing::ProjectionDigests(runner);
}

TEST_CASE("Projections: after kill -9 while following - state equals a rebuild", "[crash]") {
  const std::uint64_t seed = testing::TestSeed("projection crash");
  const std::uint64_t kills = EnvNumber("TILLROLL_CRASH_KILLS").value_or(100) / 5;
  std::mt19937_64 rng(seed);
  const std::filesystem::path dir = MakeTempDir();
  const std::string child = (testing::BinaryDir() / "tillroll-projection-crash-child").string();
  Sequence last_head = 0;
  for (std::uint64_t kill_no = 0; kill_no < kills; ++kill_no) {
    {
      ChildProcess process({child, dir.string(), std::to_string(rng())});
      REQUIRE(process.WaitAppending());
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::uniform_int_distribution<int>(30, 300)(rng)));
      const int status = process.Kill();
      if (WIFEXITED(status)) FAIL("the child exited by itself with " << WEXITSTATUS(status));
    }
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir);
    REQUIRE(log.ok());
    Result<std::unique_ptr<ProjectionRunner>> runner =
        ProjectionRunner::Open(**log, dir / "projections");
    REQUIRE(runner.ok());
    const Status caught_up = (*runner)->CatchUp();
    INFO("kill " << kill_no << ": " << caught_up.ToString());
    REQUIRE(caught_up.ok());
    const Sequence head = (*log)->Head().seq;
    CHECK(head > last_head);
    last_head = head;
    const auto live = Digests(**runner);
    for (std::string_view name : ProjectionRunner::Names()) {
      REQUIRE((*runner)->Rebuild(name, projections::RebuildMode::kSideBySide).ok());
    }
    REQUIRE(Digests(**runner) == live);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tillroll
