#include "tools/generate/event_sink.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "engine/event_builder.h"

namespace tillroll::generate {

EventSink::EventSink(EventLog& log, ManualClock& clock, std::uint64_t seed,
                     std::size_t batch_events, const std::function<void(std::uint64_t)>& progress)
    : log_(log),
      clock_(clock),
      seed_(seed),
      batch_events_(batch_events),
      progress_(progress),
      next_seq_(log.Head().seq + 1) {
  TR_ASSERT(batch_events_ > 0);
  batch_.reserve(batch_events_);
  key_.reserve(48);
}

Sequence EventSink::Emit(const Stamp& stamp, events::Payload type,
                         flatbuffers::Offset<void> payload) {
  TR_ASSERT(stamp.actor != nullptr);
  // The story must be told in time order: recorded_at never decreases.
  TR_ASSERT(stamp.at_ns >= last_at_ns_);
  if (!status_.ok()) return 0;
  if (!batch_.empty() &&
      (batch_.size() >= batch_events_ || stamp.at_ns - batch_first_at_ns_ > kBatchSpanNs)) {
    if (!Flush().ok()) return 0;
  }
  if (batch_.empty()) {
    batch_first_at_ns_ = stamp.at_ns;
    batch_first_seq_ = next_seq_;
  }
  ++emitted_total_;
  key_.assign("gen-");
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), seed_).ptr;
  key_.append(digits, end).push_back('-');
  end = std::to_chars(digits, digits + sizeof(digits), emitted_total_).ptr;
  key_.append(digits, end);

  const Envelope envelope{.stream = stamp.stream,
                          .expected_version = stamp.expected_version,
                          .idempotency_key = key_,
                          .correlation_id = stamp.correlation_id,
                          .causation_id = stamp.causation_id,
                          .principal = stamp.actor->principal,
                          .role = stamp.actor->role,
                          .source_system = stamp.actor->source_system};
  batch_.push_back(FinishUnsealedEvent(fbb_, envelope, type, payload));
  ++type_counts_[static_cast<std::size_t>(type)];
  last_at_ns_ = stamp.at_ns;
  return next_seq_++;
}

Status EventSink::Flush() {
  if (!status_.ok() || batch_.empty()) return status_;
  const std::size_t count = batch_.size();
  clock_.Set(std::max(clock_.NowNs(), last_at_ns_ + kRecordDelayNs));
  auto outcomes = log_.Append(std::move(batch_));
  batch_ = {};
  batch_.reserve(batch_events_);
  if (!outcomes.ok()) {
    status_ = outcomes.status();
    return status_;
  }
  TR_ASSERT(outcomes->size() == count);
  for (std::size_t i = 0; i < count; ++i) {
    const AppendOutcome& outcome = (*outcomes)[i];
    const Sequence expected_seq = batch_first_seq_ + i;
    if (outcome.duplicate) {
      status_ = Status::Conflict("event " + std::to_string(expected_seq) +
                                 ": its idempotency key is already in the log (was this history "
                                 "generated into this ledger before?)");
      return status_;
    }
    if (outcome.seq != expected_seq) {
      status_ =
          Status::Conflict("event appended as seq " + std::to_string(outcome.seq) + " instead of " +
                           std::to_string(expected_seq) + ": another writer appends to this log");
      return status_;
    }
  }
  appended_count_ += count;
  if (progress_) progress_(appended_count_);
  return status_;
}

}  // namespace tillroll::generate
