#include "tools/generate/price_desk.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "engine/utc_time.h"

namespace tillroll::generate {
namespace {

constexpr std::array<std::string_view, 4> kChangeReasons{
    "competitor price index", "demand forecast", "vendor cost increase", "price image review"};

std::int64_t AtLeast(std::int64_t cost_minor, double multiple) {
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(cost_minor) * multiple));
}

std::string DateOf(std::int64_t time_ns) { return FormatUtcTime(time_ns).substr(0, 10); }

flatbuffers::Offset<events::Scope> BuildScope(flatbuffers::FlatBufferBuilder& fbb, ScopeRef scope,
                                              const Catalogue& catalogue) {
  switch (scope.level) {
    case events::ScopeLevel::Global:
      return events::CreateScope(fbb, scope.level);
    case events::ScopeLevel::Channel:
      return events::CreateScopeDirect(fbb, scope.level, kChannels[scope.index].data());
    case events::ScopeLevel::Region:
      return events::CreateScopeDirect(fbb, scope.level, nullptr, kRegions[scope.index].data());
    case events::ScopeLevel::Store:
      return events::CreateScopeDirect(fbb, scope.level, nullptr, nullptr,
                                       catalogue.stores()[scope.index].id.c_str());
  }
  return 0;
}

}  // namespace

double PriceDesk::PerCatalogue(double per_200_skus) const {
  return per_200_skus * std::max(1.0, static_cast<double>(catalogue_.skus().size()) / 200.0);
}

flatbuffers::Offset<void> PriceDesk::BuildPriceSet(const PriceChange& change) {
  const Sku& sku = catalogue_.skus()[change.sku];
  auto& fbb = sink_.Begin();
  const auto scope = BuildScope(fbb, change.scope, catalogue_);
  const auto valid = events::CreateValidWindow(fbb, change.from_ns, change.to_ns);
  const std::string reason(change.reason);
  const std::string source_ref = change.type == events::PriceType::Cost
                                     ? "odoo:product.supplierinfo:" + sku.id.substr(4)
                                     : "pricing-engine:" + std::string(change.correlation_id);
  const auto payload =
      events::CreatePriceSetDirect(fbb, sku.id.c_str(), change.type, scope, change.amount_minor,
                                   kCurrency.data(), valid, reason.c_str(), source_ref.c_str());
  return payload.Union();
}

Sequence PriceDesk::EmitPriceSet(const PriceChange& change, std::int64_t at_ns) {
  Sku& sku = catalogue_.skus()[change.sku];
  const auto payload = BuildPriceSet(change);
  const Sequence seq =
      sink_.Emit({.at_ns = at_ns,
                  .actor = change.actor,
                  .stream = sku.stream,
                  .expected_version = static_cast<std::int64_t>(sku.stream_version),
                  .correlation_id = change.correlation_id},
                 events::Payload::PriceSet, payload);
  ++sku.stream_version;
  if (change.type == events::PriceType::List || change.type == events::PriceType::Markdown) {
    book_.Add(change.sku, change.type, change.scope,
              {change.amount_minor, change.from_ns, change.to_ns, seq, false});
  }
  return seq;
}

