// Proves the ledger's promise "an acknowledged append survives kill -9". The test starts
// tillroll-crash-child (crash_child.cc) on one log folder again and again. Its threads append
// synced batches and acknowledge each one in an ack file only once Append has returned; the
// test kills it with SIGKILL 20..150 ms after it reports that it appends, or, one time in four,
// at a random point of its start (open, recovery, re-indexing). After every kill it opens the
// log and requires that Verify passes (hash chain, dense seqs and stream versions, indexes,
// head), that every acknowledged seq holds the acknowledged idempotency key, that no key is
// held by two events, and that the head seen after the previous kill is still there with the
// same hash. On every start the child also appends acknowledged events again and exits 3
// unless they come back as duplicates of their seqs. TILLROLL_CRASH_KILLS sets the number of
// kills (default 100); TILLROLL_SEED replays the kill times and the children's seeds (thread
// timing still varies).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/event_log.h"
#include "schemas/envelope_generated.h"
#include "tests/crash/child_process.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

constexpr std::uint64_t kKillsDefault = 100;
// How long a child appends before the kill.
constexpr int kRunMsMin = 20;
constexpr int kRunMsMax = 150;
// One kill in this many lands at a random point of the child's start instead: while it opens
// the log, recovers its write-ahead log, re-indexes and re-appends acknowledged events.
constexpr std::uint64_t kStartupKillOneIn = 4;
constexpr std::size_t kReadChunkEvents = 10'000;

// The test fails unless the child died of our SIGKILL, not by itself.
void ExpectKilled(int wait_status) {
  if (WIFEXITED(wait_status)) {
    FAIL("the child exited by itself with status "
         << WEXITSTATUS(wait_status)
         << " (2: the log or the ack file failed, 3: an acknowledged event did not come back as "
            "a duplicate, 4: an append broke a promise, 127: exec failed); see its stderr");
  }
  REQUIRE(WIFSIGNALED(wait_status));
  if (WTERMSIG(wait_status) != SIGKILL) FAIL("the child died of signal " << WTERMSIG(wait_status));
}

struct Ack {
  Sequence seq = 0;
  std::string key;
};

std::optional<Ack> ParseAckLine(std::string_view line) {
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 == line.size()) {
    return std::nullopt;
  }
  Ack ack;
  const char* end = line.data() + space;
  auto [ptr, ec] = std::from_chars(line.data(), end, ack.seq);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  ack.key = std::string(line.substr(space + 1));
  return ack;
}

// The acknowledged events: every complete line of the ack file. A last line without its '\n'
// was torn by the kill and acknowledges nothing.
std::vector<Ack> ReadAcks(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Ack> acks;
  std::size_t begin = 0;
  for (std::size_t end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    const std::string_view line = std::string_view(text).substr(begin, end - begin);
    std::optional<Ack> ack = ParseAckLine(line);
    if (!ack) FAIL("ack file line " << acks.size() + 1 << " is malformed: '" << line << "'");
    acks.push_back(std::move(*ack));
  }
  return acks;
}

// What the test has read of the log. Verify proves the hash chain, so while the event that was
// the head after the previous kill keeps its hash, every event up to it is the one read before:
// after a kill only the events past that head are read.
struct KnownLog {
  struct Event {
    std::string key;
    std::int64_t recorded_at_ns = 0;
  };
  LogHead head;
  std::deque<Event> events;  // event `seq` at index seq - 1; a deque keeps the keys in place
  std::unordered_map<std::string_view, Sequence> seq_of_key;
};

// Reads the events after `known.head` up to `head_seq`; fails on a key held by two events.
void ReadNewEvents(const EventLog& log, Sequence head_seq, KnownLog& known) {
  while (known.events.size() < head_seq) {
    Result<std::vector<EventRecord>> records = log.Read(known.events.size() + 1, kReadChunkEvents);
    INFO("read: " << records.status().ToString());
    REQUIRE(records.ok());
    REQUIRE(!records->empty());
    for (const EventRecord& record : *records) {
      if (record.seq != known.events.size() + 1) FAIL("Read skipped to event " << record.seq);
      const events::Event* event = events::GetEvent(record.bytes.data());
      if (event->idempotency_key() == nullptr) FAIL("event " << record.seq << " has no key");
      known.events.push_back({event->idempotency_key()->str(), event->recorded_at_ns()});
      const auto [it, inserted] = known.seq_of_key.emplace(known.events.back().key, record.seq);
      if (!inserted) {
        FAIL("key " << it->first << " is held by events " << it->second << " and " << record.seq);
      }
    }
  }
}

void CheckAcks(const KnownLog& known, const std::vector<Ack>& acks) {
  std::unordered_map<std::string_view, Sequence> acked_seq_of_key;
  for (const Ack& ack : acks) {
    if (ack.seq == 0 || ack.seq > known.events.size()) {
      FAIL("acknowledged event " << ack.seq << " (" << ack.key << ") is past the head, "
                                 << known.events.size());
    }
    const std::string& stored_key = known.events[ack.seq - 1].key;
    if (stored_key != ack.key) {
      FAIL("acknowledged event " << ack.seq << " holds key '" << stored_key
                                 << "', acknowledged with '" << ack.key << "'");
    }
    const auto [it, inserted] = acked_seq_of_key.emplace(ack.key, ack.seq);
    if (!inserted && it->second != ack.seq) {
      FAIL("key " << ack.key << " was acknowledged as event " << it->second << " and as event "
                  << ack.seq);
    }
  }
}

