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

bool KnownLevel(events::ScopeLevel level) {
  return level >= events::ScopeLevel::MIN && level <= events::ScopeLevel::MAX;
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
  if (!KnownLevel(scope->level())) return CannotApply("scope.level: unknown level");
  if (ScopeName(scope).empty()) {
    return CannotApply("scope: a " + std::string(events::EnumNameScopeLevel(scope->level())) +
                       " scope needs its " +
                       std::string(events::EnumNameScopeLevel(scope->level())) + " name");
  }
  return Status::Ok();
}

}  // namespace

void PriceBook::Timeline::Add(Decision d) {
  TR_ASSERT(decisions.empty() || decisions.back().seq < d.seq);
  d.prefix_max_end_ns =
      decisions.empty() ? d.to_ns : std::max(decisions.back().prefix_max_end_ns, d.to_ns);
  d.suffix_min_from_ns = d.from_ns;
  // A decision for an earlier window (a correction) lowers the bound of those before it.
  for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
    if (it->suffix_min_from_ns <= d.from_ns) break;
    it->suffix_min_from_ns = d.from_ns;
  }
  decisions.push_back(d);
}

const PriceBook::Decision* PriceBook::InForce(const Timeline& t, std::int64_t valid_at_ns,
                                              std::int64_t known_at_ns) {
  const std::vector<Decision>& d = t.decisions;
  // Known by known_at: decisions are in sequence order, so their record times never decrease.
  const auto known_end = std::upper_bound(
      d.begin(), d.end(), known_at_ns,
      [](std::int64_t known_at, const Decision& x) { return known_at < x.recorded_at_ns; });
  // From the first index whose suffix starts after valid_at, no decision can hold it.
  const auto starts_after = std::partition_point(
      d.begin(), d.end(),
      [valid_at_ns](const Decision& x) { return x.suffix_min_from_ns <= valid_at_ns; });
  std::size_t i = static_cast<std::size_t>(std::min(known_end, starts_after) - d.begin());
  std::vector<const Decision*> retractions;
  while (i-- > 0) {
    if (d[i].prefix_max_end_ns <= valid_at_ns) break;  // everything before ended by valid_at
    const Decision& x = d[i];
    if (x.from_ns > valid_at_ns || valid_at_ns >= x.to_ns) continue;
    if (x.retraction) {
      retractions.push_back(&x);
      continue;
    }
    const bool retracted = std::any_of(retractions.begin(), retractions.end(), [&](auto* r) {
      return r->retracted_seq == 0 || r->retracted_seq == x.seq;
    });
    if (!retracted) return &x;
  }
  return nullptr;
}

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
    auto it = skus_.find(retracted.sku()->string_view());
    bool named_set_exists = false;
    for (const Timeline& t : it == skus_.end() ? SkuTimelines() : it->second) {
      if (!scope_id || t.type != retracted.price_type() || t.scope_id != *scope_id) continue;
      auto set =
          std::lower_bound(t.decisions.begin(), t.decisions.end(), retracted.retracted_seq(),
                           [](const Decision& d, Sequence wanted) { return d.seq < wanted; });
      named_set_exists =
          set != t.decisions.end() && set->seq == retracted.retracted_seq() && !set->retraction;
    }
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
  return AbsorbAll(
      state, [this](std::string_view key, std::string_view value) { return Absorb(key, value); });
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
  if (!k.done() || !v.done() || (!d.retraction && currency.size() != 3) || !KnownLevel(level)) {
    return Status::Corruption("price_book: unreadable record");
  }
  std::copy(currency.begin(), currency.end(), d.currency);
  std::unique_lock lock(mu_);
  d.scope_id = InternScope(level, scope_name);
  SkuTimelines& timelines = skus_[std::string(sku)];
  for (Timeline& t : timelines) {
    if (t.type == d.type && t.scope_id == d.scope_id) {
      t.Add(d);
      return Status::Ok();
    }
  }
  timelines.push_back({d.type, d.scope_id});
  timelines.back().Add(d);
  return Status::Ok();
}

