#ifndef TILLROLL_ENGINE_EVENT_LOG_H_
#define TILLROLL_ENGINE_EVENT_LOG_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/clock.h"
#include "engine/event.h"
#include "engine/status.h"

namespace tillroll {

struct LogOptions {
  // Source of recorded_at; not owned, must outlive the log. nullptr: the system clock.
  Clock* clock = nullptr;
  // Sync the write-ahead log before acknowledging an append. Only tests that do not test
  // durability turn this off.
  bool sync = true;
  // Create a ledger when the folder holds none. Read-only tools say "not found" instead.
  bool create_if_missing = true;
};

// What one event of an append became.
struct AppendOutcome {
  Sequence seq = 0;
  std::uint64_t stream_version = 0;
  // True when the idempotency key was already in the log: `seq` is the original event's and
  // nothing was written.
  bool duplicate = false;
};

// A stream's current version and the sequence of its event at that version ({0, 0}: no
// event yet).
struct StreamTip {
  std::uint64_t version = 0;
  Sequence seq = 0;
};

struct LogStats {
  LogHead head;
  std::uint64_t stream_count = 0;
  std::uint64_t event_bytes = 0;  // sum of the sealed events' sizes
  std::uint64_t disk_bytes = 0;   // what the store occupies (SST files and WAL)
};

struct VerifyReport {
  std::uint64_t event_count = 0;
  LogHead head;
  // Ok, or Corruption naming the first bad sequence and why.
  Status status;
  Sequence first_bad_seq = 0;
};

class Subscription;

// The ledger's append-only, hash-chained event log.
//
// Thread-safety: every method may be called from any thread. Appends are serialized by one
// writer thread that groups concurrent appends into one synced write (group commit); reads
// never block it. Only one process may open a log folder at a time.
class EventLog {
 public:
  // Opens the log in `dir`, creating it when the folder is empty or missing (NotFound instead
  // when options.create_if_missing is false). Unavailable if
  // the folder is locked by another process or cannot be read; Corruption if the stored head
  // does not match the stored events.
  static Result<std::unique_ptr<EventLog>> Open(const std::filesystem::path& dir,
                                                LogOptions options = {});
  // Finishes the appends already queued, then closes.
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends a batch of unsealed events (see engine/event_chain.h) atomically and returns
  // one outcome per event, in order, once the batch is durable. Nothing of the batch is
  // written when any event fails:
  //   InvalidArgument - a malformed event or a limit exceeded (message names the event);
  //   Conflict - a stale expected_version, or an idempotency key already used for other
  //              content (message names the event, the stream and both versions or seqs);
  //   Unavailable - the write failed or the log is closing.
  // An event whose idempotency key is already in the log with the same content is not
  // written again: its outcome is the original's, marked duplicate.
  Result<std::vector<AppendOutcome>> Append(std::vector<std::string> events);

  // The last durable event. Never moves backwards. Every read stops here: an event that is
  // written but not yet synced is never shown.
  LogHead Head() const;

  // Up to `max` events from `from` (inclusive) in sequence order; fewer at the head.
  Result<std::vector<EventRecord>> Read(Sequence from, std::size_t max) const;

  // Calls `visit(seq, bytes)` for every stored event in [from, to_exclusive) in order until
  // it returns false. `bytes` is valid only during the call and NOT checked: for callers that
  // check events themselves (CheckSealedEvent, ChainChecker). Most want Replay.
  Status Scan(Sequence from, Sequence to_exclusive,
              const std::function<bool(Sequence, std::string_view)>& visit) const;

  // Like Scan, but every event is checked (FlatBuffers Verifier, its hash) and linked to the
  // one before it (dense sequence, prev_hash) before `visit` sees it; the first bad event stops
  // the replay with Corruption naming it. Hashing runs on a second thread, ahead of `visit`.
  Status Replay(Sequence from, Sequence to_exclusive,
                const std::function<bool(Sequence, std::string_view)>& visit) const;

  // Up to `max` events of one stream from version `from_version` (inclusive).
  Result<std::vector<EventRecord>> ReadStream(std::string_view stream, std::uint64_t from_version,
                                              std::size_t max) const;

  // The stream's current version (every acknowledged append counted, without waiting for the
  // index to catch up); 0 for a stream with no events.
  Result<std::uint64_t> StreamVersion(std::string_view stream) const;
  // The same, with the sequence of the stream's event at that version.
  Result<StreamTip> TipOfStream(std::string_view stream) const;

  // The sequences in (after, up_to] of events on every stream whose name starts with
  // `stream_prefix` (e.g. "price/"), ascending: what a reader interested in one family of
  // streams needs, without reading the rest of the log.
  Result<std::vector<Sequence>> SeqsOfStreams(std::string_view stream_prefix, Sequence after,
                                              Sequence up_to) const;

  // The event an idempotency key produced (acknowledged appends, without waiting for the
  // index); nullopt when the key was never used.
  Result<std::optional<Sequence>> SeqOfIdempotencyKey(std::string_view key) const;

  // The first sequence recorded at or after `recorded_at_ns`; Head().seq + 1 if none.
  Result<Sequence> FirstRecordedAtOrAfter(std::int64_t recorded_at_ns) const;

  // Follows the log from after `after`: catch-up first, then live appends.
  std::unique_ptr<Subscription> Subscribe(Sequence after) const;

  // Blocks until the head reaches `seq` or `timeout` passes; true if it did.
  bool WaitForHead(Sequence seq, std::chrono::milliseconds timeout) const;

  Result<LogStats> Stats() const;

  // Walks the whole log: RocksDB block checksums, every event's hash, the chain of prev_hash,
  // dense sequences, dense stream versions, the stream index and the stored head.
  VerifyReport Verify() const;

 private:
  struct Impl;
  explicit EventLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A reader that never misses an event and is never dropped, however slow: it reads from the
// log's storage, not from a buffer of live appends. Not thread-safe; must not outlive the log.
class Subscription {
 public:
  Subscription(const EventLog* log, Sequence after) : log_(log), position_(after) {}

  // The next events (at most `max`), waiting up to `wait` when there are none yet. Returns an
  // empty vector when the wait passes with nothing new.
  Result<std::vector<EventRecord>> Next(std::size_t max, std::chrono::milliseconds wait);

  // The sequence of the last event returned (or `after` before any).
  Sequence position() const { return position_; }

 private:
  const EventLog* log_;
  Sequence position_;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_EVENT_LOG_H_
