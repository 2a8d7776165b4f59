#include "engine/event_log.h"

#include <rocksdb/iterator.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include "engine/event_chain.h"
#include "engine/limits.h"
#include "engine/log_format.h"
#include "engine/log_indexer.h"
#include "engine/log_store.h"
#include "engine/log_writer.h"
#include "schemas/envelope_generated.h"

namespace tillroll {

struct EventLog::Impl {
  std::unique_ptr<LogStore> store;
  SystemClock system_clock;
  mutable std::mutex head_mu;
  mutable std::condition_variable head_cv;
  log_format::HeadRecord committed;  // guarded by head_mu
  std::unique_ptr<LogIndexer> indexer;
  std::unique_ptr<LogWriter> writer;  // destroyed first (declared last), then the indexer

  // Readers of the stream and idempotency indexes call this first: everything durable when
  // the read began is then indexed (read your writes).
  Status WaitIndexed() const {
    Sequence head;
    {
      std::lock_guard lock(head_mu);
      head = committed.head.seq;
    }
    return WaitIndexed(head);
  }
  Status WaitIndexed(Sequence head) const {
    while (!indexer->WaitIndexed(head, std::chrono::seconds(1))) {
      if (Status s = indexer->error(); !s.ok()) return Status::Unavailable(s.message());
    }
    return Status::Ok();
  }

  void Publish(const log_format::HeadRecord& head) {
    {
      std::lock_guard lock(head_mu);
      committed = head;
    }
    head_cv.notify_all();
  }
};

namespace {

// Ranges at least this long are read as scans: with readahead, and around the block cache.
constexpr Sequence kScanEventsMin = 64;

// A one-pass iterator over the stored events [from, to_exclusive); it owns the upper bound
// RocksDB reads through a pointer. A long range reads ahead and skips the block cache (a scan
// would only churn it); a short one (a point read, a subscriber's next few events) does neither,
// since reading ahead 2 MiB for one event costs more than the event.
class EventCursor {
 public:
  EventCursor(LogStore& store, Sequence from, Sequence to_exclusive)
      : upper_(log_format::EventKey(to_exclusive)), upper_slice_(upper_) {
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_slice_;
    const bool scan = to_exclusive - from >= kScanEventsMin;
    options.fill_cache = !scan;
    options.readahead_size = scan ? 2 << 20 : 0;
    it_.reset(store.db->NewIterator(options, store.events));
    it_->Seek(log_format::EventKey(from));
  }
  rocksdb::Iterator* get() { return it_.get(); }