std::optional<std::uint32_t> PriceBook::FindScope(events::ScopeLevel level,
                                                  std::string_view name) const {
  const StringMap<std::uint32_t>& ids = scope_ids_[static_cast<std::size_t>(level)];
  auto it = ids.find(name);
  if (it == ids.end()) return std::nullopt;
  return it->second;
}

std::uint32_t PriceBook::InternScope(events::ScopeLevel level, std::string_view name) {
  auto [it, inserted] = scope_ids_[static_cast<std::size_t>(level)].try_emplace(
      std::string(name), static_cast<std::uint32_t>(scopes_.size()));
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

PriceBook::RankedScopes PriceBook::Rank(const PriceQuery& query) const {
  RankedScopes ranked;
  static_assert(std::tuple_size_v<RankedScopes> == kRanks);
  if (!query.store.empty()) ranked[0] = FindScope(events::ScopeLevel::Store, query.store);
  if (!query.region.empty()) ranked[1] = FindScope(events::ScopeLevel::Region, query.region);
  if (!query.channel.empty()) ranked[2] = FindScope(events::ScopeLevel::Channel, query.channel);
  ranked[3] = FindScope(events::ScopeLevel::Global, "");
  return ranked;
}

const PriceBook::Decision* PriceBook::Find(const SkuTimelines& timelines,
                                           const RankedScopes& ranked,
                                           std::span<const events::PriceType> types,
                                           const PriceQuery& query) {
  // Types in the order given (a markdown before a list price), each from its most specific scope.
  for (events::PriceType type : types) {
    for (const std::optional<std::uint32_t>& scope_id : ranked) {
      if (!scope_id) continue;
      for (const Timeline& t : timelines) {
        if (t.type != type || t.scope_id != *scope_id) continue;
        if (const Decision* d = InForce(t, query.valid_at_ns, query.known_at_ns)) return d;
      }
    }
  }
  return nullptr;
}

namespace {
constexpr std::array<events::PriceType, 2> kSelling = {events::PriceType::Markdown,
                                                       events::PriceType::List};
constexpr std::array<events::PriceType, 1> kFloor = {events::PriceType::Floor};

Status NoPriceInForce(std::string_view sku) {
  return Status::NotFound("no price in force for sku " + std::string(sku) +
                          " at that valid time, as known then");
}
Status NoDecision(std::string_view sku) {
  return Status::NotFound("no price decision for sku " + std::string(sku));
}
}  // namespace

Result<PriceAnswer> PriceBook::Resolve(const PriceQuery& query,
                                       std::span<const events::PriceType> types) const {
  std::shared_lock lock(mu_);
  auto it = skus_.find(query.sku);
  if (it == skus_.end()) return NoDecision(query.sku);
  const Decision* d = Find(it->second, Rank(query), types, query);
  if (d == nullptr) return NoPriceInForce(query.sku);
  return Answer(query.sku, *d);
}

Result<LinePrices> PriceBook::CheckoutPrices(const PriceQuery& query) const {
  std::shared_lock lock(mu_);
  auto it = skus_.find(query.sku);
  if (it == skus_.end()) return NoDecision(query.sku);
  const RankedScopes ranked = Rank(query);
  const Decision* selling = Find(it->second, ranked, kSelling, query);
  if (selling == nullptr) return NoPriceInForce(query.sku);
  const Decision* floor = Find(it->second, ranked, kFloor, query);
  return LinePrices{selling->amount_minor, selling->seq, floor ? floor->amount_minor : -1};
}

Result<PriceAnswer> PriceBook::SellingPrice(const PriceQuery& query) const {
  return Resolve(query, kSelling);
}

Result<PriceAnswer> PriceBook::PriceOfType(const PriceQuery& query, events::PriceType type) const {
  const std::array<events::PriceType, 1> types = {type};
  return Resolve(query, types);
}

bool PriceBook::Knows(std::string_view sku) const {
  std::shared_lock lock(mu_);
  return skus_.count(sku) != 0;
}

std::size_t PriceBook::sku_count() const {
  std::shared_lock lock(mu_);
  return skus_.size();
}

}  // namespace tillroll::projections
