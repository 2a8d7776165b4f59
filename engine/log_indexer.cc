#include "engine/log_indexer.h"

#include <pthread.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "engine/event_chain.h"
#include "engine/limits.h"
#include "engine/log_format.h"
#include "schemas/envelope_generated.h"

namespace tillroll {
namespace {

constexpr std::size_t kCatchUpBatchEvents = 10'000;

// The index entries of many events, written in key order: a memtable takes sorted inserts
// far faster than scattered ones (each insert starts where the previous one ended).
class SortedIndexBatch {
 public:
  explicit SortedIndexBatch(LogStore& store) : store_(store) {}

  void Add(const LogIndexer::Entry& entry) {
    std::string seq_value;
    log_format::PutBigEndian64(&seq_value, entry.seq);
    streams_.emplace_back(log_format::StreamKey(entry.stream, entry.stream_version),
                          std::move(seq_value));
    if (!entry.idempotency_key.empty()) {
      // Without the event's digest: the writer needs it only when a key comes again, which
      // is rare, and then works it out from the stored event.
      keys_.emplace_back(entry.idempotency_key,
                         log_format::EncodeIdempotency(entry.seq, entry.stream_version));
    }
  }

  bool empty() const { return streams_.empty(); }

  // Writes everything added and the checkpoint `indexed` in one batch, without the
  // write-ahead log: the events are durable already, and an index write lost in a crash is
  // redone by CatchUp (the index database flushes its families atomically, LogStore::Open).
  Status Write(Sequence indexed) {
    std::sort(streams_.begin(), streams_.end());
    std::sort(keys_.begin(), keys_.end());
    rocksdb::WriteBatch batch;
    for (const auto& [key, value] : streams_) TR_ASSERT(batch.Put(store_.streams, key, value).ok());
    for (const auto& [key, value] : keys_)
      TR_ASSERT(batch.Put(store_.idempotency, key, value).ok());
    std::string checkpoint;
    log_format::PutBigEndian64(&checkpoint, indexed);
    TR_ASSERT(batch.Put(store_.index_meta, log_format::kIndexedKey, checkpoint).ok());
    streams_.clear();
    keys_.clear();
    rocksdb::WriteOptions no_wal;
    no_wal.disableWAL = true;
    return FromRocks(store_.index_db->Write(no_wal, &batch),
                     "writing the indexes");
  }

 private:
  LogStore& store_;
  std::vector<std::pair<std::string, std::string>> streams_;
  std::vector<std::pair<std::string, std::string>> keys_;
};

}  // namespace

Result<Sequence> LogIndexer::StoredCheckpoint(LogStore& store) {
  std::string value;
  rocksdb::Status s = store.index_db->Get(rocksdb::ReadOptions(), store.index_meta,
                                          log_format::kIndexedKey, &value);
  if (s.IsNotFound()) return Sequence{0};
  if (!s.ok()) return FromRocks(s, "reading the index checkpoint");
  if (value.size() != 8) return Status::Corruption("the index checkpoint is malformed");
  return log_format::GetBigEndian64(value);
}

Result<Sequence> LogIndexer::CatchUp(LogStore& store, Sequence indexed) {
  rocksdb::ReadOptions options;
  std::unique_ptr<rocksdb::Iterator> it(store.db->NewIterator(options, store.events));
  SortedIndexBatch batch(store);
  std::size_t pending = 0;
  for (it->Seek(log_format::EventKey(indexed + 1)); it->Valid(); it->Next()) {
    const Sequence seq = log_format::GetBigEndian64(it->key().ToStringView());
    // A copy: RocksDB hands out values at any address, FlatBuffers reads need them aligned.
    std::string bytes = it->value().ToString();
    Result<Digest> checked = CheckSealedEvent(bytes, seq);
    if (!checked.ok()) return checked.status();
    const events::Event* e = events::GetEvent(bytes.data());
    Entry entry{e->stream()->str(), e->stream_version(), seq, {}, {}};
    if (e->idempotency_key() != nullptr) entry.idempotency_key = e->idempotency_key()->str();
    batch.Add(entry);
    indexed = seq;
    if (++pending == kCatchUpBatchEvents) {
      if (Status s = batch.Write(indexed); !s.ok()) return s;
      pending = 0;
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading events to index");
  if (!batch.empty()) {
    if (Status s = batch.Write(indexed); !s.ok()) return s;
  }
  return indexed;
}

LogIndexer::LogIndexer(LogStore* store, Sequence indexed) : store_(store), indexed_(indexed) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tillroll-index");
    Run();
  });
}

