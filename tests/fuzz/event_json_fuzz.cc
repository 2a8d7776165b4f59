// Proves that no JSON line can crash EventJson::ParseUnsealed or slip a bad event past it:
// arbitrary bytes are parsed as one append line. A line it rejects must come with problems
// that each give a reason. A line it accepts must give an event that CheckUnsealedEvent
// accepts, that seals into the first link of a chain, and whose JSON (ToJson, without the
// fields the log assigns) parses back to the same stream, expected version and payload.
// A broken promise aborts, which libFuzzer reports with the input.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/event_chain.h"
#include "engine/event_json.h"
#include "tests/fuzz/fuzz_promise.h"

namespace tillroll {
namespace {

using fuzz::Require;

void CheckRejected(const EventJson::Parsed& parsed) {
  Require(!parsed.problems.empty(), "a rejected line names its problems");
  for (const FieldProblem& problem : parsed.problems) {
    Require(!problem.reason.empty(), "every problem gives a reason");
  }
}

void CheckSealsAsFirstEvent(EventJson& json, const std::string& unsealed) {
  std::string sealed = unsealed;
  const Digest hash = SealEvent(sealed, {1, 1, 1'772'532'000'000'000'000, Digest{}});
  const Result<Digest> checked = CheckSealedEvent(sealed, 1);
  Require(checked.ok(), "a sealed event passes CheckSealedEvent", checked.status());
  Require(*checked == hash, "SealEvent returns the hash CheckSealedEvent computes");
  const Status added = ChainChecker().Add(1, sealed);
  Require(added.ok(), "a sealed first event starts the chain", added);
  const Result<std::string> text = json.ToJson(sealed);
  Require(text.ok(), "a sealed event can be shown as JSON", text.status());
}

// ToJson's output is the FlatBuffers JSON mapping too, so it must read back as the same event.
void CheckRoundTrip(EventJson& json, const std::string& unsealed, const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  Require(doc.is_object(), "ToJson gives a JSON object");
  for (const char* assigned :
       {"global_seq", "stream_version", "recorded_at_ns", "prev_hash", "hash"}) {
    doc.erase(assigned);
  }
  const EventJson::Parsed again = json.ParseUnsealed(doc.dump());
  if (!again.ok()) {
    std::fprintf(stderr, "%s: %s\n", again.problems[0].path.c_str(),
                 again.problems[0].reason.c_str());
  }
  Require(again.ok(), "ToJson's output parses back");
  Require(IdempotencyDigest(again.bytes) == IdempotencyDigest(unsealed),
          "ToJson's output parses back to the same stream, expected version and payload");
  const Result<std::string> text_again = json.ToJson(again.bytes);
  Require(text_again.ok() && *text_again == text, "ToJson's output parses back to the same event");
}

}  // namespace
}  // namespace tillroll

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tillroll;
  static EventJson json;
  const std::string_view line(reinterpret_cast<const char*>(data), size);

  const EventJson::Parsed parsed = json.ParseUnsealed(line);
  if (!parsed.ok()) {
    CheckRejected(parsed);
    return 0;
  }
  const Status checked = CheckUnsealedEvent(parsed.bytes);
  Require(checked.ok(), "ParseUnsealed gives events that CheckUnsealedEvent accepts", checked);
  const Result<std::string> text = json.ToJson(parsed.bytes);
  Require(text.ok(), "a parsed event can be shown as JSON", text.status());
  CheckSealsAsFirstEvent(json, parsed.bytes);
  CheckRoundTrip(json, parsed.bytes, *text);
  return 0;
}
