// Seeded properties of the checkout engine over random carts and promotions (TILLROLL_SEED
// replays a run): the allocations add up, a refund never exceeds what is left paid, returning
// everything over any number of returns refunds exactly what was paid, the order of the lines
// does not change the price, and neither does matching long SKU lists by hash sets.

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "tests/conformance/scenario.h"
#include "tests/support/test_support.h"

namespace tillroll::testing {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kDayNs = 86'400'000'000'000;
constexpr std::int64_t kMarch1Ns = 1'772'323'200'000'000'000;

json RandomRule(std::mt19937_64& rng, const std::vector<std::string>& skus) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  static const char* kKinds[] = {"PercentOff", "AmountOff", "BuyXGetY", "FixedBundlePrice",
                                 "TieredSpend"};
  static const char* kTargets[] = {"Order", "CheapestItem", "SpecificProducts"};
  const std::string kind = kKinds[pick(5)];
  json reward = {{"kind", kind}};
  if (kind == "PercentOff" || kind == "AmountOff") {
    reward["target"] = kTargets[pick(3)];
    reward["percent_bps"] = 500 + static_cast<int>(pick(40)) * 100;
    reward["amount_minor"] = 50 + static_cast<int>(pick(40)) * 25;
  } else {
    reward["target"] = kind == "TieredSpend" ? "Order" : "SpecificProducts";
  }
  if (reward["target"] == "SpecificProducts") {
    reward["target_skus"] = {skus[pick(skus.size())], skus[pick(skus.size())]};
  }
  if (kind == "BuyXGetY") {
    reward["buy_qty"] = 1 + static_cast<int>(pick(3));
    reward["get_qty"] = 1;
    reward["get_percent_bps"] = pick(2) == 0 ? 10000 : 5000;
  }
  if (kind == "FixedBundlePrice") {
    reward["bundle_qty"] = 2 + static_cast<int>(pick(2));
    reward["bundle_price_minor"] = 300 + static_cast<int>(pick(10)) * 50;
  }
  if (kind == "TieredSpend") {
    reward["tiers"] = {{{"threshold_minor", 1000}, {"discount_minor", 100}},
                       {{"threshold_minor", 3000}, {"discount_minor", 450}}};
  }
  json rule = {{"reward", reward},
               {"currency", "EUR"},
               {"valid", {{"from_ns", kMarch1Ns}, {"to_ns", kMarch1Ns + 30 * kDayNs}}},
               {"stacking", {{"priority", static_cast<int>(pick(4)) * 10}}},
               {"funding",
                {{{"party", "retailer"}, {"share_bps", 4000}},
                 {{"party", "vendor:acme"}, {"share_bps", 6000}}}}};
  if (pick(4) == 0) rule["stacking"]["stacking_group"] = "group";
  if (pick(8) == 0) rule["stacking"]["exclusive"] = true;
  if (pick(3) == 0) rule["conditions"] = {{"min_amount_minor", 500 + pick(20) * 100}};
  // Product conditions: on a category, or on a few SKUs.
  if (pick(4) == 0) {
    rule["conditions"]["include_categories"] = {pick(2) == 0 ? "food" : "home"};
  } else if (pick(5) == 0) {
    rule["conditions"]["include_skus"] = {skus[pick(skus.size())], skus[pick(skus.size())]};
  }
  if (pick(4) == 0) rule["limits"] = {{"max_discount_per_order_minor", 200 + pick(10) * 50}};
  return rule;
}

json RandomScenario(std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  json products = json::object();
  std::vector<std::string> skus;
  for (int i = 0; i < 8; ++i) {
    const std::string sku = "SKU-" + std::to_string(i);
    skus.push_back(sku);
    json taxes = json::array();
    switch (i % 4) {
      case 0:
        taxes.push_back({{"tax_code", "VAT-19-INC"}, {"rate_bps", 1900}, {"price_included", true}});
        break;
      case 1:
        taxes.push_back({{"tax_code", "VAT-7-INC"}, {"rate_bps", 700}, {"price_included", true}});
        break;
      case 2:
        taxes.push_back({{"tax_code", "TAX-15"}, {"rate_bps", 1500}, {"price_included", false}});
        taxes.push_back({{"tax_code", "LEVY"}, {"fixed_amount_minor", 7}});
        break;
      default:
        break;
    }
    products[sku] = {{"categories", {i < 4 ? "food" : "home"}}, {"taxes", taxes}};
  }
  json promotions = json::array();
  const std::size_t count = 1 + pick(5);
  for (std::size_t p = 0; p < count; ++p) {
    promotions.push_back({{"promotion_id", "P" + std::to_string(p)},
                          {"version", 1},
                          {"rule_snapshot_seq", 100 + p},
                          {"rule", RandomRule(rng, skus)}});
  }
  json lines = json::array();
  const std::size_t line_count = 1 + pick(8);
  for (std::size_t l = 0; l < line_count; ++l) {
    lines.push_back({{"sku", skus[pick(skus.size())]},
                     {"qty", 1 + static_cast<int>(pick(5))},
                     {"unit_price_minor", 1 + static_cast<int>(pick(2500))}});
  }
  return {{"name", "random"},
          {"currency", "EUR"},
          {"products", products},
          {"promotions", promotions},
          {"cart", {{"at", "2026-03-10T12:00:00Z"}, {"lines", lines}}}};
}

