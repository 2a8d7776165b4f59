#include "engine/log_writer.h"

#include <algorithm>

#include <rocksdb/write_batch.h>

#include "engine/event_chain.h"
#include "engine/limits.h"
#include "schemas/envelope_generated.h"

namespace tillroll {

struct LogWriter::GroupState {
  log_format::HeadRecord head;
  std::int64_t recorded_at_ns = 0;
  std::unordered_map<std::string, std::uint64_t> versions;
  std::unordered_map<std::string, log_format::IdempotencyEntry> keys;
};

LogWriter::LogWriter(LogStore* store, Clock* clock, bool sync, log_format::HeadRecord head,
                     std::function<void(const log_format::HeadRecord&)> on_commit)
    : store_(store), clock_(clock), sync_(sync), on_commit_(std::move(on_commit)), head_(head) {
  TR_ASSERT(store_ != nullptr && clock_ != nullptr);
  thread_ = std::thread([this] { Run(); });
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
}

Result<std::vector<AppendOutcome>> LogWriter::Append(std::vector<std::string> events,
                                                     std::vector<std::optional<Digest>> digests) {
  TR_ASSERT(events.size() == digests.size());
  Request request{std::move(events), std::move(digests), {}};
  auto done = request.done.get_future();
  {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] {
      return stopping_ || queue_.size() < limits::kAppendQueueRequestsMax;
    });
    if (stopping_) return Status::Unavailable("the log is closing");
    queue_.push_back(&request);
  }
  work_cv_.notify_one();
  return done.get();
}

void LogWriter::Run() {
  std::vector<Request*> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      std::size_t events = 0;
      std::size_t bytes = 0;
      while (!queue_.empty()) {
        Request* next = queue_.front();
        std::size_t next_bytes = 0;
        for (const std::string& e : next->events) next_bytes += e.size();
        if (!group.empty() && (events + next->events.size() > limits::kGroupEventsMax ||
                               bytes + next_bytes > limits::kGroupBytesMax)) {
          break;
        }
        events += next->events.size();
        bytes += next_bytes;
        group.push_back(next);
        queue_.pop_front();
      }
    }
    space_cv_.notify_all();
    CommitGroup(group);
    group.clear();
  }
}

void LogWriter::CommitGroup(std::vector<Request*>& group) {
  GroupState state;
  state.head = head_;
  // Record time never decreases, whatever the clock does, and is never the placeholder.
  state.recorded_at_ns = std::max({clock_->NowNs(), head_.head.recorded_at_ns,
                                   kUnsealedPlaceholder + 1});
  rocksdb::WriteBatch batch;
  std::vector<Result<std::vector<AppendOutcome>>> results;
  results.reserve(group.size());
  for (Request* request : group) {
    batch.SetSavePoint();
    GroupState before = state;
    Result<std::vector<AppendOutcome>> decided = Decide(*request, state, batch);
    if (decided.ok()) {
      TR_ASSERT(batch.PopSavePoint().ok());
    } else {
      TR_ASSERT(batch.RollbackToSavePoint().ok());
      state = std::move(before);
    }
    results.push_back(std::move(decided));
  }

  if (state.head.head.seq != head_.head.seq) {
    TR_ASSERT(batch.Put(store_->meta, log_format::kHeadKey, log_format::EncodeHead(state.head))
                  .ok());
    rocksdb::WriteOptions options;
    options.sync = sync_;
    const Status written = FromRocks(store_->db->Write(options, &batch), "writing events");
    if (!written.ok()) {
      // Nothing of this group is acknowledged. Forget cached versions: storage decides again.
      stream_versions_.clear();
      for (auto& r : results) {
        if (r.ok()) r = written;
      }
    } else {
      TR_ASSERT(state.head.head.seq > head_.head.seq);
      head_ = state.head;
      if (stream_versions_.size() + state.versions.size() >
          limits::kStreamVersionCacheEntriesMax) {
        stream_versions_.clear();
      }
      for (auto& [stream, version] : state.versions) stream_versions_[stream] = version;
      on_commit_(head_);
    }
  }
  for (std::size_t i = 0; i < group.size(); ++i) group[i]->done.set_value(std::move(results[i]));
}

