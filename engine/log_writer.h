#ifndef TILLROLL_ENGINE_LOG_WRITER_H_
#define TILLROLL_ENGINE_LOG_WRITER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/clock.h"
#include "engine/event_log.h"
#include "engine/log_format.h"
#include "engine/log_indexer.h"
#include "engine/log_store.h"
#include "engine/string_map.h"

namespace tillroll {

// The log's single writer. Producers hand it checked, unsealed batches; its thread takes
// every batch waiting in the queue (up to the group limits), decides each one against the
// stream versions and idempotency keys (including those of earlier batches in the same
// group), seals the accepted events into the hash chain and writes the whole group as one
// WriteBatch: events, the group's record-time entry and the head. A batch that fails is
// rolled back to a save point and does not affect the others in its group.
//
// Durability is pipelined: a second thread, the syncer, syncs the write-ahead log for every
// group written so far while the writer decides and writes the next one. Only then are the
// group's appends acknowledged, its head published (readers never look past it) and its
// stream and idempotency entries handed to the LogIndexer; until they are indexed the writer
// decides on its in-memory view of the events it wrote (stream versions and recent keys). A
// failed write or sync fails every unacknowledged append and every later one: the ledger
// must be reopened, and recovery keeps exactly what reached the disk.
//
// Thread-safety: Append may be called from any thread; everything else runs on the writer or
// syncer thread. `on_commit` runs on the syncer thread after each durable group.
class LogWriter {
 public:
  LogWriter(LogStore* store, LogIndexer* indexer, Clock* clock, bool sync,
            log_format::HeadRecord head,
            std::function<void(const log_format::HeadRecord&)> on_commit);
  // Drains the queue, then stops the thread.
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // `events` passed CheckUnsealedEvent.
  Result<std::vector<AppendOutcome>> Append(std::vector<std::string> events);

 private:
  struct Request {
    std::vector<std::string> events;
    Result<std::vector<AppendOutcome>> result = Status::Unavailable("not decided");
    // Set under `done_mu`; the producer is woken after the lock is released, so that it
    // never wakes only to wait for that lock. The request is shared by the producer and the
    // writer's threads, so the wake-up never touches a request already freed.
    std::mutex done_mu;
    std::condition_variable done_cv;
    bool done = false;
  };
  struct GroupState;
  // A written group on its way to the syncer.
  struct WrittenGroup {
    std::vector<std::shared_ptr<Request>> requests;
    std::vector<Result<std::vector<AppendOutcome>>> results;
    bool wrote = false;  // false: every request was rejected, nothing reached the WAL
    log_format::HeadRecord head;
    std::vector<LogIndexer::Entry> index;
  };

  void Run();
  void RunSyncer();
  WrittenGroup CommitGroup(std::vector<std::shared_ptr<Request>> group);
  void HandToSyncer(WrittenGroup written);
  static void Acknowledge(WrittenGroup& written);
  // Why the writer refuses appends (a failed write or sync), or Ok.
  Status Failure();
  // Decides one request on top of `group` and, when it is accepted, adds its events to
  // `group` and `batch`. A rejected request leaves both as they were.
  Result<std::vector<AppendOutcome>> Decide(Request& request, GroupState& group,
                                            rocksdb::WriteBatch& batch);
  // Where an idempotency key was used before. The original event's digest is worked out only
  // when the key comes again (DigestOfUse).
  struct KeyUse {
    Sequence seq = 0;
    std::uint64_t stream_version = 0;
  };
  // What is known of each event's idempotency key before the request (nullopt: new or none).
  Result<std::vector<std::optional<KeyUse>>> KnownKeys(const Request& request);
  // The digest of the event that first used a key: from an event of the group (this request's
  // included), or from storage.
  Result<Digest> DigestOfUse(const KeyUse& use, const GroupState& group);
  void ForgetIndexedKeys();

  LogStore* const store_;
  LogIndexer* const indexer_;
  Clock* const clock_;
  const bool sync_;
  const std::function<void(const log_format::HeadRecord&)> on_commit_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // the writer waits for requests
  std::condition_variable space_cv_;  // producers wait for room in the queue
  std::deque<std::shared_ptr<Request>> queue_;  // guarded by mu_
  bool stopping_ = false;             // guarded by mu_

  std::mutex sync_mu_;
  std::condition_variable sync_work_cv_;   // the syncer waits for written groups
  std::condition_variable sync_space_cv_;  // the writer waits for room
  std::deque<WrittenGroup> written_;       // guarded by sync_mu_
  bool sync_stopping_ = false;             // guarded by sync_mu_
  Status failure_;                         // guarded by sync_mu_; set once, never cleared

  // Writer thread only.
  log_format::HeadRecord head_;
  // Every stream written since open (or since the cache was last emptied, which happens only
  // when the indexer has caught up): its current version, including the group being decided.
  StringMap<std::uint64_t> stream_versions_;
  // Keys written, or being written by the group, but perhaps not indexed yet, and their order
  // (pointing at the map's keys) to forget them once indexed.
  StringMap<KeyUse> recent_keys_;
  std::deque<std::pair<Sequence, const std::string*>> recent_key_order_;
  // How to undo what the group being decided changed in stream_versions_ (its keys are the
  // tail of recent_key_order_), should a request be refused or the group's write fail.
  struct VersionUndo {
    const std::string* stream;  // the map's key
    std::uint64_t before;
    bool inserted;  // the stream was not cached before
  };
  std::vector<VersionUndo> version_undo_;
  struct UndoMark {
    std::size_t versions;
    std::size_t keys;
  };
  UndoMark Mark() const;
  // Undoes the changes made since `mark`, newest first.
  void RollBack(UndoMark mark);
  std::thread syncer_;  // started before, and stopped after, the writer thread
  std::thread thread_;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_LOG_WRITER_H_
