// The direct JSON writer of the hot answers writes what nlohmann::json would for the same
// values, so that answers written either way are the same bytes.

#include "engine/json_writer.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace tillroll::projections {
namespace {

TEST_CASE("JsonWriter: the bytes nlohmann::json writes, escapes and numbers included",
          "[json_writer]") {
  const std::string tricky = std::string("a\"b\\c\nd\re\tf\bg\fh") + '\x01' + "é€ end";
  JsonWriter w;
  w.BeginObject()
      .Str("text", tricky)
      .Num("negative", -9'223'372'036'854'775'807LL - 1)
      .Seq("seq", 18'446'744'073'709'551'615ULL)
      .Flag("yes", true)
      .Key("list")
      .BeginArray()
      .Int(0)
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .String("")
      .EndArray()
      .Key("raw")
      .Raw("[1,2]")
      .EndObject();
  const nlohmann::ordered_json expected = {
      {"text", tricky},
      {"negative", INT64_MIN},
      {"seq", UINT64_MAX},
      {"yes", true},
      {"list", {0, nlohmann::ordered_json::object(), nlohmann::ordered_json::array(), ""}},
      {"raw", {1, 2}}};
  CHECK(w.Release() == expected.dump());
}

}  // namespace
}  // namespace tillroll::projections
