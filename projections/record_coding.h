#ifndef TILLROLL_PROJECTIONS_RECORD_CODING_H_
#define TILLROLL_PROJECTIONS_RECORD_CODING_H_

// The byte form of projection keys and values. Integers are fixed-width big-endian, so keys
// sort numerically; strings are a varint length followed by the bytes, so a string field is
// never a prefix of another string field. Values use the same encoding.
//
//   key "price" record:  Str(sku) U64(seq)
//   value:               U8(kind) U8(type) ... (each projection documents its own layout)

#include <cstdint>
#include <string>
#include <string_view>

namespace tillroll::projections {

class RecordWriter {
 public:
  RecordWriter& U8(std::uint8_t v) {
    bytes_.push_back(static_cast<char>(v));
    return *this;
  }
  RecordWriter& U32(std::uint32_t v) { return Fixed(v, 4); }
  RecordWriter& U64(std::uint64_t v) { return Fixed(v, 8); }
  // Signed values keep their order under the big-endian encoding by flipping the sign bit.
  RecordWriter& I64(std::int64_t v) {
    return Fixed(static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63), 8);
  }
  RecordWriter& Str(std::string_view s) {
    std::uint64_t n = s.size();
    while (n >= 0x80) {
      bytes_.push_back(static_cast<char>((n & 0x7f) | 0x80));
      n >>= 7;
    }
    bytes_.push_back(static_cast<char>(n));
    bytes_.append(s);
    return *this;
  }
  const std::string& bytes() const { return bytes_; }
  std::string Release() { return std::move(bytes_); }

 private:
  RecordWriter& Fixed(std::uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::string bytes_;
};

// Reads what a RecordWriter wrote. A read past the end returns zero or empty and makes ok()
// false for good, so a caller checks once after reading every field.
class RecordReader {
 public:
  explicit RecordReader(std::string_view bytes) : rest_(bytes) {}

  std::uint8_t U8() { return static_cast<std::uint8_t>(Fixed(1)); }
  std::uint32_t U32() { return static_cast<std::uint32_t>(Fixed(4)); }
  std::uint64_t U64() { return Fixed(8); }
  std::int64_t I64() { return static_cast<std::int64_t>(Fixed(8) ^ (std::uint64_t{1} << 63)); }
  std::string_view Str() {
    std::uint64_t n = 0;
    for (int shift = 0; ok_; shift += 7) {
      if (rest_.empty() || shift > 63) return Fail();
      const auto byte = static_cast<std::uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      n |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) break;
    }
    if (!ok_ || n > rest_.size()) return Fail();
    std::string_view s = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return s;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && rest_.empty(); }
  std::string_view rest() const { return rest_; }

 private:
  std::uint64_t Fixed(std::size_t width) {
    if (!ok_ || rest_.size() < width) {
      Fail();
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<std::uint8_t>(rest_[i]);
    rest_.remove_prefix(width);
    return v;
  }
  std::string_view Fail() {
    ok_ = false;
    rest_ = {};
    return {};
  }
  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_RECORD_CODING_H_