 private:
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// What one database occupies on disk: its SST files and its write-ahead log.
std::uint64_t DiskBytes(rocksdb::DB& db,
                        const std::vector<rocksdb::ColumnFamilyHandle*>& families) {
  std::uint64_t bytes = 0;
  for (rocksdb::ColumnFamilyHandle* family : families) {
    std::uint64_t family_bytes = 0;
    if (db.GetIntProperty(family, "rocksdb.total-sst-files-size", &family_bytes)) {
      bytes += family_bytes;
    }
  }
  rocksdb::VectorLogPtr wal_files;
  if (db.GetSortedWalFiles(wal_files).ok()) {
    for (const auto& file : wal_files) bytes += file->SizeFileBytes();
  }
  return bytes;
}

Result<log_format::HeadRecord> LoadHead(LogStore& store) {
  std::string value;
  rocksdb::Status s =
      store.db->Get(rocksdb::ReadOptions(), store.meta, log_format::kFormatKey, &value);
  std::unique_ptr<rocksdb::Iterator> last(
      store.db->NewIterator(rocksdb::ReadOptions(), store.events));
  last->SeekToLast();
  if (!last->status().ok()) return FromRocks(last->status(), "reading the last event");
  if (s.IsNotFound()) {
    if (last->Valid()) return Status::Corruption("the ledger holds events but no format mark");
    Status put = FromRocks(store.db->Put(rocksdb::WriteOptions(), store.meta,
                                         log_format::kFormatKey, log_format::kFormatValue),
                           "marking the ledger's format");
    if (!put.ok()) return put;
    return log_format::HeadRecord{};
  }
  if (!s.ok()) return FromRocks(s, "reading the ledger's format");
  if (value != log_format::kFormatValue) {
    return Status::Corruption("the folder holds format '" + value + "', expected '" +
                              log_format::kFormatValue + "'");
  }
  s = store.db->Get(rocksdb::ReadOptions(), store.meta, log_format::kHeadKey, &value);
  log_format::HeadRecord head;
  if (s.ok()) {
    std::optional<log_format::HeadRecord> decoded = log_format::DecodeHead(value);
    if (!decoded) return Status::Corruption("the stored head record is malformed");
    head = *decoded;
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading the head");
  }
  const Sequence last_seq =
      last->Valid() ? log_format::GetBigEndian64(last->key().ToStringView()) : 0;
  if (last_seq != head.head.seq) {
    return Status::Corruption("the stored head says event " + std::to_string(head.head.seq) +
                              " but the last stored event is " + std::to_string(last_seq));
  }
  if (last_seq > 0) {
    // New events chain off the head's hash: it must be the last event's own.
    const std::string bytes = last->value().ToString();  // aligned for FlatBuffers
    Result<Digest> hash = CheckSealedEvent(bytes, last_seq);
    if (!hash.ok()) return hash.status();
    if (*hash != head.head.hash) {
      return Status::Corruption("the stored head's hash is not the hash of event " +
                                std::to_string(last_seq));
    }
  }
  return head;
}

}  // namespace

EventLog::EventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventLog::~EventLog() {
  impl_->writer.reset();   // drain queued appends,
  impl_->indexer.reset();  // index them, then let the store close
}

Result<std::unique_ptr<EventLog>> EventLog::Open(const std::filesystem::path& dir,
                                                 LogOptions options) {
  std::error_code ec;
  if (!options.create_if_missing && !std::filesystem::exists(dir / "CURRENT", ec)) {
    return Status::NotFound("no ledger in " + dir.string());
  }
  auto impl = std::make_unique<Impl>();
  Result<std::unique_ptr<LogStore>> store = LogStore::Open(dir);
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  Result<log_format::HeadRecord> head = LoadHead(*impl->store);
  if (!head.ok()) return head.status();
  impl->committed = *head;
  Result<Sequence> checkpoint = LogIndexer::StoredCheckpoint(*impl->store);
  if (!checkpoint.ok()) return checkpoint.status();
  Result<Sequence> indexed = LogIndexer::CatchUp(*impl->store, *checkpoint);
  if (!indexed.ok()) return indexed.status();
  if (*indexed != head->head.seq) {
    return Status::Corruption("indexed up to event " + std::to_string(*indexed) +
                              " but the head is event " + std::to_string(head->head.seq));
  }
  impl->indexer = std::make_unique<LogIndexer>(impl->store.get(), *indexed);
  Clock* clock = options.clock != nullptr ? options.clock : &impl->system_clock;
  Impl* raw = impl.get();
  impl->writer = std::make_unique<LogWriter>(
      impl->store.get(), impl->indexer.get(), clock, options.sync, *head,
      [raw](const log_format::HeadRecord& h) { raw->Publish(h); });
  return std::unique_ptr<EventLog>(new EventLog(std::move(impl)));
}

Result<std::vector<AppendOutcome>> EventLog::Append(std::vector<std::string> events) {
  if (events.empty()) return Status::InvalidArgument("an append needs at least one event");
  if (events.size() > limits::kBatchEventsMax) {
    return Status::InvalidArgument("a batch holds at most " +
                                   std::to_string(limits::kBatchEventsMax) + " events, got " +
                                   std::to_string(events.size()));
  }
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    Status s = CheckUnsealedEvent(events[i]);
    if (!s.ok()) {
      return Status::InvalidArgument("event " + std::to_string(i + 1) +
                                     " of the batch: " + s.message());
    }
    bytes += events[i].size();
  }
  if (bytes > limits::kBatchBytesMax) {
    return Status::InvalidArgument("a batch holds at most " +
                                   std::to_string(limits::kBatchBytesMax) + " bytes, got " +
                                   std::to_string(bytes));
  }
  return impl_->writer->Append(std::move(events));
}

LogHead EventLog::Head() const {
  std::lock_guard lock(impl_->head_mu);
  return impl_->committed.head;
}

bool EventLog::WaitForHead(Sequence seq, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->head_mu);
  return impl_->head_cv.wait_for(lock, timeout, [&] { return impl_->committed.head.seq >= seq; });
}

