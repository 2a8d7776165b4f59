// Proves the time formats the CLI and the API accept and print.

#include "engine/utc_time.h"

#include <catch2/catch.hpp>

namespace tillroll {
namespace {

TEST_CASE("UtcTime: ISO 8601 and nanoseconds parse to UTC nanoseconds", "[time]") {
  CHECK(*ParseUtcTimeNs("1970-01-01T00:00:00Z") == 0);
  CHECK(*ParseUtcTimeNs("2026-03-03T10:00:00Z") == 1'772'532'000'000'000'000);
  CHECK(*ParseUtcTimeNs("2026-03-03T11:00:00+01:00") == 1'772'532'000'000'000'000);
  CHECK(*ParseUtcTimeNs("2026-03-03T10:00:00.5Z") == 1'772'532'000'500'000'000);
  CHECK(*ParseUtcTimeNs("2026-03-03") == 1'772'496'000'000'000'000);
  CHECK(*ParseUtcTimeNs("1772532000000000000") == 1'772'532'000'000'000'000);
  CHECK(*ParseUtcTimeNs("2024-02-29T00:00:00Z") == 1'709'164'800'000'000'000);
}

TEST_CASE("UtcTime: malformed times are rejected with the accepted forms", "[time]") {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-03-03T10:00:00",
                          "2026-03-03T25:00:00Z", "2026-03-03T10:00Z", "2026-03-03T10:00:00.Z"}) {
    INFO(bad);
    auto parsed = ParseUtcTimeNs(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.status().message(), Catch::Contains("ISO 8601"));
  }
}

TEST_CASE("UtcTime: times past what nanoseconds can hold are rejected - not wrapped", "[time]") {
  auto far = ParseUtcTimeNs("2999-01-01T00:00:00Z");
  REQUIRE_FALSE(far.ok());
  CHECK_THAT(far.status().message(), Catch::Contains("out of range"));
  CHECK(ParseUtcTimeNs("2262-01-01T00:00:00Z").ok());
  CHECK_FALSE(ParseUtcTimeNs("1600-01-01").ok());
}

TEST_CASE("UtcTime: formatting round-trips", "[time]") {
  CHECK(FormatUtcTime(1'772'532'000'000'000'000) == "2026-03-03T10:00:00Z");
  CHECK(FormatUtcTime(1'772'532'000'000'000'001) == "2026-03-03T10:00:00.000000001Z");
  CHECK(FormatUtcTime(-1) == "1969-12-31T23:59:59.999999999Z");
  CHECK(*ParseUtcTimeNs(FormatUtcTime(1'709'164'800'123'000'000)) == 1'709'164'800'123'000'000);
}

}  // namespace
}  // namespace tillroll
