// Proves the JSON form of events: every sample of the corpus parses, and each kind of bad
// input is reported with its field path and a reason a sender can act on.

#include "engine/event_json.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/event_builder.h"
#include "engine/event_chain.h"
#include "schemas/envelope_generated.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

bool HasProblem(const EventJson::Parsed& parsed, const std::string& path,
                const std::string& reason_part) {
  return std::any_of(parsed.problems.begin(), parsed.problems.end(), [&](const FieldProblem& p) {
    return p.path == path && p.reason.find(reason_part) != std::string::npos;
  });
}

constexpr const char* kPrice = R"({"stream":"price/4711","idempotency_key":"k1",
  "payload_type":"PriceSet","payload":{"sku":"4711","price_type":"Markdown",
  "amount_minor":1349,"currency":"EUR","scope":{"level":"Store","store":"store-12"}}})";

TEST_CASE("EventJson: a parsed document gives what its text gives, event or problems", "[json]") {
  EventJson json;
  const std::vector<std::string> texts = {
      kPrice,
      R"({"stream":"price/1","bogus":1,"payload_type":"PriceSet",
        "payload":{"sku":2,"amount_minor":true}})",
      R"({"stream":"order/R-1","payload_type":"SaleRecorded",
        "payload":{"order_id":"R-1","lines":[{"line_no":1},{"line_no":"two"}]}})",
      R"({"stream":"price/1","global_seq":3,"payload_type":"PriceSet","payload":{"sku":"1"}})",
      R"({"stream":"price/1","payload_type":"NoSuchEvent","payload":{}})",
      R"([1,2])"};
  for (const std::string& text : texts) {
    INFO(text);
    const EventJson::Parsed from_text = json.ParseUnsealed(text);
    const EventJson::Parsed from_document = json.ParseUnsealedDocument(nlohmann::json::parse(text));
    CHECK(from_document.bytes == from_text.bytes);
    REQUIRE(from_document.problems.size() == from_text.problems.size());
    for (std::size_t i = 0; i < from_text.problems.size(); ++i) {
      CHECK(from_document.problems[i].path == from_text.problems[i].path);
      CHECK(from_document.problems[i].reason == from_text.problems[i].reason);
    }
  }
  CHECK_FALSE(json.ParseUnsealed(kPrice).bytes.empty());
}

TEST_CASE("EventJson: a price event parses into an unsealed event", "[json]") {
  EventJson json;
  EventJson::Parsed parsed = json.ParseUnsealed(kPrice);
  REQUIRE(parsed.ok());
  CHECK(CheckUnsealedEvent(parsed.bytes).ok());
  const events::Event* e = events::GetEvent(parsed.bytes.data());
  CHECK(e->stream()->str() == "price/4711");
  CHECK(e->expected_version() == -1);
  REQUIRE(e->payload_type() == events::Payload::PriceSet);
  CHECK(e->payload_as_PriceSet()->price_type() == events::PriceType::Markdown);
  CHECK(e->payload_as_PriceSet()->scope()->store()->str() == "store-12");
  CHECK(e->payload_as_PriceSet()->amount_minor() == 1349);
}

TEST_CASE("EventJson: JSON out and in again gives the same event", "[json]") {
  EventJson json;
  EventJson::Parsed parsed = json.ParseUnsealed(kPrice);
  REQUIRE(parsed.ok());
  Result<std::string> text = json.ToJson(parsed.bytes);
  REQUIRE(text.ok());
  CHECK(text->find('\n') == std::string::npos);
  CHECK_THAT(*text, Catch::Contains("\"price_type\": \"Markdown\""));
  // The text carries the placeholders; sealed fields are rejected on input, so drop them.
  EventJson::Parsed again = json.ParseUnsealed(*text);
  CHECK(HasProblem(again, "global_seq", "assigned by the log"));
  CHECK(HasProblem(again, "hash", "assigned by the log"));
}

