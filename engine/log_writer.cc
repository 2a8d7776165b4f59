#include "engine/log_writer.h"

#include <pthread.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "engine/event_chain.h"
#include "engine/limits.h"
#include "schemas/envelope_generated.h"

namespace tillroll {

struct LogWriter::GroupState {
  log_format::HeadRecord head;
  std::int64_t recorded_at_ns = 0;
  std::vector<LogIndexer::Entry> index;  // one per event of the group, in sequence order
};

LogWriter::UndoMark LogWriter::Mark() const {
  return {version_undo_.size(), recent_key_order_.size()};
}

void LogWriter::RollBack(UndoMark mark) {
  while (version_undo_.size() > mark.versions) {
    const VersionUndo& undo = version_undo_.back();
    const auto it = stream_versions_.find(*undo.stream);
    TR_ASSERT(it != stream_versions_.end());
    if (undo.inserted) {
      version_undo_.pop_back();  // before the erase: it points into the erased entry
      stream_versions_.erase(it);
    } else {
      it->second = undo.before;
      version_undo_.pop_back();
    }
  }
  // Keys taken since the mark are new ones: each is last in the order and erased.
  while (recent_key_order_.size() > mark.keys) {
    const auto it = recent_keys_.find(*recent_key_order_.back().second);
    TR_ASSERT(it != recent_keys_.end());
    recent_key_order_.pop_back();
    recent_keys_.erase(it);
  }
}

LogWriter::LogWriter(LogStore* store, LogIndexer* indexer, Clock* clock, bool sync,
                     log_format::HeadRecord head,
                     std::function<void(const log_format::HeadRecord&)> on_commit)
    : store_(store),
      indexer_(indexer),
      clock_(clock),
      sync_(sync),
      on_commit_(std::move(on_commit)),
      head_(head) {
  TR_ASSERT(store_ != nullptr && indexer_ != nullptr && clock_ != nullptr);
  syncer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tillroll-sync");
    RunSyncer();
  });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tillroll-write");
    Run();
  });
}

LogWriter::~LogWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  thread_.join();
  TR_ASSERT(queue_.empty());
  {
    std::lock_guard lock(sync_mu_);
    sync_stopping_ = true;
  }
  sync_work_cv_.notify_all();
  syncer_.join();
  TR_ASSERT(written_.empty());
}

Result<std::vector<AppendOutcome>> LogWriter::Append(std::vector<std::string> events) {
  auto request = std::make_shared<Request>();
  request->events = std::move(events);
  {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock,
                   [&] { return stopping_ || queue_.size() < limits::kAppendQueueRequestsMax; });
    if (stopping_) return Status::Unavailable("the log is closing");
    queue_.push_back(request);
  }
  work_cv_.notify_one();
  std::unique_lock lock(request->done_mu);
  request->done_cv.wait(lock, [&] { return request->done; });
  return std::move(request->result);
}

void LogWriter::Run() {
  std::vector<std::shared_ptr<Request>> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      std::size_t events = 0;
      std::size_t bytes = 0;
      while (!queue_.empty()) {
        std::shared_ptr<Request>& next = queue_.front();
        std::size_t next_bytes = 0;
        for (const std::string& e : next->events) next_bytes += e.size();
        if (!group.empty() && (events + next->events.size() > limits::kGroupEventsMax ||
                               bytes + next_bytes > limits::kGroupBytesMax)) {
          break;
        }
        events += next->events.size();
        bytes += next_bytes;
        group.push_back(std::move(next));
        queue_.pop_front();
      }
    }
    space_cv_.notify_all();
    HandToSyncer(CommitGroup(std::move(group)));
    group.clear();
  }
}

void LogWriter::HandToSyncer(WrittenGroup written) {
  {
    std::unique_lock lock(sync_mu_);
    sync_space_cv_.wait(lock, [&] { return written_.size() < limits::kSyncQueueGroupsMax; });
    written_.push_back(std::move(written));
  }
  sync_work_cv_.notify_one();
}

