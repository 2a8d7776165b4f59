#include "engine/log_indexer.h"

#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "engine/event_chain.h"
#include "engine/limits.h"
#include "engine/log_format.h"
#include "schemas/envelope_generated.h"

namespace tillroll {
namespace {

constexpr std::size_t kCatchUpBatchEvents = 10'000;

void PutCheckpoint(rocksdb::WriteBatch& batch, LogStore& store, Sequence indexed) {
  std::string value;
  log_format::PutBigEndian64(&value, indexed);
  TR_ASSERT(batch.Put(store.meta, log_format::kIndexedKey, value).ok());
}

}  // namespace

void AppendIndexEntries(const LogIndexer::Entry& entry, rocksdb::WriteBatch& batch,
                        LogStore& store) {
  std::string seq_value;
  log_format::PutBigEndian64(&seq_value, entry.seq);
  TR_ASSERT(
      batch.Put(store.streams, log_format::StreamKey(entry.stream, entry.stream_version), seq_value)
          .ok());
  if (!entry.idempotency_key.empty()) {
    // The digest is taken here, behind the writer: the writer needs it only for a key it has
    // seen before, and computes it then.
    const log_format::IdempotencyEntry value{entry.seq, entry.stream_version,
                                             IdempotencyDigest(entry.event)};
    TR_ASSERT(
        batch.Put(store.idempotency, entry.idempotency_key, log_format::EncodeIdempotency(value))
            .ok());
  }
}

Result<Sequence> LogIndexer::StoredCheckpoint(LogStore& store) {
  std::string value;
  rocksdb::Status s =
      store.db->Get(rocksdb::ReadOptions(), store.meta, log_format::kIndexedKey, &value);
  if (s.IsNotFound()) return Sequence{0};
  if (!s.ok()) return FromRocks(s, "reading the index checkpoint");
  if (value.size() != 8) return Status::Corruption("the index checkpoint is malformed");
  return log_format::GetBigEndian64(value);
}

Result<Sequence> LogIndexer::CatchUp(LogStore& store, Sequence indexed) {
  rocksdb::ReadOptions options;
  std::unique_ptr<rocksdb::Iterator> it(store.db->NewIterator(options, store.events));
  rocksdb::WriteBatch batch;
  std::size_t pending = 0;
  for (it->Seek(log_format::EventKey(indexed + 1)); it->Valid(); it->Next()) {
    const Sequence seq = log_format::GetBigEndian64(it->key().ToStringView());
    // A copy: RocksDB hands out values at any address, FlatBuffers reads need them aligned.
    const std::string bytes = it->value().ToString();
    Result<Digest> checked = CheckSealedEvent(bytes, seq);
    if (!checked.ok()) return checked.status();
    const events::Event* e = events::GetEvent(bytes.data());
    Entry entry{e->stream()->str(), e->stream_version(), seq, {}, {}};
    if (e->idempotency_key() != nullptr) {
      entry.idempotency_key = e->idempotency_key()->str();
      entry.event = bytes;
    }
    AppendIndexEntries(entry, batch, store);
    indexed = seq;
    if (++pending == kCatchUpBatchEvents) {
      PutCheckpoint(batch, store, indexed);
      Status s = FromRocks(store.db->Write(rocksdb::WriteOptions(), &batch), "indexing");
      if (!s.ok()) return s;
      batch.Clear();
      pending = 0;
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading events to index");
  if (pending > 0) {
    PutCheckpoint(batch, store, indexed);
    Status s = FromRocks(store.db->Write(rocksdb::WriteOptions(), &batch), "indexing");
    if (!s.ok()) return s;
  }
  return indexed;
}

LogIndexer::LogIndexer(LogStore* store, Sequence indexed) : store_(store), indexed_(indexed) {
  thread_ = std::thread([this] { Run(); });
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
  }
  work_cv_.notify_one();
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
      } else {
        error_ = written;
        queue_.clear();
      }
    }
    done_cv_.notify_all();
    if (!written.ok()) return;
  }
}

Status LogIndexer::Write(const std::vector<Group>& groups) {
  rocksdb::WriteBatch batch;
  for (const Group& group : groups) {
    for (const Entry& entry : group.entries) AppendIndexEntries(entry, batch, *store_);
  }
  PutCheckpoint(batch, *store_, groups.back().last_seq);
  // Not synced: the events are durable already, and a lost index write is redone by CatchUp.
  return FromRocks(store_->db->Write(rocksdb::WriteOptions(), &batch), "writing the indexes");
}

}  // namespace tillroll