Status EventLog::Scan(Sequence from, Sequence to_exclusive,
                      const std::function<bool(Sequence, std::string_view)>& visit) const {
  if (from == 0) from = 1;
  // Events past the published head are written but not yet durable: never shown.
  to_exclusive = std::min(to_exclusive, Head().seq + 1);
  if (to_exclusive <= from) return Status::Ok();
  EventCursor cursor(*impl_->store, from, to_exclusive);
  rocksdb::Iterator* it = cursor.get();
  // RocksDB hands out values at any address; FlatBuffers reads need them aligned.
  std::string aligned;
  for (; it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Status::Corruption("an event key is not 8 bytes");
    const Sequence seq = log_format::GetBigEndian64(it->key().ToStringView());
    aligned.assign(it->value().data(), it->value().size());
    if (!visit(seq, aligned)) return Status::Ok();
  }
  return FromRocks(it->status(), "reading events");
}

namespace {

constexpr std::size_t kReplayChunkEvents = 2048;
// A chunk smaller than this is the whole rest of the range (chunks are full until the last):
// it is checked on the calling thread, as starting a second one would cost more than it saves.
// Projections following the live log replay a few events at a time.
constexpr std::size_t kReplayParallelEventsMin = 256;

// Consecutive stored events copied out of the iterator, so that they can be checked on two
// threads while the next chunk is read. Check may run on several threads at once: each claims
// events through an atomic cursor.
class ReplayChunk {
 public:
  bool empty() const { return seqs_.empty(); }
  std::size_t size() const { return seqs_.size(); }
  Sequence seq(std::size_t i) const { return seqs_[i]; }
  std::string_view event(std::size_t i) const {
    return std::string_view(arena_).substr(starts_[i], ends_[i] - starts_[i]);
  }
  // After every Check has returned: the event's hash, or why it failed.
  const Status& failure(std::size_t i) const { return failures_[i]; }
  const Digest& hash(std::size_t i) const { return hashes_[i]; }

  // Fills the chunk from `it` onwards; false when the iterator failed.
  bool Fill(rocksdb::Iterator& it) {
    arena_.clear();
    seqs_.clear();
    starts_.clear();
    ends_.clear();
    for (; it.Valid() && seqs_.size() < kReplayChunkEvents; it.Next()) {
      // A key that is not 8 bytes gets sequence 0, which CheckSealedEvent refuses.
      seqs_.push_back(it.key().size() == 8 ? log_format::GetBigEndian64(it.key().ToStringView())
                                           : 0);
      // Each event starts 8-aligned (the arena's heap block is), as FlatBuffers reads need.
      arena_.resize((arena_.size() + 7) & ~std::size_t{7});
      starts_.push_back(arena_.size());
      arena_.append(it.value().data(), it.value().size());
      ends_.push_back(arena_.size());
    }
    hashes_.assign(seqs_.size(), Digest{});
    failures_.assign(seqs_.size(), Status::Ok());
    next_to_check_.store(0, std::memory_order_relaxed);
    return it.status().ok();
  }

  void Check() {
    for (;;) {
      const std::size_t i = next_to_check_.fetch_add(1, std::memory_order_relaxed);
      if (i >= seqs_.size()) return;
      Result<Digest> checked = CheckSealedEvent(event(i), seqs_[i]);
      if (checked.ok()) {
        hashes_[i] = *checked;
      } else {
        failures_[i] = checked.status();
      }
    }
  }

