#include "tools/generate/history_generator.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "engine/limits.h"
#include "tools/generate/agenda.h"
#include "tools/generate/catalogue.h"
#include "tools/generate/checkout.h"
#include "tools/generate/event_sink.h"
#include "tools/generate/price_desk.h"
#include "tools/generate/promotion_desk.h"

namespace tillroll::generate {
namespace {

constexpr std::size_t kSkuCountMin = 10;
constexpr std::size_t kSkuCountMax = 1'000'000;
constexpr std::size_t kStoreCountMax = 9'999;
constexpr std::size_t kDayCountMax = 3'650;
constexpr std::size_t kSalesPerStoreDayMax = 100'000;
// Online sales per day, as shares of the tills' (stores × sales_per_store_day).
constexpr double kWebShare = 0.3;
constexpr double kMarketplaceShare = 0.1;
// By weekday, Sunday first: the tills are closed on Sundays, the web shop is busiest then.
constexpr std::array<double, 7> kTillDayFactor{0.0, 1.0076, 1.0076, 1.0606, 1.1136, 1.3258, 1.4848};
constexpr std::array<double, 7> kWebDayFactor{1.3, 0.9, 0.9, 0.95, 1.0, 1.0, 0.95};

std::int64_t StartOfTodayUtcNs() {
  const std::int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  return now_ns / kNsPerDay * kNsPerDay;
}

std::int64_t DaysSinceEpoch(std::int64_t time_ns) {
  const std::int64_t days = time_ns / kNsPerDay;
  return time_ns % kNsPerDay < 0 ? days - 1 : days;
}

// Day of the month of a day counted from 1970-01-01 (H. Hinnant's civil_from_days).
std::int64_t DayOfMonth(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  return doy - (153 * mp + 2) / 5 + 1;
}

Status CheckOptions(const HistoryOptions& options) {
  auto out_of_range = [](const char* name, std::size_t value, std::size_t min, std::size_t max) {
    return Status::InvalidArgument(std::string(name) + " must be in [" + std::to_string(min) +
                                   ", " + std::to_string(max) + "], not " + std::to_string(value));
  };
  if (options.sku_count < kSkuCountMin || options.sku_count > kSkuCountMax) {
    return out_of_range("sku_count", options.sku_count, kSkuCountMin, kSkuCountMax);
  }
  if (options.store_count < 1 || options.store_count > kStoreCountMax) {
    return out_of_range("store_count", options.store_count, 1, kStoreCountMax);
  }
  if (options.day_count < 1 || options.day_count > kDayCountMax) {
    return out_of_range("day_count", options.day_count, 1, kDayCountMax);
  }
  if (options.sales_per_store_day > kSalesPerStoreDayMax) {
    return out_of_range("sales_per_store_day", options.sales_per_store_day, 0,
                        kSalesPerStoreDayMax);
  }
  if (options.batch_events < 1 || options.batch_events > limits::kBatchEventsMax) {
    return out_of_range("batch_events", options.batch_events, 1, limits::kBatchEventsMax);
  }
  return Status::Ok();
}

// The whole story: owns its parts and runs the days.
class HistorySimulation {
 public:
  HistorySimulation(EventLog& log, ManualClock& clock, const HistoryOptions& options,
                    std::int64_t first_day_ns, const std::function<void(std::uint64_t)>& progress,
                    CommandExecutor* front_door)
      : options_(options),
        first_day_ns_(first_day_ns),
        sales_per_day_(static_cast<double>(options.store_count * options.sales_per_store_day) *
                       (1.0 + kWebShare + kMarketplaceShare)),
        random_(options.seed),
        sink_(log, clock, options.seed, options.batch_events, progress, front_door),
        catalogue_(options.sku_count, options.store_count, random_),
        book_(options.sku_count),
        price_desk_(catalogue_, book_, sink_, random_),
        promotion_desk_(catalogue_, sink_, random_, options.seed,
                        static_cast<std::uint32_t>(std::clamp(sales_per_day_ / 2.0, 50.0, 2000.0))),
        checkout_(catalogue_, book_, promotion_desk_, sink_, agenda_, random_, first_day_ns),
        settled_until_ns_(first_day_ns) {}

  Result<HistoryReport> Run();

 private:
  void RunDay(std::uint32_t day);
  void DrainUntil(std::int64_t limit_ns);
  void Dispatch(const Happening& happening);
  std::int64_t RecordGovernance(std::int64_t at_ns);
  std::int64_t RecordAuthorityRules(std::int64_t at_ns);
  void ScheduleSales(std::int64_t day_ns);
  void PlanCampaigns(std::uint32_t day);
  HistoryReport Report() const;

