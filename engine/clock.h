#ifndef TILLROLL_ENGINE_CLOCK_H_
#define TILLROLL_ENGINE_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace tillroll {

// The source of record time. Injected so that tests control time. Implementations are
// thread-safe. The log never lets recorded_at decrease, whatever the clock says.
class Clock {
 public:
  virtual ~Clock() = default;
  // UTC nanoseconds since the Unix epoch.
  virtual std::int64_t NowNs() = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowNs() override;
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t now_ns) : now_ns_(now_ns) {}
  std::int64_t NowNs() override { return now_ns_.load(); }
  void Set(std::int64_t now_ns) { now_ns_.store(now_ns); }
  void Advance(std::int64_t delta_ns) { now_ns_.fetch_add(delta_ns); }

 private:
  std::atomic<std::int64_t> now_ns_;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_CLOCK_H_