std::int64_t PriceDesk::RecordCatalogue(std::int64_t day_ns, std::int64_t at_ns) {
  const auto sku_count = static_cast<std::uint32_t>(catalogue_.skus().size());
  for (std::uint32_t i = 0; i < sku_count; ++i) {
    const Sku& sku = catalogue_.skus()[i];
    // Odoo's product: its category and its VAT (shelf prices include it).
    const Category& category = catalogue_.CategoryOf(i);
    auto& fbb = sink_.Begin();
    const std::string name(category.name);
    const std::vector<flatbuffers::Offset<flatbuffers::String>> categories{fbb.CreateString(name)};
    const std::vector<flatbuffers::Offset<events::TaxRate>> taxes{events::CreateTaxRateDirect(
        fbb, category.tax_code.data(), category.vat_bps, /*price_included=*/true, 0)};
    const auto valid = events::CreateValidWindow(fbb, day_ns, 0);
    const std::string source_ref = "odoo:product.product:" + sku.id.substr(4);
    const auto product = events::CreateProductDefinedDirect(
        fbb, sku.id.c_str(), sku.id.c_str(), &categories, &taxes, valid, source_ref.c_str());
    product_stream_ = "product/" + sku.id;
    sink_.Emit({.at_ns = at_ns += kEventGapNs,
                .actor = &kOdooCosts,
                .stream = product_stream_,
                .expected_version = 0,
                .correlation_id = "catalogue-load"},
               events::Payload::ProductDefined, product.Union());
    PriceChange change{.sku = i,
                       .type = events::PriceType::Cost,
                       .amount_minor = sku.cost_minor,
                       .from_ns = day_ns,
                       .reason = "purchase cost from vendor price list",
                       .correlation_id = "catalogue-load",
                       .actor = &kOdooCosts};
    EmitPriceSet(change, at_ns += kEventGapNs);
    change.type = events::PriceType::Floor;
    change.amount_minor = sku.floor_minor;
    change.reason = "floor: cost plus minimum margin";
    change.actor = &kPricingEngine;
    EmitPriceSet(change, at_ns += kEventGapNs);
    change.type = events::PriceType::List;
    change.amount_minor = sku.list_minor;
    change.reason = "opening price list";
    EmitPriceSet(change, at_ns += kEventGapNs);
  }
  return RecordOverrides(day_ns, at_ns);
}

std::int64_t PriceDesk::RecordOverrides(std::int64_t day_ns, std::int64_t at_ns) {
  struct OverrideKind {
    events::ScopeLevel level;
    double share_of_skus;
    double factor;
    const char* reason;
  };
  static constexpr std::array<OverrideKind, 4> kKinds{{
      {events::ScopeLevel::Channel, 0.03, 0.93, "web shop price match"},
      {events::ScopeLevel::Channel, 0.02, 1.05, "marketplace fees"},
      {events::ScopeLevel::Region, 0.02, 0.97, "regional competition"},
      {events::ScopeLevel::Store, 0.01, 0.95, "local competitor next door"},
  }};
  const std::size_t sku_count = catalogue_.skus().size();
  for (std::size_t k = 0; k < kKinds.size(); ++k) {
    const OverrideKind& kind = kKinds[k];
    const auto wanted = std::max<std::size_t>(
        1, static_cast<std::size_t>(kind.share_of_skus * static_cast<double>(sku_count)));
    for (std::size_t n = 0; n < wanted; ++n) {
      const std::uint32_t i = RandomSku();
      Sku& sku = catalogue_.skus()[i];
      if (sku.has_list_override) continue;
      const std::int64_t amount = ShelfPrice(static_cast<double>(sku.list_minor) * kind.factor,
                                             AtLeast(sku.cost_minor, 1.65));
      if (amount == sku.list_minor) continue;
      ScopeRef scope{kind.level, 0};
      if (k == 0) scope.index = kWeb;
      if (k == 1) scope.index = kMarketplace;
      if (k == 2) scope.index = random_.Below32(static_cast<std::uint32_t>(kRegions.size()));
      if (k == 3) {
        if (catalogue_.stores().empty()) continue;
        scope.index = random_.Below32(static_cast<std::uint32_t>(catalogue_.stores().size()));
      }
      sku.has_list_override = true;
      EmitPriceSet({.sku = i,
                    .scope = scope,
                    .amount_minor = amount,
                    .from_ns = day_ns,
                    .reason = kind.reason,
                    .correlation_id = "catalogue-load"},
                   at_ns += kEventGapNs);
    }
  }
  return at_ns;
}

