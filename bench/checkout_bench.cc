// Checkout benchmarks, in-process on one thread:
//   price_cart        - 20-line carts against 2,000 active promotions and 1M SKUs with channel
//                       and store List overrides, priced as the service prices them
//                       (projections::CartQuoter on a real ledger and its projections: the
//                       price book, the products, the promotions live for the cart, their
//                       budgets, then the engine); against the same carts' price lookups alone
//                       (baseline). Goal: p99 <= 50 us.
//   price_cart_engine - the same carts through engine/checkout.h alone, with the prices looked
//                       up in a price book fed directly and the candidates from a
//                       CandidateIndex: what the engine costs, without the projections' part.
//   return_quote - partial-return quotes on priced sales (the kept basket priced again on the
//                  sale's rules), against pricing the same sales (baseline).

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <unordered_map>

#include "bench/bench_support.h"
#include "engine/checkout.h"
#include "engine/clock.h"
#include "engine/event_builder.h"
#include "engine/event_json.h"
#include "engine/event_log.h"
#include "projections/cart_quote.h"
#include "projections/price_book.h"
#include "projections/projection_runner.h"

namespace tillroll::bench {
namespace {

using json = nlohmann::json;

constexpr std::size_t kSkus = 1'000'000;
constexpr std::size_t kPromotions = 2'000;
constexpr std::size_t kStores = 50;
constexpr std::size_t kCartLines = 20;
constexpr std::size_t kPopularSkus = 5'000;  // most of what carts hold
constexpr std::int64_t kDayNs = 86'400'000'000'000;
constexpr std::int64_t kStartNs = 1'772'323'200'000'000'000;  // 2026-03-01
constexpr const char* kCategories[] = {"dairy",     "bakery",        "produce",     "pantry",
                                       "snacks",    "frozen",        "pet",         "beverages",
                                       "household", "personal-care", "electronics", "garden"};

std::string SkuId(std::size_t i) {
  char id[16];
  std::snprintf(id, sizeof(id), "SKU-%07zu", i);
  return id;
}
std::string StoreId(std::size_t i) {
  char id[16];
  std::snprintf(id, sizeof(id), "store-%02zu", i + 1);
  return id;
}

// A price book projection fed directly, without a store behind it.
class NullState final : public projections::StateWriter {
 public:
  void Put(std::string_view, std::string_view) override {}
  Result<std::optional<std::string>> Get(std::string_view) override {
    return std::optional<std::string>();
  }
};

// Where the fixture's events also go when the served path is measured: a real ledger,
// appended in batches (not synced: nothing here tests durability).
class LedgerSink {
 public:
  explicit LedgerSink(EventLog* log) : log_(log) {}
  ~LedgerSink() { Flush(); }
  bool enabled() const { return log_ != nullptr; }
  void Add(std::string event) {
    if (log_ == nullptr) return;
    batch_.push_back(std::move(event));
    if (batch_.size() == 1000) Flush();
  }
  void Flush() {
    if (log_ == nullptr || batch_.empty()) return;
    TR_ASSERT(log_->Append(std::move(batch_)).ok());
    batch_.clear();
  }
  // Appends `events` as one batch, after what is pending.
  std::vector<AppendOutcome> AppendNow(std::vector<std::string> events) {
    Flush();
    Result<std::vector<AppendOutcome>> appended = log_->Append(std::move(events));
    TR_ASSERT(appended.ok());
    return std::move(*appended);
  }

