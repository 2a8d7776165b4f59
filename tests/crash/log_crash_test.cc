// Proves the ledger's promise "an acknowledged append survives kill -9". The test starts
// tillroll-crash-child (crash_child.cc) on one log folder again and again and kills it with
// SIGKILL after a random 20..150 ms, while its threads append synced batches and acknowledge
// each one in an ack file only once Append has returned. After every kill it opens the log and
// requires that Verify passes (hash chain, dense seqs and stream versions, indexes, head), that
// every acknowledged seq holds the acknowledged idempotency key, that no key is held by two
// events, and that the head seen after the previous kill is still there with the same hash.
// On every start the child also appends acknowledged events again and exits 3 unless they come
// back as duplicates of their seqs. TILLROLL_CRASH_KILLS sets the number of kills (default
// 100); TILLROLL_SEED replays the kill times and the children's seeds (thread timing varies).

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/event_log.h"
#include "schemas/envelope_generated.h"

namespace tillroll {
namespace {

constexpr std::uint64_t kKillsDefault = 100;
constexpr int kRunMsMin = 20;
constexpr int kRunMsMax = 150;
constexpr std::size_t kReadChunkEvents = 10'000;
constexpr int kExitExecFailed = 127;

std::optional<std::uint64_t> EnvNumber(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  const char* end = text + std::strlen(text);
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) FAIL(name << " is not a number: '" << text << "'");
  return value;
}

std::uint64_t RandomSeed() {
  std::random_device device;
  return std::uint64_t{device()} << 32 | device();
}

std::filesystem::path MakeTempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "tillroll-crash-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

pid_t StartChild(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec: the parent has threads.
    execv(argv[0], argv.data());
    _exit(kExitExecFailed);
  }
  return pid;
}