TEST_CASE("Checkout properties: allocations - refunds - line order", "[checkout]") {
  std::mt19937_64 rng(TestSeed("checkout properties"));
  for (int round = 0; round < 400; ++round) {
    const json doc = RandomScenario(rng);
    Result<std::unique_ptr<Scenario>> loaded = LoadScenario(doc);
    INFO(loaded.status().ToString());
    REQUIRE(loaded.ok());
    const Scenario& s = **loaded;
    INFO("scenario: " << doc.dump());
    Result<checkout::PricedCart> priced = checkout::PriceCart(s.cart, s.candidates, s.lookup());
    REQUIRE(priced.ok());

    // The lines add up to the order, and each promotion's allocations to its amount.
    std::int64_t discount = 0, total = 0, net = 0, tax = 0;
    std::map<std::string, std::int64_t> per_promotion;
    for (const checkout::PricedLine& l : priced->lines) {
      std::int64_t line_discount = 0;
      for (const checkout::Allocation& a : l.discounts) {
        CHECK(a.amount_minor == a.net_minor + a.tax_minor);
        CHECK(a.amount_minor > 0);
        line_discount += a.amount_minor;
        per_promotion[a.promotion_id] += a.amount_minor;
      }
      CHECK(line_discount == l.discount_minor);
      CHECK(l.total_minor == l.gross_minor - l.discount_minor);
      CHECK(l.total_minor >= 0);
      discount += l.discount_minor;
      total += l.total_minor;
      net += l.net_minor;
      tax += l.tax_minor;
    }
    CHECK(discount == priced->discount_minor);
    CHECK(total == priced->total_minor);
    CHECK(net + tax == priced->total_minor);
    CHECK(priced->subtotal_minor - priced->discount_minor == priced->total_minor);
    for (const checkout::AppliedPromotion& a : priced->applied) {
      CHECK(per_promotion[a.promotion_id] == a.amount_minor);
      std::int64_t funded = 0;
      for (const checkout::FundingAmount& f : a.funding) funded += f.amount_minor;
      CHECK(funded == a.amount_minor);
    }

    // The same cart with its lines in another order costs the same.
    json reordered = doc;
    std::shuffle(reordered["cart"]["lines"].begin(), reordered["cart"]["lines"].end(), rng);
    Result<std::unique_ptr<Scenario>> shuffled = LoadScenario(reordered);
    REQUIRE(shuffled.ok());
    Result<checkout::PricedCart> repriced =
        checkout::PriceCart((*shuffled)->cart, (*shuffled)->candidates, (*shuffled)->lookup());
    REQUIRE(repriced.ok());
    INFO("reordered: " << reordered["cart"].dump());
    CHECK(repriced->total_minor == priced->total_minor);
    CHECK(repriced->discount_minor == priced->discount_minor);

    // Only the candidates that can reach the cart (a CandidateIndex's, as the promotions
    // projection gives the service) price it exactly as all of them do.
    const checkout::CandidateIndex index(s.candidates);
    Result<checkout::PricedCart> reached =
        checkout::PriceCart(s.cart, index.For(s.cart, s.lookup()), s.lookup());
    REQUIRE(reached.ok());
    CHECK(reached->total_minor == priced->total_minor);
    REQUIRE(reached->lines.size() == priced->lines.size());
    for (std::size_t i = 0; i < priced->lines.size(); ++i) {
      CHECK(reached->lines[i].discount_minor == priced->lines[i].discount_minor);
    }
    REQUIRE(reached->applied.size() == priced->applied.size());
    for (std::size_t i = 0; i < priced->applied.size(); ++i) {
      CHECK(reached->applied[i].promotion_id == priced->applied[i].promotion_id);
      CHECK(reached->applied[i].amount_minor == priced->applied[i].amount_minor);
    }

    // Long SKU lists (matched by a hash set) price as short ones (matched entry by entry), with
    // the rules' facts kept by the caller or gathered by PriceCart: every
    // rule gets include_skus of the whole catalogue (or, with product conditions of its own, its
    // include_skus padded with SKUs no cart holds) and exclude_skus of SKUs no cart holds, and
    // its target_skus padded with those, each past RuleFacts::kScanned entries.
    json padded = doc;
    for (json& promotion : padded["promotions"]) {
      json& rule = promotion["rule"];
      json not_sold = json::array();
      for (std::size_t k = 0; k <= checkout::RuleFacts::kScanned; ++k) {
        not_sold.push_back("NOT-SOLD-" + std::to_string(k));
      }
      if (!rule.contains("conditions")) {
        // No conditions measure a minimum amount tax included; keep it so.
        rule["conditions"] = {{"min_amount_tax_included", true}};
      }
      json& conditions = rule["conditions"];
      if (conditions.contains("include_skus") || conditions.contains("include_categories")) {
        // Its own product conditions, with SKUs no cart holds added.
        for (const json& sku : not_sold) conditions["include_skus"].push_back(sku);
      } else {
        json everything = not_sold;
        for (const auto& [sku, product] : padded["products"].items()) everything.push_back(sku);
        conditions["include_skus"] = everything;
      }
      conditions["exclude_skus"] = not_sold;
      if (rule["reward"].contains("target_skus")) {
        for (const json& sku : not_sold) rule["reward"]["target_skus"].push_back(sku);
      }
    }
    Result<std::unique_ptr<Scenario>> long_lists = LoadScenario(padded);
    REQUIRE(long_lists.ok());
    std::vector<checkout::Candidate> with_facts = (*long_lists)->candidates;
    std::vector<std::unique_ptr<const checkout::RuleFacts>> facts;
    for (checkout::Candidate& c : with_facts) {
      c.facts = facts.emplace_back(std::make_unique<const checkout::RuleFacts>(*c.rule)).get();
    }
    for (const std::vector<checkout::Candidate>* candidates :
         {&(*long_lists)->candidates, &with_facts}) {
      Result<checkout::PricedCart> listed =
          checkout::PriceCart((*long_lists)->cart, *candidates, (*long_lists)->lookup());
      REQUIRE(listed.ok());
      INFO(
          (candidates == &with_facts ? "facts kept by the caller" : "facts gathered by PriceCart"));
      CHECK(listed->total_minor == priced->total_minor);
      CHECK(listed->discount_minor == priced->discount_minor);
      REQUIRE(listed->lines.size() == priced->lines.size());
      for (std::size_t i = 0; i < priced->lines.size(); ++i) {
        CHECK(listed->lines[i].discount_minor == priced->lines[i].discount_minor);
      }
    }

    // Returned in random parts, the refunds never exceed what is left paid and add up to
    // exactly what was paid.
    std::vector<std::int32_t> left;
    for (const checkout::CartLine& l : s.cart.lines) left.push_back(l.qty);
    checkout::EarlierReturns earlier;
    while (std::any_of(left.begin(), left.end(), [](std::int32_t q) { return q > 0; })) {
      std::vector<checkout::ReturnedQty> returning;
      for (std::size_t i = 0; i < left.size(); ++i) {
        if (left[i] == 0 || rng() % 2 == 0) continue;
        const auto qty = static_cast<std::int32_t>(1 + rng() % static_cast<std::uint64_t>(left[i]));
        returning.push_back({static_cast<std::int32_t>(i + 1), qty});
      }
      if (returning.empty()) continue;
      Result<checkout::ReturnQuote> quote =
          checkout::QuoteReturn(s.cart, s.candidates, s.lookup(), *priced, earlier, returning);
      REQUIRE(quote.ok());
      const std::int64_t paid_left = priced->total_minor - earlier.refunded_minor;
      CHECK(quote->refund_minor >= 0);
      CHECK(quote->refund_minor <= paid_left);
      std::int64_t line_refunds = 0;
      for (const checkout::ReturnLineQuote& l : quote->lines) line_refunds += l.refund_minor;
      CHECK(line_refunds == quote->refund_minor);
      for (const checkout::ReturnedQty& r : returning) {
        left[static_cast<std::size_t>(r.line_no - 1)] -= r.qty;
        earlier.returned.push_back(r);
      }
      earlier.refunded_minor += quote->refund_minor;
      earlier.refunded_tax_minor += quote->refund_tax_minor;
      for (const checkout::AppliedPromotion& c : quote->clawbacks) earlier.clawed_back.push_back(c);
    }
    CHECK(earlier.refunded_minor == priced->total_minor);
    CHECK(earlier.refunded_tax_minor == priced->tax_minor);
  }
}

}  // namespace
}  // namespace tillroll::testing
