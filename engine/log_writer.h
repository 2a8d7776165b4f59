#ifndef TILLROLL_ENGINE_LOG_WRITER_H_
#define TILLROLL_ENGINE_LOG_WRITER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/clock.h"
#include "engine/event_log.h"
#include "engine/log_format.h"
#include "engine/log_store.h"

namespace tillroll {

// The log's single writer. Producers hand it checked, unsealed batches; its thread takes
// every batch waiting in the queue (up to the group limits), decides each one against the
// stream versions and idempotency keys (including those of earlier batches in the same
// group), seals the accepted events into the hash chain and writes the whole group as one
// synced WriteBatch. A batch that fails is rolled back to a save point and does not affect
// the others in its group.
//
// Thread-safety: Append may be called from any thread; everything else runs on the writer
// thread. `on_commit` runs on the writer thread after each durable group.
class LogWriter {
 public:
  LogWriter(LogStore* store, Clock* clock, bool sync, log_format::HeadRecord head,
            std::function<void(const log_format::HeadRecord&)> on_commit);
  // Drains the queue, then stops the thread.
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // `events` passed CheckUnsealedEvent; `digests[i]` is set iff event i has an idempotency key.
  Result<std::vector<AppendOutcome>> Append(std::vector<std::string> events,
                                            std::vector<std::optional<Digest>> digests);

 private:
  struct Request {
    std::vector<std::string> events;
    std::vector<std::optional<Digest>> digests;
    std::promise<Result<std::vector<AppendOutcome>>> done;
  };
  // The writer's view of streams and keys while it decides one group.
  struct GroupState;

  void Run();
  void CommitGroup(std::vector<Request*>& group);
  Result<std::vector<AppendOutcome>> Decide(Request& request, GroupState& group,
                                            rocksdb::WriteBatch& batch);
  Result<std::uint64_t> StoredStreamVersion(const std::string& stream);
  Result<std::optional<log_format::IdempotencyEntry>> StoredKey(const std::string& key);

  LogStore* const store_;
  Clock* const clock_;
  const bool sync_;
  const std::function<void(const log_format::HeadRecord&)> on_commit_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // the writer waits for requests
  std::condition_variable space_cv_;  // producers wait for room in the queue
  std::deque<Request*> queue_;        // guarded by mu_
  bool stopping_ = false;             // guarded by mu_

  // Writer thread only.
  log_format::HeadRecord head_;
  std::unordered_map<std::string, std::uint64_t> stream_versions_;
  std::thread thread_;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_LOG_WRITER_H_
