// Proves the money arithmetic every discount and refund goes through: half-up rounding and the
// exact largest-remainder split that makes line allocations add up to the order's amount.

#include "engine/money.h"

#include <catch2/catch.hpp>
#include <random>

namespace tillroll {
namespace {

// The split by its definition: the floors of the exact shares, then one unit each to the
// largest remainders, a tie to the lower index, one unit at a time.
std::vector<std::int64_t> ReferenceSplit(std::int64_t total, const std::vector<std::int64_t>& w) {
  __int128 sum = 0;
  for (std::int64_t x : w) sum += x;
  std::vector<std::int64_t> shares(w.size());
  std::vector<__int128> rest(w.size());
  std::int64_t given = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    shares[i] = static_cast<std::int64_t>(static_cast<__int128>(total) * w[i] / sum);
    rest[i] = static_cast<__int128>(total) * w[i] % sum;
    given += shares[i];
  }
  for (std::int64_t left = total - given; left > 0; --left) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < w.size(); ++i) {
      if (rest[i] > rest[best]) best = i;
    }
    ++shares[best];
    rest[best] = -1;
  }
  return shares;
}

TEST_CASE("Money: half-up rounding of basis points", "[money]") {
  CHECK(ApplyBps(100, 1000) == 10);
  CHECK(ApplyBps(5, 1000) == 1);  // 0.5 rounds up
  CHECK(ApplyBps(4, 1000) == 0);  // 0.4 rounds down
  CHECK(ApplyBps(333, 3333) == 111);
}

TEST_CASE("Money: largest remainder splits exactly, in proportion, ties to the lower index",
          "[money]") {
  CHECK(AllocateLargestRemainder(100, std::vector<std::int64_t>{1, 1, 1}) ==
        std::vector<std::int64_t>{34, 33, 33});
  CHECK(AllocateLargestRemainder(2, std::vector<std::int64_t>{1, 1, 1}) ==
        std::vector<std::int64_t>{1, 1, 0});
  CHECK(AllocateLargestRemainder(10, std::vector<std::int64_t>{0, 0}) ==
        std::vector<std::int64_t>{10, 0});
  CHECK(AllocateLargestRemainder(0, std::vector<std::int64_t>{3, 5}) ==
        std::vector<std::int64_t>{0, 0});
  CHECK(AllocateLargestRemainder(7, std::vector<std::int64_t>{}).empty());

  std::mt19937_64 rng(20261127);
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::int64_t> weights(1 + rng() % 40);
    for (std::int64_t& w : weights) w = static_cast<std::int64_t>(rng() % (round % 2 ? 5 : 100000));
    weights[rng() % weights.size()] += 1;  // never all zero
    const auto total = static_cast<std::int64_t>(rng() % 1'000'000);
    const std::vector<std::int64_t> shares = AllocateLargestRemainder(total, weights);
    INFO("round " << round);
    CHECK(shares == ReferenceSplit(total, weights));
    std::int64_t sum = 0;
    for (std::int64_t s : shares) sum += s;
    CHECK(sum == total);
  }
}

}  // namespace
}  // namespace tillroll
