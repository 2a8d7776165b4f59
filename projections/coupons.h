#ifndef TILLROLL_PROJECTIONS_COUPONS_H_
#define TILLROLL_PROJECTIONS_COUPONS_H_

// coupons: every coupon code issued, with its program, window, personal owner, how often it
// may be and has been redeemed, and whether it was voided. A code belongs to one program
// across the ledger, so that a till can redeem it by the code alone. The command path reads it
// to refuse an unknown, used-up, voided or out-of-window code at the sale that redeems it.
//
// Stored record per code: key Str(code), value Str(program) Str(customer_id) U32(max_redemptions)
// U32(redeemed) U8(voided) I64(valid_from_ns) I64(valid_to_ns, 0 = open) U64(issued_seq).
// Queries read the stored state (the latest, not as of a past moment). Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "projections/projection.h"

namespace tillroll::projections {

struct CouponCode {
  std::string code;
  std::string program;
  std::string customer_id;            // empty: a bearer code
  std::uint32_t max_redemptions = 0;  // 0: unlimited
  std::uint32_t redeemed = 0;
  bool voided = false;
  std::int64_t valid_from_ns = 0;
  std::int64_t valid_to_ns = 0;  // 0: open-ended
  Sequence issued_seq = 0;

  // Why the code cannot be redeemed at at_ns, or empty when it can.
  std::string Unredeemable(std::int64_t at_ns) const;
};

class Coupons final : public Projection {
 public:
  static constexpr std::string_view kName = "coupons";
  static constexpr std::uint32_t kCodeVersion = 1;

  explicit Coupons(std::shared_ptr<const StateReader> state) : state_(std::move(state)) {}
  std::string_view name() const override { return kName; }
  std::uint32_t code_version() const override { return kCodeVersion; }
  std::string_view stream_prefix() const override { return "coupon/"; }
  // InvalidArgument for a code issued twice, or redeemed or voided before it was issued or
  // under another program.
  Status Apply(const LoggedEvent& logged, StateWriter& state) override;
  bool reads_while_applying() const override { return true; }

  // NotFound for a code never issued.
  Result<CouponCode> Find(std::string_view code) const;

 private:
  std::shared_ptr<const StateReader> state_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_COUPONS_H_
