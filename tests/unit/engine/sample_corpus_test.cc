// Proves that old events stay readable: the frozen corpus of every schema version
// (schemas/samples/<version>/frozen, one sealed event per payload type that version added,
// chained) must decode with today's schema to exactly the JSON it had when it was frozen, and
// every input sample must still parse. A schema change that renumbers, retypes or removes a
// field fails here.
//
// To freeze the newest schema version's corpus: unit_tests "[.freeze]" (writes into the source
// tree, and only the newest version's folder: a released corpus is never rewritten).

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/event_chain.h"
#include "engine/event_json.h"
#include "flatbuffers/idl.h"
#include "schemas/envelope_generated.h"
#include "schemas/schema_text.h"
#include "tests/support/test_support.h"

namespace tillroll {
namespace {

namespace fs = std::filesystem;
using testing::SamplesDir;

constexpr std::int64_t kFrozenAt = 1'772'532'000'000'000'000;  // 2026-03-03T10:00:00Z

std::vector<std::string> SampleNames(std::string_view version) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(SamplesDir(version))) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json WithoutAssignedFields(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text);
  for (const char* f : {"global_seq", "stream_version", "recorded_at_ns", "prev_hash", "hash"}) {
    j.erase(f);
  }
  return j;
}

TEST_CASE("Schemas: every payload scalar defaults to zero", "[samples]") {
  // Idempotency digests read a scalar at its default as absent, and they know no default but
  // zero (engine/event_chain.cc). A payload field with another default must change that first.
  flatbuffers::Parser parser;
  REQUIRE(parser.Parse(schemas::kEventSchemaText));
  for (const flatbuffers::StructDef* table : parser.structs_.vec) {
    if (table->name == "Event") continue;  // the envelope is digested field by field
    for (const flatbuffers::FieldDef* field : table->fields.vec) {
      if (!flatbuffers::IsScalar(field->value.type.base_type)) continue;
      INFO(table->name << "." << field->name << " = " << field->value.constant);
      const std::string& value = field->value.constant;
      CHECK((value == "0" || value == "0.0" || value == "0.000000"));
    }
  }
}

TEST_CASE("Samples: there is one sample per payload type", "[samples]") {
  std::vector<std::string> names;
  for (std::string_view version : testing::kSampleVersions) {
    for (std::string& name : SampleNames(version)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> payloads;
  for (auto type : events::EnumValuesPayload()) {
    if (type != events::Payload::NONE) payloads.push_back(events::EnumNamePayload(type));
  }
  std::sort(payloads.begin(), payloads.end());
  CHECK(names == payloads);
}

// The frozen corpus of one schema version, chained in name order.
void CheckFrozenCorpus(std::string_view version) {
  EventJson json;
  ChainChecker chain;
  const std::vector<std::string> names = SampleNames(version);
  REQUIRE_FALSE(names.empty());
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO("sample " << version << "/" << names[i]);
    const fs::path frozen = SamplesDir(version) / "frozen" / names[i];
    const std::string bytes = testing::ReadFile(frozen.string() + ".event");
    REQUIRE_FALSE(bytes.empty());
    REQUIRE(chain.Add(i + 1, bytes).ok());
    const events::Event* e = events::GetEvent(bytes.data());
    CHECK(events::EnumNamePayload(e->payload_type()) == names[i]);
    Result<std::string> text = json.ToJson(bytes);
    REQUIRE(text.ok());
    std::string expected = testing::ReadFile(frozen.string() + ".event.json");
    while (!expected.empty() && expected.back() == '\n') expected.pop_back();
    CHECK(*text == expected);

    // The input sample still means the same event.
    EventJson::Parsed parsed = json.ParseUnsealed(testing::ReadSample(names[i], version));
    REQUIRE(parsed.ok());
    Result<std::string> parsed_text = json.ToJson(parsed.bytes);
    REQUIRE(parsed_text.ok());
    CHECK(WithoutAssignedFields(*parsed_text) == WithoutAssignedFields(*text));
    // ParseUnsealed builds its tables itself rather than through FlatBuffers' parser, which
    // froze the corpus: the layout may differ, the values may not.
    CHECK(IdempotencyDigest(parsed.bytes) == IdempotencyDigest(bytes));
  }
}

TEST_CASE("Samples: every frozen corpus decodes to the JSON it was frozen with", "[samples]") {
  for (std::string_view version : testing::kSampleVersions) {
    CheckFrozenCorpus(version);
  }
}

TEST_CASE("Samples: freeze the corpus of this schema version", "[.freeze]") {
  EventJson json;
  const std::string_view version = std::end(testing::kSampleVersions)[-1];
  const fs::path dir = SamplesDir(version) / "frozen";
  fs::create_directories(dir);
  Digest prev;
  Sequence seq = 0;
  for (const std::string& name : SampleNames(version)) {
    EventJson::Parsed parsed = json.ParseUnsealed(testing::ReadSample(name, version));
    REQUIRE(parsed.ok());
    ++seq;
    prev = SealEvent(parsed.bytes, {seq, 1, kFrozenAt + static_cast<std::int64_t>(seq), prev});
    std::ofstream(dir / (name + ".event"), std::ios::binary) << parsed.bytes;
    std::ofstream(dir / (name + ".event.json")) << *json.ToJson(parsed.bytes) << "\n";
  }
}
}  // namespace
}  // namespace tillroll
