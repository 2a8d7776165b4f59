#ifndef TILLROLL_TOOLS_GENERATE_EVENT_SINK_H_
#define TILLROLL_TOOLS_GENERATE_EVENT_SINK_H_

// Where the history generator's events go: batches of unsealed events appended to an EventLog,
// with the ManualClock moved to the story time of each batch so that recorded_at follows the
// story. Events must be emitted in story-time order (asserted).
//
// Sequences: an event's global_seq is known when it is emitted (the log's head + 1 at start,
// then dense), so that a later event can cite it (price_event_seq, rule_snapshot_seq,
// retracted_seq) whether or not the batch holding it was appended yet. Every append checks its
// outcomes against those sequences: another writer on the same log, or an idempotency key
// already in it, makes the sink fail with Conflict.
//
// Errors are sticky: once an append fails, status() holds why and every later Emit is dropped;
// the caller checks status() between steps of the story. Not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/clock.h"
#include "engine/event_log.h"
#include "engine/status.h"
#include "schemas/envelope_generated.h"
#include "tools/generate/story.h"

namespace tillroll::generate {

// The envelope of one emitted event; the sink adds the idempotency key ("gen-<seed>-<n>").
struct Stamp {
  std::int64_t at_ns = 0;  // story time; recorded_at is a little after it
  const Actor* actor = nullptr;
  std::string_view stream;
  std::int64_t expected_version = -1;
  std::string_view correlation_id;
  std::string_view causation_id;
};

class EventSink {
 public:
  // A batch is appended when it holds `batch_events` events or when the story moved more than
  // kBatchSpanNs past its first event, so that recorded_at trails story time by at most about
  // 15 minutes. (Measured: 5 minutes cost a quarter of the throughput on big histories, whose
  // batches then hold a few dozen events; a log group commit stamps one recorded_at.)
  static constexpr std::int64_t kBatchSpanNs = 15 * kNsPerMinute;
  // recorded_at of a batch = story time of its last event + this.
  static constexpr std::int64_t kRecordDelayNs = kNsPerSecond;

  EventSink(EventLog& log, ManualClock& clock, std::uint64_t seed, std::size_t batch_events,
            const std::function<void(std::uint64_t)>& progress);
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  // The one builder, cleared: build a payload in it, then Emit.
  flatbuffers::FlatBufferBuilder& Begin() {
    fbb_.Clear();
    return fbb_;
  }

  // Queues the event built since Begin() and returns its global_seq.
  Sequence Emit(const Stamp& stamp, events::Payload type, flatbuffers::Offset<void> payload);

  // Appends what is queued. Also called by Emit when a batch is complete.
  Status Flush();

  const Status& status() const { return status_; }
  // The idempotency key of the last emitted event (a causation id for the next one).
  std::string_view last_key() const { return key_; }
  std::int64_t last_at_ns() const { return last_at_ns_; }
  std::uint64_t appended_count() const { return appended_count_; }
  std::uint64_t emitted_count(events::Payload type) const {
    return type_counts_[static_cast<std::size_t>(type)];
  }

 private:
  EventLog& log_;
  ManualClock& clock_;
  const std::uint64_t seed_;
  const std::size_t batch_events_;
  const std::function<void(std::uint64_t)> progress_;
  flatbuffers::FlatBufferBuilder fbb_{4096};
  std::vector<std::string> batch_;
  std::int64_t batch_first_at_ns_ = 0;
  Sequence batch_first_seq_ = 0;
  Sequence next_seq_ = 0;
  std::int64_t last_at_ns_ = 0;
  std::uint64_t emitted_total_ = 0;
  std::uint64_t appended_count_ = 0;
  std::string key_;
  std::array<std::uint64_t, static_cast<std::size_t>(events::Payload::MAX) + 1> type_counts_{};
  Status status_;
};

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_EVENT_SINK_H_
