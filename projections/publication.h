#ifndef TILLROLL_PROJECTIONS_PUBLICATION_H_
#define TILLROLL_PROJECTIONS_PUBLICATION_H_

// publication: per (artifact, destination), the delivery state the adapters recorded last:
// requested, acknowledged, failed (with the next retry) or dead-lettered.
//
// Stored record: key Str(artifact) Str(destination) U64(seq); value U8(state)
// I64(recorded_at_ns) U64(artifact_seq) U32(attempt) Str(external_id) Str(error)
// I64(next_retry_at_ns). Queries read the stored state. Thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.h"

namespace tillroll::projections {

struct PublicationRow {
  std::string artifact;
  std::string destination;
  std::string state;  // "requested", "acknowledged", "failed", "dead_lettered"
  Sequence seq = 0;   // the event that set this state
  std::int64_t recorded_at_ns = 0;
  Sequence artifact_seq = 0;
  std::uint32_t attempt = 0;
  std::string external_id;
  std::string error;
  std::int64_t next_retry_at_ns = 0;
};

class Publication final : public Projection {
 public:
  static constexpr std::string_view kName = "publication";
  // 2: folds only its own streams (stream_prefix).
  static constexpr std::uint32_t kCodeVersion = 2;

  explicit Publication(std::shared_ptr<const StateReader> state) : state_(std::move(state)) {}
  std::string_view name() const override { return kName; }
  std::uint32_t code_version() const override { return kCodeVersion; }
  std::string_view stream_prefix() const override { return "publication/"; }
  Status Apply(const LoggedEvent& logged, StateWriter& state) override;

  // The last state of each (artifact, destination) as known at known_at, for one artifact (or
  // all when empty) and one destination (or all when empty).
  Result<std::vector<PublicationRow>> AsOf(std::string_view artifact, std::string_view destination,
                                           std::int64_t known_at_ns) const;

 private:
  std::shared_ptr<const StateReader> state_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_PUBLICATION_H_
