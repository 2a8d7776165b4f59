// liabilities, orders and publication: tests record sales with funded discounts, returns,
// settlements and deliveries on chosen days and check the sums and states on both time axes,
// the exact split of a discount between funders, and that a return without a sale stops the
// orders projection.

#include <nlohmann/json.hpp>

#include "engine/event_json.h"
#include "projections/coupons.h"
#include "projections/liabilities.h"
#include "projections/orders.h"
#include "projections/publication.h"
#include "projections/query_json.h"
#include "projections/redemptions.h"
#include "tests/unit/projections/ledger_fixture.h"

namespace tillroll::testing {
namespace {

using projections::LiabilityRow;

const LiabilityRow* Row(const std::vector<LiabilityRow>& rows, std::string_view party) {
  for (const LiabilityRow& r : rows) {
    if (r.party == party) return &r;
  }
  return nullptr;
}

TEST_CASE("Liabilities: accrued by sales - reversed by returns - settled - as of both axes",
          "[liabilities]") {
  LedgerFixture ledger;
  const SaleSpec sale{.order_id = "R-1",
                      .sold_at_ns = Day(2),
                      .rule_snapshot_seq = 1,
                      .discount_minor = 101,
                      .vendor_share_bps = 5000};
  ledger.Append(SaleRecordedEvent(sale), Day(2));
  ledger.Append(SaleRecordedEvent({.order_id = "R-2",
                                   .sold_at_ns = Day(3),
                                   .rule_snapshot_seq = 1,
                                   .discount_minor = 40,
                                   .vendor_share_bps = 7500}),
                Day(3));
  // The return happened on day 4 but the till sent it on day 6.
  ledger.Append(ReturnRecordedEvent(sale, "RET-1", Day(4), 1, 950, 50), Day(6));
  ledger.Append(LiabilitySettledEvent("SPRING-10", 1, "vendor:acme", 60), Day(7));
  ledger.CatchUp();
  auto liabilities = ledger.runner().liabilities();

  auto rows = liabilities->AsOf("SPRING-10", Day(9), Day(9));
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  const LiabilityRow* vendor = Row(*rows, "vendor:acme");
  REQUIRE(vendor != nullptr);
  // 101 split 50/50: the odd cent goes to the first share by largest remainder; 40 at 75% is 30.
  CHECK(vendor->accrued_minor == 51 + 30);
  CHECK(vendor->reversed_minor == 25);
  CHECK(vendor->settled_minor == 60);
  CHECK(vendor->outstanding_minor == 81 - 25 - 60);
  const LiabilityRow* retailer = Row(*rows, "retailer");
  REQUIRE(retailer != nullptr);
  CHECK(retailer->accrued_minor == 50 + 10);
  CHECK(retailer->reversed_minor == 25);

  // As of day 5 (valid) known on day 5: the return was not known yet.
  rows = liabilities->AsOf("SPRING-10", Day(5), Day(5));
  REQUIRE(rows.ok());
  CHECK(Row(*rows, "vendor:acme")->reversed_minor == 0);
  // Known on day 9, the return is counted on day 5 because it happened on day 4.
  rows = liabilities->AsOf("SPRING-10", Day(5), Day(9));
  CHECK(Row(*rows, "vendor:acme")->reversed_minor == 25);
  CHECK(Row(*rows, "vendor:acme")->settled_minor == 0);
  // Before the first sale, there is nothing.
  rows = liabilities->AsOf("", Day(1), Day(9));
  CHECK(rows->empty());
}

TEST_CASE("Orders: the sale and its returns as known at a moment - and the order context",
          "[orders]") {
  LedgerFixture ledger;
  const SaleSpec sale{.order_id = "R-991",
                      .sold_at_ns = Day(2),
                      .qty = 3,
                      .price_event_seq = 77,
                      .rule_snapshot_seq = 5,
                      .discount_minor = 300};
  const Sequence sold = ledger.Append(SaleRecordedEvent(sale), Day(2));
  const Sequence returned =
      ledger.Append(ReturnRecordedEvent(sale, "RET-1", Day(4), 1, 900, 100), Day(4));
  ledger.CatchUp();
  auto orders = ledger.runner().orders();

  Result<projections::OrderRecord> order = orders->Find("R-991", Day(9));
  REQUIRE(order.ok());
  CHECK(order->sale_seq == sold);
  REQUIRE(order->returns.size() == 1);
  CHECK(order->returns[0].seq == returned);
  CHECK(order->returns[0].return_id == "RET-1");
  CHECK(orders->Find("R-991", Day(3))->returns.empty());
  CHECK(orders->Find("R-991", Day(1)).status().code() == StatusCode::kNotFound);
  CHECK(orders->Find("R-992", Day(9)).status().code() == StatusCode::kNotFound);

  Result<std::string> context =
      projections::OrderContextJson(ledger.log(), *order, {Day(9), Day(9)});
  REQUIRE(context.ok());
  const auto j = nlohmann::json::parse(*context);
  const auto& line = j["sale"]["lines"][0];
  CHECK(line["price_event_seq"] == 77);
  CHECK(line["discounts"][0]["promotion_id"] == "SPRING-10");
  CHECK(line["discounts"][0]["rule_snapshot_seq"] == 5);
  CHECK(j["returns"].size() == 1);
  CHECK(j["line_balance"][0]["returned_qty"] == 1);
  CHECK(j["line_balance"][0]["returnable_qty"] == 2);
}

// An unsealed coupon event on "coupon/<program>" from its payload's JSON.
std::string CouponEvent(std::string_view type, const nlohmann::json& payload) {
  static EventJson converter;
  EventJson::Parsed parsed = converter.ParseUnsealed(nlohmann::json{
      {"stream", "coupon/" + payload["program"].get<std::string>()},
      {"payload_type", type},
      {"payload", payload}}.dump());
  REQUIRE(parsed.ok());
  return std::move(parsed.bytes);
}

TEST_CASE("Coupons: codes issued - redeemed up to their limit - voided - in their window",
          "[coupons]") {
  LedgerFixture ledger;
  const Sequence issued = ledger.Append(
      CouponEvent("CouponIssued", {{"program", "SPRING"},
                                   {"codes", {"SPRING-A", "SPRING-B"}},
                                   {"max_redemptions", 1},
                                   {"valid", {{"from_ns", Day(1)}, {"to_ns", Day(30)}}}}),
      Day(1));
  ledger.Append(CouponEvent("CouponIssued",
                            {{"program", "VIP"}, {"codes", {"VIP-ANNA"}}, {"customer_id", "C-1"}}),
                Day(1));
  ledger.Append(CouponEvent("CouponRedeemed",
                            {{"program", "SPRING"}, {"code", "SPRING-A"}, {"order_id", "R-1"}}),
                Day(2));
  ledger.Append(CouponEvent("CouponVoided", {{"program", "SPRING"}, {"code", "SPRING-B"}}), Day(3));
  ledger.CatchUp();
  {
    auto coupons = ledger.runner().coupons();

    Result<projections::CouponCode> a = coupons->Find("SPRING-A");
    REQUIRE(a.ok());
    CHECK(a->program == "SPRING");
    CHECK(a->issued_seq == issued);
    CHECK(a->redeemed == 1);
    CHECK_THAT(a->Unredeemable(Day(4)), Catch::Contains("already redeemed 1 time"));
    Result<projections::CouponCode> b = coupons->Find("SPRING-B");
    REQUIRE(b.ok());
    CHECK(b->voided);
    CHECK_THAT(b->Unredeemable(Day(4)), Catch::Contains("voided"));
    Result<projections::CouponCode> vip = coupons->Find("VIP-ANNA");
    REQUIRE(vip.ok());
    CHECK(vip->customer_id == "C-1");
    CHECK(vip->Unredeemable(Day(400)).empty());  // no limit, no window
    CHECK(coupons->Find("SPRING-C").status().code() == StatusCode::kNotFound);
  }  // the projection holds its store open

  // A state rebuilt from the log is the same, and a redemption of a code never issued stops
  // the projection at that event.
  ledger.Reopen();
  ledger.CatchUp();
  CHECK(ledger.runner().coupons()->Find("SPRING-A")->redeemed == 1);
  const Sequence stray = ledger.Append(
      CouponEvent("CouponRedeemed", {{"program", "SPRING"}, {"code", "VIP-ANNA"}}), Day(5));
  const Status s = ledger.runner().CatchUp();
  CHECK_THAT(s.message(), Catch::Contains("coupons cannot apply event " + std::to_string(stray)));
}

// An unsealed sale of one line discounted by each of `promotions`, for `customer`.
std::string SaleOf(const std::string& order_id, const std::string& customer,
                   const std::vector<std::string>& promotions) {
  static EventJson converter;
  nlohmann::json discounts = nlohmann::json::array();
  for (const std::string& p : promotions) {
    discounts.push_back({{"promotion_id", p}, {"promotion_version", 1}, {"amount_minor", 10}});
  }
  nlohmann::json sale = {{"order_id", order_id},
                         {"currency", "EUR"},
                         {"lines",
                          {{{"line_no", 1},
                            {"sku", "4711"},
                            {"qty", 2},
                            {"unit_price_minor", 100},
                            {"discounts", discounts}}}}};
  if (!customer.empty()) sale["customer"] = {{"customer_id", customer}};
  EventJson::Parsed parsed = converter.ParseUnsealed(nlohmann::json{
      {"stream", "order/" + order_id},
      {"payload_type", "SaleRecorded"},
      {"payload", sale}}.dump());
  REQUIRE(parsed.ok());
  return std::move(parsed.bytes);
}

TEST_CASE("Redemptions: orders per promotion - in all and per customer", "[redemptions]") {
  LedgerFixture ledger;
  ledger.Append(SaleOf("R-1", "C-1", {"P1", "P2"}), Day(1));
  ledger.Append(SaleOf("R-2", "C-1", {"P1"}), Day(2));
  ledger.Append(SaleOf("R-3", "C-2", {"P1"}), Day(3));
  ledger.Append(SaleOf("R-4", "", {"P2"}), Day(3));  // anonymous: counts in all only
  ledger.Append(SaleOf("R-5", "C-2", {}), Day(4));   // no discount: counts for nobody
  ledger.CatchUp();
  auto redemptions = ledger.runner().redemptions();
  Result<projections::RedemptionCount> p1 = redemptions->Count("P1", "C-1");
  REQUIRE(p1.ok());
  CHECK(p1->orders == 3);
  CHECK(p1->customer_orders == 2);
  CHECK(redemptions->Count("P1", "C-2")->customer_orders == 1);
  CHECK(redemptions->Count("P2", "C-2")->customer_orders == 0);
  CHECK(redemptions->Count("P2", "")->orders == 2);
  CHECK(redemptions->Count("P9", "C-1")->orders == 0);
}

TEST_CASE("Orders: a second sale of one order - or a return without a sale - stops the projection",
          "[orders]") {
  LedgerFixture ledger;
  const Sequence orphan =
      ledger.Append(ReturnRecordedEvent({.order_id = "R-404"}, "RET-9", Day(2), 1, 100, 0), Day(2));
  CHECK_THAT(ledger.runner().CatchUp().message(),
             Catch::Contains("orders cannot apply event " + std::to_string(orphan)));

  LedgerFixture twice;
  twice.Append(SaleRecordedEvent({.order_id = "R-1"}), Day(1));
  const Sequence again = twice.Append(SaleRecordedEvent({.order_id = "R-1"}), Day(2));
  const Status s = twice.runner().CatchUp();
  CHECK_THAT(s.message(), Catch::Contains("orders cannot apply event " + std::to_string(again)));
  CHECK_THAT(s.message(), Catch::Contains("already has a sale, at seq 1"));
}

TEST_CASE("Publication: the last state per artifact and destination - as known then",
          "[publication]") {
  using events::Payload;
  LedgerFixture ledger;
  ledger.Append(PublicationEvent(Payload::PublicationRequested, "price/4711", "odoo", 0), Day(1));
  ledger.Append(PublicationEvent(Payload::PublicationFailed, "price/4711", "odoo", 1), Day(2));
  ledger.Append(PublicationEvent(Payload::PublicationAcknowledged, "price/4711", "odoo", 2),
                Day(3));
  ledger.Append(PublicationEvent(Payload::PublicationDeadLettered, "price/4711", "channel:shop", 5),
                Day(3));
  ledger.CatchUp();
  auto publication = ledger.runner().publication();
  auto rows = publication->AsOf("price/4711", "", Day(9));
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].destination == "channel:shop");
  CHECK((*rows)[0].state == "dead_lettered");
  CHECK((*rows)[1].state == "acknowledged");
  CHECK((*rows)[1].attempt == 2);
  rows = publication->AsOf("price/4711", "odoo", Day(2));
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].state == "failed");
  CHECK((*rows)[0].error == "timeout");
}

}  // namespace
}  // namespace tillroll::testing
