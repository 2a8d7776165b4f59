// Proves that no stored or submitted byte string can crash the event checks or the JSON
// decoder: arbitrary bytes go through CheckSealedEvent, CheckUnsealedEvent and ToJson, which
// the FlatBuffers Verifier must guard. Whatever a check accepts must then behave as its
// contract says: an event fit to append prints as JSON, a sealed event is valid at exactly
// one sequence and links into a chain, and an unsealed event seals in place into a valid link
// without changing what its sender wrote. A broken promise aborts, which libFuzzer reports
// with the input.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/event_chain.h"
#include "engine/event_json.h"
#include "engine/limits.h"
#include "schemas/envelope_generated.h"
#include "tests/fuzz/fuzz_promise.h"

namespace tillroll {
namespace {

using fuzz::Require;

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : s->string_view();
}

// The sequence to check the input at: the one it claims when it is an Event buffer, so that
// sealed seeds pass and the hash check is reached; otherwise any value will do.
Sequence ClaimedSequence(std::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                                 limits::kVerifierDepthMax, limits::kVerifierTablesMax);
  if (bytes.size() < 8 || !events::EventBufferHasIdentifier(bytes.data()) ||
      !events::VerifyEventBuffer(verifier)) {
    return bytes.size();
  }
  return events::GetEvent(bytes.data())->global_seq();
}

void CheckAcceptedSealed(std::string_view bytes, Sequence seq, const Digest& hash) {
  Require(!CheckSealedEvent(bytes, seq + 1).ok(), "a sealed event is valid at one sequence");
  (void)IdempotencyDigest(bytes);
  const events::Event* e = events::GetEvent(bytes.data());
  // Only a link the writer could have written (lowercase hex) can be followed.
  Result<Digest> prev = Digest::FromHex(View(e->prev_hash()));
  if (seq == 0 || !prev.ok() || prev->ToHex() != View(e->prev_hash())) return;
  ChainChecker chain(seq - 1, *prev);
  const Status added = chain.Add(seq, bytes);
  Require(added.ok(), "a sealed event links after the event its prev_hash names", added);
  Require(chain.last_hash() == hash, "the chain moves on to the event's hash");
}

// Seals a copy with values that all differ, so that fields which share bytes show up.
void CheckSealsInPlace(std::string_view unsealed) {
  const events::Event* before = events::GetEvent(unsealed.data());
  const Digest digest_before = IdempotencyDigest(unsealed);
  const SealFields fields{7, 3, 1'772'532'000'000'000'000, Sha256(unsealed)};
  std::string sealed(unsealed);
  const Digest hash = SealEvent(sealed, fields);

  ChainChecker chain(fields.seq - 1, fields.prev_hash);
  const Status added = chain.Add(fields.seq, sealed);
  Require(added.ok(), "an event sealed after the head links to it", added);
  Require(chain.last_hash() == hash, "SealEvent returns the hash CheckSealedEvent computes");
  const events::Event* after = events::GetEvent(sealed.data());
  Require(after->stream_version() == fields.stream_version, "sealing sets stream_version");
  Require(after->recorded_at_ns() == fields.recorded_at_ns, "sealing sets recorded_at_ns");
  Require(View(after->stream()) == View(before->stream()), "sealing keeps the stream");
  Require(after->expected_version() == before->expected_version(),
          "sealing keeps expected_version");
  Require(View(after->idempotency_key()) == View(before->idempotency_key()),
          "sealing keeps the idempotency key");
  Require(IdempotencyDigest(sealed) == digest_before, "sealing keeps the payload");
}

}  // namespace
}  // namespace tillroll

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tillroll;
  static EventJson json;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const Sequence seq = ClaimedSequence(bytes);
  const Result<Digest> sealed = CheckSealedEvent(bytes, seq);
  const Status unsealed = CheckUnsealedEvent(bytes);
  const Result<std::string> text = json.ToJson(bytes);
  // ToJson runs on every input and must never crash. An event fit to append must print; a
  // stored event is printable because it was fit to append and its hash shows it unchanged, so
  // a forged one whose hash checks out may be refused by ToJson, but only cleanly.
  if (unsealed.ok()) {
    Require(text.ok(), "an event fit to append can be shown as JSON", text.status());
  }
  if (sealed.ok()) CheckAcceptedSealed(bytes, seq, *sealed);
  if (unsealed.ok()) CheckSealsInPlace(bytes);
  return 0;
}
