#include "tests/conformance/scenario.h"

#include "engine/event_json.h"
#include "engine/utc_time.h"
#include "schemas/envelope_generated.h"

namespace tillroll::testing {

using json = nlohmann::json;

Result<std::unique_ptr<Scenario>> LoadScenario(const json& doc) {
  auto s = std::make_unique<Scenario>();
  s->doc = doc;
  s->name = doc.value("name", "");
  const std::string currency = doc.value("currency", "EUR");
  try {
    const json products = doc.value("products", json::object());
    for (const auto& [sku, p] : products.items()) {
      checkout::Product product;
      product.categories = p.value("categories", std::vector<std::string>{});
      product.unit_price_minor = p.value("unit_price_minor", std::int64_t{0});
      for (const json& t : p.value("taxes", json::array())) {
        product.taxes.push_back(
            {.tax_code = t.value("tax_code", ""),
             .rate_bps = t.value("rate_bps", 0),
             .price_included = t.value("price_included", false),
             .fixed_amount_minor = t.value("fixed_amount_minor", std::int64_t{0})});
      }
      s->products.emplace(sku, std::move(product));
    }
    EventJson converter;
    const json promotions = doc.value("promotions", json::array());
    for (std::size_t i = 0; i < promotions.size(); ++i) {
      const json& p = promotions[i];
      const json event = {{"stream", "promo/" + p.value("promotion_id", "")},
                          {"payload_type", "PromotionDrafted"},
                          {"payload",
                           {{"promotion_id", p.value("promotion_id", "")},
                            {"version", p.value("version", 1)},
                            {"rule", p.at("rule")}}}};
      EventJson::Parsed parsed = converter.ParseUnsealed(event.dump());
      if (!parsed.ok()) {
        return Status::InvalidArgument("promotions[" + std::to_string(i) + "]." +
                                       parsed.problems.front().path + ": " +
                                       parsed.problems.front().reason);
      }
      s->rule_events.push_back(std::move(parsed.bytes));
    }
    for (std::size_t i = 0; i < promotions.size(); ++i) {
      const json& p = promotions[i];
      const auto* drafted =
          events::GetEvent(s->rule_events[i].data())->payload_as_PromotionDrafted();
      s->candidates.push_back(
          {.promotion_id = p.value("promotion_id", ""),
           .version = p.value("version", 1u),
           .rule_snapshot_seq = p.value("rule_snapshot_seq", std::uint64_t{0}),
           .rule = drafted->rule(),
           .odoo = p.value("origin", "").starts_with("odoo:"),
           .budget_used_minor = p.value("budget_used_minor", std::int64_t{0}),
           .redemptions = p.value("redemptions", std::int64_t{0}),
           .customer_redemptions = p.value("customer_redemptions", std::int64_t{0})});
    }
    const json& cart = doc.at("cart");
    s->cart.currency = currency;
    s->cart.channel = cart.value("channel", "");
    s->cart.region = cart.value("region", "");
    s->cart.store = cart.value("store", "");
    if (cart.contains("customer")) {
      s->cart.customer_id = cart["customer"].value("customer_id", "");
      s->cart.segments = cart["customer"].value("segments", std::vector<std::string>{});
    }
    const json coupons = doc.value("coupons", json::object());
    for (const std::string& code : cart.value("coupon_codes", std::vector<std::string>{})) {
      if (coupons.contains(code)) s->cart.coupon_programs.push_back(coupons[code]);
    }
    Result<std::int64_t> at = ParseUtcTimeNs(cart.value("at", "2026-03-10T12:00:00Z"));
    if (!at.ok()) return Status::InvalidArgument("cart.at: " + at.status().message());
    s->cart.at_ns = *at;
    for (const json& l : cart.at("lines")) {
      s->cart.lines.push_back({.sku = l.at("sku"),
                               .qty = l.at("qty"),
                               .unit_price_minor = l.at("unit_price_minor"),
                               .floor_minor = l.value("floor_minor", std::int64_t{-1})});
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("malformed scenario: ") + e.what());
  }
  return s;
}

}  // namespace tillroll::testing
