#ifndef TILLROLL_ENGINE_LOG_INDEXER_H_
#define TILLROLL_ENGINE_LOG_INDEXER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/event.h"
#include "engine/log_store.h"
#include "engine/status.h"
#include "engine/string_map.h"

namespace tillroll {

// Writes the stream index and the idempotency index of events that are already durable, on
// its own thread, behind the writer. The events column family is the truth; these indexes are
// derived from it, so the writer does not wait for them before acknowledging an append. The
// checkpoint (key "indexed" in the index database's meta family: the last indexed sequence)
// goes into the same WriteBatch as the entries, and on open CatchUp indexes whatever a crash
// left behind, before the writer starts.
//
// Until an event is indexed the writer decides on its own in-memory view of it (stream
// versions, recent idempotency keys). Readers of a stream's version or of an idempotency key
// look first at what is enqueued and not yet indexed or was indexed lately (KnownStreamTip,
// PendingKey) and then at the index, without waiting for it: an acknowledged event is in one
// or the other.
// Other readers of the indexes wait for WaitIndexed(head).
//
// Thread-safety: Enqueue from the writer thread; the rest from any thread.
class LogIndexer {
 public:
  struct Entry {
    std::string stream;
    std::uint64_t stream_version = 0;
    Sequence seq = 0;
    std::string idempotency_key;  // empty: the event has none
    // The sealed event when it has a key, for the writer: a key used twice within a group is
    // compared by digest before the event is stored. The indexer does not read it.
    std::string event;
  };

  // Indexes the events after `indexed` up to the last stored one. Returns the new checkpoint.
  static Result<Sequence> CatchUp(LogStore& store, Sequence indexed);
  // The checkpoint stored in meta (0 for a new ledger).
  static Result<Sequence> StoredCheckpoint(LogStore& store);

  LogIndexer(LogStore* store, Sequence indexed);
  // Indexes everything enqueued, then stops.
  ~LogIndexer();
  LogIndexer(const LogIndexer&) = delete;
  LogIndexer& operator=(const LogIndexer&) = delete;

  // The entries of one durable group, ending at `last_seq`. Waits while the queue is full.
  void Enqueue(std::vector<Entry> entries, Sequence last_seq);

  Sequence indexed() const { return indexed_.load(std::memory_order_acquire); }
  // The newest version of `stream` and that event's sequence, when the indexer knows it
  // without reading the index: among the events enqueued and not yet indexed, else among the
  // streams it indexed lately (up to limits::kIndexedStreamTipsMax of them); nullopt
  // otherwise (the index then has it).
  std::optional<std::pair<std::uint64_t, Sequence>> KnownStreamTip(std::string_view stream) const;
  // The sequence of the event that used idempotency key `key`, among those enqueued and not
  // yet indexed; nullopt when none did.
  std::optional<Sequence> PendingKey(std::string_view key) const;
  // True once everything up to `seq` is indexed; false on timeout or after an index failure.
  bool WaitIndexed(Sequence seq, std::chrono::milliseconds timeout) const;
  // Ok, or why indexing stopped (the writer then refuses appends until a reopen).
  Status error() const;

 private:
  struct Group {
    std::vector<Entry> entries;
    Sequence last_seq = 0;
  };

  void Run();
  Status Write(const std::vector<Group>& groups);

  LogStore* const store_;
  std::atomic<Sequence> indexed_;
  mutable std::mutex mu_;
  mutable std::condition_variable work_cv_;
  mutable std::condition_variable done_cv_;  // indexed_ moved, queue has room, or error
  std::deque<Group> queue_;                  // guarded by mu_
  // Enqueued, not yet indexed (guarded by mu_): per stream its newest (version, seq); per
  // idempotency key its seq. Keys are views of the queued entries' strings, which stay put
  // until their group is written; an entry leaves once the index holds it (or on an error,
  // with the queue).
  std::unordered_map<std::string_view, std::pair<std::uint64_t, Sequence>> pending_streams_;
  std::unordered_map<std::string_view, Sequence> pending_keys_;
  // The tips of streams indexed since it last started over (guarded by mu_).
  StringMap<std::pair<std::uint64_t, Sequence>> indexed_tips_;
  bool stopping_ = false;                    // guarded by mu_
  Status error_;                             // guarded by mu_
  std::thread thread_;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_LOG_INDEXER_H_
