// Proves sealing and the chain link on single events: a seal is checkable, any change to
// the bytes or to the link is caught, and idempotency digests ignore layout but not content.

#include "engine/event_chain.h"

#include <catch2/catch.hpp>

#include "engine/event_builder.h"
#include "engine/event_json.h"
#include "schemas/envelope_generated.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

using testing::PriceEvent;

TEST_CASE("EventChain: a sealed event checks out and carries its link", "[chain]") {
  std::string first = PriceEvent({.sku = "1"});
  std::string second = PriceEvent({.sku = "2"});
  REQUIRE(CheckUnsealedEvent(first).ok());
  const Digest h1 = SealEvent(first, {1, 1, 1'000, Digest{}});
  const Digest h2 = SealEvent(second, {2, 1, 1'000, h1});
  auto checked = CheckSealedEvent(second, 2);
  REQUIRE(checked.ok());
  CHECK(*checked == h2);
  CHECK(events::GetEvent(second.data())->prev_hash()->str() == h1.ToHex());
  CHECK(events::GetEvent(second.data())->hash()->str() == h2.ToHex());

  ChainChecker chain;
  CHECK(chain.Add(1, first).ok());
  CHECK(chain.Add(2, second).ok());
  CHECK(chain.last_hash() == h2);
}

TEST_CASE("EventChain: every single-bit change to a sealed event is caught", "[chain]") {
  std::string event = PriceEvent({.sku = "4711", .idempotency_key = "k"});
  SealEvent(event, {1, 1, 1'000, Digest{}});
  for (std::size_t i = 0; i < event.size(); ++i) {
    std::string damaged = event;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    INFO("byte " << i);
    CHECK_FALSE(CheckSealedEvent(damaged, 1).ok());
  }
}

TEST_CASE("EventChain: a link to the wrong previous hash is caught", "[chain]") {
  std::string first = PriceEvent({.sku = "1"});
  std::string second = PriceEvent({.sku = "2"});
  SealEvent(first, {1, 1, 1'000, Digest{}});
  SealEvent(second, {2, 1, 1'000, Sha256("not the first event")});
  ChainChecker chain;
  REQUIRE(chain.Add(1, first).ok());
  Status broken = chain.Add(2, second);
  CHECK(broken.code() == StatusCode::kCorruption);
  CHECK_THAT(broken.message(), Catch::Contains("prev_hash"));
}

TEST_CASE("EventChain: idempotency digests follow content - not layout", "[chain]") {
  EventJson json;
  auto a = json.ParseUnsealed(R"({"stream":"price/1","idempotency_key":"k",
    "payload_type":"PriceSet","payload":{"sku":"1","amount_minor":5,"currency":"EUR"}})");
  auto reordered = json.ParseUnsealed(R"({"payload":{"currency":"EUR","amount_minor":5,
    "sku":"1"},"payload_type":"PriceSet","correlation_id":"retry-2","idempotency_key":"k",
    "stream":"price/1"})");
  auto other = json.ParseUnsealed(R"({"stream":"price/1","idempotency_key":"k",
    "payload_type":"PriceSet","payload":{"sku":"1","amount_minor":6,"currency":"EUR"}})");
  REQUIRE(a.ok());
  REQUIRE(reordered.ok());
  REQUIRE(other.ok());
  CHECK(IdempotencyDigest(a.bytes) == IdempotencyDigest(reordered.bytes));
  CHECK_FALSE(IdempotencyDigest(a.bytes) == IdempotencyDigest(other.bytes));
}

TEST_CASE("EventChain: idempotency digests ignore defaults written out explicitly", "[chain]") {
  // A client whose builder writes default values (ForceDefaults) retries what another client
  // sent without them: the same content, so the same digest.
  auto build = [](bool force_defaults) {
    flatbuffers::FlatBufferBuilder fbb;
    fbb.ForceDefaults(force_defaults);
    const auto price =
        events::CreatePriceSetDirect(fbb, "4711", events::PriceType::List, 0, 0, "EUR");
    return FinishUnsealedEvent(fbb, {.stream = "price/4711", .idempotency_key = "k"},
                               events::Payload::PriceSet, price.Union());
  };
  const std::string plain = build(false);
  const std::string forced = build(true);
  REQUIRE(plain.size() < forced.size());
  REQUIRE(CheckUnsealedEvent(forced).ok());
  CHECK(IdempotencyDigest(plain) == IdempotencyDigest(forced));
}

TEST_CASE("EventChain: digests round-trip through hex", "[chain]") {
  const Digest d = Sha256("tillroll");
  auto back = Digest::FromHex(d.ToHex());
  REQUIRE(back.ok());
  CHECK(*back == d);
  CHECK_FALSE(Digest::FromHex("abc").ok());
  CHECK_FALSE(Digest::FromHex(std::string(64, 'g')).ok());
}

}  // namespace
}  // namespace tillroll
