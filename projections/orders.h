#ifndef TILLROLL_PROJECTIONS_ORDERS_H_
#define TILLROLL_PROJECTIONS_ORDERS_H_

// orders: per order, the sale and the returns recorded against it, by the log sequence of
// their events. The returns desk's order context (OrderContextJson in queries.h) reads those
// events from the log: the lines with prices and price-event sequences, the discounts with
// promotion id, version and rule-snapshot sequence, and what came back so far.
//
// Stored records: key Str(order_id) U64(0) for the sale, value U64(seq) I64(recorded_at_ns);
// key Str(order_id) U64(seq) for each return, value Str(return_id) I64(recorded_at_ns).
// Queries read the stored state. Thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.h"

namespace tillroll::projections {

struct OrderRecord {
  std::string order_id;
  Sequence sale_seq = 0;
  std::int64_t sale_recorded_at_ns = 0;
  struct Return {
    Sequence seq = 0;
    std::string return_id;
    std::int64_t recorded_at_ns = 0;
  };
  std::vector<Return> returns;  // in sequence order
};

class Orders final : public Projection {
 public:
  static constexpr std::string_view kName = "orders";
  // 2: folds only its own streams (stream_prefix).
  static constexpr std::uint32_t kCodeVersion = 2;

  explicit Orders(std::shared_ptr<const StateReader> state) : state_(std::move(state)) {}
  std::string_view name() const override { return kName; }
  std::uint32_t code_version() const override { return kCodeVersion; }
  std::string_view stream_prefix() const override { return "order/"; }
  // InvalidArgument for a second sale of one order id, or a return against an order with no
  // sale.
  Status Apply(const LoggedEvent& logged, StateWriter& state) override;
  bool reads_while_applying() const override { return true; }

  // The order as known at known_at. NotFound when its sale was not recorded by then.
  Result<OrderRecord> Find(std::string_view order_id, std::int64_t known_at_ns) const;

 private:
  std::shared_ptr<const StateReader> state_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_ORDERS_H_