 private:
  std::string arena_;
  std::vector<Sequence> seqs_;
  std::vector<std::size_t> starts_;
  std::vector<std::size_t> ends_;
  std::vector<Digest> hashes_;
  std::vector<Status> failures_;
  std::atomic<std::size_t> next_to_check_{0};
};

}  // namespace

Status EventLog::Replay(Sequence from, Sequence to_exclusive,
                        const std::function<bool(Sequence, std::string_view)>& visit) const {
  if (from == 0) from = 1;
  to_exclusive = std::min(to_exclusive, Head().seq + 1);  // see Scan
  if (to_exclusive <= from) return Status::Ok();
  Digest before;
  if (from > 1) {
    Result<std::vector<EventRecord>> previous = Read(from - 1, 1);
    if (!previous.ok()) return previous.status();
    if (previous->empty()) return Status::NotFound("no event " + std::to_string(from - 1));
    before = *CheckSealedEvent(previous->front().bytes, from - 1);
  }
  ChainChecker chain(from - 1, before);
  EventCursor cursor(*impl_->store, from, to_exclusive);
  rocksdb::Iterator* it = cursor.get();
  ReplayChunk chunks[2];
  ReplayChunk* current = &chunks[0];
  ReplayChunk* next = &chunks[1];
  bool read_ok = current->Fill(*it);
  while (!current->empty()) {
    bool next_ok = false;
    if (current->size() < kReplayParallelEventsMin) {
      current->Check();
      next_ok = read_ok && next->Fill(*it);
    } else {
      // A second thread checks the chunk; this one reads the next chunk, then joins the check.
      std::future<void> checking =
          std::async(std::launch::async, [current] { current->Check(); });
      next_ok = read_ok && next->Fill(*it);
      current->Check();
      checking.get();
    }
    for (std::size_t i = 0; i < current->size(); ++i) {
      if (!current->failure(i).ok()) return current->failure(i);
      Status linked = chain.Link(current->seq(i), current->event(i), current->hash(i));
      if (!linked.ok()) return linked;
      if (!visit(current->seq(i), current->event(i))) return Status::Ok();
    }
    read_ok = next_ok;
    std::swap(current, next);
    if (!read_ok) break;
  }
  return FromRocks(it->status(), "reading events");
}

Result<std::vector<EventRecord>> EventLog::Read(Sequence from, std::size_t max) const {
  max = std::min(max, limits::kReadEventsMax);
  if (from == 0) from = 1;
  std::vector<EventRecord> out;
  Status error;
  Status scanned = Scan(from, from + max, [&](Sequence seq, std::string_view bytes) {
    Result<Digest> checked = CheckSealedEvent(bytes, seq);
    if (!checked.ok()) {
      error = checked.status();
      return false;
    }
    out.push_back({seq, std::string(bytes)});
    return true;
  });
  if (!scanned.ok()) return scanned;
  if (!error.ok()) return error;
  return out;
}

Result<std::vector<EventRecord>> EventLog::ReadStream(std::string_view stream,
                                                      std::uint64_t from_version,
                                                      std::size_t max) const {
  max = std::min(max, limits::kReadEventsMax);
  if (Status s = impl_->WaitIndexed(); !s.ok()) return s;
  const std::string prefix = log_format::StreamPrefix(stream);
  rocksdb::ReadOptions options;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->store->index_db->NewIterator(options, impl_->store->streams));
  std::vector<EventRecord> out;
  for (it->Seek(log_format::StreamKey(stream, from_version));
       it->Valid() && it->key().starts_with(prefix) && out.size() < max; it->Next()) {
    if (it->value().size() != 8) return Status::Corruption("a stream index entry is malformed");
    const Sequence seq = log_format::GetBigEndian64(it->value().ToStringView());
    std::string bytes;
    rocksdb::Status s =
        impl_->store->db->Get(options, impl_->store->events, log_format::EventKey(seq), &bytes);
    if (s.IsNotFound()) {
      return Status::Corruption("stream " + std::string(stream) + " names event " +
                                std::to_string(seq) + ", which is missing");
    }
    if (!s.ok()) return FromRocks(s, "reading an event");
    Result<Digest> checked = CheckSealedEvent(bytes, seq);
    if (!checked.ok()) return checked.status();
    out.push_back({seq, std::move(bytes)});
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the stream index");
  return out;
}

