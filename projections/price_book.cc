#include "projections/price_book.h"

#include <algorithm>
#include <array>
#include <mutex>

#include "projections/folding.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

constexpr std::uint8_t kKindSet = 0;
constexpr std::uint8_t kKindRetraction = 1;

// Scopes from the most specific to the least: the rank of a scope in a query.
constexpr std::size_t kRanks = 4;

std::string ScopeIdKey(events::ScopeLevel level, std::string_view name) {
  std::string key(1, static_cast<char>(level));
  key.append(name);
  return key;
}

std::string_view ScopeName(const events::Scope* scope) {
  if (scope == nullptr) return {};
  switch (scope->level()) {
    case events::ScopeLevel::Channel:
      return View(scope->channel());
    case events::ScopeLevel::Region:
      return View(scope->region());
    case events::ScopeLevel::Store:
      return View(scope->store());
    default:
      return {};
  }
}

Status CheckScope(const events::Scope* scope) {
  if (scope == nullptr || scope->level() == events::ScopeLevel::Global) return Status::Ok();
  if (scope->level() > events::ScopeLevel::Store) return CannotApply("scope.level: unknown level");
  if (ScopeName(scope).empty()) {
    return CannotApply("scope: a " + std::string(events::EnumNameScopeLevel(scope->level())) +
                       " scope needs its " +
                       std::string(events::EnumNameScopeLevel(scope->level())) + " name");
  }
  return Status::Ok();
}

}  // namespace

// One backward pass over a SKU's decisions that fills, per wanted price type and scope rank,
// the first set in force that no later retraction took back.
class PriceBook::Resolver {
 public:
  Resolver(std::span<const events::PriceType> types,
           const std::array<std::optional<std::uint32_t>, kRanks>& ranked_scopes,
           std::int64_t valid_at_ns)
      : types_(types), scopes_(ranked_scopes), valid_at_ns_(valid_at_ns) {}

  // Feeds decisions newest first; false once nothing better can come.
  bool Feed(const Decision& d) {
    if (d.from_ns > valid_at_ns_ || valid_at_ns_ >= d.to_ns) return true;
    const std::optional<std::size_t> slot = SlotOf(d);
    if (!slot || found_[*slot] != nullptr) return true;
    if (d.retraction) {
      retractions_.push_back(&d);
      return true;
    }
    for (const Decision* r : retractions_) {
      if (r->type == d.type && r->scope_id == d.scope_id &&
          (r->retracted_seq == 0 || r->retracted_seq == d.seq)) {
        return true;
      }
    }
    found_[*slot] = &d;
    return *slot != 0;
  }

  // The best decision found: types in the order given, each from the most specific scope.
  const Decision* Best() const {
    for (const Decision* d : found_) {
      if (d != nullptr) return d;
    }
    return nullptr;
  }

 private:
  std::optional<std::size_t> SlotOf(const Decision& d) const {
    for (std::size_t t = 0; t < types_.size(); ++t) {
      if (types_[t] != d.type) continue;
      for (std::size_t rank = 0; rank < kRanks; ++rank) {
        if (scopes_[rank] == d.scope_id) return t * kRanks + rank;
      }
    }
    return std::nullopt;
  }

  std::span<const events::PriceType> types_;
  const std::array<std::optional<std::uint32_t>, kRanks>& scopes_;
  std::int64_t valid_at_ns_;
  std::array<const Decision*, 2 * kRanks> found_{};
  std::vector<const Decision*> retractions_;
};

Status PriceBook::Apply(const LoggedEvent& logged, StateWriter& state) {
  switch (logged.event->payload_type()) {
    case events::Payload::PriceSet:
      return ApplySet(logged.seq, *logged.event, state);
    case events::Payload::PriceRetracted:
      return ApplyRetracted(logged.seq, *logged.event, state);
    default:
      return Status::Ok();
  }
}

