#include "engine/event_builder.h"

#include "engine/event.h"
#include "engine/event_chain.h"

namespace tillroll {
namespace {

flatbuffers::Offset<flatbuffers::String> OptionalString(flatbuffers::FlatBufferBuilder& fbb,
                                                        std::string_view s) {
  if (s.empty()) return 0;
  return fbb.CreateString(s.data(), s.size());
}

}  // namespace

std::string FinishUnsealedEvent(flatbuffers::FlatBufferBuilder& fbb, const Envelope& envelope,
                                events::Payload type, flatbuffers::Offset<void> payload) {
  const std::string zero_hex(Digest::kHexChars, '0');
  const auto stream = fbb.CreateString(envelope.stream.data(), envelope.stream.size());
  flatbuffers::Offset<events::Actor> actor = 0;
  if (!envelope.principal.empty() || !envelope.role.empty() || !envelope.source_system.empty()) {
    actor = events::CreateActor(fbb, OptionalString(fbb, envelope.principal),
                                OptionalString(fbb, envelope.role),
                                OptionalString(fbb, envelope.source_system));
  }
  const auto correlation = OptionalString(fbb, envelope.correlation_id);
  const auto causation = OptionalString(fbb, envelope.causation_id);
  const auto key = OptionalString(fbb, envelope.idempotency_key);
  const auto prev_hash = fbb.CreateString(zero_hex);
  const auto hash = fbb.CreateString(zero_hex);
  events::EventBuilder event(fbb);
  event.add_global_seq(kUnsealedPlaceholder);
  event.add_stream(stream);
  event.add_stream_version(kUnsealedPlaceholder);
  event.add_expected_version(envelope.expected_version);
  event.add_recorded_at_ns(kUnsealedPlaceholder);
  event.add_actor(actor);
  event.add_correlation_id(correlation);
  event.add_causation_id(causation);
  event.add_idempotency_key(key);
  event.add_prev_hash(prev_hash);
  event.add_hash(hash);
  event.add_payload_type(type);
  event.add_payload(payload);
  events::FinishEventBuffer(fbb, event.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

}  // namespace tillroll