LogIndexer::~LogIndexer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

void LogIndexer::Enqueue(std::vector<Entry> entries, Sequence last_seq) {
  TR_ASSERT(last_seq > indexed());
  {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock,
                  [&] { return queue_.size() < limits::kIndexQueueGroupsMax || !error_.ok(); });
    if (!error_.ok()) return;  // the writer sees error() and stops accepting appends
    queue_.push_back({std::move(entries), last_seq});
    for (const Entry& entry : queue_.back().entries) {
      const auto newest = pending_streams_.find(entry.stream);
      if (newest == pending_streams_.end()) {
        pending_streams_.emplace(entry.stream, std::pair{entry.stream_version, entry.seq});
      } else if (entry.stream_version >= newest->second.first) {
        // Re-keyed on this entry's string: the older one goes when its group does.
        auto node = pending_streams_.extract(newest);
        node.key() = entry.stream;
        node.mapped() = {entry.stream_version, entry.seq};
        pending_streams_.insert(std::move(node));
      }
      if (!entry.idempotency_key.empty()) pending_keys_[entry.idempotency_key] = entry.seq;
    }
  }
  work_cv_.notify_one();
}

std::optional<std::pair<std::uint64_t, Sequence>> LogIndexer::KnownStreamTip(
    std::string_view stream) const {
  std::lock_guard lock(mu_);
  if (const auto pending = pending_streams_.find(stream); pending != pending_streams_.end()) {
    return pending->second;
  }
  if (const auto indexed = indexed_tips_.find(stream); indexed != indexed_tips_.end()) {
    return indexed->second;
  }
  return std::nullopt;
}

std::optional<Sequence> LogIndexer::PendingKey(std::string_view key) const {
  std::lock_guard lock(mu_);
  const auto it = pending_keys_.find(key);
  if (it == pending_keys_.end()) return std::nullopt;
  return it->second;
}

bool LogIndexer::WaitIndexed(Sequence seq, std::chrono::milliseconds timeout) const {
  if (indexed() >= seq) return true;
  std::unique_lock lock(mu_);
  return done_cv_.wait_for(lock, timeout, [&] { return indexed() >= seq || !error_.ok(); }) &&
         indexed() >= seq;
}

Status LogIndexer::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void LogIndexer::Run() {
  for (;;) {
    std::vector<Group> groups;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      while (!queue_.empty()) {
        groups.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    done_cv_.notify_all();  // room in the queue
    Status written = Write(groups);
    {
      std::lock_guard lock(mu_);
      if (written.ok()) {
        indexed_.store(groups.back().last_seq, std::memory_order_release);
        // The index holds them now; a newer pending entry of the same stream or key stays.
        for (const Group& group : groups) {
          for (const Entry& entry : group.entries) {
            if (indexed_tips_.size() >= limits::kIndexedStreamTipsMax &&
                !indexed_tips_.contains(entry.stream)) {
              indexed_tips_.clear();  // starts over: the ones asked for again come back
            }
            // In sequence order: the last one of a stream is its tip.
            indexed_tips_.insert_or_assign(entry.stream,
                                           std::pair{entry.stream_version, entry.seq});
            const auto stream = pending_streams_.find(entry.stream);
            if (stream != pending_streams_.end() && stream->second.second == entry.seq) {
              pending_streams_.erase(stream);
            }
            if (entry.idempotency_key.empty()) continue;
            const auto key = pending_keys_.find(entry.idempotency_key);
            if (key != pending_keys_.end() && key->second == entry.seq) pending_keys_.erase(key);
          }
        }
      } else {
        error_ = written;
        pending_streams_.clear();  // their keys view the entries about to go
        pending_keys_.clear();
        indexed_tips_.clear();
        queue_.clear();
      }
    }
    done_cv_.notify_all();
    if (!written.ok()) return;
  }
}

Status LogIndexer::Write(const std::vector<Group>& groups) {
  SortedIndexBatch batch(*store_);
  for (const Group& group : groups) {
    for (const Entry& entry : group.entries) batch.Add(entry);
  }
  return batch.Write(groups.back().last_seq);
}

}  // namespace tillroll
