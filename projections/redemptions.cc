#include "projections/redemptions.h"

#include <set>
#include <string>

#include "projections/folding.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

std::string TotalKey(std::string_view promotion_id) {
  return RecordWriter().U8('t').Str(promotion_id).Release();
}
std::string CustomerKey(std::string_view promotion_id, std::string_view customer_id) {
  return RecordWriter().U8('c').Str(promotion_id).Str(customer_id).Release();
}

Result<std::int64_t> Stored(const std::optional<std::string>& value) {
  if (!value) return std::int64_t{0};
  RecordReader r(*value);
  const auto count = static_cast<std::int64_t>(r.U64());
  if (!r.done()) return Status::Corruption("redemptions: unreadable count");
  return count;
}

}  // namespace

Status Redemptions::Apply(const LoggedEvent& logged, StateWriter& state) {
  const events::SaleRecorded* sale = logged.event->payload_as_SaleRecorded();
  if (sale == nullptr || sale->lines() == nullptr) return Status::Ok();
  std::set<std::string_view> promotions;
  for (const events::SaleLine* line : *sale->lines()) {
    if (line->discounts() == nullptr) continue;
    for (const events::DiscountAllocation* d : *line->discounts()) {
      promotions.insert(d->promotion_id()->string_view());
    }
  }
  const std::string_view customer =
      sale->customer() != nullptr ? View(sale->customer()->customer_id()) : "";
  auto bump = [&](const std::string& key) -> Status {
    Result<std::optional<std::string>> value = state.Get(key);
    if (!value.ok()) return value.status();
    Result<std::int64_t> count = Stored(*value);
    if (!count.ok()) return count.status();
    state.Put(key, RecordWriter().U64(static_cast<std::uint64_t>(*count + 1)).bytes());
    return Status::Ok();
  };
  for (std::string_view promotion : promotions) {
    if (Status s = bump(TotalKey(promotion)); !s.ok()) return s;
    if (!customer.empty()) {
      if (Status s = bump(CustomerKey(promotion, customer)); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Result<RedemptionCount> Redemptions::Count(std::string_view promotion_id,
                                           std::string_view customer_id) const {
  RedemptionCount out;
  Result<std::optional<std::string>> total = state_->Get(TotalKey(promotion_id));
  if (!total.ok()) return total.status();
  Result<std::int64_t> orders = Stored(*total);
  if (!orders.ok()) return orders.status();
  out.orders = *orders;
  if (!customer_id.empty()) {
    Result<std::optional<std::string>> mine = state_->Get(CustomerKey(promotion_id, customer_id));
    if (!mine.ok()) return mine.status();
    Result<std::int64_t> customer_orders = Stored(*mine);
    if (!customer_orders.ok()) return customer_orders.status();
    out.customer_orders = *customer_orders;
  }
  return out;
}

}  // namespace tillroll::projections