  const HistoryOptions options_;
  const std::int64_t first_day_ns_;
  const double sales_per_day_;
  Random random_;
  EventSink sink_;
  Catalogue catalogue_;
  PriceBook book_;
  PriceDesk price_desk_;
  PromotionDesk promotion_desk_;
  Agenda agenda_;
  Checkout checkout_;
  std::uint32_t campaign_count_ = 0;
  std::int64_t settled_until_ns_;
  std::uint64_t governance_version_ = 0;
  std::uint64_t roles_version_ = 0;
};

Result<HistoryReport> HistorySimulation::Run() {
  std::int64_t at_ns = RecordGovernance(first_day_ns_ + kNsPerSecond);
  price_desk_.RecordCatalogue(first_day_ns_, at_ns);
  for (std::uint32_t day = 0; day < options_.day_count && sink_.status().ok(); ++day) {
    RunDay(day);
  }
  Status status = sink_.Flush();
  if (!status.ok()) return status;
  return Report();
}

void HistorySimulation::RunDay(std::uint32_t day) {
  const std::int64_t day_ns = first_day_ns_ + day * kNsPerDay;
  if (day > 0 && DayOfMonth(DaysSinceEpoch(day_ns)) == 1) {
    agenda_.Push(day_ns + kSettlementOffsetNs, HappeningKind::kSettlement);
  }
  DrainUntil(day_ns + kPriceRunOffsetNs);
  book_.Prune(day_ns);
  if (day > 0) {
    price_desk_.RecordDay(day, day_ns, std::max(day_ns + kPriceRunOffsetNs, sink_.last_at_ns()));
  }
  ScheduleSales(day_ns);
  PlanCampaigns(day);
  DrainUntil(day_ns + kNsPerDay);
}

void HistorySimulation::DrainUntil(std::int64_t limit_ns) {
  while (agenda_.HasBefore(limit_ns) && sink_.status().ok()) Dispatch(agenda_.Pop());
}

void HistorySimulation::Dispatch(const Happening& happening) {
  switch (happening.kind) {
    case HappeningKind::kSale: {
      SaleContext context{.channel = happening.a};
      if (happening.b > 0) {
        context.store = static_cast<std::int32_t>(happening.b - 1);
        context.region = static_cast<std::int32_t>(catalogue_.stores()[happening.b - 1].region);
      }
      return checkout_.RecordSale(context, happening.at_ns);
    }
    case HappeningKind::kReturn:
      return checkout_.RecordReturn(happening.a, happening.at_ns);
    case HappeningKind::kPromotionStep:
      return promotion_desk_.RunStep(happening.a, happening.b, happening.at_ns);
    case HappeningKind::kSettlement: {
      const std::int64_t period_to_ns = happening.at_ns - kSettlementOffsetNs;
      promotion_desk_.Settle(settled_until_ns_, period_to_ns, happening.at_ns);
      settled_until_ns_ = period_to_ns;
      return;
    }
  }
}

void HistorySimulation::ScheduleSales(std::int64_t day_ns) {
  const auto weekday = static_cast<std::size_t>((DaysSinceEpoch(day_ns) + 4) % 7);
  const auto per_store = static_cast<double>(options_.sales_per_store_day);
  const std::int64_t open_ms = (kTradingCloseOffsetNs - kTradingOpenOffsetNs) / 1'000'000;
  auto schedule = [&](double mean, std::uint32_t channel, std::uint32_t store_plus_one) {
    const std::uint64_t count = random_.RoundRandomly(mean * random_.Real(0.85, 1.15));
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::int64_t at_ns =
          day_ns + kTradingOpenOffsetNs + random_.Between(0, open_ms - 1) * 1'000'000;
      agenda_.Push(at_ns, HappeningKind::kSale, channel, store_plus_one);
    }
  };
  const auto store_count = static_cast<std::uint32_t>(options_.store_count);
  for (std::uint32_t store = 0; store < store_count; ++store) {
    schedule(per_store * kTillDayFactor[weekday], kPos, store + 1);
  }
  const double online = per_store * static_cast<double>(store_count) * kWebDayFactor[weekday];
  schedule(online * kWebShare, kWeb, 0);
  schedule(online * kMarketplaceShare, kMarketplace, 0);
}

void HistorySimulation::PlanCampaigns(std::uint32_t day) {
  const double mean = 0.5 + static_cast<double>(options_.sku_count) / 2000.0;
  const std::uint64_t count = random_.RoundRandomly(mean);
  for (std::uint64_t n = 0; n < count; ++n) {
    Campaign campaign = PlanCampaign({.number = ++campaign_count_,
                                      .day = day,
                                      .first_day_ns = first_day_ns_,
                                      .sales_per_day = sales_per_day_},
                                     catalogue_, random_);
    const std::size_t steps = campaign.script.size();
    std::vector<std::int64_t> step_times;
    for (const Step& step : campaign.script) step_times.push_back(step.at_ns);
    const std::uint32_t index = promotion_desk_.Add(std::move(campaign));
    for (std::size_t i = 0; i < steps; ++i) {
      agenda_.Push(step_times[i], HappeningKind::kPromotionStep, index,
                   static_cast<std::uint32_t>(i));
    }
  }
}

std::int64_t HistorySimulation::RecordAuthorityRules(std::int64_t at_ns) {
  using events::PriceType;
  struct Rule {
    const char* rule_id;
    const char* source_system;
    const char* family;
    std::vector<PriceType> price_types;
    bool allow;
    const char* notes;
  };
  const std::vector<Rule> rules{
      {"pricing-engine-selling-prices",
       "pricing-engine",
       "price",
       {PriceType::List, PriceType::Markdown, PriceType::Floor},
       true,
       "the pricing engine owns list, markdown and floor prices"},
      {"odoo-costs", "odoo", "price", {PriceType::Cost}, true, "Odoo owns purchase costs"},
      {"odoo-products", "odoo", "product", {}, true, "Odoo owns products, categories, taxes"},
      {"odoo-no-selling-prices",
       "odoo",
       "price",
       {PriceType::List, PriceType::Markdown},
       false,
       "selling prices never come from Odoo"},
      {"promotion-platform-promotions",
       "promotion-platform",
       "promotion",
       {},
       true,
       "the promotion platform owns promotions"},
      {"promotion-platform-coupons", "promotion-platform", "coupon", {}, true, "coupon programs"},
      {"pos-sales", "pos", "sale", {}, true, "till sales and returns"},
      {"ecommerce-sales", "ecommerce", "sale", {}, true, "web shop sales and returns"},
      {"marketplace-sales", "marketplace", "sale", {}, true, "marketplace sales"},
      {"checkout-coupons-pos", "pos", "coupon", {}, true, "coupon redemption at the tills"},
      {"checkout-coupons-ecommerce", "ecommerce", "coupon", {}, true, "coupon redemption online"},
      {"checkout-coupons-marketplace",
       "marketplace",
       "coupon",
       {},
       true,
       "coupon redemption on the marketplace"},
      {"odoo-finance", "odoo", "finance", {}, true, "settlements are posted in Odoo"},
  };
  for (const Rule& rule : rules) {
    auto& fbb = sink_.Begin();
    const auto valid = events::CreateValidWindow(fbb, first_day_ns_, 0);
    const auto payload =
        events::CreateAuthorityRuleSetDirect(fbb, rule.rule_id, rule.source_system, rule.family,
                                             rule.price_types.empty() ? nullptr : &rule.price_types,
                                             nullptr, nullptr, rule.allow, valid, rule.notes);
    sink_.Emit({.at_ns = at_ns += 1'000'000,
                .actor = &kLedgerAdmin,
                .stream = "governance/authority",
                .expected_version = static_cast<std::int64_t>(governance_version_++),
                .correlation_id = "governance-setup"},
               events::Payload::AuthorityRuleSet, payload.Union());
  }
  return at_ns;
}

std::int64_t HistorySimulation::RecordGovernance(std::int64_t at_ns) {
  at_ns = RecordAuthorityRules(at_ns);
  struct Grant {
    Actor actor;
    std::vector<std::string_view> channels;
    std::vector<std::string_view> stores;
  };
  std::vector<Grant> grants{{kPricingEngine, {}, {}},
                            {kPricingApprover, {}, {}},
                            {kOdooCosts, {}, {}},
                            {kPromotionPlatform, {}, {}},
                            {kFinance, {}, {}},
                            {kPosGateway, {"pos"}, {}},
                            {kWebshop, {"web"}, {}},
                            {kMarketplaceGateway, {"marketplace"}, {}},
                            {catalogue_.web_returns_clerk(), {"web", "marketplace"}, {}}};
  for (const Actor& author : kPromoAuthors) grants.push_back({author, {}, {}});
  for (const Actor& approver : kPromoApprovers) grants.push_back({approver, {}, {}});
  grants.push_back({kPromoLead, {}, {}});
  for (const Store& store : catalogue_.stores()) {
    grants.push_back({store.returns_clerk, {}, {store.id}});
  }
  for (const Grant& grant : grants) {
    auto& fbb = sink_.Begin();
    auto strings = [&fbb](const std::vector<std::string_view>& texts) {
      std::vector<flatbuffers::Offset<flatbuffers::String>> offsets;
      for (const std::string_view text : texts) {
        offsets.push_back(fbb.CreateString(text.data(), text.size()));
      }
      return offsets;
    };
    const auto channels = strings(grant.channels);
    const auto stores = strings(grant.stores);
    const auto principal =
        fbb.CreateString(grant.actor.principal.data(), grant.actor.principal.size());
    const auto role = fbb.CreateString(grant.actor.role.data(), grant.actor.role.size());
    const auto channel_vector = fbb.CreateVector(channels);
    const auto store_vector = fbb.CreateVector(stores);
    const auto reason = fbb.CreateString("onboarding");
    const auto payload =
        events::CreateRoleGranted(fbb, principal, role, channel_vector, 0, store_vector, reason);
    sink_.Emit({.at_ns = at_ns += 1'000'000,
                .actor = &kLedgerAdmin,
                .stream = "governance/roles",
                .expected_version = static_cast<std::int64_t>(roles_version_++),
                .correlation_id = "governance-setup"},
               events::Payload::RoleGranted, payload.Union());
  }
  return at_ns;
}

HistoryReport HistorySimulation::Report() const {
  using events::Payload;
  auto count = [this](std::initializer_list<Payload> types) {
    std::uint64_t total = 0;
    for (const Payload type : types) total += sink_.emitted_count(type);
    return total;
  };
  HistoryReport report;
  report.event_count = sink_.appended_count();
  report.price_events = count({Payload::PriceSet, Payload::PriceRetracted});
  report.promotion_events =
      count({Payload::PromotionDrafted, Payload::PromotionSubmitted, Payload::PromotionApproved,
             Payload::PromotionRejected, Payload::PromotionPublished, Payload::PromotionPaused,
             Payload::PromotionResumed, Payload::PromotionWithdrawn, Payload::PromotionExpired});
  report.sale_count = count({Payload::SaleRecorded});
  report.return_count = count({Payload::ReturnRecorded});
  report.settlement_count = count({Payload::LiabilitySettled});
  report.coupon_events =
      count({Payload::CouponIssued, Payload::CouponRedeemed, Payload::CouponVoided});
  report.first_day_ns = first_day_ns_;
  report.rejected_attempts = sink_.rejected_attempts();
  report.last_day_ns =
      first_day_ns_ + static_cast<std::int64_t>(options_.day_count - 1) * kNsPerDay;
  return report;
}

}  // namespace