TEST_CASE("EventJson: each bad field is reported with its path", "[json]") {
  EventJson json;
  SECTION("unknown field") {
    auto p = json.ParseUnsealed(R"({"stream":"price/1","payload_type":"PriceSet",
      "payload":{"sku":"1","colour":"red"}})");
    CHECK(HasProblem(p, "payload.colour", "unknown field of PriceSet"));
  }
  SECTION("wrong type") {
    auto p = json.ParseUnsealed(R"({"stream":"price/1","payload_type":"PriceSet",
      "payload":{"sku":"1","amount_minor":"12.99"}})");
    CHECK(HasProblem(p, "payload.amount_minor", "expected an integer (long), got a string"));
  }
  SECTION("fraction for an integer") {
    auto p = json.ParseUnsealed(R"({"stream":"price/1","payload_type":"PriceSet",
      "payload":{"sku":"1","amount_minor":12.99}})");
    CHECK(HasProblem(p, "payload.amount_minor", "got a fraction"));
  }
  SECTION("unknown enum value") {
    auto p = json.ParseUnsealed(R"({"stream":"price/1","payload_type":"PriceSet",
      "payload":{"sku":"1","price_type":"Clearance"}})");
    CHECK(HasProblem(p, "payload.price_type", "one of: List, Markdown, Cost, Floor"));
  }
  SECTION("unknown payload type") {
    auto p = json.ParseUnsealed(R"({"stream":"price/1","payload_type":"PriceDeleted",
      "payload":{}})");
    CHECK(HasProblem(p, "payload_type", "unknown type 'PriceDeleted'"));
  }
  SECTION("missing required fields") {
    auto p = json.ParseUnsealed(R"({"payload_type":"PriceSet","payload":{"amount_minor":1}})");
    CHECK(HasProblem(p, "stream", "required"));
    CHECK(HasProblem(p, "payload.sku", "required"));
  }
  SECTION("fields the log assigns") {
    auto p = json.ParseUnsealed(R"({"stream":"price/1","global_seq":4,"payload_type":"PriceSet",
      "payload":{"sku":"1"}})");
    CHECK(HasProblem(p, "global_seq", "assigned by the log"));
  }
  SECTION("out of range") {
    auto p = json.ParseUnsealed(R"({"stream":"price/1","schema_version":70000,
      "payload_type":"PriceSet","payload":{"sku":"1"}})");
    CHECK(HasProblem(p, "schema_version", "out of range for ushort"));
  }
  SECTION("an element of a vector") {
    auto p = json.ParseUnsealed(R"({"stream":"order/R-1","payload_type":"SaleRecorded",
      "payload":{"order_id":"R-1","lines":[{"line_no":1},{"line_no":"two"}]}})");
    CHECK(HasProblem(p, "payload.lines[1].line_no", "expected an integer"));
  }
  SECTION("not JSON") {
    auto p = json.ParseUnsealed(R"({"stream":)");
    CHECK(HasProblem(p, "", "not valid JSON"));
  }
  SECTION("nested too deeply") {
    std::string deep(200, '[');
    auto p = json.ParseUnsealed(deep);
    CHECK(HasProblem(p, "", "nested deeper"));
  }
  SECTION("a stream name over the limit") {
    const std::string stream(500, 's');
    auto p = json.ParseUnsealed(R"({"stream":")" + stream +
                                R"(","payload_type":"PriceSet","payload":{"sku":"1"}})");
    CHECK(HasProblem(p, "", "stream"));
  }
  SECTION("several problems at once") {
    auto p = json.ParseUnsealed(R"({"stream":"price/1","bogus":1,"payload_type":"PriceSet",
      "payload":{"sku":2,"amount_minor":true}})");
    CHECK(p.problems.size() == 3);
  }
}

TEST_CASE("EventJson: ToJson refuses bytes that are not an event", "[json]") {
  EventJson json;
  CHECK(json.ToJson("garbage bytes").status().code() == StatusCode::kCorruption);
  CHECK(json.ToJson("").status().code() == StatusCode::kCorruption);
}

