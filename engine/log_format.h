#ifndef TILLROLL_ENGINE_LOG_FORMAT_H_
#define TILLROLL_ENGINE_LOG_FORMAT_H_

// The log's storage layout in RocksDB. Private to the engine: nothing outside engine/ sees a
// RocksDB type or key. All integers in keys are big-endian so that byte order is numeric order.
//
//   column family   key                                         value
//   The log (the ledger's folder):
//   events          seq:u64                                     sealed Event (FlatBuffers)
//   record_time     recorded_at_ns:u64, first seq:u64           (empty); one entry per group
//                   commit: all events of a group share its record time
//   meta            "head"                                      HeadRecord (below)
//                   "format"                                    "tillroll-log-1"
//   The indexes, derived from the events (subfolder "index", its own RocksDB, written without
//   a WAL and flushed atomically; LogIndexer::CatchUp redoes what a crash lost):
//   streams         stream bytes, 0x00, stream_version:u64      seq:u64
//   idempotency     idempotency key bytes                       seq:u64, stream_version:u64
//                   (entries written by earlier versions carry a digest after these, which is
//                   not read: the writer works the digest out from the stored event, with
//                   today's canonical form, when its key comes again)
//   meta            "indexed"                                   seq:u64, the last event whose
//                                                               streams and idempotency entries
//                                                               are written (LogIndexer)
//
// HeadRecord: seq:u64, hash:32, recorded_at_ns:u64, stream_count:u64, event_bytes:u64.
// It is written in the same WriteBatch as the events it describes.

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "engine/event.h"

namespace tillroll::log_format {

inline constexpr char kEventsFamily[] = "events";
inline constexpr char kStreamsFamily[] = "streams";
inline constexpr char kIdempotencyFamily[] = "idempotency";
inline constexpr char kRecordTimeFamily[] = "record_time";
inline constexpr char kMetaFamily[] = "meta";
inline constexpr char kIndexFolder[] = "index";

inline constexpr char kHeadKey[] = "head";
inline constexpr char kIndexedKey[] = "indexed";
inline constexpr char kFormatKey[] = "format";
inline constexpr char kFormatValue[] = "tillroll-log-1";

inline void PutBigEndian64(std::string* out, std::uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  out->append(b, 8);
}

inline std::uint64_t GetBigEndian64(std::string_view in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = v << 8 | static_cast<std::uint8_t>(in[i]);
  return v;
}

inline std::string EventKey(Sequence seq) {
  std::string k;
  PutBigEndian64(&k, seq);
  return k;
}

// The prefix shared by all index entries of one stream.
inline std::string StreamPrefix(std::string_view stream) {
  std::string k(stream);
  k.push_back('\0');
  return k;
}

inline std::string StreamKey(std::string_view stream, std::uint64_t version) {
  std::string k = StreamPrefix(stream);
  PutBigEndian64(&k, version);
  return k;
}

inline std::string RecordTimeKey(std::int64_t recorded_at_ns, Sequence seq) {
  std::string k;
  PutBigEndian64(&k, static_cast<std::uint64_t>(recorded_at_ns));
  PutBigEndian64(&k, seq);
  return k;
}

struct IdempotencyEntry {
  Sequence seq = 0;
  std::uint64_t stream_version = 0;
};

inline std::string EncodeIdempotency(Sequence seq, std::uint64_t stream_version) {
  std::string v;
  PutBigEndian64(&v, seq);
  PutBigEndian64(&v, stream_version);
  return v;
}

inline std::optional<IdempotencyEntry> DecodeIdempotency(std::string_view v) {
  if (v.size() != 16 && v.size() != 16 + Digest::kBytes) return std::nullopt;
  IdempotencyEntry e;
  e.seq = GetBigEndian64(v);
  e.stream_version = GetBigEndian64(v.substr(8));
  return e;
}

struct HeadRecord {
  LogHead head;
  std::uint64_t stream_count = 0;
  std::uint64_t event_bytes = 0;
};

inline constexpr std::size_t kHeadRecordBytes = 8 + Digest::kBytes + 8 + 8 + 8;

inline std::string EncodeHead(const HeadRecord& h) {
  std::string v;
  PutBigEndian64(&v, h.head.seq);
  v.append(reinterpret_cast<const char*>(h.head.hash.bytes.data()), Digest::kBytes);
  PutBigEndian64(&v, static_cast<std::uint64_t>(h.head.recorded_at_ns));
  PutBigEndian64(&v, h.stream_count);
  PutBigEndian64(&v, h.event_bytes);
  return v;
}

inline std::optional<HeadRecord> DecodeHead(std::string_view v) {
  if (v.size() != kHeadRecordBytes) return std::nullopt;
  HeadRecord h;
  h.head.seq = GetBigEndian64(v);
  std::memcpy(h.head.hash.bytes.data(), v.data() + 8, Digest::kBytes);
  h.head.recorded_at_ns = static_cast<std::int64_t>(GetBigEndian64(v.substr(40)));
  h.stream_count = GetBigEndian64(v.substr(48));
  h.event_bytes = GetBigEndian64(v.substr(56));
  return h;
}

}  // namespace tillroll::log_format

#endif  // TILLROLL_ENGINE_LOG_FORMAT_H_