GovernanceRules StoryRules(const HistoryOptions& options) {
  GovernanceRules rules;
  // The story's tills price with tillroll's checkout engine: the ledger prices every sale and
  // return again and must agree (verify_sales, the default).
  rules.channels.assign(kChannels.begin(), kChannels.end());
  rules.regions.assign(kRegions.begin(), kRegions.end());
  for (std::size_t i = 0; i < options.store_count; ++i) rules.stores.push_back(StoreId(i));
  return rules;
}

Result<HistoryReport> GenerateHistory(EventLog& log, ManualClock& clock,
                                      const HistoryOptions& options,
                                      const std::function<void(std::uint64_t)>& progress,
                                      CommandExecutor* front_door) {
  if (Status status = CheckOptions(options); !status.ok()) return status;
  const std::int64_t end_ns = options.end_ns != 0 ? options.end_ns : StartOfTodayUtcNs();
  const std::int64_t first_day_ns =
      end_ns - static_cast<std::int64_t>(options.day_count) * kNsPerDay;
  if (first_day_ns <= 0) {
    return Status::InvalidArgument("end_ns " + std::to_string(end_ns) + " leaves no room for " +
                                   std::to_string(options.day_count) + " days after 1970");
  }
  const LogHead head = log.Head();
  if (head.seq != 0 && head.recorded_at_ns > first_day_ns) {
    return Status::InvalidArgument(
        "the log holds events recorded after the history's first day (head seq " +
        std::to_string(head.seq) + "): recorded_at could not follow the story");
  }
  HistorySimulation simulation(log, clock, options, first_day_ns, progress, front_door);
  return simulation.Run();
}

}  // namespace tillroll::generate
