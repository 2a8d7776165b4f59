#include "projections/products.h"

#include <mutex>

#include "projections/folding.h"
#include "projections/record_coding.h"

namespace tillroll::projections {

Status Products::Apply(const LoggedEvent& logged, StateWriter& state) {
  const events::ProductDefined* p = logged.event->payload_as_ProductDefined();
  if (p == nullptr) return Status::Ok();
  if (Status s = CheckWindow(p->valid(), "valid"); !s.ok()) return s;
  RecordWriter value;
  value.I64(p->valid() ? p->valid()->from_ns() : 0)
      .I64(WindowEnd(p->valid() ? p->valid()->to_ns() : 0))
      .I64(logged.event->recorded_at_ns());
  value.U32(p->categories() ? p->categories()->size() : 0);
  if (p->categories() != nullptr) {
    for (const auto* c : *p->categories()) value.Str(c->string_view());
  }
  value.U32(p->taxes() ? p->taxes()->size() : 0);
  if (p->taxes() != nullptr) {
    for (const events::TaxRate* t : *p->taxes()) {
      if (t->rate_bps() < 0 || t->fixed_amount_minor() < 0) {
        return CannotApply("taxes: a negative tax for " + p->sku()->str());
      }
      value.Str(View(t->tax_code()))
          .U32(static_cast<std::uint32_t>(t->rate_bps()))
          .U8(t->price_included() ? 1 : 0)
          .I64(t->fixed_amount_minor());
    }
  }
  const std::string key = RecordWriter().Str(p->sku()->string_view()).U64(logged.seq).Release();
  state.Put(key, value.bytes());
  return Absorb(key, value.bytes());
}

Status Products::Load(const StateReader& state) {
  return AbsorbAll(
      state, [this](std::string_view key, std::string_view value) { return Absorb(key, value); });
}

Status Products::Absorb(std::string_view key, std::string_view value) {
  RecordReader k(key);
  const std::string sku(k.Str());
  Definition d{.seq = k.U64()};
  RecordReader v(value);
  d.from_ns = v.I64();
  d.end_ns = v.I64();
  d.recorded_at_ns = v.I64();
  auto product = std::make_shared<checkout::Product>();
  for (std::uint32_t n = v.U32(); n > 0 && v.ok(); --n) {
    product->categories.emplace_back(v.Str());
  }
  for (std::uint32_t n = v.U32(); n > 0 && v.ok(); --n) {
    checkout::Tax t;
    t.tax_code = std::string(v.Str());
    t.rate_bps = static_cast<std::int32_t>(v.U32());
    t.price_included = v.U8() == 1;
    t.fixed_amount_minor = v.I64();
    product->taxes.push_back(std::move(t));
  }
  d.product = std::move(product);
  if (!k.done() || !v.done()) return Status::Corruption("products: unreadable record of " + sku);
  std::unique_lock lock(mu_);
  products_[sku].push_back(std::move(d));
  return Status::Ok();
}

std::shared_ptr<const checkout::Product> Products::Find(std::string_view sku,
                                                        std::int64_t valid_at_ns,
                                                        std::int64_t known_at_ns,
                                                        Sequence* seq) const {
  std::shared_lock lock(mu_);
  const auto it = products_.find(sku);
  if (it == products_.end()) return nullptr;
  // The latest definition known then whose window holds valid_at.
  for (auto d = it->second.rbegin(); d != it->second.rend(); ++d) {
    if (d->recorded_at_ns > known_at_ns) continue;
    if (d->from_ns <= valid_at_ns && valid_at_ns < d->end_ns) {
      if (seq != nullptr) *seq = d->seq;
      return d->product;
    }
  }
  return nullptr;
}

std::size_t Products::size() const {
  std::shared_lock lock(mu_);
  return products_.size();
}

}  // namespace tillroll::projections
