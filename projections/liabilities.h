#ifndef TILLROLL_PROJECTIONS_LIABILITIES_H_
#define TILLROLL_PROJECTIONS_LIABILITIES_H_

// liabilities: what each funding party owes for the discounts it funds, per (promotion, version,
// party, currency): accrued by sales, reversed by returns, settled by LiabilitySettled.
//
// Every sale, return or settlement adds one movement per (promotion, version, party, currency)
// it touches. A discount is split between the rule's funding shares by largest remainder, so the
// parties' amounts add up to the discount exactly. A movement's valid time is when it happened
// (sold_at_ns, returned_at_ns, the settlement's record time); a query as of (valid_at, known_at)
// sums the movements that happened by valid_at and were recorded by known_at.
//
// Stored record: key Str(promotion_id) U32(version) Str(party) Str(currency) U64(seq);
// value I64(valid_ns) I64(recorded_at_ns) I64(accrued_minor) I64(reversed_minor)
// I64(settled_minor). Queries read the stored state, except BudgetUsed, which a cart quote asks
// for every live promotion: it keeps a running total per promotion in memory (loaded on open).
// Thread-safe.

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "projections/projection.h"

namespace tillroll::projections {

struct LiabilityRow {
  std::string promotion_id;
  std::uint32_t version = 0;
  std::string party;
  std::string currency;
  std::int64_t accrued_minor = 0;
  std::int64_t reversed_minor = 0;
  std::int64_t settled_minor = 0;
  std::int64_t outstanding_minor = 0;  // accrued - reversed - settled
};

class Liabilities final : public Projection {
 public:
  static constexpr std::string_view kName = "liabilities";
  static constexpr std::uint32_t kCodeVersion = 1;

  explicit Liabilities(std::shared_ptr<const StateReader> state) : state_(std::move(state)) {}
  std::string_view name() const override { return kName; }
  std::uint32_t code_version() const override { return kCodeVersion; }
  Status Apply(const LoggedEvent& logged, StateWriter& state) override;
  Status Load(const StateReader& state) override;

  // The discount a promotion has given so far, net of returns (accrued - reversed over every
  // version and party), as of (valid_at, known_at). From memory when the moment is at or after
  // every movement of the promotion (a cart priced now); from the stored movements otherwise.
  Result<std::int64_t> BudgetUsed(std::string_view promotion_id, std::int64_t valid_at_ns,
                                  std::int64_t known_at_ns) const;

  // Rows for one promotion (or all when empty), ordered by promotion, version, party, currency.
  Result<std::vector<LiabilityRow>> AsOf(std::string_view promotion_id, std::int64_t valid_at_ns,
                                         std::int64_t known_at_ns) const;

 private:
  struct Used {
    std::int64_t net_minor = 0;
    std::int64_t last_valid_ns = INT64_MIN;
    std::int64_t last_recorded_ns = INT64_MIN;
  };
  void AddUsed(std::string_view promotion_id, std::int64_t valid_ns, std::int64_t recorded_ns,
               std::int64_t net_minor);

  std::shared_ptr<const StateReader> state_;
  mutable std::shared_mutex used_mu_;
  std::unordered_map<std::string, Used> used_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_LIABILITIES_H_
