#include "projections/liabilities.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "projections/folding.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

using Allocations = flatbuffers::Vector<flatbuffers::Offset<events::DiscountAllocation>>;

// (promotion, version, party) → {accrued, reversed, settled} within one event.
struct MovementKey {
  std::string promotion_id;
  std::uint32_t version;
  std::string party;
  auto operator<=>(const MovementKey&) const = default;
};
struct Amounts {
  std::int64_t accrued_minor = 0;
  std::int64_t reversed_minor = 0;
  std::int64_t settled_minor = 0;
};
using Movements = std::map<MovementKey, Amounts>;

// Splits `amount` between the shares by largest remainder (ties: the earlier share).
Status Split(const events::DiscountAllocation& a, bool reversal, Movements& out) {
  const auto* funding = a.funding();
  std::vector<std::pair<std::string, std::int64_t>> parts;
  if (funding == nullptr || funding->size() == 0) {
    parts.emplace_back("retailer", a.amount_minor());
  } else {
    std::int64_t shares_bps = 0;
    std::int64_t given = 0;
    std::vector<std::pair<std::int64_t, std::size_t>> remainders;
    for (const events::FundingShare* share : *funding) {
      if (share->share_bps() < 0) return CannotApply("funding: a share cannot be negative");
      shares_bps += share->share_bps();
      const std::int64_t exact = a.amount_minor() * share->share_bps();
      parts.emplace_back(std::string(View(share->party())), exact / 10'000);
      given += exact / 10'000;
      remainders.emplace_back(exact % 10'000, parts.size() - 1);
    }
    if (shares_bps != 10'000) {
      return CannotApply("funding: shares of promotion " +
                         std::string(a.promotion_id()->string_view()) + " add up to " +
                         std::to_string(shares_bps) + " bps, not 10000");
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& x, const auto& y) { return x.first > y.first; });
    for (std::size_t i = 0; given < a.amount_minor(); ++i, ++given) {
      ++parts[remainders[i].second].second;
    }
  }
  for (auto& [party, amount] : parts) {
    Amounts& m = out[{std::string(a.promotion_id()->string_view()), a.promotion_version(), party}];
    (reversal ? m.reversed_minor : m.accrued_minor) += amount;
  }
  return Status::Ok();
}

Status SplitAll(const Allocations* allocations, bool reversal, Movements& out) {
  if (allocations == nullptr) return Status::Ok();
  for (const events::DiscountAllocation* a : *allocations) {
    if (a->amount_minor() < 0) return CannotApply("discounts: an amount cannot be negative");
    if (Status s = Split(*a, reversal, out); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status Liabilities::Apply(const LoggedEvent& logged, StateWriter& state) {
  const events::Event& event = *logged.event;
  Movements movements;
  std::string_view currency;
  std::int64_t valid_ns = event.recorded_at_ns();
  if (const auto* sale = event.payload_as_SaleRecorded()) {
    currency = View(sale->currency());
    valid_ns = sale->sold_at_ns();
    if (sale->lines() != nullptr) {
      for (const events::SaleLine* line : *sale->lines()) {
        if (Status s = SplitAll(line->discounts(), false, movements); !s.ok()) return s;
      }
    }
  } else if (const auto* ret = event.payload_as_ReturnRecorded()) {
    currency = View(ret->currency());
    valid_ns = ret->returned_at_ns();
    if (ret->lines() != nullptr) {
      for (const events::ReturnLine* line : *ret->lines()) {
        if (Status s = SplitAll(line->discounts_clawed_back(), true, movements); !s.ok()) return s;
      }
    }
  } else if (const auto* settled = event.payload_as_LiabilitySettled()) {
    currency = View(settled->currency());
    movements[{std::string(settled->promotion_id()->string_view()), settled->promotion_version(),
               std::string(View(settled->party()))}]
        .settled_minor = settled->amount_minor();
  } else {
    return Status::Ok();
  }
  if (movements.empty()) return Status::Ok();
  if (!IsCurrencyCode(currency)) return CannotApply("currency: not an ISO 4217 code");
  for (const auto& [key, amounts] : movements) {
    RecordWriter k;
    k.Str(key.promotion_id).U32(key.version).Str(key.party).Str(currency).U64(logged.seq);
    RecordWriter v;
    v.I64(valid_ns)
        .I64(event.recorded_at_ns())
        .I64(amounts.accrued_minor)
        .I64(amounts.reversed_minor)
        .I64(amounts.settled_minor);
    state.Put(k.bytes(), v.bytes());
    AddUsed(key.promotion_id, valid_ns, event.recorded_at_ns(),
            amounts.accrued_minor - amounts.reversed_minor);
  }
  return Status::Ok();
}

void Liabilities::AddUsed(std::string_view promotion_id, std::int64_t valid_ns,
                          std::int64_t recorded_ns, std::int64_t net_minor) {
  std::unique_lock lock(used_mu_);
  auto it = used_.find(std::string(promotion_id));
  if (it == used_.end()) it = used_.emplace(std::string(promotion_id), Used{}).first;
  Used& u = it->second;
  u.net_minor += net_minor;
  u.last_valid_ns = std::max(u.last_valid_ns, valid_ns);
  u.last_recorded_ns = std::max(u.last_recorded_ns, recorded_ns);
}

Status Liabilities::Load(const StateReader& state) {
  Status bad;
  Status scanned = state.Scan("", [&](std::string_view key, std::string_view value) {
    RecordReader k(key);
    const std::string_view promotion_id = k.Str();
    RecordReader v(value);
    const std::int64_t valid_ns = v.I64();
    const std::int64_t recorded_ns = v.I64();
    const std::int64_t accrued = v.I64();
    const std::int64_t reversed = v.I64();
    v.I64();
    if (!v.done()) {
      bad = Status::Corruption("liabilities: unreadable record");
      return false;
    }
    AddUsed(promotion_id, valid_ns, recorded_ns, accrued - reversed);
    return true;
  });
  return scanned.ok() ? bad : scanned;
}

Result<std::int64_t> Liabilities::BudgetUsed(std::string_view promotion_id,
                                             std::int64_t valid_at_ns,
                                             std::int64_t known_at_ns) const {
  {
    std::shared_lock lock(used_mu_);
    auto it = used_.find(std::string(promotion_id));
    if (it == used_.end()) return 0;  // no movement ever: nothing used at any moment
    const Used& u = it->second;
    if (valid_at_ns >= u.last_valid_ns && known_at_ns >= u.last_recorded_ns) return u.net_minor;
  }
  Result<std::vector<LiabilityRow>> rows = AsOf(promotion_id, valid_at_ns, known_at_ns);
  if (!rows.ok()) return rows.status();
  std::int64_t used = 0;
  for (const LiabilityRow& row : *rows) used += row.accrued_minor - row.reversed_minor;
  return used;
}

Result<std::vector<LiabilityRow>> Liabilities::AsOf(std::string_view promotion_id,
                                                    std::int64_t valid_at_ns,
                                                    std::int64_t known_at_ns) const {
  std::vector<LiabilityRow> rows;
  Status bad;
  const std::string prefix =
      promotion_id.empty() ? std::string() : RecordWriter().Str(promotion_id).Release();
  Status scanned = state_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    RecordReader k(key);
    LiabilityRow row{std::string(k.Str()), k.U32(), std::string(k.Str()), std::string(k.Str())};
    k.U64();
    RecordReader v(value);
    const std::int64_t valid_ns = v.I64();
    const std::int64_t recorded_ns = v.I64();
    const Amounts a{v.I64(), v.I64(), v.I64()};
    if (!k.done() || !v.done()) {
      bad = Status::Corruption("liabilities: unreadable record");
      return false;
    }
    if (rows.empty() || std::tie(rows.back().promotion_id, rows.back().version, rows.back().party,
                                 rows.back().currency) !=
                            std::tie(row.promotion_id, row.version, row.party, row.currency)) {
      rows.push_back(std::move(row));
    }
    if (valid_ns <= valid_at_ns && recorded_ns <= known_at_ns) {
      LiabilityRow& r = rows.back();
      r.accrued_minor += a.accrued_minor;
      r.reversed_minor += a.reversed_minor;
      r.settled_minor += a.settled_minor;
      r.outstanding_minor = r.accrued_minor - r.reversed_minor - r.settled_minor;
    }
    return true;
  });
  if (!scanned.ok()) return scanned;
  if (!bad.ok()) return bad;
  // Rows with no movement at that point were never known then.
  std::erase_if(rows, [](const LiabilityRow& r) {
    return r.accrued_minor == 0 && r.reversed_minor == 0 && r.settled_minor == 0;
  });
  std::sort(rows.begin(), rows.end(), [](const LiabilityRow& x, const LiabilityRow& y) {
    return std::tie(x.promotion_id, x.version, x.party, x.currency) <
           std::tie(y.promotion_id, y.version, y.party, y.currency);
  });
  return rows;
}

}  // namespace tillroll::projections
