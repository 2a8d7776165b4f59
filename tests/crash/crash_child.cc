// tillroll-crash-child DATA_DIR ACK_FILE SEED: the process that log_crash_test kills.
//
// It opens the log in DATA_DIR (default options: every append synced) and, from 2..4 threads
// at once so that the writer groups their batches, appends batches of 1..50 PriceSet events
// forever. Only after Append has returned does a thread acknowledge the batch: one line
// "seq idempotency_key\n" per event, in a single write(2) to ACK_FILE (O_APPEND). An event is
// a pure function of its idempotency key, which names the sku and the expected version, so a
// later run can build an acknowledged event again: on start the child appends the last
// acknowledged events once more and requires the log to answer `duplicate` with their seqs.
// Each thread writes only streams of its own, so it knows their versions and sets
// expected_version on some events without ever meeting a conflict.
//
// Once the log is open and the acknowledged events are checked, it writes "appending\n" to
// stdout. Exit status (it never exits 0): 2 bad usage, or the log or ACK_FILE failed; 3 a
// re-appended acknowledged event did not come back as a duplicate of its seq; 4 an append
// broke a promise of the log (a conflict, a fresh key seen as a duplicate, seqs or stream
// versions not dense).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/event_log.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

constexpr int kExitFailed = 2;
constexpr int kExitNotDuplicate = 3;
constexpr int kExitBrokenPromise = 4;

constexpr unsigned kSkuCount = 30;
constexpr std::uint64_t kBatchEventsMax = 50;
constexpr unsigned kThreadsMin = 2;
constexpr unsigned kThreadsMax = 4;
// How many of the last acknowledged events a new run appends again.
constexpr std::size_t kRecheckEventsMax = 8;
// The tail of ACK_FILE read on start; a line is under 100 bytes.
constexpr off_t kAckTailBytesMax = 64 * 1024;

[[noreturn]] void Fail(int exit_status, const std::string& message) {
  std::fprintf(stderr, "tillroll-crash-child: %s\n", message.c_str());
  std::_Exit(exit_status);
}

std::string Errno() { return std::strerror(errno); }

std::uint64_t Fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string SkuName(unsigned sku) { return "sku-" + std::to_string(sku); }

// "crash.<seed>.<thread>.<counter>.<sku>.<expected_version>": unique per run and thread, and
// enough to build the event again.
std::string MakeKey(std::uint64_t seed, unsigned thread, std::uint64_t counter, unsigned sku,
                    std::int64_t expected_version) {
  return "crash." + std::to_string(seed) + "." + std::to_string(thread) + "." +
         std::to_string(counter) + "." + std::to_string(sku) + "." +
         std::to_string(expected_version);
}

struct KeyFields {
  unsigned sku = 0;
  std::int64_t expected_version = -1;
};

