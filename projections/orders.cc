#include "projections/orders.h"

#include "projections/folding.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

std::string SaleKey(std::string_view order_id) {
  return RecordWriter().Str(order_id).U64(0).Release();
}

}  // namespace

Status Orders::Apply(const LoggedEvent& logged, StateWriter& state) {
  const events::Event& event = *logged.event;
  if (const auto* sale = event.payload_as_SaleRecorded()) {
    const std::string key = SaleKey(sale->order_id()->string_view());
    Result<std::optional<std::string>> existing = state.Get(key);
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      RecordReader earlier(**existing);
      return CannotApply("order_id: order " + std::string(sale->order_id()->string_view()) +
                         " already has a sale, at seq " + std::to_string(earlier.U64()));
    }
    state.Put(key, RecordWriter().U64(logged.seq).I64(event.recorded_at_ns()).bytes());
    return Status::Ok();
  }
  if (const auto* ret = event.payload_as_ReturnRecorded()) {
    const std::string_view order_id = ret->order_id()->string_view();
    Result<std::optional<std::string>> sale = state.Get(SaleKey(order_id));
    if (!sale.ok()) return sale.status();
    if (!sale->has_value()) {
      return CannotApply("order_id: return " + std::string(ret->return_id()->string_view()) +
                         " is against order " + std::string(order_id) + ", which has no sale");
    }
    state.Put(
        RecordWriter().Str(order_id).U64(logged.seq).bytes(),
        RecordWriter().Str(ret->return_id()->string_view()).I64(event.recorded_at_ns()).bytes());
  }
  return Status::Ok();
}

Result<OrderRecord> Orders::Find(std::string_view order_id, std::int64_t known_at_ns) const {
  OrderRecord order{std::string(order_id)};
  Status bad;
  Status scanned = state_->Scan(RecordWriter().Str(order_id).Release(),
                                [&](std::string_view key, std::string_view value) {
                                  RecordReader k(key);
                                  k.Str();
                                  const Sequence seq = k.U64();
                                  RecordReader v(value);
                                  if (seq == 0) {
                                    order.sale_seq = v.U64();
                                    order.sale_recorded_at_ns = v.I64();
                                  } else {
                                    OrderRecord::Return r{seq, std::string(v.Str()), v.I64()};
                                    if (r.recorded_at_ns <= known_at_ns)
                                      order.returns.push_back(std::move(r));
                                  }
                                  if (!k.done() || !v.done())
                                    bad = Status::Corruption("orders: unreadable record");
                                  return bad.ok();
                                });
  if (!scanned.ok()) return scanned;
  if (!bad.ok()) return bad;
  if (order.sale_seq == 0 || order.sale_recorded_at_ns > known_at_ns) {
    return Status::NotFound("no order " + std::string(order_id));
  }
  return order;
}

}  // namespace tillroll::projections
