#include "tools/generate/event_sink.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "engine/event_builder.h"

namespace tillroll::generate {

namespace {

using events::Payload;

// The command that decides an event of the story; nullopt for the events the ledger derives.
std::optional<CommandType> CommandFor(const events::Event& event) {
  switch (event.payload_type()) {
    case Payload::PriceSet:
      return CommandType::kSetPrice;
    case Payload::PriceRetracted:
      return CommandType::kRetractPrice;
    case Payload::PromotionDrafted:
      return event.payload_as_PromotionDrafted()->version() > 1 ? CommandType::kAmendPromotion
                                                                : CommandType::kDraftPromotion;
    case Payload::PromotionSubmitted:
      return CommandType::kSubmitPromotion;
    case Payload::PromotionApproved:
      return CommandType::kApprovePromotion;
    case Payload::PromotionRejected:
      return CommandType::kRejectPromotion;
    case Payload::PromotionPublished:
      return CommandType::kPublishPromotion;
    case Payload::PromotionPaused:
      return CommandType::kPausePromotion;
    case Payload::PromotionResumed:
      return CommandType::kResumePromotion;
    case Payload::PromotionWithdrawn:
      return CommandType::kWithdrawPromotion;
    case Payload::CouponIssued:
      return CommandType::kIssueCoupons;
    case Payload::CouponVoided:
      return CommandType::kVoidCoupon;
    case Payload::SaleRecorded:
      return CommandType::kRecordSale;
    case Payload::ReturnRecorded:
      return CommandType::kRecordReturn;
    case Payload::LiabilitySettled:
      return CommandType::kRecordSettlement;
    case Payload::AuthorityRuleSet:
      return CommandType::kSetAuthorityRule;
    case Payload::RoleGranted:
      return CommandType::kGrantRole;
    case Payload::RoleRevoked:
      return CommandType::kRevokeRole;
    case Payload::ProductDefined:
      return CommandType::kDefineProduct;
    default:
      return std::nullopt;
  }
}

std::string Describe(const Command& command, const Decision& decision) {
  return std::string(command.spec().name) + " on " + decision.subject + ": " +
         (decision.field.empty() ? "" : decision.field + ": ") + decision.reason +
         (decision.rule.empty() ? "" : " (rule " + decision.rule + ")");
}

}  // namespace

EventSink::EventSink(EventLog& log, ManualClock& clock, std::uint64_t seed,
                     std::size_t batch_events, const std::function<void(std::uint64_t)>& progress,
                     CommandExecutor* front_door)
    : log_(log),
      clock_(clock),
      front_door_(front_door),
      seed_(seed),
      batch_events_(batch_events),
      progress_(progress),
      next_seq_(log.Head().seq + 1) {
  TR_ASSERT(batch_events_ > 0);
  batch_.reserve(batch_events_);
  key_.reserve(48);
}

void EventSink::NextKey() {
  ++emitted_total_;
  key_.assign("gen-");
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), seed_).ptr;
  key_.append(digits, end).push_back('-');
  end = std::to_chars(digits, digits + sizeof(digits), emitted_total_).ptr;
  key_.append(digits, end);
}

std::string EventSink::Build(const Stamp& stamp, events::Payload type,
                             flatbuffers::Offset<void> payload) {
  const Envelope envelope{.stream = stamp.stream,
                          .expected_version = stamp.expected_version,
                          .idempotency_key = key_,
                          .correlation_id = stamp.correlation_id,
                          .causation_id = stamp.causation_id,
                          .principal = stamp.actor->principal,
                          .role = stamp.actor->role,
                          .source_system = stamp.actor->source_system};
  return FinishUnsealedEvent(fbb_, envelope, type, payload);
}

Sequence EventSink::Emit(const Stamp& stamp, events::Payload type,
                         flatbuffers::Offset<void> payload) {
  TR_ASSERT(stamp.actor != nullptr);
  // The story must be told in time order: recorded_at never decreases.
  TR_ASSERT(stamp.at_ns >= last_at_ns_);
  if (!status_.ok()) return 0;
  if (front_door_ == nullptr && !batch_.empty() &&
      (batch_.size() >= batch_events_ || stamp.at_ns - batch_first_at_ns_ > kBatchSpanNs)) {
    if (!Flush().ok()) return 0;
  }
  NextKey();
  std::string event = Build(stamp, type, payload);
  ++type_counts_[static_cast<std::size_t>(type)];
  last_at_ns_ = stamp.at_ns;
  if (front_door_ != nullptr) return Submit(stamp, type, std::move(event));
  if (batch_.empty()) {
    batch_first_at_ns_ = stamp.at_ns;
    batch_first_seq_ = next_seq_;
  }
  batch_.push_back(std::move(event));
  return next_seq_++;
}

Result<SubmitOutcome> EventSink::Send(const Actor& actor, const Command& command,
                                      std::int64_t at_ns) {
  clock_.Set(std::max(clock_.NowNs(), at_ns + kRecordDelayNs));
  const Principal principal{
      std::string(actor.principal), {std::string(actor.role)}, std::string(actor.source_system)};
  Result<SubmitOutcome> outcome = front_door_->Submit(principal, command);
  if (!outcome.ok()) return outcome;
  if (outcome->duplicate) {
    return Status::Conflict("command " + command.idempotency_key +
                            " is already in the log (was this history generated into this "
                            "ledger before?)");
  }
  appended_count_ += 1 + outcome->events.size();
  if (progress_) progress_(appended_count_);
  return outcome;
}