Status PriceBook::ApplySet(Sequence seq, const events::Event& event, StateWriter& state) {
  const events::PriceSet& set = *event.payload_as_PriceSet();
  if (!IsCurrencyCode(View(set.currency()))) {
    return CannotApply("currency: '" + std::string(View(set.currency())) +
                       "' is not an ISO 4217 code");
  }
  if (set.amount_minor() < 0) return CannotApply("amount_minor: a price cannot be negative");
  if (Status s = CheckScope(set.scope()); !s.ok()) return s;
  if (Status s = CheckWindow(set.valid(), "valid"); !s.ok()) return s;
  const std::string key = RecordWriter().Str(set.sku()->string_view()).U64(seq).Release();
  RecordWriter value;
  value.U8(kKindSet)
      .U8(static_cast<std::uint8_t>(set.price_type()))
      .U8(static_cast<std::uint8_t>(set.scope() ? set.scope()->level()
                                                : events::ScopeLevel::Global))
      .Str(ScopeName(set.scope()))
      .I64(set.valid() ? set.valid()->from_ns() : 0)
      .I64(WindowEnd(set.valid() ? set.valid()->to_ns() : 0))
      .I64(set.amount_minor())
      .Str(View(set.currency()))
      .I64(event.recorded_at_ns())
      .U64(0);
  state.Put(key, value.bytes());
  return Absorb(key, value.bytes());
}

Status PriceBook::ApplyRetracted(Sequence seq, const events::Event& event, StateWriter& state) {
  const events::PriceRetracted& retracted = *event.payload_as_PriceRetracted();
  const events::ScopeLevel level =
      retracted.scope() ? retracted.scope()->level() : events::ScopeLevel::Global;
  if (Status s = CheckScope(retracted.scope()); !s.ok()) return s;
  if (Status s = CheckWindow(retracted.valid(), "valid"); !s.ok()) return s;
  if (retracted.retracted_seq() != 0) {
    std::shared_lock lock(mu_);
    const std::optional<std::uint32_t> scope_id = FindScope(level, ScopeName(retracted.scope()));
    auto it = decisions_.find(std::string(retracted.sku()->string_view()));
    const bool named_set_exists =
        scope_id && it != decisions_.end() &&
        std::any_of(it->second.begin(), it->second.end(), [&](const Decision& d) {
          return d.seq == retracted.retracted_seq() && !d.retraction &&
                 d.type == retracted.price_type() && d.scope_id == *scope_id;
        });
    if (!named_set_exists) {
      return CannotApply("retracted_seq: " + std::to_string(retracted.retracted_seq()) +
                         " is not a price of this sku, price type and scope");
    }
  }
  const std::string key = RecordWriter().Str(retracted.sku()->string_view()).U64(seq).Release();
  RecordWriter value;
  value.U8(kKindRetraction)
      .U8(static_cast<std::uint8_t>(retracted.price_type()))
      .U8(static_cast<std::uint8_t>(level))
      .Str(ScopeName(retracted.scope()))
      .I64(retracted.valid() ? retracted.valid()->from_ns() : 0)
      .I64(WindowEnd(retracted.valid() ? retracted.valid()->to_ns() : 0))
      .I64(0)
      .Str("")
      .I64(event.recorded_at_ns())
      .U64(retracted.retracted_seq());
  state.Put(key, value.bytes());
  return Absorb(key, value.bytes());
}

Status PriceBook::Load(const StateReader& state) {
  Status absorbed;
  Status scanned = state.Scan("", [&](std::string_view key, std::string_view value) {
    absorbed = Absorb(key, value);
    return absorbed.ok();
  });
  return scanned.ok() ? absorbed : scanned;
}

