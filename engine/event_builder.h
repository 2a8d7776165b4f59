#ifndef TILLROLL_ENGINE_EVENT_BUILDER_H_
#define TILLROLL_ENGINE_EVENT_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "schemas/envelope_generated.h"

namespace tillroll {

// The envelope fields a sender chooses. Empty strings are left out of the event.
struct Envelope {
  std::string_view stream;
  std::int64_t expected_version = -1;  // -1 any, 0 new stream, N the stream's current version
  std::string_view idempotency_key;
  std::string_view correlation_id;
  std::string_view causation_id;
  std::string_view principal;
  std::string_view role;
  std::string_view source_system;
};

// Finishes `fbb`, which already holds `payload`, as an unsealed Event ready for
// EventLog::Append (placeholders in the fields the log assigns) and returns its bytes.
//
//   flatbuffers::FlatBufferBuilder fbb;
//   auto price = events::CreatePriceSetDirect(fbb, "4711", ...);
//   std::string event = FinishUnsealedEvent(fbb, {.stream = "price/4711"},
//                                           events::Payload::PriceSet, price.Union());
std::string FinishUnsealedEvent(flatbuffers::FlatBufferBuilder& fbb, const Envelope& envelope,
                                events::Payload type, flatbuffers::Offset<void> payload);

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_EVENT_BUILDER_H_