template <typename T>
bool ParseNumber(std::string_view text, T& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

std::optional<KeyFields> ParseKey(std::string_view key) {
  std::vector<std::string_view> parts;
  for (std::size_t dot; (dot = key.find('.')) != std::string_view::npos;) {
    parts.push_back(key.substr(0, dot));
    key.remove_prefix(dot + 1);
  }
  parts.push_back(key);
  KeyFields fields;
  if (parts.size() != 6 || parts[0] != "crash" || !ParseNumber(parts[4], fields.sku) ||
      fields.sku >= kSkuCount || !ParseNumber(parts[5], fields.expected_version)) {
    return std::nullopt;
  }
  return fields;
}

// The unsealed event that `key` stands for; the same key always gives the same event.
std::string BuildEvent(const std::string& key) {
  const std::optional<KeyFields> fields = ParseKey(key);
  if (!fields) Fail(kExitFailed, "malformed idempotency key '" + key + "'");
  const std::string sku = SkuName(fields->sku);
  return testing::PriceEvent({.sku = sku,
                              .amount_minor = static_cast<std::int64_t>(Fnv1a(key) % 1'000'000) + 1,
                              .expected_version = fields->expected_version,
                              .idempotency_key = key});
}

struct Ack {
  Sequence seq = 0;
  std::string key;
};

std::optional<Ack> ParseAckLine(std::string_view line) {
  const std::size_t space = line.find(' ');
  Ack ack;
  if (space == std::string_view::npos || space + 1 == line.size() ||
      !ParseNumber(line.substr(0, space), ack.seq)) {
    return std::nullopt;
  }
  ack.key = std::string(line.substr(space + 1));
  return ack;
}

// Cuts a line torn by the previous kill off ACK_FILE (creating it if missing), so that this
// run's lines start on a line of their own, and returns the last acknowledged events.
std::vector<Ack> TrimAckFile(const char* path) {
  const int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) Fail(kExitFailed, std::string("opening ") + path + ": " + Errno());
  struct stat st {};
  if (fstat(fd, &st) != 0) Fail(kExitFailed, "stat of the ack file: " + Errno());
  const off_t start = std::max<off_t>(0, st.st_size - kAckTailBytesMax);
  std::string tail(static_cast<std::size_t>(st.st_size - start), '\0');
  if (pread(fd, tail.data(), tail.size(), start) != static_cast<ssize_t>(tail.size())) {
    Fail(kExitFailed, "reading the ack file: " + Errno());
  }
  const std::size_t last_end = tail.rfind('\n');
  if (last_end == std::string::npos && start > 0) Fail(kExitFailed, "no line end in the ack file");
  const std::size_t complete = last_end == std::string::npos ? 0 : last_end + 1;
  tail.resize(complete);
  if (start + static_cast<off_t>(complete) < st.st_size &&
      ftruncate(fd, start + static_cast<off_t>(complete)) != 0) {
    Fail(kExitFailed, "cutting the torn line off the ack file: " + Errno());
  }
  close(fd);
  // A window that starts inside the file may start inside a line.
  std::size_t begin = start > 0 ? tail.find('\n') + 1 : 0;
  std::vector<Ack> acks;
  for (std::size_t end; (end = tail.find('\n', begin)) != std::string::npos; begin = end + 1) {
    std::optional<Ack> ack = ParseAckLine(std::string_view(tail).substr(begin, end - begin));
    if (!ack) Fail(kExitFailed, "malformed line in the ack file");
    acks.push_back(std::move(*ack));
  }
  const std::size_t keep = std::min(acks.size(), kRecheckEventsMax);
  return std::vector<Ack>(acks.end() - static_cast<std::ptrdiff_t>(keep), acks.end());
}

// Appends acknowledged events again: each must come back as a duplicate of its acked seq.
void RecheckAcknowledged(EventLog& log, const std::vector<Ack>& acks) {
  if (acks.empty()) return;
  std::vector<std::string> events;
  for (const Ack& ack : acks) events.push_back(BuildEvent(ack.key));
  Result<std::vector<AppendOutcome>> outcomes = log.Append(std::move(events));
  if (!outcomes.ok()) {
    Fail(kExitNotDuplicate,
         "re-appending acknowledged events failed: " + outcomes.status().ToString());
  }
  for (std::size_t i = 0; i < acks.size(); ++i) {
    const AppendOutcome& outcome = (*outcomes)[i];
    if (!outcome.duplicate || outcome.seq != acks[i].seq) {
      Fail(kExitNotDuplicate, "acknowledged event " + std::to_string(acks[i].seq) + " (key " +
                                  acks[i].key + ") came back as " +
                                  (outcome.duplicate ? "a duplicate of " : "new event ") +
                                  std::to_string(outcome.seq));
    }
  }
}

// Checks what the log answered for a batch of fresh keys and moves the known stream versions.
void CheckOutcomes(const std::vector<AppendOutcome>& outcomes, const std::vector<unsigned>& skus,
                   std::vector<std::uint64_t>& versions) {
  if (outcomes.size() != skus.size()) Fail(kExitBrokenPromise, "not one outcome per event");
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const AppendOutcome& outcome = outcomes[i];
    const std::string at = "event " + std::to_string(outcome.seq) + ": ";
    if (outcome.duplicate) Fail(kExitBrokenPromise, at + "a fresh key came back as a duplicate");
    if (outcome.seq != outcomes[0].seq + i) {
      Fail(kExitBrokenPromise, at + "the batch's seqs are not dense");
    }
    if (outcome.stream_version != versions[skus[i]] + 1) {
      Fail(kExitBrokenPromise, at + "stream version " + std::to_string(outcome.stream_version) +
                                   " does not follow " + std::to_string(versions[skus[i]]));
    }
    versions[skus[i]] = outcome.stream_version;
  }
}