Result<std::vector<AppendOutcome>> LogWriter::Decide(Request& request, GroupState& state,
                                                     rocksdb::WriteBatch& batch) {
  std::vector<AppendOutcome> outcomes;
  outcomes.reserve(request.events.size());
  for (std::size_t i = 0; i < request.events.size(); ++i) {
    std::string& bytes = request.events[i];
    const events::Event* event = events::GetEvent(bytes.data());
    const std::string stream = event->stream()->str();
    const std::string where =
        "event " + std::to_string(i + 1) + " of the batch (stream " + stream + "): ";

    std::string key;
    if (event->idempotency_key() != nullptr) {
      key = event->idempotency_key()->str();
      TR_ASSERT(request.digests[i].has_value());
      std::optional<log_format::IdempotencyEntry> seen;
      if (auto it = state.keys.find(key); it != state.keys.end()) {
        seen = it->second;
      } else {
        Result<std::optional<log_format::IdempotencyEntry>> stored = StoredKey(key);
        if (!stored.ok()) return stored.status();
        seen = *stored;
      }
      if (seen.has_value()) {
        if (seen->digest != *request.digests[i]) {
          return Status::Conflict(where + "idempotency key '" + key +
                                  "' was already used for event " + std::to_string(seen->seq) +
                                  " with other content");
        }
        outcomes.push_back({seen->seq, seen->stream_version, true});
        continue;
      }
    }

    std::uint64_t current = 0;
    if (auto it = state.versions.find(stream); it != state.versions.end()) {
      current = it->second;
    } else if (auto cached = stream_versions_.find(stream); cached != stream_versions_.end()) {
      current = cached->second;
    } else {
      Result<std::uint64_t> stored = StoredStreamVersion(stream);
      if (!stored.ok()) return stored.status();
      current = *stored;
    }
    const std::int64_t expected = event->expected_version();
    if (expected >= 0 && static_cast<std::uint64_t>(expected) != current) {
      return Status::Conflict(where + "expected stream version " + std::to_string(expected) +
                              ", but the stream is at version " + std::to_string(current));
    }

    const SealFields seal{state.head.head.seq + 1, current + 1, state.recorded_at_ns,
                          state.head.head.hash};
    const Digest hash = SealEvent(bytes, seal);
    std::string seq_value;
    log_format::PutBigEndian64(&seq_value, seal.seq);
    bool ok = batch.Put(store_->events, log_format::EventKey(seal.seq), bytes).ok();
    ok = ok && batch.Put(store_->streams, log_format::StreamKey(stream, seal.stream_version),
                         seq_value).ok();
    ok = ok && batch.Put(store_->record_time,
                         log_format::RecordTimeKey(seal.recorded_at_ns, seal.seq), "").ok();
    if (!key.empty()) {
      const log_format::IdempotencyEntry entry{seal.seq, seal.stream_version,
                                               *request.digests[i]};
      ok = ok && batch.Put(store_->idempotency, key, log_format::EncodeIdempotency(entry)).ok();
      state.keys[key] = entry;
    }
    if (!ok) return Status::Internal(where + "could not be added to the write batch");

    state.versions[stream] = seal.stream_version;
    if (seal.stream_version == 1) ++state.head.stream_count;
    state.head.event_bytes += bytes.size();
    state.head.head = {seal.seq, hash, seal.recorded_at_ns};
    outcomes.push_back({seal.seq, seal.stream_version, false});
  }
  return outcomes;
}

Result<std::uint64_t> LogWriter::StoredStreamVersion(const std::string& stream) {
  const std::string prefix = log_format::StreamPrefix(stream);
  const std::string last = log_format::StreamKey(stream, UINT64_MAX);
  rocksdb::ReadOptions options;
  std::unique_ptr<rocksdb::Iterator> it(store_->db->NewIterator(options, store_->streams));
  it->SeekForPrev(last);
  if (!it->status().ok()) return FromRocks(it->status(), "reading the stream index");
  if (!it->Valid() || !it->key().starts_with(prefix) ||
      it->key().size() != prefix.size() + 8) {
    return std::uint64_t{0};
  }
  return log_format::GetBigEndian64(it->key().ToStringView().substr(prefix.size()));
}

Result<std::optional<log_format::IdempotencyEntry>> LogWriter::StoredKey(const std::string& key) {
  std::string value;
  rocksdb::Status s = store_->db->Get(rocksdb::ReadOptions(), store_->idempotency, key, &value);
  if (s.IsNotFound()) return std::optional<log_format::IdempotencyEntry>();
  if (!s.ok()) return FromRocks(s, "reading idempotency keys");
  std::optional<log_format::IdempotencyEntry> entry = log_format::DecodeIdempotency(value);
  if (!entry.has_value()) {
    return Status::Corruption("idempotency key '" + key + "' has a malformed entry");
  }
  return entry;
}

}  // namespace tillroll