Status PriceBook::Absorb(std::string_view key, std::string_view value) {
  RecordReader k(key);
  const std::string_view sku = k.Str();
  Decision d;
  d.seq = k.U64();
  RecordReader v(value);
  d.retraction = v.U8() == kKindRetraction;
  d.type = static_cast<events::PriceType>(v.U8());
  const auto level = static_cast<events::ScopeLevel>(v.U8());
  const std::string_view scope_name = v.Str();
  d.from_ns = v.I64();
  d.to_ns = v.I64();
  d.amount_minor = v.I64();
  const std::string_view currency = v.Str();
  d.recorded_at_ns = v.I64();
  d.retracted_seq = v.U64();
  if (!k.done() || !v.done() || (!d.retraction && currency.size() != 3)) {
    return Status::Corruption("price_book: unreadable record");
  }
  std::copy(currency.begin(), currency.end(), d.currency);
  std::unique_lock lock(mu_);
  d.scope_id = InternScope(level, scope_name);
  std::vector<Decision>& list = decisions_[std::string(sku)];
  TR_ASSERT(list.empty() || list.back().seq < d.seq);
  list.push_back(d);
  return Status::Ok();
}

std::optional<std::uint32_t> PriceBook::FindScope(events::ScopeLevel level,
                                                  std::string_view name) const {
  auto it = scope_ids_.find(ScopeIdKey(level, name));
  if (it == scope_ids_.end()) return std::nullopt;
  return it->second;
}

std::uint32_t PriceBook::InternScope(events::ScopeLevel level, std::string_view name) {
  auto [it, inserted] =
      scope_ids_.try_emplace(ScopeIdKey(level, name), static_cast<std::uint32_t>(scopes_.size()));
  if (inserted) scopes_.push_back({level, std::string(name)});
  return it->second;
}

PriceAnswer PriceBook::Answer(std::string_view sku, const Decision& d) const {
  const ScopeKey& scope = scopes_[d.scope_id];
  return {.sku = std::string(sku),
          .price_type = d.type,
          .scope_level = scope.level,
          .scope_name = scope.name,
          .amount_minor = d.amount_minor,
          .currency = std::string(d.currency, 3),
          .valid_from_ns = d.from_ns,
          .valid_to_ns = StoredWindowEnd(d.to_ns),
          .seq = d.seq,
          .recorded_at_ns = d.recorded_at_ns};
}

Result<PriceAnswer> PriceBook::Resolve(const PriceQuery& query,
                                       std::span<const events::PriceType> types) const {
  std::shared_lock lock(mu_);
  auto it = decisions_.find(std::string(query.sku));
  if (it == decisions_.end()) {
    return Status::NotFound("no price decision for sku " + std::string(query.sku));
  }
  std::array<std::optional<std::uint32_t>, kRanks> ranked;
  if (!query.store.empty()) ranked[0] = FindScope(events::ScopeLevel::Store, query.store);
  if (!query.region.empty()) ranked[1] = FindScope(events::ScopeLevel::Region, query.region);
  if (!query.channel.empty()) ranked[2] = FindScope(events::ScopeLevel::Channel, query.channel);
  ranked[3] = FindScope(events::ScopeLevel::Global, "");

  const std::vector<Decision>& list = it->second;
  // Decisions are in sequence order, so their record times never decrease.
  auto known_end = std::upper_bound(
      list.begin(), list.end(), query.known_at_ns,
      [](std::int64_t known_at, const Decision& d) { return known_at < d.recorded_at_ns; });
  Resolver resolver(types, ranked, query.valid_at_ns);
  for (auto d = known_end; d != list.begin();) {
    if (!resolver.Feed(*--d)) break;
  }
  const Decision* best = resolver.Best();
  if (best == nullptr) {
    return Status::NotFound("no price in force for sku " + std::string(query.sku) +
                            " at that valid time, as known then");
  }
  return Answer(query.sku, *best);
}

Result<PriceAnswer> PriceBook::SellingPrice(const PriceQuery& query) const {
  static constexpr std::array<events::PriceType, 2> kSelling = {events::PriceType::Markdown,
                                                                events::PriceType::List};
  return Resolve(query, kSelling);
}

Result<PriceAnswer> PriceBook::PriceOfType(const PriceQuery& query, events::PriceType type) const {
  const std::array<events::PriceType, 1> types = {type};
  return Resolve(query, types);
}

std::size_t PriceBook::sku_count() const {
  std::shared_lock lock(mu_);
  return decisions_.size();
}

}  // namespace tillroll::projections