Result<std::uint64_t> EventLog::StreamVersion(std::string_view stream) const {
  Result<StreamTip> tip = TipOfStream(stream);
  if (!tip.ok()) return tip.status();
  return tip->version;
}

Result<StreamTip> EventLog::TipOfStream(std::string_view stream) const {
  if (Status s = impl_->indexer->error(); !s.ok()) return Status::Unavailable(s.message());
  // Known to the indexer (enqueued, or indexed lately), or else in the index: an acknowledged
  // event is in one of them.
  std::optional<std::pair<std::uint64_t, Sequence>> tip = impl_->indexer->KnownStreamTip(stream);
  if (!tip) {
    Result<std::pair<std::uint64_t, Sequence>> indexed = impl_->store->IndexedStreamTip(stream);
    if (!indexed.ok()) return indexed.status();
    tip = *indexed;
  }
  return StreamTip{tip->first, tip->second};
}

Result<std::vector<Sequence>> EventLog::SeqsOfStreams(std::string_view stream_prefix,
                                                      Sequence after, Sequence up_to) const {
  if (Status s = impl_->WaitIndexed(); !s.ok()) return s;
  std::vector<Sequence> seqs;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->store->index_db->NewIterator(rocksdb::ReadOptions(), impl_->store->streams));
  for (it->Seek(stream_prefix); it->Valid() && it->key().starts_with(stream_prefix); it->Next()) {
    if (it->value().size() != 8) return Status::Corruption("a stream index entry is malformed");
    const Sequence seq = log_format::GetBigEndian64(it->value().ToStringView());
    if (seq > after && seq <= up_to) seqs.push_back(seq);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the stream index");
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

Result<std::optional<Sequence>> EventLog::SeqOfIdempotencyKey(std::string_view key) const {
  if (Status s = impl_->indexer->error(); !s.ok()) return Status::Unavailable(s.message());
  if (std::optional<Sequence> pending = impl_->indexer->PendingKey(key)) return pending;
  std::string value;
  rocksdb::Status s =
      impl_->store->index_db->Get(rocksdb::ReadOptions(), impl_->store->idempotency, key, &value);
  if (s.IsNotFound()) return std::optional<Sequence>();
  if (!s.ok()) return FromRocks(s, "reading the idempotency index");
  if (value.size() < 8) return Status::Corruption("an idempotency entry is malformed");
  return std::optional<Sequence>(log_format::GetBigEndian64(value));
}

Result<Sequence> EventLog::FirstRecordedAtOrAfter(std::int64_t recorded_at_ns) const {
  const LogHead head = Head();
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->store->db->NewIterator(rocksdb::ReadOptions(), impl_->store->record_time));
  it->Seek(log_format::RecordTimeKey(std::max<std::int64_t>(recorded_at_ns, 0), 0));
  if (!it->status().ok()) return FromRocks(it->status(), "reading the record-time index");
  if (!it->Valid()) return head.seq + 1;
  if (it->key().size() != 16) return Status::Corruption("a record-time key is malformed");
  const Sequence seq = log_format::GetBigEndian64(it->key().ToStringView().substr(8));
  // An append that became durable after Head() was read is not reported yet.
  return std::min(seq, head.seq + 1);
}

std::unique_ptr<Subscription> EventLog::Subscribe(Sequence after) const {
  return std::make_unique<Subscription>(this, after);
}

Result<LogStats> EventLog::Stats() const {
  LogStats stats;
  {
    std::lock_guard lock(impl_->head_mu);
    stats.head = impl_->committed.head;
    stats.stream_count = impl_->committed.stream_count;
    stats.event_bytes = impl_->committed.event_bytes;
  }
  LogStore& store = *impl_->store;
  stats.disk_bytes =
      DiskBytes(*store.db, store.handles) + DiskBytes(*store.index_db, store.index_handles);
  return stats;
}

