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

#include "engine/event_chain.h"
#include "engine/event_json.h"
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