Sequence EventSink::Submit(const Stamp& stamp, events::Payload type, const std::string& event) {
  const std::optional<CommandType> command_type = CommandFor(*events::GetEvent(event.data()));
  if (!command_type) return Derived(type, event);
  Result<Command> command = CommandFromEvent(*command_type, event, converter_);
  if (!command.ok()) {
    status_ = Status::Internal("generated " + std::string(events::EnumNamePayload(type)) + ": " +
                               command.status().message());
    return 0;
  }
  command->idempotency_key = key_;
  command->correlation_id = std::string(stamp.correlation_id);
  Result<SubmitOutcome> outcome = Send(*stamp.actor, *command, stamp.at_ns);
  if (!outcome.ok()) {
    status_ = outcome.status();
    return 0;
  }
  if (outcome->decision.outcome == events::AuditOutcome::HeldForApproval) {
    // Four eyes: the pricing approver approves the pricing engine's big move at once.
    const nlohmann::json proposed =
        nlohmann::json::parse(outcome->decision.events.front().payload_json);
    const nlohmann::json line = {
        {"command", "approve_price_change"},
        {"idempotency_key", key_ + "-approval"},
        {"correlation_id", stamp.correlation_id},
        {"args", {{"proposal_id", proposed["proposal_id"]}, {"approver_note", "reviewed"}}}};
    ParsedCommand approval = ParseCommand(line.dump(), converter_);
    TR_ASSERT(approval.command.has_value());
    outcome = Send(kPricingApprover, *approval.command, stamp.at_ns);
    if (!outcome.ok()) {
      status_ = outcome.status();
      return 0;
    }
    command = std::move(*approval.command);
  }
  if (outcome->decision.outcome != events::AuditOutcome::Accepted) {
    status_ = Status::Internal("the ledger rejected a generated command, " +
                               Describe(*command, outcome->decision));
    return 0;
  }
  // The decided events: the one the story asked for, then what the ledger derived from it
  // (the approved PriceSet after the PriceChangeApproved; a sale's CouponRedeemed).
  const std::vector<AppendOutcome>& appended = outcome->events;
  TR_ASSERT(!appended.empty());
  if (command->type == CommandType::kApprovePriceChange) return appended.back().seq;
  if (type == Payload::SaleRecorded) {
    redemptions_.clear();
    for (std::size_t i = 1; i < appended.size(); ++i) redemptions_.push_back(appended[i].seq);
  }
  return appended.front().seq;
}

Sequence EventSink::Derived(events::Payload type, const std::string& event) {
  const events::Event& e = *events::GetEvent(event.data());
  if (type == Payload::CouponRedeemed) {
    if (redemptions_.empty()) {
      status_ = Status::Internal("the ledger recorded no redemption of coupon code " +
                                 e.payload_as_CouponRedeemed()->code()->str());
      return 0;
    }
    const Sequence seq = redemptions_.front();
    redemptions_.erase(redemptions_.begin());
    return seq;
  }
  TR_ASSERT(type == Payload::PromotionExpired);
  const events::PromotionExpired& expired = *e.payload_as_PromotionExpired();
  clock_.Set(std::max(clock_.NowNs(), last_at_ns_ + kRecordDelayNs));
  Result<std::vector<Sequence>> appended = front_door_->ExpireDue();
  if (!appended.ok()) {
    status_ = appended.status();
    return 0;
  }
  appended_count_ += appended->size();
  const std::string key =
      "expire:" + expired.promotion_id()->str() + ":" + std::to_string(expired.version());
  Result<std::optional<Sequence>> seq = log_.SeqOfIdempotencyKey(key);
  if (!seq.ok()) {
    status_ = seq.status();
    return 0;
  }
  if (!seq->has_value()) {
    status_ =
        Status::Internal("the expiry scheduler did not expire " + expired.promotion_id()->str() +
                         " version " + std::to_string(expired.version()));
    return 0;
  }
  return **seq;
}

void EventSink::Attempt(const Stamp& stamp, events::Payload type, flatbuffers::Offset<void> payload,
                        CommandType command_type) {
  TR_ASSERT(stamp.actor != nullptr && stamp.at_ns >= last_at_ns_);
  if (front_door_ == nullptr || !status_.ok()) return;
  NextKey();
  const std::string event = Build(stamp, type, payload);
  last_at_ns_ = stamp.at_ns;
  Result<Command> command = CommandFromEvent(command_type, event, converter_);
  if (!command.ok()) {
    status_ = Status::Internal("generated attempt: " + command.status().message());
    return;
  }
  command->idempotency_key = key_;
  command->correlation_id = std::string(stamp.correlation_id);
  Result<SubmitOutcome> outcome = Send(*stamp.actor, *command, stamp.at_ns);
  if (!outcome.ok()) {
    status_ = outcome.status();
    return;
  }
  if (outcome->decision.outcome != events::AuditOutcome::Rejected) {
    status_ =
        Status::Internal("the ledger did not reject a generated bad attempt, " +
                         std::string(command->spec().name) + " on " + outcome->decision.subject);
    return;
  }
  ++rejected_attempts_;
}

Status EventSink::Flush() {
  if (!status_.ok() || batch_.empty() || front_door_ != nullptr) return status_;
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
