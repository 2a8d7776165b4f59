#ifndef TILLROLL_TOOLS_GENERATE_AGENDA_H_
#define TILLROLL_TOOLS_GENERATE_AGENDA_H_

// The story's to-do list: everything that happens at a known story time (sales, returns,
// promotion workflow steps, settlements), taken out in time order. Equal times come out in the
// order they were put in, so the story is deterministic. Not thread-safe.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/assert.h"

namespace tillroll::generate {

enum class HappeningKind : std::uint8_t { kSale, kReturn, kPromotionStep, kSettlement };

struct Happening {
  std::int64_t at_ns = 0;
  std::uint64_t serial = 0;  // order of Push, breaks ties
  HappeningKind kind = HappeningKind::kSale;
  std::uint32_t a = 0;  // kSale: channel; kReturn: pending return; kPromotionStep: campaign
  std::uint32_t b = 0;  // kSale: store + 1 (0: none); kPromotionStep: step
};

class Agenda {
 public:
  void Push(std::int64_t at_ns, HappeningKind kind, std::uint32_t a = 0, std::uint32_t b = 0) {
    heap_.push_back({at_ns, serial_++, kind, a, b});
    std::push_heap(heap_.begin(), heap_.end(), Later);
  }
  // True if the earliest happening is before `limit_ns`.
  bool HasBefore(std::int64_t limit_ns) const {
    return !heap_.empty() && heap_.front().at_ns < limit_ns;
  }
  Happening Pop() {
    TR_ASSERT(!heap_.empty());
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    const Happening next = heap_.back();
    heap_.pop_back();
    return next;
  }

 private:
  static bool Later(const Happening& x, const Happening& y) {
    return x.at_ns != y.at_ns ? x.at_ns > y.at_ns : x.serial > y.serial;
  }

  std::vector<Happening> heap_;
  std::uint64_t serial_ = 0;
};

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_AGENDA_H_
