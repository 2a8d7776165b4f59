#include "engine/clock.h"

#include <chrono>

namespace tillroll {

std::int64_t SystemClock::NowNs() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
}

}  // namespace tillroll