// Group commits (one recorded_at_ns each) and those holding batches of more than one child
// thread: the "crash.<seed>.<thread>." prefix of the keys tells the threads apart.
std::pair<std::uint64_t, std::uint64_t> CountGroups(const KnownLog& known) {
  std::unordered_map<std::int64_t, std::unordered_set<std::string_view>> threads_of_group;
  for (const KnownLog::Event& event : known.events) {
    const std::string_view key = event.key;
    std::size_t dot = 0;
    for (int i = 0; i < 3 && dot != std::string_view::npos; ++i) dot = key.find('.', dot + 1);
    threads_of_group[event.recorded_at_ns].insert(key.substr(0, dot));
  }
  std::uint64_t shared = 0;
  for (const auto& [recorded_at_ns, threads] : threads_of_group) {
    if (threads.size() > 1) ++shared;
  }
  return {threads_of_group.size(), shared};
}

struct Totals {
  std::uint64_t acked = 0;
  std::uint64_t startup_kills = 0;  // kills before the child said it appends
  std::uint64_t growing_kills = 0;  // kills that found more events than the previous one
};

// Opens the log after a kill and checks all it promised; `known` moves to its new head.
void CheckLogAfterKill(const std::filesystem::path& dir, const std::vector<Ack>& acks,
                       KnownLog& known, Totals& totals) {
  Result<std::unique_ptr<EventLog>> opened = EventLog::Open(dir);
  INFO("open: " << opened.status().ToString());
  REQUIRE(opened.ok());
  const EventLog& log = **opened;
  const VerifyReport report = log.Verify();
  INFO("verify: " << report.status.ToString() << " (first bad seq " << report.first_bad_seq << ")");
  REQUIRE(report.status.ok());
  const LogHead head = log.Head();
  REQUIRE(report.head.seq == head.seq);
  REQUIRE(report.event_count == head.seq);
  REQUIRE(head.seq >= known.head.seq);
  if (known.head.seq > 0) {
    Result<std::vector<EventRecord>> before = log.Read(known.head.seq, 1);
    REQUIRE(before.ok());
    REQUIRE(before->size() == 1);
    INFO("the previous head, event " << known.head.seq << ", changed");
    REQUIRE(events::GetEvent(before->front().bytes.data())->hash()->str() ==
            known.head.hash.ToHex());
  }
  ReadNewEvents(log, head.seq, known);
  CheckAcks(known, acks);
  if (head.seq > known.head.seq) ++totals.growing_kills;
  known.head = head;
  totals.acked = acks.size();
}

TEST_CASE("EventLog: every acknowledged append survives kill -9", "[crash]") {
  const std::uint64_t seed = testing::TestSeed("log_crash_test");
  const std::uint64_t kills = EnvNumber("TILLROLL_CRASH_KILLS").value_or(kKillsDefault);
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  const std::filesystem::path child = testing::BinaryDir() / "tillroll-crash-child";
  REQUIRE(std::filesystem::exists(child));
  const std::filesystem::path dir = MakeTempDir();
  const std::filesystem::path data = dir / "log";
  const std::filesystem::path ack_file = dir / "acks";
  std::cerr << "log_crash_test: to reproduce: TILLROLL_SEED=" << seed
            << " TILLROLL_CRASH_KILLS=" << kills << " " << self.string() << " '[crash]'\n"
            << "log_crash_test: working in " << dir.string() << " (kept if the test fails)\n";
  INFO("TILLROLL_SEED=" << seed << ", folder " << dir.string());

  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> run_ms(kRunMsMin, kRunMsMax);
  std::chrono::milliseconds startup_time(kRunMsMax);  // the last child's, once measured
  KnownLog known;
  Totals totals;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t kill = 1; kill <= kills; ++kill) {
    INFO("kill " << kill << " of " << kills);
    const std::uint64_t child_seed = rng();
    const bool during_startup = rng() % kStartupKillOneIn == 0;
    const auto spawned = std::chrono::steady_clock::now();
    ChildProcess process(
        {child.string(), data.string(), ack_file.string(), std::to_string(child_seed)});
    if (during_startup) {
      std::uniform_int_distribution<std::int64_t> startup_ms(0, startup_time.count());
      std::this_thread::sleep_for(std::chrono::milliseconds(startup_ms(rng)));
      ++totals.startup_kills;
    } else if (process.WaitAppending()) {
      startup_time = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - spawned);
      std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
    }
    ExpectKilled(process.Kill());
    CheckLogAfterKill(data, ReadAcks(ack_file), known, totals);
  }
  const auto [groups, shared_groups] = CountGroups(known);
  const auto elapsed_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  std::cerr << "log_crash_test: " << kills << " kills in " << elapsed_s.count() << " s ("
            << totals.startup_kills << " during a start, " << totals.growing_kills
            << " after the log had grown), " << known.head.seq << " events in the log, "
            << totals.acked << " acknowledged, " << groups << " group commits (" << shared_groups
            << " with batches of several threads), TILLROLL_SEED=" << seed << "\n";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tillroll