void Acknowledge(int ack_fd, const std::vector<AppendOutcome>& outcomes,
                 const std::vector<std::string>& keys) {
  std::string lines;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    lines += std::to_string(outcomes[i].seq) + " " + keys[i] + "\n";
  }
  // One write per batch: a kill tears at most the file's last line, never one in the middle.
  if (write(ack_fd, lines.data(), lines.size()) != static_cast<ssize_t>(lines.size())) {
    Fail(kExitFailed, "writing the ack file: " + Errno());
  }
}

// One appender thread: it owns the skus `thread`, `thread + threads`, ... and nobody else
// writes their streams while it runs.
void AppendForever(EventLog* log, int ack_fd, std::uint64_t seed, unsigned thread,
                   unsigned threads) {
  std::mt19937_64 rng(seed ^ (0x9E3779B97F4A7C15ull * (thread + 1)));
  std::vector<unsigned> skus;
  std::vector<std::uint64_t> versions(kSkuCount, 0);
  for (unsigned sku = thread; sku < kSkuCount; sku += threads) {
    Result<std::uint64_t> version = log->StreamVersion("price/" + SkuName(sku));
    if (!version.ok()) Fail(kExitFailed, "stream version: " + version.status().ToString());
    skus.push_back(sku);
    versions[sku] = *version;
  }
  for (std::uint64_t counter = 0;;) {
    const std::uint64_t batch_events = 1 + rng() % kBatchEventsMax;
    std::vector<std::uint64_t> predicted = versions;
    std::vector<unsigned> batch_skus;
    std::vector<std::string> keys;
    std::vector<std::string> events;
    for (std::uint64_t i = 0; i < batch_events; ++i) {
      const unsigned sku = skus[rng() % skus.size()];
      const std::int64_t expected = rng() % 4 == 0 ? static_cast<std::int64_t>(predicted[sku]) : -1;
      ++predicted[sku];
      batch_skus.push_back(sku);
      keys.push_back(MakeKey(seed, thread, counter++, sku, expected));
      events.push_back(BuildEvent(keys.back()));
    }
    Result<std::vector<AppendOutcome>> outcomes = log->Append(std::move(events));
    if (!outcomes.ok()) {
      Fail(outcomes.status().code() == StatusCode::kConflict ? kExitBrokenPromise : kExitFailed,
           "append: " + outcomes.status().ToString());
    }
    CheckOutcomes(*outcomes, batch_skus, versions);
    Acknowledge(ack_fd, *outcomes, keys);
  }
}

int RunChild(int argc, char** argv) {
  std::uint64_t seed = 0;
  if (argc != 4 || !ParseNumber(argv[3], seed)) {
    Fail(kExitFailed, "usage: tillroll-crash-child DATA_DIR ACK_FILE SEED");
  }
  const std::vector<Ack> last_acks = TrimAckFile(argv[2]);
  const int ack_fd = open(argv[2], O_WRONLY | O_APPEND | O_CLOEXEC);
  if (ack_fd < 0) Fail(kExitFailed, std::string("opening ") + argv[2] + ": " + Errno());
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(argv[1]);
  if (!log.ok()) Fail(kExitFailed, "opening the log: " + log.status().ToString());
  RecheckAcknowledged(**log, last_acks);
  // Tells log_crash_test that recovery is over and appends begin.
  if (write(STDOUT_FILENO, "appending\n", 10) != 10) Fail(kExitFailed, "writing to stdout");
  const unsigned threads =
      kThreadsMin + static_cast<unsigned>(seed % (kThreadsMax - kThreadsMin + 1));
  std::vector<std::thread> appenders;
  for (unsigned t = 0; t < threads; ++t) {
    appenders.emplace_back(AppendForever, log->get(), ack_fd, seed, t, threads);
  }
  for (std::thread& appender : appenders) appender.join();
  return kExitFailed;  // not reached: appenders run until the process is killed
}

}  // namespace
}  // namespace tillroll

int main(int argc, char** argv) { return tillroll::RunChild(argc, argv); }
