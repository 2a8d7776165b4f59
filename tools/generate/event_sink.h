#ifndef TILLROLL_TOOLS_GENERATE_EVENT_SINK_H_
#define TILLROLL_TOOLS_GENERATE_EVENT_SINK_H_

// Where the history generator's events go: batches of unsealed events appended to an EventLog,
// with the ManualClock moved to the story time of each batch so that recorded_at follows the
// story. Events must be emitted in story-time order (asserted).
//
// Two ways in. Bulk (no executor): events are appended as they are, in batches, with no
// governance and no audit trail; fast, for benchmark-sized histories. Front door (an executor):
// each event is sent as the command that decides it (engine/command.h) by the actor's
// principal, so the ledger's rules decide it and the audit trail records it, as for any other
// client. A selling-price change held for four eyes is approved at once by the pricing
// approver (kPricingApprover); events the ledger derives itself (CouponRedeemed from a sale,
// PromotionExpired from the expiry scheduler) are not sent but looked up. A generated command
// the ledger rejects means the story and the ledger disagree: Internal, sticky. Attempt()
// sends a command the story expects to be rejected.
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
#include "engine/command_executor.h"
#include "engine/event_json.h"
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

  // `front_door` (may be null: bulk) must decide on a state of `log` and use `clock`.
  EventSink(EventLog& log, ManualClock& clock, std::uint64_t seed, std::size_t batch_events,
            const std::function<void(std::uint64_t)>& progress, CommandExecutor* front_door);
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  // The one builder, cleared: build a payload in it, then Emit.
  flatbuffers::FlatBufferBuilder& Begin() {
    fbb_.Clear();
    return fbb_;
  }

  // Queues the event built since Begin() and returns its global_seq.
  Sequence Emit(const Stamp& stamp, events::Payload type, flatbuffers::Offset<void> payload);

  // Front door only (bulk: does nothing): sends the event built since Begin() as `command`,
  // which the ledger must reject; Internal (sticky) if it does not.
  void Attempt(const Stamp& stamp, events::Payload type, flatbuffers::Offset<void> payload,
               CommandType command);

  // Appends what is queued. Also called by Emit when a batch is complete.
  Status Flush();

  bool front_door() const { return front_door_ != nullptr; }
  std::uint64_t rejected_attempts() const { return rejected_attempts_; }

  const Status& status() const { return status_; }
  // The idempotency key of the last emitted event (a causation id for the next one).
  std::string_view last_key() const { return key_; }
  std::int64_t last_at_ns() const { return last_at_ns_; }
  std::uint64_t appended_count() const { return appended_count_; }
  std::uint64_t emitted_count(events::Payload type) const {
    return type_counts_[static_cast<std::size_t>(type)];
  }

 private:
  std::string Build(const Stamp& stamp, events::Payload type, flatbuffers::Offset<void> payload);
  Sequence Submit(const Stamp& stamp, events::Payload type, const std::string& event);
  // The decided outcome of `command` sent as `actor`, with the clock at story time `at_ns`.
  Result<SubmitOutcome> Send(const Actor& actor, const Command& command, std::int64_t at_ns);
  Sequence Derived(events::Payload type, const std::string& event);
  void NextKey();

  EventLog& log_;
  ManualClock& clock_;
  CommandExecutor* const front_door_;
  EventJson converter_;
  // The CouponRedeemed sequences the last sale's decision appended, in order.
  std::vector<Sequence> redemptions_;
  std::uint64_t rejected_attempts_ = 0;
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