void LogWriter::RunSyncer() {
  for (;;) {
    std::deque<WrittenGroup> groups;
    Status failure;
    {
      std::unique_lock lock(sync_mu_);
      sync_work_cv_.wait(lock, [&] { return sync_stopping_ || !written_.empty(); });
      if (written_.empty()) return;
      groups.swap(written_);
      failure = failure_;
    }
    sync_space_cv_.notify_all();
    // Every group taken was written before this sync starts, so one sync covers them all.
    const bool wrote =
        std::any_of(groups.begin(), groups.end(), [](const WrittenGroup& g) { return g.wrote; });
    if (failure.ok() && wrote && sync_) {
      failure = FromRocks(store_->db->SyncWAL(), "syncing the write-ahead log");
      if (!failure.ok()) {
        std::lock_guard lock(sync_mu_);
        failure_ = failure;
      }
    }
    for (WrittenGroup& group : groups) {
      if (!failure.ok()) {
        for (auto& r : group.results) {
          if (r.ok()) r = Status::Unavailable(failure.message() + "; reopen the ledger");
        }
      } else if (group.wrote) {
        // Published first: an index never runs ahead of the head readers see.
        on_commit_(group.head);
        indexer_->Enqueue(std::move(group.index), group.head.head.seq);
      }
      Acknowledge(group);
    }
  }
}

Status LogWriter::Failure() {
  std::lock_guard lock(sync_mu_);
  return failure_;
}

void LogWriter::Acknowledge(WrittenGroup& written) {
  for (std::size_t i = 0; i < written.requests.size(); ++i) {
    Request& request = *written.requests[i];
    {
      std::lock_guard lock(request.done_mu);
      request.result = std::move(written.results[i]);
      request.done = true;
    }
    request.done_cv.notify_one();
  }
}

LogWriter::WrittenGroup LogWriter::CommitGroup(std::vector<std::shared_ptr<Request>> group) {
  WrittenGroup written;
  written.requests = std::move(group);
  written.results.reserve(written.requests.size());
  Status refused = Failure();
  if (refused.ok()) refused = indexer_->error();
  if (!refused.ok()) {
    for (std::size_t i = 0; i < written.requests.size(); ++i) {
      written.results.push_back(Status::Unavailable(refused.message() + "; reopen the ledger"));
    }
    return written;
  }
  ForgetIndexedKeys();
  GroupState state;
  state.head = head_;
  // Record time never decreases, whatever the clock does, and is never the placeholder.
  state.recorded_at_ns =
      std::max({clock_->NowNs(), head_.head.recorded_at_ns, kUnsealedPlaceholder + 1});
  const UndoMark group_mark = Mark();
  std::size_t group_events = 0;
  for (const std::shared_ptr<Request>& request : written.requests) {
    group_events += request->events.size();
  }
  state.index.reserve(group_events);
  rocksdb::WriteBatch batch;
  for (const std::shared_ptr<Request>& request : written.requests) {
    written.results.push_back(Decide(*request, state, batch));
  }
  if (state.head.head.seq == head_.head.seq) {  // all rejected or duplicates
    TR_ASSERT(version_undo_.size() == group_mark.versions);
    return written;
  }

  // Every event of a group shares one record time: one index entry per group finds them.
  TR_ASSERT(batch
                .Put(store_->record_time,
                     log_format::RecordTimeKey(state.recorded_at_ns, head_.head.seq + 1), "")
                .ok());
  TR_ASSERT(batch.Put(store_->meta, log_format::kHeadKey, log_format::EncodeHead(state.head)).ok());
  // Not synced here: the syncer syncs the WAL for this group and those around it.
  const Status status =
      FromRocks(store_->db->Write(rocksdb::WriteOptions(), &batch), "writing events");
  if (!status.ok()) {
    // The in-memory view lets go of this group, but what RocksDB kept is unknown: refuse
    // everything from now on, as after a failed sync.
    RollBack(group_mark);
    {
      std::lock_guard lock(sync_mu_);
      failure_ = status;
    }
    for (auto& r : written.results) {
      if (r.ok()) r = Status::Unavailable(status.message() + "; reopen the ledger");
    }
    return written;
  }
  TR_ASSERT(state.head.head.seq > head_.head.seq);
  const Sequence before_group = head_.head.seq;
  head_ = state.head;
  version_undo_.clear();  // the group is in; its keys stay until indexed (ForgetIndexedKeys)
  if (stream_versions_.size() > limits::kStreamVersionCacheEntriesMax) {
    // Streams not cached are read from the stream index, so it must be complete up to this
    // group first; the group's own streams are cached again.
    while (!indexer_->WaitIndexed(before_group, std::chrono::seconds(1)) &&
           indexer_->error().ok() && Failure().ok()) {
    }
    stream_versions_.clear();
    for (const LogIndexer::Entry& e : state.index) stream_versions_[e.stream] = e.stream_version;
  }
  written.wrote = true;
  written.head = head_;
  written.index = std::move(state.index);
  return written;
}

