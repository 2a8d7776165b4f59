#ifndef TILLROLL_ENGINE_EVENT_CHAIN_H_
#define TILLROLL_ENGINE_EVENT_CHAIN_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/event.h"
#include "engine/status.h"

// Sealing and checking single events of the hash chain.
//
// An event is a FlatBuffers `Event` (schemas/envelope.fbs). Before it is appended it is
// "unsealed": global_seq, stream_version and recorded_at_ns hold the placeholder 1, prev_hash
// and hash hold 64 '0' characters. Sealing overwrites those fields in place, so the bytes the
// sender built are the bytes that are stored. The event's hash is
//   SHA-256(the sealed bytes, with the 64 characters of `hash` read as '0')
// and, since the bytes contain prev_hash, it covers the previous event's hash too.
//
// All functions are thread-safe.
namespace tillroll {

inline constexpr std::int64_t kUnsealedPlaceholder = 1;

// Checks a buffer that did not come from our writer: FlatBuffers Verifier, file identifier,
// size and field limits, placeholders present. InvalidArgument says which rule failed.
Status CheckUnsealedEvent(std::string_view bytes);

struct SealFields {
  Sequence seq = 0;
  std::uint64_t stream_version = 0;
  std::int64_t recorded_at_ns = 0;
  Digest prev_hash;
};

// Seals an event that passed CheckUnsealedEvent, in place; returns its hash.
Digest SealEvent(std::string& bytes, const SealFields& fields);

// Checks a stored event read at `seq`: Verifier, a known payload type, the global_seq field,
// and the hash over its bytes. On success returns the event's hash (the caller compares
// prev_hash to the chain). Corruption names the failed check. The layout rules of
// CheckEventLayout held when the event was appended and the hash shows the bytes unchanged
// since, so they are not walked again on every read (EventJson::ToJson still walks them).
Result<Digest> CheckSealedEvent(std::string_view bytes, Sequence seq);

// The digest of what an idempotency key promises: stream, expected version and payload, in
// a canonical form that does not depend on how the buffer was laid out. Only for buffers that
// passed CheckUnsealedEvent or CheckSealedEvent.
Digest IdempotencyDigest(std::string_view bytes);

// The SHA-256 of arbitrary bytes.
Digest Sha256(std::string_view bytes);

// Follows the chain over consecutive events: each must pass CheckSealedEvent, come at the
// next sequence, and name the previous event's hash as its prev_hash. Not thread-safe.
class ChainChecker {
 public:
  // Starts after event `after` whose hash is `after_hash` (0 and the zero digest: the start).
  explicit ChainChecker(Sequence after = 0, Digest after_hash = {});

  // Corruption naming `seq` and the broken rule.
  Status Add(Sequence seq, std::string_view bytes);
  // The same for an event that already passed CheckSealedEvent with `hash`: checks only its
  // place in the chain (sequence and prev_hash). Lets the hashing run elsewhere.
  Status Link(Sequence seq, std::string_view bytes, const Digest& hash);

  Sequence last() const { return last_; }
  const Digest& last_hash() const { return last_hash_; }

 private:
  Sequence last_;
  Digest last_hash_;
  std::string last_hash_hex_;  // what the next event's prev_hash must say
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_EVENT_CHAIN_H_
