#include "engine/log_store.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include "engine/log_format.h"

namespace tillroll {

namespace {

// Closing cannot usefully fail here; a failure would only leak a handle.
void Close(std::unique_ptr<rocksdb::DB>& db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  if (db == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  handles.clear();
  (void)db->Close();
  db.reset();
}

// A stream index key's stream part (up to and including the 0x00 separator). Each stream's
// versions arrive in order, so the memtable keeps one insert position per stream and adds the
// next version there instead of searching from the top for it.
class StreamOfKey final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "tillroll.StreamOfKey"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const std::size_t separator = key.ToStringView().find('\0');
    return rocksdb::Slice(key.data(), separator + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.ToStringView().find('\0') != std::string_view::npos;
  }
};

Status OpenDb(const std::filesystem::path& dir, const rocksdb::DBOptions& db_options,
              const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
              std::unique_ptr<rocksdb::DB>* db,
              std::vector<rocksdb::ColumnFamilyHandle*>* handles) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create " + dir.string() + ": " + ec.message());
  rocksdb::Options options(db_options, LogFamilyOptions());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir.string(), families, handles, &raw);
  if (!s.ok()) return FromRocks(s, ("opening the ledger in " + dir.string()).c_str());
  db->reset(raw);
  return Status::Ok();
}

}  // namespace

LogStore::~LogStore() {
  // The indexes have no write-ahead log: flushed here, a clean close needs no catch-up.
  if (index_db != nullptr) (void)index_db->Flush(rocksdb::FlushOptions(), index_handles);
  Close(index_db, index_handles);
  Close(db, handles);
}

rocksdb::DBOptions LogDbOptions() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.paranoid_checks = true;
  // A torn last record (a crash mid-write of an unacknowledged batch) is dropped; any other
  // damage stops the open instead of silently losing acknowledged events.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  o.max_background_jobs = 2;
  o.bytes_per_sync = 1 << 20;
  return o;
}

rocksdb::ColumnFamilyOptions LogFamilyOptions() {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions table;
  table.checksum = rocksdb::kXXH3;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  o.write_buffer_size = 64 << 20;
  return o;
}

Status FromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return Status::Ok();
  std::string m = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(std::move(m));
  if (s.IsInvalidArgument()) return Status::InvalidArgument(std::move(m));
  if (s.IsNotFound()) return Status::NotFound(std::move(m));
  return Status::Unavailable(std::move(m));
}

Result<std::unique_ptr<LogStore>> LogStore::Open(const std::filesystem::path& dir) {
  const rocksdb::ColumnFamilyOptions family = LogFamilyOptions();
  rocksdb::ColumnFamilyOptions idempotency = family;
  // Most idempotency lookups are for new keys: a memtable bloom answers them without a search.
  idempotency.memtable_prefix_bloom_size_ratio = 0.05;
  idempotency.memtable_whole_key_filtering = true;
  rocksdb::ColumnFamilyOptions streams = family;
  streams.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamOfKey>();
  // The indexes are derived from the events and written without a write-ahead log: after a
  // crash, LogIndexer::CatchUp redoes whatever was not flushed. All their families flush
  // together, so the checkpoint on disk never runs ahead of the entries it vouches for.
  rocksdb::DBOptions index_options = LogDbOptions();
  index_options.atomic_flush = true;
  auto store = std::make_unique<LogStore>();
  Status opened = OpenDb(dir, LogDbOptions(),
                         {{rocksdb::kDefaultColumnFamilyName, family},
                          {log_format::kEventsFamily, family},
                          {log_format::kRecordTimeFamily, family},
                          {log_format::kMetaFamily, family}},
                         &store->db, &store->handles);
  if (!opened.ok()) return opened;
  store->events = store->handles[1];
  store->record_time = store->handles[2];
  store->meta = store->handles[3];
  opened = OpenDb(dir / log_format::kIndexFolder, index_options,
                  {{rocksdb::kDefaultColumnFamilyName, family},
                   {log_format::kStreamsFamily, streams},
                   {log_format::kIdempotencyFamily, idempotency},
                   {log_format::kMetaFamily, family}},
                  &store->index_db, &store->index_handles);
  if (!opened.ok()) return opened;
  store->streams = store->index_handles[1];
  store->idempotency = store->index_handles[2];
  store->index_meta = store->index_handles[3];
  return store;
}

Result<std::uint64_t> LogStore::IndexedStreamVersion(std::string_view stream) const {
  Result<std::pair<std::uint64_t, Sequence>> tip = IndexedStreamTip(stream);
  if (!tip.ok()) return tip.status();
  return tip->first;
}

Result<std::pair<std::uint64_t, Sequence>> LogStore::IndexedStreamTip(
    std::string_view stream) const {
  const std::string prefix = log_format::StreamPrefix(stream);
  std::unique_ptr<rocksdb::Iterator> it(index_db->NewIterator(rocksdb::ReadOptions(), streams));
  it->SeekForPrev(log_format::StreamKey(stream, UINT64_MAX));
  if (!it->status().ok()) return FromRocks(it->status(), "reading the stream index");
  if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8) {
    return std::pair<std::uint64_t, Sequence>{0, 0};
  }
  if (it->value().size() != 8) return Status::Corruption("a stream index entry is malformed");
  return std::pair<std::uint64_t, Sequence>{
      log_format::GetBigEndian64(it->key().ToStringView().substr(prefix.size())),
      log_format::GetBigEndian64(it->value().ToStringView())};
}

}  // namespace tillroll