Result<std::vector<AppendOutcome>> LogWriter::Decide(Request& request, GroupState& group,
                                                     rocksdb::WriteBatch& batch) {
  Result<std::vector<std::optional<KeyUse>>> known = KnownKeys(request);
  if (!known.ok()) return known.status();
  // The request's stream versions and keys go straight into the writer's view, with what it
  // takes to undo them should a later event of the request be refused.
  const UndoMark mark = Mark();
  // The request's entries go straight to the group's, and are taken back if it is refused.
  const std::size_t index_mark = group.index.size();
  log_format::HeadRecord head = group.head;
  std::vector<AppendOutcome> outcomes;
  outcomes.reserve(request.events.size());
  batch.SetSavePoint();
  auto reject = [&](Status status) {
    TR_ASSERT(batch.RollbackToSavePoint().ok());
    RollBack(mark);
    group.index.resize(index_mark);
    return status;
  };

  for (std::size_t i = 0; i < request.events.size(); ++i) {
    std::string& bytes = request.events[i];
    const events::Event* event = events::GetEvent(bytes.data());
    const std::string_view stream = event->stream()->string_view();
    auto where = [&] {
      return "event " + std::to_string(i + 1) + " of the batch (stream " + std::string(stream) +
             "): ";
    };

    std::string_view key;
    if (event->idempotency_key() != nullptr) {
      key = event->idempotency_key()->string_view();
      std::optional<KeyUse> seen = (*known)[i];
      if (!seen.has_value()) {  // perhaps by an earlier event of this request
        if (auto it = recent_keys_.find(key); it != recent_keys_.end()) seen = it->second;
      }
      if (seen.has_value()) {
        Result<Digest> original = DigestOfUse(*seen, group);
        if (!original.ok()) return reject(original.status());
        if (*original != IdempotencyDigest(bytes)) {
          return reject(Status::Conflict(where() + "idempotency key '" + std::string(key) +
                                         "' was already used for event " +
                                         std::to_string(seen->seq) + " with other content"));
        }
        outcomes.push_back({seen->seq, seen->stream_version, true});
        continue;
      }
    }

    auto cached = stream_versions_.find(stream);
    std::uint64_t current = 0;
    if (cached != stream_versions_.end()) {
      current = cached->second;
    } else {
      // Not written since open (or since the cache was emptied): the stream index is complete.
      Result<std::uint64_t> version = store_->IndexedStreamVersion(stream);
      if (!version.ok()) return reject(version.status());
      current = *version;
    }
    const std::int64_t expected = event->expected_version();
    if (expected >= 0 && static_cast<std::uint64_t>(expected) != current) {
      return reject(Status::Conflict(where() + "expected stream version " +
                                     std::to_string(expected) + ", but the stream is at version " +
                                     std::to_string(current)));
    }

    const SealFields seal{head.head.seq + 1, current + 1, group.recorded_at_ns, head.head.hash};
    const Digest hash = SealEvent(bytes, seal);
    if (!batch.Put(store_->events, log_format::EventKey(seal.seq), bytes).ok()) {
      return reject(Status::Internal(where() + "could not be added to the write batch"));
    }
    if (cached != stream_versions_.end()) {
      version_undo_.push_back({&cached->first, cached->second, false});
      cached->second = seal.stream_version;
    } else {
      cached = stream_versions_.emplace(std::string(stream), seal.stream_version).first;
      version_undo_.push_back({&cached->first, 0, true});
    }
    if (!key.empty()) {
      const auto taken = recent_keys_.emplace(std::string(key),
                                              KeyUse{seal.seq, seal.stream_version});
      TR_ASSERT(taken.second);  // a key seen before took the duplicate's way above
      recent_key_order_.emplace_back(seal.seq, &taken.first->first);
    }
    if (seal.stream_version == 1) ++head.stream_count;
    head.event_bytes += bytes.size();
    head.head = {seal.seq, hash, seal.recorded_at_ns};
    // The writer takes the digest of a keyed event from its bytes when the key comes again
    // within the group; the request is done with them (the batch holds its own copy). `key`
    // points into them: copied first.
    std::string owned_key(key);
    std::string keyed_event = key.empty() ? std::string() : std::move(bytes);
    group.index.push_back({cached->first, seal.stream_version, seal.seq, std::move(owned_key),
                           std::move(keyed_event)});
    outcomes.push_back({seal.seq, seal.stream_version, false});
  }

  TR_ASSERT(batch.PopSavePoint().ok());
  group.head = head;
  return outcomes;
}