// Kills the child; the test fails if it had ended by itself.
void KillChild(pid_t pid) {
  REQUIRE(kill(pid, SIGKILL) == 0);
  int status = 0;
  pid_t waited = 0;
  do {
    waited = waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  REQUIRE(waited == pid);
  if (WIFEXITED(status)) {
    FAIL("the child exited by itself with status "
         << WEXITSTATUS(status)
         << " (2: the log or the ack file failed, 3: an acknowledged event did not come back as "
            "a duplicate, 4: an append broke a promise, 127: exec failed); see its stderr");
  }
  REQUIRE(WIFSIGNALED(status));
  if (WTERMSIG(status) != SIGKILL) FAIL("the child died of signal " << WTERMSIG(status));
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

struct StoredEvent {
  std::string key;
  std::int64_t recorded_at_ns = 0;
};

// Every event of the log, indexed by seq (index 0 unused), read through the checked path.
std::vector<StoredEvent> ReadAllEvents(const EventLog& log, Sequence head_seq) {
  std::vector<StoredEvent> stored(head_seq + 1);
  for (Sequence from = 1; from <= head_seq; from += kReadChunkEvents) {
    Result<std::vector<EventRecord>> records = log.Read(from, kReadChunkEvents);
    INFO(records.status().ToString());
    REQUIRE(records.ok());
    for (const EventRecord& record : *records) {
      const events::Event* event = events::GetEvent(record.bytes.data());
      if (event->idempotency_key() != nullptr) {
        stored[record.seq].key = event->idempotency_key()->str();
      }
      stored[record.seq].recorded_at_ns = event->recorded_at_ns();
    }
  }
  return stored;
}

void CheckAcks(const std::vector<StoredEvent>& stored, const std::vector<Ack>& acks) {
  std::unordered_map<std::string_view, Sequence> seq_of_key;
  for (const Ack& ack : acks) {
    if (ack.seq == 0 || ack.seq >= stored.size()) {
      FAIL("acknowledged event " << ack.seq << " (" << ack.key << ") is past the head, "
                                 << stored.size() - 1);
    }
    if (stored[ack.seq].key != ack.key) {
      FAIL("acknowledged event " << ack.seq << " holds key '" << stored[ack.seq].key
                                 << "', acknowledged with '" << ack.key << "'");
    }
    const auto [it, inserted] = seq_of_key.emplace(ack.key, ack.seq);
    if (!inserted && it->second != ack.seq) {
      FAIL("key " << ack.key << " was acknowledged as event " << it->second << " and as event "
                  << ack.seq);
    }
  }
}

void CheckKeysUnique(const std::vector<StoredEvent>& stored) {
  std::unordered_map<std::string_view, Sequence> seq_of_key;
  for (Sequence seq = 1; seq < stored.size(); ++seq) {
    if (stored[seq].key.empty()) FAIL("event " << seq << " has no idempotency key");
    const auto [it, inserted] = seq_of_key.emplace(stored[seq].key, seq);
    if (!inserted) {
      FAIL("key " << stored[seq].key << " is held by events " << it->second << " and " << seq);
    }
  }
}

// Group commits (one recorded_at_ns each) and those holding batches of more than one child
// thread: the "crash.<seed>.<thread>." prefix of the keys tells the threads apart.
std::pair<std::uint64_t, std::uint64_t> CountGroups(const std::vector<StoredEvent>& stored) {
  std::unordered_map<std::int64_t, std::unordered_set<std::string_view>> threads_of_group;
  for (Sequence seq = 1; seq < stored.size(); ++seq) {
    const std::string_view key = stored[seq].key;
    std::size_t dot = 0;
    for (int i = 0; i < 3 && dot != std::string_view::npos; ++i) dot = key.find('.', dot + 1);
    threads_of_group[stored[seq].recorded_at_ns].insert(key.substr(0, dot));
  }
  std::uint64_t shared = 0;
  for (const auto& [recorded_at_ns, threads] : threads_of_group) {
    if (threads.size() > 1) ++shared;
  }
  return {threads_of_group.size(), shared};
}

struct Totals {
  LogHead head;
  std::uint64_t acked = 0;
  std::uint64_t groups = 0;
  std::uint64_t shared_groups = 0;
};

// Opens the log after a kill and checks all it promised; `totals` holds the previous round's
// head and receives this round's figures.
void CheckLogAfterKill(const std::filesystem::path& dir, const std::vector<Ack>& acks,
                       Totals& totals) {
  Result<std::unique_ptr<EventLog>> opened = EventLog::Open(dir);
  INFO("open: " << opened.status().ToString());
  REQUIRE(opened.ok());
  const EventLog& log = **opened;
  const VerifyReport report = log.Verify();
  INFO("verify: " << report.status.ToString() << " (first bad seq " << report.first_bad_seq
                  << ")");
  REQUIRE(report.status.ok());
  const LogHead head = log.Head();
  REQUIRE(report.head.seq == head.seq);
  REQUIRE(report.event_count == head.seq);
  REQUIRE(head.seq >= totals.head.seq);
  const std::vector<StoredEvent> stored = ReadAllEvents(log, head.seq);
  if (totals.head.seq > 0) {
    Result<std::vector<EventRecord>> before = log.Read(totals.head.seq, 1);
    REQUIRE(before.ok());
    REQUIRE(before->size() == 1);
    INFO("the previous head, event " << totals.head.seq << ", changed");
    REQUIRE(events::GetEvent(before->front().bytes.data())->hash()->str() ==
            totals.head.hash.ToHex());
  }
  CheckAcks(stored, acks);
  CheckKeysUnique(stored);
  std::tie(totals.groups, totals.shared_groups) = CountGroups(stored);
  totals.head = head;
  totals.acked = acks.size();
}

TEST_CASE("EventLog: every acknowledged append survives kill -9", "[crash]") {
  const std::uint64_t seed = EnvNumber("TILLROLL_SEED").value_or(RandomSeed());
  const std::uint64_t kills = EnvNumber("TILLROLL_CRASH_KILLS").value_or(kKillsDefault);
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  const std::filesystem::path child = self.parent_path() / "tillroll-crash-child";
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
  Totals totals;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t kill = 1; kill <= kills; ++kill) {
    INFO("kill " << kill << " of " << kills);
    const std::uint64_t child_seed = rng();
    const pid_t pid = StartChild(
        {child.string(), data.string(), ack_file.string(), std::to_string(child_seed)});
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
    KillChild(pid);
    CheckLogAfterKill(data, ReadAcks(ack_file), totals);
  }
  const auto elapsed_s = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - started);
  std::cerr << "log_crash_test: " << kills << " kills in " << elapsed_s.count() << " s, "
            << totals.head.seq << " events in the log, " << totals.acked << " acknowledged, "
            << totals.groups << " group commits (" << totals.shared_groups
            << " with batches of several threads), TILLROLL_SEED=" << seed << "\n";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tillroll