TEST_CASE("EventJson: a decided payload becomes an event with its envelope intact", "[json]") {
  EventJson json;
  // Strings a sender chose travel in the envelope: quotes, backslashes, control characters
  // and UTF-8 must come out as they went in.
  const std::string key = "cmd \"7\"\\a\nb\x01 caf\xc3\xa9";
  const std::string causation = "audit:user:anna:" + key;
  const Envelope envelope{.stream = "price/4711",
                          .expected_version = 3,
                          .idempotency_key = key,
                          .correlation_id = "req-9",
                          .causation_id = causation,
                          .principal = "user:anna",
                          .source_system = "pricing-engine"};
  Result<std::string> event = json.UnsealedFromPayload(
      envelope, "PriceSet",
      R"({"sku":"4711","price_type":"Markdown","amount_minor":1349,"currency":"EUR"})");
  REQUIRE(event.ok());
  REQUIRE(CheckUnsealedEvent(*event).ok());
  Result<std::string> text = json.ToJson(*event);
  REQUIRE(text.ok());
  const nlohmann::json out = nlohmann::json::parse(*text);
  CHECK(out["stream"] == "price/4711");
  CHECK(out["expected_version"] == 3);
  CHECK(out["idempotency_key"] == key);
  CHECK(out["causation_id"] == causation);
  CHECK(out["correlation_id"] == "req-9");
  CHECK(out["actor"] == nlohmann::json{{"principal", "user:anna"},
                                       {"source_system", "pricing-engine"}});
  CHECK(out["payload_type"] == "PriceSet");
  CHECK(out["payload"]["amount_minor"] == 1349);
  CHECK(out["payload"]["price_type"] == "Markdown");

  // A payload that does not match its table is refused, and the converter stays usable.
  Result<std::string> wrong =
      json.UnsealedFromPayload(envelope, "PriceSet", R"({"sku":"4711","amount_minor":"a lot"})");
  CHECK(wrong.status().code() == StatusCode::kInvalidArgument);
  CHECK(json.UnsealedFromPayload(envelope, "PriceSet", R"({"sku":"4711","currency":"EUR"})").ok());
}

TEST_CASE(
    "EventJson: a payload copied from another event makes the event its JSON makes, for every "
    "payload type",
    "[event_json]") {
  EventJson json;
  const Envelope envelope{.stream = "decided/1",
                          .expected_version = 4,
                          .idempotency_key = "cmd-1#1",
                          .correlation_id = "req-1",
                          .causation_id = "audit:user:anna:cmd-1",
                          .principal = "user:anna",
                          .role = "pricing_manager"};
  std::size_t compared = 0;
  for (const char* version : {"v1", "v2", "v3"}) {
    for (const auto& file : std::filesystem::directory_iterator(testing::SamplesDir(version))) {
      if (file.path().extension() != ".json") continue;
      INFO(file.path().string());
      nlohmann::json sample = nlohmann::json::parse(testing::ReadFile(file.path()));
      for (const char* f :
           {"global_seq", "stream_version", "recorded_at_ns", "prev_hash", "hash"}) {
        sample.erase(f);
      }
      // The sample as a sender's command would carry it, on another stream.
      sample["stream"] = "command";
      const EventJson::Parsed source = json.ParseUnsealed(sample.dump());
      REQUIRE(source.ok());
      Result<std::string> copied = json.UnsealedWithPayloadOf(envelope, source.bytes);
      Result<std::string> parsed = json.UnsealedFromPayload(
          envelope, sample["payload_type"].get<std::string>(), sample["payload"].dump());
      REQUIRE(copied.ok());
      REQUIRE(parsed.ok());
      REQUIRE(CheckUnsealedEvent(*copied).ok());
      CHECK(*json.ToJson(*copied) == *json.ToJson(*parsed));
      CHECK(IdempotencyDigest(*copied) == IdempotencyDigest(*parsed));
      ++compared;
    }
  }
  CHECK(compared >= 30);
}

}  // namespace
}  // namespace tillroll
