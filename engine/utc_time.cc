#include "engine/utc_time.h"

#include <charconv>

namespace tillroll {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

Civil CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

// Reads exactly `width` digits at `pos`.
bool Digits(std::string_view s, std::size_t pos, std::size_t width, unsigned* out) {
  if (pos + width > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  *out = v;
  return true;
}

Status Bad(std::string_view text) {
  return Status::InvalidArgument("'" + std::string(text) +
                                 "' is not a time: use ISO 8601 like 2026-03-03T10:00:00Z "
                                 "or UTC nanoseconds");
}

}  // namespace

Result<std::int64_t> ParseUtcTimeNs(std::string_view text) {
  std::int64_t plain = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), plain);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return plain;

  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !Digits(text, 5, 2, &month) || text[7] != '-' || !Digits(text, 8, 2, &day)) {
    return Bad(text);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return Bad(text);
  std::int64_t fraction_ns = 0;
  std::int64_t offset_s = 0;
  std::size_t pos = 10;
  if (pos < text.size()) {
    if ((text[pos] != 'T' && text[pos] != ' ') || !Digits(text, pos + 1, 2, &hour) ||
        text.size() < pos + 9 || text[pos + 3] != ':' || !Digits(text, pos + 4, 2, &minute) ||
        text[pos + 6] != ':' || !Digits(text, pos + 7, 2, &second)) {
      return Bad(text);
    }
    if (hour > 23 || minute > 59 || second > 60) return Bad(text);
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      std::int64_t scale = kNsPerSecond / 10;
      ++pos;
      const std::size_t digits_from = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        fraction_ns += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == digits_from || pos - digits_from > 9) return Bad(text);
    }
    if (pos == text.size()) return Bad(text);  // a time of day needs Z or an offset
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      pos += 1;
    } else if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() &&
               text[pos + 3] == ':') {
      unsigned oh = 0, om = 0;
      if (!Digits(text, pos + 1, 2, &oh) || !Digits(text, pos + 4, 2, &om)) return Bad(text);
      offset_s = (text[pos] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
      pos += 6;
    } else {
      return Bad(text);
    }
  }
  const std::int64_t days = DaysFromCivil(year, month, day);
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  std::int64_t time_ns = 0;
  if (__builtin_mul_overflow(seconds, kNsPerSecond, &time_ns) ||
      __builtin_add_overflow(time_ns, fraction_ns, &time_ns)) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is out of range: UTC nanoseconds cover 1677 to 2262");
  }
  return time_ns;
}

std::string FormatUtcTime(std::int64_t time_ns) {
  std::int64_t seconds = time_ns / kNsPerSecond;
  std::int64_t fraction = time_ns % kNsPerSecond;
  if (fraction < 0) {
    fraction += kNsPerSecond;
    seconds -= 1;
  }
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    days -= 1;
  }
  const Civil c = CivilFromDays(days);
  // "YYYY-MM-DDTHH:MM:SS", digits written directly (this runs for every answer's as_of). Every
  // field is positive: nanoseconds in an int64 span the years 1677 to 2262.
  std::string out;
  out.reserve(30);
  auto digits = [&out](std::uint64_t value, int width) {
    char buffer[24];
    char* end = std::to_chars(buffer, buffer + sizeof(buffer), value).ptr;
    for (auto n = static_cast<int>(end - buffer); n < width; ++n) out += '0';
    out.append(buffer, end);
  };
  digits(static_cast<std::uint64_t>(c.year), 4);
  out += '-';
  digits(c.month, 2);
  out += '-';
  digits(c.day, 2);
  out += 'T';
  const auto time_of_day = static_cast<std::uint64_t>(rest);
  digits(time_of_day / 3600, 2);
  out += ':';
  digits(time_of_day / 60 % 60, 2);
  out += ':';
  digits(time_of_day % 60, 2);
  if (fraction != 0) {
    out += '.';
    digits(static_cast<std::uint64_t>(fraction), 9);
  }
  out += 'Z';
  return out;
}

}  // namespace tillroll