VerifyReport EventLog::Verify() const {
  VerifyReport report;
  LogStore& store = *impl_->store;
  // One view of the head for the whole walk: appends may go on meanwhile.
  log_format::HeadRecord stored_head;
  {
    std::lock_guard lock(impl_->head_mu);
    stored_head = impl_->committed;
  }
  report.status = impl_->WaitIndexed(stored_head.head.seq);
  if (!report.status.ok()) return report;
  report.status = FromRocks(store.db->VerifyChecksum(), "RocksDB block checksums");
  if (report.status.ok()) {
    report.status = FromRocks(store.index_db->VerifyChecksum(), "RocksDB block checksums");
  }
  if (!report.status.ok()) return report;
  std::unordered_map<std::string, std::uint64_t> stream_versions;
  std::int64_t last_recorded_at_ns = 0;
  Sequence last_seq = 0;
  std::string last_hash_hex = Digest{}.ToHex();
  std::string index_value;
  Status failure;
  // Replay checks each event and the chain; what is left here is what spans events.
  Status replayed = Replay(1, stored_head.head.seq + 1, [&](Sequence seq, std::string_view bytes) {
    const events::Event* e = events::GetEvent(bytes.data());
    auto at = [seq] { return "event " + std::to_string(seq) + ": "; };
    std::uint64_t& version = stream_versions[e->stream()->str()];
    if (e->stream_version() != version + 1) {
      failure = Status::Corruption(at() + "stream version " + std::to_string(e->stream_version()) +
                                   " does not follow " + std::to_string(version));
    } else if (e->recorded_at_ns() < last_recorded_at_ns) {
      failure = Status::Corruption(at() + "recorded before the event ahead of it");
    } else {
      rocksdb::Status s = store.index_db->Get(
          rocksdb::ReadOptions(), store.streams,
          log_format::StreamKey(e->stream()->string_view(), e->stream_version()), &index_value);
      if (!s.ok() || index_value.size() != 8 || log_format::GetBigEndian64(index_value) != seq) {
        failure = Status::Corruption(at() + "the stream index does not point at it");
      }
    }
    if (!failure.ok()) return false;
    version = e->stream_version();
    last_recorded_at_ns = e->recorded_at_ns();
    last_seq = seq;
    last_hash_hex.assign(e->hash()->c_str(), e->hash()->size());
    ++report.event_count;
    return true;
  });
  // Replay checked every hash it passed on, so this one is 64 hex digits.
  const Digest last_hash = *Digest::FromHex(last_hash_hex);
  report.head = {last_seq, last_hash, last_recorded_at_ns};
  if (!replayed.ok() || !failure.ok()) {
    // Every event before the bad one was visited and found good.
    report.first_bad_seq = last_seq + 1;
    report.status = replayed.ok() ? failure : replayed;
  } else if (stored_head.head.seq != last_seq || stored_head.head.hash != last_hash) {
    report.first_bad_seq = std::min(stored_head.head.seq, last_seq) + 1;
    report.status =
        Status::Corruption("the stored head is event " + std::to_string(stored_head.head.seq) +
                           " (" + stored_head.head.hash.ToHex() + ") but the chain ends at event " +
                           std::to_string(last_seq) + " (" + last_hash.ToHex() + ")");
  }
  return report;
}

Result<std::vector<EventRecord>> Subscription::Next(std::size_t max,
                                                    std::chrono::milliseconds wait) {
  if (log_->Head().seq <= position_ && !log_->WaitForHead(position_ + 1, wait)) {
    return std::vector<EventRecord>();
  }
  const Sequence head = log_->Head().seq;
  Result<std::vector<EventRecord>> events =
      log_->Read(position_ + 1, std::min<Sequence>(max, head - position_));
  if (events.ok() && !events->empty()) position_ = events->back().seq;
  return events;
}

}  // namespace tillroll
