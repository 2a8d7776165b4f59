#ifndef TILLROLL_ENGINE_MONEY_H_
#define TILLROLL_ENGINE_MONEY_H_

// Money arithmetic of DESIGN.md: half-up rounding at the minor unit, and exact splits by
// largest remainder. Header-only.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "engine/assert.h"

namespace tillroll {

// round(numerator / denominator), halves away from zero; denominator > 0. Exact in 128 bits.
inline std::int64_t DivideHalfUp(__int128 numerator, __int128 denominator) {
  TR_DASSERT(denominator > 0);
  if (numerator < 0) return -DivideHalfUp(-numerator, denominator);
  constexpr __int128 kNarrow = INT64_MAX / 4;  // 2 × numerator + denominator fits 64 bits
  if (numerator <= kNarrow && denominator <= kNarrow) {  // money nearly always: no 128-bit divide
    const auto n = static_cast<std::int64_t>(numerator);
    const auto d = static_cast<std::int64_t>(denominator);
    return (2 * n + d) / (2 * d);
  }
  return static_cast<std::int64_t>((2 * numerator + denominator) / (2 * denominator));
}

// round(amount × bps / 10000), half-up.
inline std::int64_t ApplyBps(std::int64_t amount, std::int64_t bps) {
  return DivideHalfUp(static_cast<__int128>(amount) * bps, 10'000);
}

// Splits `total` (>= 0) over `weights` (>= 0) in proportion, exactly, by largest remainder;
// ties go to the lower index. All-zero weights give everything to the first.
inline std::vector<std::int64_t> AllocateLargestRemainder(std::int64_t total,
                                                          std::span<const std::int64_t> weights) {
  std::vector<std::int64_t> shares(weights.size(), 0);
  if (weights.empty()) return shares;
  __int128 weight_sum = 0;
  for (const std::int64_t w : weights) weight_sum += w;
  if (weight_sum <= 0) {
    shares[0] = total;
    return shares;
  }
  std::int64_t given = 0;
  std::vector<__int128> remainders(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    // 64-bit division where the product fits (nearly always: cents times cents).
    std::int64_t product = 0;
    if (weight_sum <= INT64_MAX && !__builtin_mul_overflow(total, weights[i], &product)) {
      const auto sum = static_cast<std::int64_t>(weight_sum);
      shares[i] = product / sum;
      remainders[i] = product % sum;
    } else {
      const __int128 exact = static_cast<__int128>(total) * weights[i];
      shares[i] = static_cast<std::int64_t>(exact / weight_sum);
      remainders[i] = exact % weight_sum;
    }
    given += shares[i];
  }
  // The units left (fewer than there are weights) go one each to the largest remainders.
  const auto left = static_cast<std::size_t>(std::max<std::int64_t>(0, total - given));
  if (left == 0) return shares;
  std::vector<std::size_t> order(weights.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(left, order.size()));
  // Which ones get a unit, not in what order: the first `left` by a strict order (ties to the
  // earlier weight), in linear time.
  std::nth_element(order.begin(), end, order.end(), [&](std::size_t a, std::size_t b) {
    return remainders[a] != remainders[b] ? remainders[a] > remainders[b] : a < b;
  });
  for (auto it = order.begin(); it != end; ++it) ++shares[*it];
  return shares;
}

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_MONEY_H_