Result<std::vector<std::optional<LogWriter::KeyUse>>> LogWriter::KnownKeys(
    const Request& request) {
  std::vector<std::optional<KeyUse>> out(request.events.size());
  std::vector<std::size_t> indexes;
  std::vector<rocksdb::Slice> keys;
  for (std::size_t i = 0; i < request.events.size(); ++i) {
    const flatbuffers::String* key = events::GetEvent(request.events[i].data())->idempotency_key();
    if (key == nullptr) continue;
    if (auto recent = recent_keys_.find(key->string_view()); recent != recent_keys_.end()) {
      out[i] = recent->second;
    } else {
      indexes.push_back(i);
      keys.emplace_back(key->c_str(), key->size());
    }
  }
  if (keys.empty()) return out;
  // Everything not written recently is in the idempotency index. One MultiGet for the batch:
  // most keys are new, and the bloom filters answer those without a search.
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  store_->index_db->MultiGet(rocksdb::ReadOptions(), store_->idempotency, keys.size(), keys.data(),
                             values.data(), statuses.data());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (statuses[k].IsNotFound()) continue;
    if (!statuses[k].ok()) return FromRocks(statuses[k], "reading idempotency keys");
    std::optional<log_format::IdempotencyEntry> entry =
        log_format::DecodeIdempotency(values[k].ToStringView());
    if (!entry.has_value()) {
      return Status::Corruption("idempotency key '" + keys[k].ToString() +
                                "' has a malformed entry");
    }
    out[indexes[k]] = KeyUse{entry->seq, entry->stream_version};
  }
  return out;
}

Result<Digest> LogWriter::DigestOfUse(const KeyUse& use, const GroupState& group) {
  const Sequence group_first = head_.head.seq + 1;
  if (use.seq >= group_first) return IdempotencyDigest(group.index[use.seq - group_first].event);
  // Written by an earlier group, indexed or not: RocksDB has it (the writer's own reads may
  // see what is not yet synced).
  std::string original;
  Status read = FromRocks(store_->db->Get(rocksdb::ReadOptions(), store_->events,
                                          log_format::EventKey(use.seq), &original),
                          "reading the event of an idempotency key");
  if (!read.ok()) return read;
  if (Result<Digest> checked = CheckSealedEvent(original, use.seq); !checked.ok()) {
    return checked.status();
  }
  return IdempotencyDigest(original);
}

void LogWriter::ForgetIndexedKeys() {
  const Sequence indexed = indexer_->indexed();
  while (!recent_key_order_.empty() && recent_key_order_.front().first <= indexed) {
    const auto it = recent_keys_.find(*recent_key_order_.front().second);
    TR_ASSERT(it != recent_keys_.end());
    recent_key_order_.pop_front();  // before the erase: it points into the erased entry
    recent_keys_.erase(it);
  }
}

}  // namespace tillroll
