#ifndef TILLROLL_TOOLS_GENERATE_STORY_H_
#define TILLROLL_TOOLS_GENERATE_STORY_H_

// What every part of the history generator shares: story time, the seeded random source, the
// principals who act in the story; money arithmetic comes from engine/money.h.
// Header-only; nothing here touches the log.

#include <array>
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "engine/assert.h"
#include "engine/money.h"

namespace tillroll::generate {

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;
inline constexpr std::int64_t kNsPerMinute = 60 * kNsPerSecond;
inline constexpr std::int64_t kNsPerHour = 60 * kNsPerMinute;
inline constexpr std::int64_t kNsPerDay = 24 * kNsPerHour;

inline constexpr std::string_view kCurrency = "EUR";
inline constexpr std::int32_t kBpsWhole = 10'000;

// The story's daily rhythm, as offsets from the start of a simulated day.
inline constexpr std::int64_t kSettlementOffsetNs = 2 * kNsPerHour;
inline constexpr std::int64_t kPriceRunOffsetNs = 4 * kNsPerHour;  // the pricing engine's run
inline constexpr std::int64_t kPublishOffsetNs = 5 * kNsPerHour + 30 * kNsPerMinute;
inline constexpr std::int64_t kWindowOpenOffsetNs = 6 * kNsPerHour;  // promotions go live
inline constexpr std::int64_t kResumeOffsetNs = 6 * kNsPerHour + 30 * kNsPerMinute;
inline constexpr std::int64_t kTradingOpenOffsetNs = 7 * kNsPerHour;
inline constexpr std::int64_t kTradingCloseOffsetNs = 21 * kNsPerHour;

// A deterministic random source: the same seed tells the same story with any standard library
// (the std distributions are implementation-defined, so these helpers are our own).
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t Next() { return engine_(); }
  // Uniform in [0, n); n > 0. Multiply-shift: the bias is below 2^-40 for our n.
  std::uint64_t Below(std::uint64_t n) {
    TR_DASSERT(n > 0);
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(engine_()) * n) >> 64);
  }
  std::uint32_t Below32(std::uint32_t n) { return static_cast<std::uint32_t>(Below(n)); }
  // Uniform in [lo, hi].
  std::int64_t Between(std::int64_t lo, std::int64_t hi) {
    TR_DASSERT(lo <= hi);
    return lo + static_cast<std::int64_t>(Below(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Real(double lo, double hi) { return lo + (hi - lo) * Unit(); }
  bool Chance(double p) { return Unit() < p; }
  // floor(mean) or floor(mean) + 1, so that the expectation is `mean`.
  std::uint64_t RoundRandomly(double mean) {
    const auto whole = static_cast<std::uint64_t>(mean);
    return whole + (Chance(mean - static_cast<double>(whole)) ? 1 : 0);
  }

 private:
  std::mt19937_64 engine_;
};

// Who acts: principal, role, source system (the envelope's actor).
struct Actor {
  std::string_view principal;
  std::string_view role;
  std::string_view source_system;
};

inline constexpr Actor kPricingEngine{"service:pricing-engine", "pricing_manager",
                                      "pricing-engine"};
inline constexpr Actor kOdooCosts{"service:odoo", "pricing_manager", "odoo"};
inline constexpr Actor kPromotionPlatform{"service:promotion-platform", "promo_author",
                                          "promotion-platform"};
inline constexpr Actor kPosGateway{"service:pos-gateway", "checkout", "pos"};
inline constexpr Actor kWebshop{"service:webshop", "checkout", "ecommerce"};
inline constexpr Actor kMarketplaceGateway{"service:marketplace-gateway", "checkout",
                                           "marketplace"};
// Approves the selling-price changes held for four eyes (front door only).
inline constexpr Actor kPricingApprover{"user:anna.berg", "pricing_approver", "tillroll-console"};
inline constexpr Actor kFinance{"user:petra.neumann", "finance", "odoo"};
inline constexpr Actor kLedgerAdmin{"user:greta.hansen", "admin", "tillroll-admin"};
inline constexpr std::array<Actor, 3> kPromoAuthors{{
    {"user:mira.schulz", "promo_author", "promotion-platform"},
    {"user:jonas.keller", "promo_author", "promotion-platform"},
    {"user:sofia.wagner", "promo_author", "promotion-platform"},
}};
// The lead author also approves (others' campaigns): the one who could approve her own.
inline constexpr std::size_t kPromoLeadAuthor = 2;
inline constexpr Actor kPromoLead{"user:sofia.wagner", "promo_approver", "promotion-platform"};
// Disjoint from the authors, so that an approval is always four-eyes.
inline constexpr std::array<Actor, 2> kPromoApprovers{{
    {"user:lena.vogt", "promo_approver", "promotion-platform"},
    {"user:tom.richter", "promo_approver", "promotion-platform"},
}};
inline constexpr std::string_view kReturnsDeskRole = "returns_desk";

// A shelf price ending in 9 (1349, 209), never below `lowest_minor`.
inline std::int64_t ShelfPrice(double raw_minor, std::int64_t lowest_minor) {
  auto price = static_cast<std::int64_t>(raw_minor / 10.0) * 10 + 9;
  while (price < lowest_minor) price += 10;
  return price;
}

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_STORY_H_
