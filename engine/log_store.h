#ifndef TILLROLL_ENGINE_LOG_STORE_H_
#define TILLROLL_ENGINE_LOG_STORE_H_

// The RocksDB database behind the event log and its column families (layout in
// log_format.h). Private to the engine; bench/ uses the options for its raw baseline.

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/event.h"
#include "engine/status.h"

namespace tillroll {

// Two databases: `db` holds the log itself (events, record_time, meta) and is the truth;
// `index_db` (in the subfolder "index") holds what is derived from it and written behind the
// writer (streams, idempotency, index_meta with the index checkpoint). Apart, RocksDB does
// not queue the log's synced writes behind index writes, and an engineer may delete the
// index folder: the next open rebuilds it from the events.
struct LogStore {
  std::unique_ptr<rocksdb::DB> db;
  std::unique_ptr<rocksdb::DB> index_db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;        // owned; destroyed before `db`
  std::vector<rocksdb::ColumnFamilyHandle*> index_handles;  // owned; before `index_db`
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* record_time = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* streams = nullptr;      // in index_db
  rocksdb::ColumnFamilyHandle* idempotency = nullptr;  // in index_db
  rocksdb::ColumnFamilyHandle* index_meta = nullptr;   // in index_db

  LogStore() = default;
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;
  ~LogStore();

  static Result<std::unique_ptr<LogStore>> Open(const std::filesystem::path& dir);

  // The last version the stream index holds for `stream`; 0 for none. Thread-safe.
  Result<std::uint64_t> IndexedStreamVersion(std::string_view stream) const;
  // The indexed version of `stream` and the sequence of its event at that version ({0, 0} for
  // no event).
  Result<std::pair<std::uint64_t, Sequence>> IndexedStreamTip(std::string_view stream) const;
};

// Durability and integrity settings shared by the log and the benchmark's raw baseline:
// paranoid checks, WAL recovery that tolerates only a torn tail record.
rocksdb::DBOptions LogDbOptions();
rocksdb::ColumnFamilyOptions LogFamilyOptions();

// Maps a RocksDB status to ours, prefixing `what`.
Status FromRocks(const rocksdb::Status& s, const char* what);

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_LOG_STORE_H_
