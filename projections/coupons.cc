#include "projections/coupons.h"

#include <algorithm>

#include "projections/folding.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

std::string Encode(const CouponCode& c) {
  return RecordWriter()
      .Str(c.program)
      .Str(c.customer_id)
      .U32(c.max_redemptions)
      .U32(c.redeemed)
      .U8(c.voided ? 1 : 0)
      .I64(c.valid_from_ns)
      .I64(c.valid_to_ns)
      .U64(c.issued_seq)
      .Release();
}

Result<CouponCode> Decode(std::string_view code, std::string_view value) {
  RecordReader r(value);
  CouponCode c{.code = std::string(code)};
  c.program = r.Str();
  c.customer_id = r.Str();
  c.max_redemptions = r.U32();
  c.redeemed = r.U32();
  c.voided = r.U8() != 0;
  c.valid_from_ns = r.I64();
  c.valid_to_ns = r.I64();
  c.issued_seq = r.U64();
  if (!r.done()) return Status::Corruption("coupons: unreadable record of code " + c.code);
  return c;
}

Result<std::optional<CouponCode>> LoadCode(StateWriter& state, std::string_view code) {
  Result<std::optional<std::string>> stored = state.Get(RecordWriter().Str(code).bytes());
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<CouponCode>();
  Result<CouponCode> decoded = Decode(code, **stored);
  if (!decoded.ok()) return decoded.status();
  return std::optional<CouponCode>(std::move(*decoded));
}

}  // namespace

std::string CouponCode::Unredeemable(std::int64_t at_ns) const {
  if (voided) return "code " + code + " was voided";
  if (max_redemptions != 0 && redeemed >= max_redemptions) {
    return "code " + code + " was already redeemed " + std::to_string(redeemed) + " time(s)";
  }
  if (at_ns < valid_from_ns || at_ns >= WindowEnd(valid_to_ns)) {
    return "code " + code + " is not valid at this time";
  }
  return "";
}

Status Coupons::Apply(const LoggedEvent& logged, StateWriter& state) {
  const events::Event& event = *logged.event;
  if (const auto* issued = event.payload_as_CouponIssued()) {
    if (issued->codes() == nullptr) return Status::Ok();
    for (const auto* code : *issued->codes()) {
      Result<std::optional<CouponCode>> existing = LoadCode(state, code->string_view());
      if (!existing.ok()) return existing.status();
      if (existing->has_value()) {
        return CannotApply("codes: code " + code->str() + " was already issued by program " +
                           (*existing)->program + " at seq " +
                           std::to_string((*existing)->issued_seq));
      }
      CouponCode c{
          .code = code->str(),
          .program = issued->program()->str(),
          .customer_id = std::string(View(issued->customer_id())),
          .max_redemptions = static_cast<std::uint32_t>(std::max(0, issued->max_redemptions())),
          .issued_seq = logged.seq};
      if (issued->valid() != nullptr) {
        c.valid_from_ns = issued->valid()->from_ns();
        c.valid_to_ns = issued->valid()->to_ns();
      }
      state.Put(RecordWriter().Str(c.code).bytes(), Encode(c));
    }
    return Status::Ok();
  }
  const auto* redeemed = event.payload_as_CouponRedeemed();
  const auto* voided = event.payload_as_CouponVoided();
  if (redeemed == nullptr && voided == nullptr) return Status::Ok();
  const std::string_view code =
      redeemed ? redeemed->code()->string_view() : voided->code()->string_view();
  const std::string_view program =
      redeemed ? redeemed->program()->string_view() : voided->program()->string_view();
  Result<std::optional<CouponCode>> existing = LoadCode(state, code);
  if (!existing.ok()) return existing.status();
  if (!existing->has_value() || (*existing)->program != program) {
    return CannotApply("code: " + std::string(code) + " was never issued by program " +
                       std::string(program));
  }
  CouponCode& c = **existing;
  if (redeemed) {
    ++c.redeemed;
  } else {
    c.voided = true;
  }
  state.Put(RecordWriter().Str(code).bytes(), Encode(c));
  return Status::Ok();
}

Result<CouponCode> Coupons::Find(std::string_view code) const {
  Result<std::optional<std::string>> stored = state_->Get(RecordWriter().Str(code).bytes());
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return Status::NotFound("no coupon code " + std::string(code));
  return Decode(code, **stored);
}

}  // namespace tillroll::projections
