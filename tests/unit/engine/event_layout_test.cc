// Proves that buffers crafted to slip past the FlatBuffers Verifier are refused before they can
// be appended or printed: the regression inputs the fuzzers found (tests/fuzz/corpus/
// event_decoder/regression_*) each break a layout rule - a payload without its type, an
// unknown union member, a string that is not UTF-8, or a field that shares bytes with the
// fields the log seals in place.

#include "engine/event_layout.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/event_builder.h"
#include "engine/event_chain.h"
#include "engine/event_json.h"
#include "schemas/envelope_generated.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

namespace fs = std::filesystem;

TEST_CASE("EventLayout: an event built by our builders passes", "[layout]") {
  CHECK(CheckEventLayout(testing::PriceEvent({.sku = "4711", .idempotency_key = "k"}),
                         LayoutCheck::kSealable)
            .ok());
}

TEST_CASE("EventLayout: every crafted regression buffer is refused", "[layout]") {
  const fs::path corpus = fs::path(TILLROLL_SOURCE_DIR) / "tests/fuzz/corpus/event_decoder";
  EventJson json;
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("regression_", 0) != 0) continue;
    ++seen;
    INFO(name);
    const std::string bytes = testing::ReadFile(entry.path());
    CHECK_FALSE(CheckUnsealedEvent(bytes).ok());
  }
  CHECK(seen >= 7);
}

// An unsealed price event whose strings are laid out by `share`: given the builder and the
// offset of the hash placeholder, it returns the offsets of prev_hash and correlation_id.
struct SharedStrings {
  flatbuffers::Offset<flatbuffers::String> prev_hash;
  flatbuffers::Offset<flatbuffers::String> correlation;
};
template <typename Share>
std::string EventSharing(Share share) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto sku = fbb.CreateString("4711");
  events::PriceSetBuilder price(fbb);
  price.add_sku(sku);
  price.add_amount_minor(100);
  const auto payload = price.Finish();
  const auto stream = fbb.CreateString("price/4711");
  const auto hash = fbb.CreateString(std::string(Digest::kHexChars, '0'));
  const SharedStrings shared = share(fbb, hash);
  events::EventBuilder event(fbb);
  event.add_global_seq(kUnsealedPlaceholder);
  event.add_stream(stream);
  event.add_stream_version(kUnsealedPlaceholder);
  event.add_expected_version(-1);
  event.add_recorded_at_ns(kUnsealedPlaceholder);
  event.add_correlation_id(shared.correlation);
  event.add_prev_hash(shared.prev_hash);
  event.add_hash(hash);
  event.add_payload_type(events::Payload::PriceSet);
  event.add_payload(payload.Union());
  events::FinishEventBuffer(fbb, event.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

TEST_CASE("EventLayout: a field sharing bytes with a sealed field is refused", "[layout]") {
  const std::string apart = EventSharing([](flatbuffers::FlatBufferBuilder& fbb, auto) {
    return SharedStrings{fbb.CreateString(std::string(Digest::kHexChars, '0')),
                         fbb.CreateString("c-1")};
  });
  CHECK(CheckEventLayout(apart, LayoutCheck::kSealable).ok());

  // Sealing would write the hash into the correlation id too.
  const std::string correlation_is_hash =
      EventSharing([](flatbuffers::FlatBufferBuilder& fbb, auto hash) {
        return SharedStrings{fbb.CreateString(std::string(Digest::kHexChars, '0')), hash};
      });
  // Sealing would write both hashes into the same characters.
  const std::string prev_hash_is_hash =
      EventSharing([](flatbuffers::FlatBufferBuilder& fbb, auto hash) {
        return SharedStrings{hash, fbb.CreateString("c-1")};
      });
  for (const std::string* bytes : {&correlation_is_hash, &prev_hash_is_hash}) {
    const Status layout = CheckEventLayout(*bytes, LayoutCheck::kSealable);
    CHECK(layout.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(layout.message(), Catch::Contains("share bytes"));
    // Printing does not seal: the same buffer prints.
    CHECK(CheckEventLayout(*bytes, LayoutCheck::kPrintable).ok());
  }
}

TEST_CASE("EventLayout: strings are checked as UTF-8 wherever a bad byte falls", "[layout]") {
  auto with_sku = [](const std::string& sku) {
    return CheckEventLayout(testing::PriceEvent({.sku = sku}), LayoutCheck::kPrintable);
  };
  // Long ASCII runs are checked eight bytes at a time: a bad byte before, inside and after
  // the first run of eight, and valid multi-byte characters at the same places.
  for (const std::size_t at : {0u, 3u, 7u, 8u, 9u, 15u, 16u, 21u}) {
    INFO("at " << at);
    std::string text(24, 'a');
    CHECK(with_sku(text.substr(0, at) + "\xC3\xA4" + text.substr(at)).ok());
    CHECK_FALSE(with_sku(text.substr(0, at) + "\xFF" + text.substr(at)).ok());
    CHECK_FALSE(with_sku(text.substr(0, at) + "\xC3" + text.substr(at)).ok());
    CHECK_FALSE(with_sku(text.substr(0, at) + "\xED\xA0\x80" + text.substr(at)).ok());
  }
}

TEST_CASE("EventJson: control characters in strings come out escaped", "[layout]") {
  EventJson json;
  auto parsed = json.ParseUnsealed(R"({"stream":"a\u0015b","payload_type":"PriceSet",
    "payload":{"sku":"K\u00e4se"}})");
  REQUIRE(parsed.ok());
  auto text = json.ToJson(parsed.bytes);
  REQUIRE(text.ok());
  CHECK_THAT(*text, Catch::Contains("a\\u0015b"));
  CHECK(text->find('\x15') == std::string::npos);
}

}  // namespace
}  // namespace tillroll