std::int64_t PriceDesk::RecordDay(std::uint32_t day, std::int64_t day_ns, std::int64_t at_ns) {
  TR_ASSERT(day >= 1);
  correlation_id_ = "price-run-" + DateOf(day_ns);
  at_ns = RecordListChanges(day_ns, at_ns);
  if (day % 7 == 2) at_ns = RecordMarkdownWave(day_ns, at_ns);
  if (day >= 4) at_ns = RecordCorrections(day_ns, at_ns);
  at_ns = RecordRetractions(day_ns, at_ns);
  if (day % 7 == 5) at_ns = AttemptOdooListPrice(day, day_ns, at_ns);
  return at_ns;
}

std::int64_t PriceDesk::AttemptOdooListPrice(std::uint32_t day, std::int64_t day_ns,
                                             std::int64_t at_ns) {
  // Odoo's product sync pushes a sales price it should not own; the authority matrix refuses
  // it (rule odoo-no-selling-prices) and the audit trail keeps the attempt. No random draw, so
  // that both ways in tell the same story.
  const std::uint32_t i = day % static_cast<std::uint32_t>(catalogue_.skus().size());
  const PriceChange change{.sku = i,
                           .amount_minor = catalogue_.skus()[i].list_minor + 100,
                           .from_ns = day_ns,
                           .reason = "product.template list_price sync",
                           .correlation_id = "odoo-sync",
                           .actor = &kOdooCosts};
  const auto payload = BuildPriceSet(change);
  sink_.Attempt({.at_ns = at_ns += kEventGapNs,
                 .actor = change.actor,
                 .stream = catalogue_.skus()[i].stream,
                 .correlation_id = change.correlation_id},
                events::Payload::PriceSet, payload, CommandType::kSetPrice);
  return at_ns;
}

std::int64_t PriceDesk::RecordListChanges(std::int64_t day_ns, std::int64_t at_ns) {
  const auto sku_count = static_cast<std::uint32_t>(catalogue_.skus().size());
  const std::int64_t trading_ns = day_ns + kTradingOpenOffsetNs;
  for (std::uint32_t i = 0; i < sku_count; ++i) {
    Sku& sku = catalogue_.skus()[i];
    if (!random_.Chance(sku.change_per_day)) continue;
    const double step = random_.Real(0.03, 0.12) * (random_.Chance(0.55) ? 1.0 : -1.0);
    const double ceiling = static_cast<double>(sku.cost_minor) * (kListOverCostMax - 0.05);
    const double raw = std::min(static_cast<double>(sku.list_minor) * (1.0 + step), ceiling);
    const std::int64_t amount = ShelfPrice(raw, AtLeast(sku.cost_minor, kListOverCostMin));
    // A running markdown would hide the change; the engine waits until it ends.
    if (amount == sku.list_minor || book_.HasMarkdown(i, trading_ns)) continue;
    sku.list_minor = amount;
    EmitPriceSet({.sku = i,
                  .amount_minor = amount,
                  .from_ns = day_ns,
                  .reason = kChangeReasons[random_.Below(kChangeReasons.size())],
                  .correlation_id = correlation_id_},
                 at_ns += kEventGapNs);
  }
  return at_ns;
}

std::int64_t PriceDesk::RecordMarkdownWave(std::int64_t day_ns, std::int64_t at_ns) {
  const std::int64_t trading_ns = day_ns + kTradingOpenOffsetNs;
  const std::size_t wanted = static_cast<std::size_t>(PerCatalogue(4.0));
  const std::string correlation_id = "markdown-wave-" + DateOf(day_ns);
  for (std::size_t n = 0; n < wanted; ++n) {
    const std::uint32_t i = RandomSku();
    const Sku& sku = catalogue_.skus()[i];
    if (sku.has_list_override || book_.HasMarkdown(i, trading_ns)) continue;
    // The first of each wave is a clearance deep enough for four eyes (more than 20% off).
    const std::int64_t amount =
        ShelfPrice(static_cast<double>(sku.list_minor) *
                       (n == 0 ? random_.Real(0.62, 0.72) : random_.Real(0.80, 0.90)),
                   AtLeast(sku.cost_minor, n == 0 ? 1.2 : 1.44));
    if (amount >= sku.list_minor) continue;
    PriceChange change{.sku = i,
                       .type = events::PriceType::Markdown,
                       .amount_minor = amount,
                       .from_ns = day_ns,
                       .to_ns = day_ns + random_.Between(3, 7) * kNsPerDay,
                       .reason = n == 0 ? "clearance" : "weekly markdown wave",
                       .correlation_id = correlation_id};
    at_ns += kEventGapNs;
    const Sequence seq = EmitPriceSet(change, at_ns);
    change.correlation_id = {};  // the retraction gets its own
    retractable_.push_back({change, seq, at_ns});
  }
  return at_ns;
}

