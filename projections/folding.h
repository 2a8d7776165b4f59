#ifndef TILLROLL_PROJECTIONS_FOLDING_H_
#define TILLROLL_PROJECTIONS_FOLDING_H_

// Small pieces every projection's Apply uses: reading optional FlatBuffers strings and the
// checks that make an event impossible to fold.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "projections/projection.h"
#include "schemas/envelope_generated.h"

namespace tillroll::projections {

inline std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : s->string_view();
}

// The end of a valid-time window; an open end (to_ns = 0) is the end of time.
inline std::int64_t WindowEnd(std::int64_t to_ns) { return to_ns == 0 ? INT64_MAX : to_ns; }
inline std::int64_t StoredWindowEnd(std::int64_t end_ns) {
  return end_ns == INT64_MAX ? 0 : end_ns;
}

// The error Apply returns for an event it cannot fold; the runner adds the sequence.
inline Status CannotApply(std::string reason) { return Status::InvalidArgument(std::move(reason)); }

inline bool IsCurrencyCode(std::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

// InvalidArgument unless the window is [from, to) with from < to, or open-ended.
inline Status CheckWindow(const events::ValidWindow* window, std::string_view field) {
  if (window == nullptr) return Status::Ok();
  if (window->to_ns() != 0 && window->to_ns() <= window->from_ns()) {
    return CannotApply(std::string(field) + ": to_ns must be after from_ns");
  }
  return Status::Ok();
}

// Projection::Load for a projection whose memory is folded from every stored record in key
// order by `absorb`; the first error stops it.
template <typename Absorb>
Status AbsorbAll(const StateReader& state, Absorb absorb) {
  Status absorbed;
  Status scanned = state.Scan("", [&](std::string_view key, std::string_view value) {
    absorbed = absorb(key, value);
    return absorbed.ok();
  });
  return scanned.ok() ? absorbed : scanned;
}

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_FOLDING_H_
