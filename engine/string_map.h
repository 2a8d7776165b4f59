#ifndef TILLROLL_ENGINE_STRING_MAP_H_
#define TILLROLL_ENGINE_STRING_MAP_H_

// A hash map keyed by std::string that is looked up by std::string_view, without building a
// std::string per lookup (the log writer's stream versions and recent keys; the projections'
// in-memory indexes of SKUs, categories, ids).

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tillroll {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_STRING_MAP_H_