 private:
  EventLog* log_;
  std::vector<std::string> batch_;
};

struct Fixture {
  projections::PriceBook book;
  std::vector<checkout::Product> products;  // by SKU index
  std::unordered_map<std::string, std::size_t> sku_index;
  std::vector<std::string> rule_events;
  std::vector<checkout::Candidate> candidates;
};

// Level "" is a global price; otherwise "channel" or "store" with its name.
void AddPrice(Fixture& f, NullState& state, LedgerSink& sink, Sequence seq, const std::string& sku,
              events::PriceType type, std::string_view level, const std::string& name,
              std::int64_t amount) {
  static flatbuffers::FlatBufferBuilder fbb(512);
  fbb.Clear();
  flatbuffers::Offset<events::Scope> scope;
  if (level == "channel") {
    scope = events::CreateScopeDirect(fbb, events::ScopeLevel::Channel, name.c_str());
  } else if (level == "store") {
    scope =
        events::CreateScopeDirect(fbb, events::ScopeLevel::Store, nullptr, nullptr, name.c_str());
  }
  const auto valid = events::CreateValidWindow(fbb, kStartNs, 0);
  const auto payload =
      events::CreatePriceSetDirect(fbb, sku.c_str(), type, scope, amount, "EUR", valid);
  const std::string stream = "price/" + sku;
  const std::string bytes =
      FinishUnsealedEvent(fbb, {.stream = stream}, events::Payload::PriceSet, payload.Union());
  const projections::LoggedEvent logged{seq, bytes, events::GetEvent(bytes.data())};
  TR_ASSERT(f.book.Apply(logged, state).ok());
  sink.Add(bytes);
}

void AddProduct(LedgerSink& sink, const std::string& sku, const checkout::Product& product) {
  if (!sink.enabled()) return;
  static flatbuffers::FlatBufferBuilder fbb(512);
  fbb.Clear();
  std::vector<flatbuffers::Offset<events::TaxRate>> taxes;
  for (const checkout::Tax& t : product.taxes) {
    taxes.push_back(events::CreateTaxRateDirect(fbb, t.tax_code.c_str(), t.rate_bps,
                                                t.price_included, t.fixed_amount_minor));
  }
  std::vector<flatbuffers::Offset<flatbuffers::String>> categories;
  for (const std::string& c : product.categories) categories.push_back(fbb.CreateString(c));
  const auto valid = events::CreateValidWindow(fbb, kStartNs - kDayNs, 0);
  const auto payload =
      events::CreateProductDefinedDirect(fbb, sku.c_str(), nullptr, &categories, &taxes, valid);
  sink.Add(FinishUnsealedEvent(fbb, {.stream = "product/" + sku}, events::Payload::ProductDefined,
                               payload.Union()));
}

// A retailer's mix of 2,000 live promotions: mostly on lists of SKUs (popular ones more
// often, as campaigns follow what sells), some multi-buys and bundles, a few category-wide and
// order-wide ones; half restricted to a channel, a third of the rest to a few stores; a fifth
// for a loyalty segment, a tenth behind a coupon code.
json RandomRule(std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto some_skus = [&](std::size_t count) {
    json skus = json::array();
    for (std::size_t i = 0; i < count; ++i) {
      skus.push_back(SkuId(pick(2) == 0 ? pick(kPopularSkus) : pick(kSkus)));
    }
    return skus;
  };
  json rule = {{"currency", "EUR"},
               {"valid", {{"from_ns", kStartNs}, {"to_ns", kStartNs + 60 * kDayNs}}},
               {"funding",
                {{{"party", "retailer"}, {"share_bps", 5000}},
                 {{"party", "vendor:acme"}, {"share_bps", 5000}}}},
               {"limits", {{"budget_minor", 5'000'000}}},
               {"conditions", json::object()}};
  const double roll = static_cast<double>(pick(1000)) / 1000.0;
  if (roll < 0.60) {  // percent or amount off a list of products
    rule["conditions"]["include_skus"] = some_skus(1 + pick(20));
    if (pick(2) == 0) {
      rule["reward"] = {{"kind", "PercentOff"},
                        {"target", "SpecificProducts"},
                        {"percent_bps", 500 + 500 * static_cast<int>(pick(4))}};
    } else {
      rule["reward"] = {{"kind", "AmountOff"},
                        {"target", "SpecificProducts"},
                        {"amount_minor", 50 + 50 * static_cast<int>(pick(4))}};
    }
    rule["stacking"] = {{"priority", 100}, {"stacking_group", "product"}};
  } else if (roll < 0.72) {  // multi-buy
    rule["conditions"]["include_skus"] = some_skus(1 + pick(8));
    rule["reward"] = {{"kind", "BuyXGetY"},
                      {"target", "SpecificProducts"},
                      {"buy_qty", 2},
                      {"get_qty", 1},
                      {"get_percent_bps", 10000}};
    rule["stacking"] = {{"priority", 100}, {"stacking_group", "product"}};
  } else if (roll < 0.80) {  // bundle
    rule["conditions"]["include_skus"] = some_skus(2 + pick(6));
    rule["reward"] = {{"kind", "FixedBundlePrice"},
                      {"target", "SpecificProducts"},
                      {"bundle_qty", 2},
                      {"bundle_price_minor", 500}};
    rule["stacking"] = {{"priority", 100}, {"stacking_group", "product"}};
  } else if (roll < 0.90) {  // category-wide percent
    rule["conditions"]["include_categories"] = {kCategories[pick(12)]};
    rule["reward"] = {{"kind", "PercentOff"},
                      {"target", "SpecificProducts"},
                      {"percent_bps", 500 + 500 * static_cast<int>(pick(4))}};
    rule["stacking"] = {{"priority", 150}, {"stacking_group", "category"}};
  } else if (roll < 0.96) {  // order amount off above a spend
    rule["conditions"]["min_amount_minor"] = 2000 + 1000 * static_cast<int>(pick(5));
    rule["reward"] = {{"kind", "AmountOff"}, {"target", "Order"}, {"amount_minor", 300}};
    rule["stacking"] = {{"priority", 200}, {"stacking_group", "order"}};
  } else {  // tiered spend
    rule["reward"] = {{"kind", "TieredSpend"},
                      {"target", "Order"},
                      {"tiers",
                       {{{"threshold_minor", 5000}, {"discount_minor", 500}},
                        {{"threshold_minor", 10000}, {"discount_minor", 1500}}}}};
    rule["stacking"] = {{"priority", 200}, {"stacking_group", "order"}};
  }
  if (pick(10) == 0) {
    rule["conditions"]["coupon_required"] = true;
    rule["conditions"]["coupon_program"] = "CPN";
  }
  if (pick(2) == 0) {
    rule["targeting"] = {{"channels", {pick(2) == 0 ? "pos" : "web"}}};
  } else if (pick(3) == 0) {
    rule["targeting"] = {{"stores", {StoreId(pick(kStores)), StoreId(pick(kStores))}}};
  }
  if (pick(5) == 0) rule["conditions"]["customer_segments"] = {"loyalty-gold"};
  return rule;
}

// The catalogue, its prices and the promotions; into `sink` as well, as events, the
// promotions drafted and then published for their whole rule window.
void Build(std::mt19937_64& rng, Fixture& f, LedgerSink& sink) {
  NullState state;
  Sequence seq = 0;
  f.products.resize(kSkus);
  for (std::size_t i = 0; i < kSkus; ++i) {
    const std::string sku = SkuId(i);
    f.sku_index.emplace(sku, i);
    const std::size_t category = i % 12;
    f.products[i].categories = {kCategories[category]};
    f.products[i].taxes = {
        {category < 7 ? "DE-VAT-7" : "DE-VAT-19", category < 7 ? 700 : 1900, true, 0}};
    AddProduct(sink, sku, f.products[i]);
    const std::int64_t list = 99 + static_cast<std::int64_t>(rng() % 3000);
    AddPrice(f, state, sink, ++seq, sku, events::PriceType::List, "", "", list);
    AddPrice(f, state, sink, ++seq, sku, events::PriceType::Floor, "", "", list * 7 / 10);
    if (rng() % 100 < 3) {
      AddPrice(f, state, sink, ++seq, sku, events::PriceType::List, "channel", "web",
               list * 93 / 100);
    }
    if (rng() % 100 < 2) {
      AddPrice(f, state, sink, ++seq, sku, events::PriceType::List, "store",
               StoreId(rng() % kStores), list * 95 / 100);
    }
  }
  EventJson converter;
  for (std::size_t p = 0; p < kPromotions; ++p) {
    char id[16];
    std::snprintf(id, sizeof(id), "PROMO-%05zu", p + 1);
    const json event = {
        {"stream", std::string("promo/") + id},
        {"payload_type", "PromotionDrafted"},
        {"payload", {{"promotion_id", id}, {"version", 1}, {"rule", RandomRule(rng)}}}};
    EventJson::Parsed parsed = converter.ParseUnsealed(event.dump());
    TR_ASSERT(parsed.ok());
    f.rule_events.push_back(std::move(parsed.bytes));
  }
  if (sink.enabled()) {
    const std::vector<AppendOutcome> drafted_seqs = sink.AppendNow(f.rule_events);
    flatbuffers::FlatBufferBuilder fbb(256);
    for (std::size_t p = 0; p < kPromotions; ++p) {
      fbb.Clear();
      const auto* rule = events::GetEvent(f.rule_events[p].data())->payload_as_PromotionDrafted();
      const std::string id = rule->promotion_id()->str();
      const auto window = events::CreateValidWindow(fbb, rule->rule()->valid()->from_ns(),
                                                    rule->rule()->valid()->to_ns());
      const auto published =
          events::CreatePromotionPublishedDirect(fbb, id.c_str(), 1, window, drafted_seqs[p].seq);
      sink.Add(FinishUnsealedEvent(fbb, {.stream = "promo/" + id},
                                   events::Payload::PromotionPublished, published.Union()));
    }
    sink.Flush();
  }
  for (std::size_t p = 0; p < kPromotions; ++p) {
    const auto* drafted = events::GetEvent(f.rule_events[p].data())->payload_as_PromotionDrafted();
    f.candidates.push_back({.promotion_id = drafted->promotion_id()->str(),
                            .version = 1,
                            .rule_snapshot_seq = seq + p + 1,
                            .rule = drafted->rule(),
                            .budget_used_minor = static_cast<std::int64_t>(rng() % 1'000'000)});
  }
}

struct CartSpec {
  checkout::Cart cart;  // lines carry SKUs and quantities; prices are looked up per run
};

CartSpec RandomCart(std::mt19937_64& rng) {
  CartSpec spec;
  checkout::Cart& c = spec.cart;
  c.currency = "EUR";
  c.channel = rng() % 4 == 0 ? "web" : "pos";
  c.region = "de-north";
  c.store = c.channel == "pos" ? StoreId(rng() % kStores) : "";
  c.customer_id = "C-" + std::to_string(rng() % 100000);
  if (rng() % 3 == 0) c.segments = {"loyalty-gold"};
  if (rng() % 10 == 0) c.coupon_programs = {"CPN"};
  c.at_ns = kStartNs + 10 * kDayNs + static_cast<std::int64_t>(rng() % kDayNs);
  // Popular SKUs are bought more: a few hundred dominate, as at a till.
  for (std::size_t l = 0; l < kCartLines; ++l) {
    const std::size_t sku = rng() % 4 == 0 ? rng() % kSkus : rng() % kPopularSkus;
    c.lines.push_back({.sku = SkuId(sku), .qty = 1 + static_cast<std::int32_t>(rng() % 3)});
  }
  return spec;
}

// The price lookups of a cart: selling and Floor price per line, and its products.
void ResolvePrices(const Fixture& f, checkout::Cart& cart) {
  for (checkout::CartLine& line : cart.lines) {
    const projections::PriceQuery q{line.sku, cart.channel, cart.region, cart.store, cart.at_ns};
    Result<projections::LinePrices> prices = f.book.CheckoutPrices(q);
    TR_ASSERT(prices.ok());
    line.unit_price_minor = prices->selling_minor;
    line.price_seq = prices->selling_seq;
    line.floor_minor = prices->floor_minor;
  }
}

checkout::ProductLookup Lookup(const Fixture& f) {
  return [&f](std::string_view sku) -> const checkout::Product* {
    const auto it = f.sku_index.find(std::string(sku));
    return it == f.sku_index.end() ? nullptr : &f.products[it->second];
  };
}

void Print(const char* name, std::size_t carts, double per_s, double p50, double p99,
           const char* baseline, double baseline_per_s, const std::string& note) {
  const double ratio = baseline_per_s > 0 ? per_s / baseline_per_s : 0;
  std::printf(
      "{\"bench\":\"checkout\",\"case\":\"%s\",\"carts\":%zu,\"carts_per_s\":%.0f,"
      "\"p50_us\":%.1f,\"p99_us\":%.1f,\"baseline\":\"%s\",\"baseline_carts_per_s\":%.0f,"
      "\"ratio\":%.3f,\"rss_bytes\":%llu}\n",
      name, carts, per_s, p50, p99, baseline, baseline_per_s, ratio,
      static_cast<unsigned long long>(RssBytes()));
  std::fflush(stdout);
  std::fprintf(stderr, "checkout/%s: %.0f carts/s, p50 %.1f us, p99 %.1f us vs %s %.0f/s (%s)\n",
               name, per_s, p50, p99, baseline, baseline_per_s, note.c_str());
}

}  // namespace

// price_cart: the carts priced as the service prices them, on a ledger holding the fixture.
void PriceServed(EventLog& log, const std::filesystem::path& projections_dir,
                 const std::vector<CartSpec>& specs) {
  const auto setup = std::chrono::steady_clock::now();
  Result<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Open(log, projections_dir);
  TR_ASSERT(runner.ok() && (*runner)->CatchUp().ok());
  std::fprintf(stderr, "checkout: projections of %llu events caught up in %.1f s\n",
               static_cast<unsigned long long>(log.Head().seq), SecondsSince(setup));
  const projections::CartQuoter quoter(log, **runner);

  // Baseline: the price lookups alone, in the served price book.
  const auto book = (*runner)->price_book();
  auto start = std::chrono::steady_clock::now();
  for (const CartSpec& spec : specs) {
    for (const checkout::CartLine& line : spec.cart.lines) {
      const projections::PriceQuery q{line.sku,        spec.cart.channel, spec.cart.region,
                                      spec.cart.store, spec.cart.at_ns,   INT64_MAX};
      TR_ASSERT(book->CheckoutPrices(q).ok());
    }
  }
  const double baseline_per_s = static_cast<double>(specs.size()) / SecondsSince(start);

  std::vector<double> latencies;
  latencies.reserve(specs.size());
  std::size_t discounted = 0, considered = 0;
  start = std::chrono::steady_clock::now();
  for (const CartSpec& spec : specs) {
    const auto t0 = std::chrono::steady_clock::now();
    Result<checkout::PricedCart> priced = quoter.PriceCart(spec.cart, {}, INT64_MAX);
    latencies.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    TR_ASSERT(priced.ok());
    if (priced->discount_minor > 0) ++discounted;
    considered += priced->applied.size() + priced->not_applied.size();
  }
  const double per_s = static_cast<double>(specs.size()) / SecondsSince(start);
  Print("price_cart", specs.size(), per_s, PercentileUs(latencies, 50), PercentileUs(latencies, 99),
        "price_lookups_only", baseline_per_s,
        std::to_string(discounted) + " of " + std::to_string(specs.size()) + " carts discounted; " +
            std::to_string(considered / specs.size()) +
            " promotions considered per cart (no coupon codes presented); goal p99 <= 50 us");
}

int RunCheckoutSuite(const BenchOptions& options) {
  std::mt19937_64 rng(20261127);
  const auto setup = std::chrono::steady_clock::now();
  const bool served = options.only_case.empty() || options.only_case == "price_cart";
  std::optional<ScratchDir> dir;
  ManualClock clock(kStartNs - kDayNs);  // the ledger records everything before the carts
  std::unique_ptr<EventLog> log;
  if (served) {
    dir.emplace(options.dir, "checkout");
    Result<std::unique_ptr<EventLog>> opened =
        EventLog::Open(dir->path() / "ledger", {.clock = &clock, .sync = false});
    TR_ASSERT(opened.ok());
    log = std::move(*opened);
  }
  auto built = std::make_unique<Fixture>();
  {
    LedgerSink sink(log.get());
    Build(rng, *built, sink);
  }
  const Fixture& fixture = *built;
  std::fprintf(stderr, "checkout: %zu SKUs, %zu promotions ready in %.1f s\n", kSkus, kPromotions,
               SecondsSince(setup));
  const std::size_t carts = options.events != 0 ? options.events : 20'000;
  std::vector<CartSpec> specs;
  for (std::size_t i = 0; i < carts; ++i) specs.push_back(RandomCart(rng));
  const checkout::ProductLookup lookup = Lookup(fixture);
  if (served) PriceServed(*log, dir->path() / "projections", specs);

  std::vector<checkout::PricedCart> sales;
  std::vector<checkout::Cart> sold_carts;
  if (options.only_case.empty() || options.only_case == "price_cart_engine" ||
      options.only_case == "return_quote") {
    // Baseline: the price lookups alone.
    auto start = std::chrono::steady_clock::now();
    std::size_t lines = 0;
    for (const CartSpec& spec : specs) {
      checkout::Cart cart = spec.cart;
      ResolvePrices(fixture, cart);
      lines += cart.lines.size();
    }
    const double baseline_per_s = static_cast<double>(carts) / SecondsSince(start);

    std::vector<double> latencies;
    latencies.reserve(carts);
    std::size_t discounted = 0;
    std::size_t considered = 0;
    std::size_t grouped_out = 0;
    double lookup_us = 0, index_us = 0;
    const checkout::CandidateIndex index(fixture.candidates);
    start = std::chrono::steady_clock::now();
    for (const CartSpec& spec : specs) {
      const auto t0 = std::chrono::steady_clock::now();
      checkout::Cart cart = spec.cart;
      ResolvePrices(fixture, cart);
      const auto t1 = std::chrono::steady_clock::now();
      const std::vector<const checkout::Candidate*> considered_candidates = index.For(cart, lookup);
      const auto t2 = std::chrono::steady_clock::now();
      Result<checkout::PricedCart> priced =
          checkout::PriceCart(cart, considered_candidates, lookup);
      lookup_us += std::chrono::duration<double, std::micro>(t1 - t0).count();
      index_us += std::chrono::duration<double, std::micro>(t2 - t1).count();
      latencies.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      TR_ASSERT(priced.ok());
      if (priced->discount_minor > 0) ++discounted;
      considered += priced->applied.size() + priced->not_applied.size();
      for (const checkout::NotApplied& n : priced->not_applied) {
        if (n.reason.starts_with("excluded")) ++grouped_out;
      }
      if (sales.size() < 2'000) {
        sales.push_back(std::move(*priced));
        sold_carts.push_back(std::move(cart));
      }
    }
    const double per_s = static_cast<double>(carts) / SecondsSince(start);
    const double p50 = PercentileUs(latencies, 50);
    const double p99 = PercentileUs(latencies, 99);
    if (options.only_case.empty() || options.only_case == "price_cart_engine") {
      Print("price_cart_engine", carts, per_s, p50, p99, "price_lookups_only", baseline_per_s,
            std::to_string(discounted) + " of " + std::to_string(carts) + " carts discounted; " +
                std::to_string(considered / carts) + " promotions considered per cart, " +
                std::to_string(grouped_out / carts) +
                " of them eligible but beaten in their stacking group; goal p99 <= 50 us; " +
                std::to_string(lines / carts) + " lines per cart; mean us: price lookups " +
                std::to_string(lookup_us / static_cast<double>(carts)) + ", candidate index " +
                std::to_string(index_us / static_cast<double>(carts)));
    }
  }
  if (options.only_case.empty() || options.only_case == "return_quote") {
    std::vector<double> latencies;
    std::size_t quotes = 0;
    // Baseline: pricing the same sales again.
    const checkout::CandidateIndex index(fixture.candidates);
    auto start = std::chrono::steady_clock::now();
    for (const checkout::Cart& cart : sold_carts) {
      Result<checkout::PricedCart> again =
          checkout::PriceCart(cart, index.For(cart, lookup), lookup);
      TR_ASSERT(again.ok());
    }
    const double baseline_per_s = static_cast<double>(sold_carts.size()) / SecondsSince(start);
    start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < sold_carts.size(); ++i) {
      // Only the promotions the sale used come back with it, as from the recorded sale.
      std::vector<checkout::Candidate> used;
      for (const checkout::AppliedPromotion& a : sales[i].applied) {
        for (const checkout::Candidate& c : fixture.candidates) {
          if (c.promotion_id == a.promotion_id) used.push_back(c);
        }
      }
      std::vector<checkout::ReturnedQty> returning;
      const std::size_t count = 1 + rng() % 3;
      for (std::size_t k = 0; k < count; ++k) {
        const auto line = static_cast<std::int32_t>(1 + (i + k * 7) % sold_carts[i].lines.size());
        if (std::any_of(returning.begin(), returning.end(),
                        [&](const checkout::ReturnedQty& r) { return r.line_no == line; })) {
          continue;
        }
        returning.push_back({line, 1});
      }
      const auto t0 = std::chrono::steady_clock::now();
      Result<checkout::ReturnQuote> quote =
          checkout::QuoteReturn(sold_carts[i], used, lookup, sales[i], {}, returning);
      latencies.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      TR_ASSERT(quote.ok());
      ++quotes;
    }
    const double per_s = static_cast<double>(quotes) / SecondsSince(start);
    const double p50 = PercentileUs(latencies, 50);
    const double p99 = PercentileUs(latencies, 99);
    Print("return_quote", quotes, per_s, p50, p99, "price_cart_of_the_sales", baseline_per_s,
          "1-3 lines returned per quote");
  }
  return 0;
}

}  // namespace tillroll::bench
