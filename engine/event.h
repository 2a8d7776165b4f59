#ifndef TILLROLL_ENGINE_EVENT_H_
#define TILLROLL_ENGINE_EVENT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace tillroll {

// A position in the whole log, dense from 1. Zero means "before the first event".
using Sequence = std::uint64_t;

// A SHA-256 digest: the hash chain's link from one event to the next.
struct Digest {
  static constexpr std::size_t kBytes = 32;
  static constexpr std::size_t kHexChars = 2 * kBytes;

  std::array<std::uint8_t, kBytes> bytes{};

  std::string ToHex() const;
  // InvalidArgument unless `hex` is exactly 64 lowercase or uppercase hex digits.
  static Result<Digest> FromHex(std::string_view hex);
  bool operator==(const Digest&) const = default;
};

// A sealed event exactly as the log stores it: a FlatBuffers `tillroll.events.Event`.
struct EventRecord {
  Sequence seq = 0;
  std::string bytes;
};

// Where a log stands: its last event and that event's hash (zero digest for an empty log).
struct LogHead {
  Sequence seq = 0;
  Digest hash;
  std::int64_t recorded_at_ns = 0;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_EVENT_H_