std::int64_t PriceDesk::RecordCorrections(std::int64_t day_ns, std::int64_t at_ns) {
  const std::uint64_t count = random_.RoundRandomly(PerCatalogue(0.15));
  for (std::uint64_t n = 0; n < count; ++n) {
    const std::uint32_t i = RandomSku();
    const Sku& sku = catalogue_.skus()[i];
    const std::int64_t from_ns = day_ns - 3 * kNsPerDay;
    reason_ = "correction: the List price valid on " + DateOf(from_ns) + " was wrong (learned " +
              DateOf(day_ns) + ")";
    PriceChange change{
        .sku = i,
        .amount_minor = ShelfPrice(static_cast<double>(sku.list_minor) * random_.Real(0.97, 1.03),
                                   AtLeast(sku.cost_minor, kListOverCostMin)),
        .from_ns = from_ns,
        .to_ns = from_ns + kNsPerDay,
        .reason = reason_,
        .correlation_id = correlation_id_};
    at_ns += kEventGapNs;
    const Sequence seq = EmitPriceSet(change, at_ns);
    change.reason = {};
    change.correlation_id = {};
    retractable_.push_back({change, seq, at_ns});
  }
  return at_ns;
}

std::int64_t PriceDesk::RecordRetractions(std::int64_t day_ns, std::int64_t at_ns) {
  // Only running markdowns and corrections of the last two weeks are taken back.
  std::erase_if(retractable_, [day_ns](const Retractable& r) {
    return r.change.type == events::PriceType::Markdown ? r.change.to_ns <= day_ns
                                                        : r.recorded_ns < day_ns - 14 * kNsPerDay;
  });
  const std::uint64_t count = random_.RoundRandomly(PerCatalogue(0.1));
  for (std::uint64_t n = 0; n < count && !retractable_.empty(); ++n) {
    const std::size_t pick = random_.Below(retractable_.size());
    const Retractable target = retractable_[pick];
    retractable_[pick] = retractable_.back();
    retractable_.pop_back();
    const PriceChange& change = target.change;
    Sku& sku = catalogue_.skus()[change.sku];
    auto& fbb = sink_.Begin();
    const auto scope = BuildScope(fbb, change.scope, catalogue_);
    const auto valid = events::CreateValidWindow(fbb, change.from_ns, change.to_ns);
    const char* reason = change.type == events::PriceType::Markdown
                             ? "markdown cancelled: stock sold through"
                             : "correction withdrawn: the original price was right";
    const auto payload = events::CreatePriceRetractedDirect(fbb, sku.id.c_str(), change.type, scope,
                                                            valid, reason, target.seq);
    sink_.Emit({.at_ns = at_ns += kEventGapNs,
                .actor = &kPricingEngine,
                .stream = sku.stream,
                .expected_version = static_cast<std::int64_t>(sku.stream_version),
                .correlation_id = correlation_id_},
               events::Payload::PriceRetracted, payload.Union());
    ++sku.stream_version;
    if (change.type == events::PriceType::Markdown) {
      book_.Retract(change.sku, change.type, change.scope, target.seq);
    }
  }
  return at_ns;
}

}  // namespace tillroll::generate
