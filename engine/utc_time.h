#ifndef TILLROLL_ENGINE_UTC_TIME_H_
#define TILLROLL_ENGINE_UTC_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace tillroll {

// Parses "2026-03-03T10:00:00Z", "2026-03-03T10:00:00.250+01:00", "2026-03-03" (midnight UTC)
// or a plain integer of UTC nanoseconds. InvalidArgument names what is wrong.
Result<std::int64_t> ParseUtcTimeNs(std::string_view text);

// "2026-03-03T10:00:00.000000001Z" (fraction only when non-zero).
std::string FormatUtcTime(std::int64_t time_ns);

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_UTC_TIME_H_
