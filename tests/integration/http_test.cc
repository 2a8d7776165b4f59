// The HTTP API as its callers use it: the real `tillroll serve` binary on a loopback port, a
// real RocksDB ledger, real HTTP. Every route's happy path on a generated history; the
// authentication and role matrix of every write route (401/403 and the log unchanged); store
// scopes; idempotency, If-Match and governance outcomes; malformed input; every limit; and a
// SIGTERM that finishes cleanly and loses nothing.

#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "adapters/http/api.h"
#include "tests/support/http_service.h"

namespace tillroll {
namespace {

using json = nlohmann::json;
using testing::HttpService;

// The status, with the body shown when it is not the one expected.
#define CHECK_STATUS(reply, code)         \
  do {                                    \
    const http::HttpReply& r_ = (reply);  \
    INFO(r_.body);                        \
    CHECK(r_.status == (code));           \
  } while (false)

json Body(const http::HttpReply& reply) {
  INFO(reply.body);
  return json::parse(reply.body);
}

testing::Headers Key(const std::string& key) { return {{"Idempotency-Key", key}}; }

const char kPlace[] = "channel=pos&region=de-north&store=store-01";

json Cart(const std::string& store = "store-01") {
  return {{"currency", "EUR"},
          {"channel", "pos"},
          {"region", "de-north"},
          {"store", store},
          {"customer", {{"customer_id", "C-77"}, {"segments", json::array()}}},
          {"lines",
           {{{"sku", "SKU-000002"}, {"qty", 3}},
            {{"sku", "SKU-000005"}, {"qty", 2}},
            {{"sku", "SKU-000011"}, {"qty", 1}}}}};
}

json Draft(const std::string& id) {
  const std::int64_t day = 86'400'000'000'000;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  return {{"promotion_id", id},
          {"name", "HTTP 10% on SKU-000002"},
          {"rule",
           {{"reward",
             {{"kind", "PercentOff"},
              {"target", "SpecificProducts"},
              {"target_skus", {"SKU-000002"}},
              {"percent_bps", 1000}}},
            {"targeting", {{"channels", {"pos"}}, {"regions", json::array()}, {"stores", json::array()}}},
            {"limits", {{"budget_minor", 50000}}},
            {"funding", {{{"party", "retailer"}, {"share_bps", 10000}}}},
            {"valid", {{"from_ns", now - day}, {"to_ns", now + 30 * day}}},
            {"currency", "EUR"}}}};
}

TEST_CASE("HTTP: every route answers on a generated ledger", "[http]") {
  HttpService service(/*generated_history=*/true);
  // Operations.
  CHECK(service.Get("", "/healthz").status == 200);
  const http::HttpReply ready = service.Get("", "/readyz");
  REQUIRE(ready.status == 200);
  CHECK(Body(ready)["ready"] == true);
  const json spec = Body(service.Get("", "/openapi.json"));
  CHECK(spec["paths"].contains("/v1/carts/price"));

  // Prices: an unchanged List price is accepted (201); a 50% cut is held (202) until a pricing
  // approver approves it (201), and then it is the price in force.
  const json list = Body(service.Get(testing::kAuditor, "/v1/prices/SKU-000003?type=List"));
  const std::int64_t amount = list["amount_minor"].get<std::int64_t>();
  json price = {{"sku", "SKU-000003"}, {"price_type", "List"}, {"amount_minor", amount},
                {"currency", "EUR"}};
  http::HttpReply set = service.Post(testing::kPricingEngine, "/v1/prices", price, Key("p-1"));
  CHECK(set.status == 201);
  CHECK(Body(set)["outcome"] == "accepted");
  CHECK_FALSE(set.Header("X-Request-Id").empty());
  price["amount_minor"] = amount / 2;
  http::HttpReply held = service.Post(testing::kPricingEngine, "/v1/prices", price, Key("p-2"));
  CHECK(held.status == 202);
  CHECK(Body(held)["outcome"] == "held");
  http::HttpReply approved = service.Post(
      testing::kPricingApprover,
      "/v1/price-changes/proposal:service:pricing-engine:p-2/approve",
      {{"approver_note", "clearance"}}, Key("p-2-ok"));
  CHECK(approved.status == 201);
  CHECK(Body(service.Get(testing::kAuditor, "/v1/prices/SKU-000003?type=List"))["amount_minor"] ==
        amount / 2);
  // Another deep cut, rejected; then the approved one retracted: the price before it is back.
  price["amount_minor"] = amount / 3;
  CHECK_STATUS(service.Post(testing::kPricingEngine, "/v1/prices", price, Key("p-3")), 202);
  CHECK_STATUS(service.Post(testing::kPricingApprover,
                            "/v1/price-changes/proposal:service:pricing-engine:p-3/reject",
                            {{"reason", "too deep"}}, Key("p-3-no")),
               201);
  const json cut = Body(service.Get(testing::kAuditor, "/v1/prices/SKU-000003?type=List"));
  CHECK(cut["amount_minor"] == amount / 2);
  CHECK_STATUS(service.Post(testing::kPricingEngine, "/v1/prices/retract",
                            {{"sku", "SKU-000003"}, {"price_type", "List"},
                             {"retracted_seq", cut["price_event_seq"]}, {"reason", "undo"}},
                            Key("p-4")),
               201);
  CHECK(Body(service.Get(testing::kAuditor, "/v1/prices/SKU-000003?type=List"))["amount_minor"] ==
        amount);
  const json book =
      Body(service.Get(testing::kPos, std::string("/v1/price-book?skus=SKU-000002,SKU-000003,NOPE&") + kPlace));
  REQUIRE(book["prices"].size() == 3);
  CHECK(book["prices"][2]["error"] == "not_found");

  // A promotion through its workflow, one route per step.
  const json draft = Draft("HTTP-1");
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/promotions", draft, Key("d-1")), 201);
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/promotions/HTTP-1/submit", {{"version", 1}},
                     Key("s-1")), 201);
  CHECK_STATUS(service.Post(testing::kPromoApprover, "/v1/promotions/HTTP-1/approve", {{"version", 1}},
                     Key("a-1")), 201);
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/promotions/HTTP-1/publish",
                            json{{"version", 1}, {"window", draft["rule"]["valid"]}},
                            Key("pub-1")),
               201);
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/promotions/HTTP-1/pause",
                     {{"version", 1}, {"reason", "stock"}}, Key("pa-1")), 201);
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/promotions/HTTP-1/resume", {{"version", 1}},
                     Key("re-1")), 201);
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/promotions/HTTP-1/amend", Draft("HTTP-1"),
                     Key("am-1")), 201);
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/promotions/HTTP-1/submit", {{"version", 2}},
                     Key("s-2")), 201);
  CHECK_STATUS(service.Post(testing::kPromoApprover, "/v1/promotions/HTTP-1/reject",
                     {{"version", 2}, {"reason", "not now"}}, Key("rj-2")), 201);
  const json promotion = Body(service.Get(testing::kAuditor, "/v1/promotions/HTTP-1"));
  CHECK(promotion.dump().find("HTTP 10%") != std::string::npos);
  const json live =
      Body(service.Get(testing::kPos, std::string("/v1/promotions?active=true&") + kPlace));
  CHECK(live.dump().find("HTTP-1") != std::string::npos);
  CHECK(Body(service.Get(testing::kAuditor, "/v1/promotions")).dump().find("HTTP-1") !=
        std::string::npos);
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/promotions/HTTP-1/withdraw",
                     {{"version", 1}, {"reason", "done"}}, Key("w-1")), 201);

  // Coupons, products, settlements, authority rules, roles.
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/coupons",
                     {{"program", "HTTP-COUPONS"}, {"codes", {"HTTP-A1", "HTTP-A2"}},
                      {"max_redemptions", 1}},
                     Key("c-1")), 201);
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/coupons/HTTP-A2/void",
                     {{"program", "HTTP-COUPONS"}, {"reason", "printed twice"}}, Key("v-1")), 201);
  CHECK_STATUS(service.Post(testing::kOdoo, "/v1/products",
                     {{"sku", "SKU-HTTP-1"}, {"name", "Oat drink"}, {"categories", {"dairy"}},
                      {"taxes", {{{"tax_code", "DE-VAT-7"}, {"rate_bps", 700}, {"price_included", true}}}}},
                     Key("prod-1")), 201);
  CHECK_STATUS(service.Post(testing::kAdmin, "/v1/authority-rules",
                     {{"rule_id", "http-cost"}, {"source_system", "odoo"}, {"event_family", "price"},
                      {"price_types", {"Cost"}}, {"allow", true}},
                     Key("ar-1")), 201);
  CHECK_STATUS(service.Post(testing::kAdmin, "/v1/roles/grant",
                     {{"principal", "user:audrey.klein"}, {"role", "finance"}, {"reason", "cover"}},
                     Key("g-1")), 201);
  CHECK_STATUS(service.Post(testing::kAdmin, "/v1/roles/revoke",
                     {{"principal", "user:audrey.klein"}, {"role", "finance"}, {"reason", "over"}},
                     Key("g-2")), 201);

  // Checkout: price a cart, record it, quote and record a return.
  const http::HttpReply priced = service.Post(testing::kPos, "/v1/carts/price", Cart());
  REQUIRE(priced.status == 200);
  const json p = Body(priced);
  CHECK(p["lines"].size() == 3);
  // The same cart against the same ledger position gives the same bytes.
  json at_noon = Cart();
  at_noon["at"] = "2026-11-20T12:00:00Z";
  const std::string pinned = "/v1/carts/price?known_at=2026-11-27T00:00:00Z";
  const http::HttpReply once = service.Post(testing::kPos, pinned, at_noon);
  CHECK_STATUS(once, 200);
  CHECK(service.Post(testing::kPos, pinned, at_noon).body == once.body);
  const http::HttpReply sale =
      service.Post(testing::kPos, "/v1/sales", {{"order_id", "R-HTTP-1"}, {"cart", Cart()}});
  REQUIRE(sale.status == 201);
  CHECK(Body(sale)["subject"] == "order/R-HTTP-1");
  const json lines = {{{"line_no", 1}, {"qty", 1}}};
  const http::HttpReply quote = service.Post(testing::kReturnsDesk, "/v1/returns/quote",
                                             {{"order_id", "R-HTTP-1"}, {"lines", lines}});
  REQUIRE(quote.status == 200);
  const http::HttpReply ret = service.Post(
      testing::kReturnsDesk, "/v1/returns",
      {{"order_id", "R-HTTP-1"}, {"return_id", "RET-HTTP-1"}, {"lines", lines}, {"reason", "size"}});
  REQUIRE(ret.status == 201);
  const json order = Body(service.Get(testing::kReturnsDesk, "/v1/orders/R-HTTP-1"));
  CHECK(order.dump().find("RET-HTTP-1") != std::string::npos);
  CHECK(order.dump().find(std::to_string(Body(quote)["refund_minor"].get<std::int64_t>())) !=
        std::string::npos);

  // Liabilities, settlements, publication, authority, the audit trail.
  // Finance settles one cent of the first outstanding liability.
  const json liabilities = Body(service.Get(testing::kFinance, "/v1/liabilities"));
  json owed;
  for (const json& row : liabilities["liabilities"]) {
    if (row["outstanding_minor"].get<std::int64_t>() > 0) {
      owed = row;
      break;
    }
  }
  INFO(liabilities.dump().substr(0, 500));
  REQUIRE_FALSE(owed.is_null());
  CHECK_STATUS(service.Post(testing::kFinance, "/v1/settlements",
                            {{"promotion_id", owed["promotion_id"]},
                             {"promotion_version", owed["version"]},
                             {"party", owed["party"]},
                             {"currency", owed["currency"]},
                             {"amount_minor", 1}},
                            Key("set-1")),
               201);
  CHECK(service.Get(testing::kAuditor, "/v1/publication").status == 200);
  const json authority = Body(service.Get(
      testing::kAuditor, "/v1/authority?source_system=odoo&family=price&price_type=Cost"));
  CHECK(authority.dump().find("http-cost") != std::string::npos);
  const json audit =
      Body(service.Get(testing::kAuditor, "/v1/audit?principal=user:anna.berg&outcome=accepted"));
  REQUIRE_FALSE(audit["attempts"].empty());
  CHECK(audit["attempts"].back()["command"] == "reject_price_change");

  // The log: paged JSON lines, and the chain verified.
  const http::HttpReply page = service.Get(testing::kAuditor, "/v1/events?from=1&limit=5");
  REQUIRE(page.status == 200);
  CHECK(page.Header("Content-Type") == "application/x-ndjson");
  CHECK(std::count(page.body.begin(), page.body.end(), '\n') == 5);
  CHECK(page.Header("X-Next-From") == "6");
  const http::HttpReply stream =
      service.Get(testing::kAuditor, "/v1/events?stream=order/R-HTTP-1");
  CHECK(std::count(stream.body.begin(), stream.body.end(), '\n') == 2);
  const json verify = Body(service.Get(testing::kAuditor, "/v1/verify"));
  CHECK(verify["ok"] == true);
  CHECK(verify["events"] == service.Head());

  // Metrics: requests by route and status, latencies, append figures, projection lag.
  const http::HttpReply metrics = service.Get("", "/metrics");
  CHECK(metrics.Header("Content-Type").find("text/plain") == 0);
  for (const char* series :
       {"tillroll_http_requests_total{route=\"POST /v1/carts/price\",status=\"200\"} 3",
        "tillroll_http_request_duration_seconds_bucket{route=\"POST /v1/sales\",le=\"+Inf\"} 1",
        "tillroll_append_duration_seconds_count", "tillroll_append_batch_events_bucket",
        "tillroll_projection_lag_events{projection=\"price_book\"}",
        "tillroll_queue_depth{queue=\"command_workers\"}", "tillroll_http_connections"}) {
    INFO(series);
    CHECK(metrics.body.find(series) != std::string::npos);
  }
  // Structured logs carry the request id, which is also the events' correlation id.
  const std::string log = testing::ReadFile(service.log_path());
  const std::string request_id = sale.Header("X-Request-Id");
  CHECK(log.find("\"request_id\":\"" + request_id + "\"") != std::string::npos);
  CHECK(stream.body.find("\"correlation_id\": \"" + request_id + "\"") != std::string::npos);
}

// One request per write route with a body its command would accept from the right principal.
struct WriteRoute {
  std::string target;
  json body;
};

std::vector<WriteRoute> WriteRoutes() {
  std::vector<WriteRoute> out;
  for (const http::Route& route : http::Api::Routes()) {
    if (route.method != "POST") continue;
    std::string target(route.pattern);
    for (auto [param, value] : {std::pair{"{promotion_id}", "P-1"},
                                std::pair{"{proposal_id}", "proposal:x:y"},
                                std::pair{"{code}", "CODE-1"}}) {
      const std::size_t at = target.find(param);
      if (at != std::string::npos) target.replace(at, std::strlen(param), value);
    }
    json body = {{"sku", "SKU-000002"}, {"price_type", "List"}, {"amount_minor", 100},
                 {"currency", "EUR"}};
    if (route.pattern == "/v1/commands") {
      body = {{"command", "set_price"}, {"idempotency_key", "k"}, {"args", body}};
    }
    out.push_back({target, body});
  }
  return out;
}

TEST_CASE("HTTP: without a token 401, without the role 403, and the log unchanged", "[http]") {
  HttpService service(/*generated_history=*/false);
  const std::uint64_t head = service.Head();
  const std::vector<WriteRoute> routes = WriteRoutes();
  REQUIRE(routes.size() >= 25);
  for (const WriteRoute& route : routes) {
    INFO("POST " << route.target);
    const http::HttpReply anonymous = service.Post("", route.target, route.body, Key("k"));
    CHECK(anonymous.status == 401);
    CHECK(anonymous.Header("WWW-Authenticate") == "Bearer");
    CHECK(Body(anonymous)["error"] == "unauthenticated");
    CHECK_STATUS(service.Post("not-a-token", route.target, route.body, Key("k")), 401);
    // The auditor reads everything and writes nothing.
    const http::HttpReply auditor =
        service.Post(testing::kAuditor, route.target, route.body, Key("k"));
    CHECK(auditor.status == 403);
    CHECK(Body(auditor)["error"] == "forbidden");
  }
  // A promotion author cannot send a price through the generic route either.
  CHECK_STATUS(service.Post(testing::kPromoAuthor, "/v1/commands", routes.front().body), 403);
  CHECK(service.Head() == head);
  // Reads need a token too (401), and the right role (403).
  CHECK(service.Get("", "/v1/prices/SKU-000002").status == 401);
  CHECK(service.Get(testing::kPricingEngine, "/v1/events").status == 403);
  CHECK(service.Get(testing::kPos, "/v1/audit").status == 403);
  // Unknown routes and methods.
  CHECK(service.Get(testing::kAuditor, "/v1/nothing").status == 404);
  const http::HttpReply wrong_method = service.Send(testing::kAuditor, "DELETE", "/v1/prices/X");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.Header("Allow") == "GET");
  // No secret is ever echoed.
  CHECK(service.Post("not-a-token", "/v1/prices", routes.front().body).body.find("not-a-token") ==
        std::string::npos);
}

TEST_CASE("HTTP: store scopes, idempotency, If-Match and governance outcomes", "[http]") {
  HttpService service(/*generated_history=*/true);
  // A till of store-02 prices and sells in store-02 only.
  CHECK_STATUS(service.Post(testing::kTill02, "/v1/carts/price", Cart("store-02")), 200);
  const http::HttpReply other_store = service.Post(testing::kTill02, "/v1/carts/price", Cart());
  CHECK(other_store.status == 403);
  CHECK(Body(other_store)["field"] == "store");
  const std::uint64_t head = service.Head();
  CHECK_STATUS(service.Post(testing::kTill02, "/v1/sales", {{"order_id", "R-X"}, {"cart", Cart()}}), 403);
  CHECK(service.Head() == head);
  // The returns desk of store-01 cannot touch a store-02 order.
  REQUIRE(service.Post(testing::kTill02, "/v1/sales",
                       {{"order_id", "R-02"}, {"cart", Cart("store-02")}})
              .status == 201);
  const json lines = {{{"line_no", 1}, {"qty", 1}}};
  CHECK_STATUS(service.Post(testing::kReturnsDesk, "/v1/returns/quote",
                     {{"order_id", "R-02"}, {"lines", lines}}), 403);
  CHECK_STATUS(service.Post(testing::kTill02, "/v1/returns/quote", {{"order_id", "R-02"}, {"lines", lines}}), 200);
  // A role granted for one store counts there only: carts and return quotes elsewhere are 403.
  CHECK(service.Post(testing::kAuditor, "/v1/carts/price", Cart("store-02")).status == 403);
  CHECK_STATUS(service.Post(testing::kAdmin, "/v1/roles/grant",
                            {{"principal", "user:audrey.klein"}, {"role", "checkout"},
                             {"stores", {"store-02"}}, {"reason", "till cover"}},
                            Key("g-02")), 201);
  CHECK_STATUS(service.Post(testing::kAuditor, "/v1/carts/price", Cart("store-02")), 200);
  const http::HttpReply granted_elsewhere =
      service.Post(testing::kAuditor, "/v1/carts/price", Cart());
  CHECK(granted_elsewhere.status == 403);
  CHECK(Body(granted_elsewhere)["field"] == "store");
  CHECK_STATUS(service.Post(testing::kAuditor, "/v1/returns/quote",
                            {{"order_id", "R-02"}, {"lines", lines}}), 200);

  // The same key and command again: nothing appended, the first outcome, marked duplicate.
  const json list = Body(service.Get(testing::kAuditor, "/v1/prices/SKU-000004?type=List"));
  json price = {{"sku", "SKU-000004"}, {"price_type", "List"},
                {"amount_minor", list["amount_minor"]}, {"currency", "EUR"}};
  const http::HttpReply first = service.Post(testing::kPricingEngine, "/v1/prices", price, Key("i-1"));
  REQUIRE(first.status == 201);
  const std::uint64_t after_first = service.Head();
  const http::HttpReply again = service.Post(testing::kPricingEngine, "/v1/prices", price, Key("i-1"));
  CHECK(again.status == 200);
  CHECK(Body(again)["duplicate"] == true);
  CHECK(Body(again)["audit_seq"] == Body(first)["audit_seq"]);
  CHECK(service.Head() == after_first);
  // The same key for another command is a conflict.
  price["amount_minor"] = list["amount_minor"].get<std::int64_t>() + 1;
  const http::HttpReply reused = service.Post(testing::kPricingEngine, "/v1/prices", price, Key("i-1"));
  CHECK(reused.status == 409);
  CHECK(Body(reused)["error"] == "conflict");
  CHECK(service.Head() == after_first);
  // A stale If-Match: 409 naming the versions.
  const http::HttpReply stale = service.Post(testing::kPricingEngine, "/v1/prices", price,
                                             {{"Idempotency-Key", "i-2"}, {"If-Match", "\"1\""}});
  CHECK(stale.status == 409);
  CHECK(Body(stale)["field"] == "expected_version");
  // The per-action routes need an Idempotency-Key.
  const http::HttpReply keyless = service.Post(testing::kPricingEngine, "/v1/prices", price);
  CHECK(keyless.status == 400);
  CHECK(Body(keyless)["field"] == "Idempotency-Key");

  // Governance: Odoo may not set a List price (422, audited: the log grows by the audit record).
  const std::uint64_t before = service.Head();
  const http::HttpReply forbidden = service.Post(testing::kOdoo, "/v1/prices", price, Key("o-1"));
  CHECK(forbidden.status == 422);
  const json f = Body(forbidden);
  CHECK(f["outcome"] == "rejected");
  CHECK_FALSE(f["rule"].get<std::string>().empty());
  CHECK(service.Head() == before + 1);
  // A workflow step out of order: 422 with the state in the message.
  const http::HttpReply early = service.Post(testing::kPromoApprover, "/v1/promotions/NOPE/approve",
                                             {{"version", 1}}, Key("n-1"));
  CHECK(early.status == 422);

  // A batch through /v1/commands: atomic unless ?partial=true.
  const std::string line_ok =
      json{{"command", "set_price"}, {"idempotency_key", "b-1"}, {"args", price}}.dump();
  json bad_price = price;
  bad_price["amount_minor"] = 1;  // a 99% cut is fine as a proposal, so break the currency
  bad_price["currency"] = "EURO";
  const std::string line_bad =
      json{{"command", "set_price"}, {"idempotency_key", "b-2"}, {"args", bad_price}}.dump();
  const http::HttpReply atomic =
      service.Send(testing::kPricingEngine, "POST", "/v1/commands", line_ok + "\n" + line_bad + "\n",
                   {{"Content-Type", "application/x-ndjson"}});
  CHECK(atomic.status >= 400);
  const http::HttpReply array = service.Send(
      testing::kPricingEngine, "POST", "/v1/commands",
      "[" + json{{"command", "set_price"}, {"idempotency_key", "b-3"}, {"args", price}}.dump() + "]");
  CHECK(array.status == 201);
  CHECK(Body(array)["outcomes"].size() == 1);
}

TEST_CASE("HTTP: malformed input is refused with its field, and an attempt at a command is audited",
          "[http]") {
  HttpService service(/*generated_history=*/false);
  const std::uint64_t head = service.Head();
  const http::HttpReply not_json = service.Send(testing::kPricingEngine, "POST", "/v1/prices",
                                                "{\"sku\": ", Key("m-1"));
  CHECK(not_json.status == 400);
  CHECK(Body(not_json)["error"] == "invalid_json");
  const http::HttpReply text = service.Send(testing::kPricingEngine, "POST", "/v1/prices", "sku=1",
                                            {{"Content-Type", "text/plain"}, {"Idempotency-Key", "m-2"}});
  CHECK(text.status == 415);
  CHECK(Body(text)["field"] == "Content-Type");
  const http::HttpReply unknown = service.Post(
      testing::kPricingEngine, "/v1/prices",
      {{"sku", "S"}, {"price_type", "List"}, {"amount_minor", 1}, {"currency", "EUR"}, {"colour", "red"}},
      Key("m-3"));
  CHECK(unknown.status == 400);
  CHECK(Body(unknown)["field"] == "colour");
  CHECK(Body(unknown)["audit_seqs"].size() == 1);
  const http::HttpReply wrong_type = service.Post(
      testing::kPricingEngine, "/v1/prices",
      {{"sku", "S"}, {"price_type", "List"}, {"amount_minor", "12.99"}, {"currency", "EUR"}},
      Key("m-4"));
  CHECK(wrong_type.status == 400);
  CHECK(Body(wrong_type)["field"] == "amount_minor");
  // A principal that may not send the command gets 403 and leaves no record, as for a
  // well-formed one.
  CHECK(service.Send(testing::kAuditor, "POST", "/v1/commands",
                     json{{"command", "set_price"}, {"idempotency_key", "m-5"},
                          {"args", {{"colour", "red"}}}}.dump())
            .status == 403);
  const http::HttpReply bad_cart = service.Post(testing::kPos, "/v1/carts/price",
                                                {{"currency", "EUR"}, {"lines", {{{"sku", "X"}, {"qty", 0}}}}});
  CHECK(bad_cart.status == 400);
  CHECK(Body(bad_cart)["field"].get<std::string>().find("lines[0]") == 0);
  const http::HttpReply bad_time = service.Get(testing::kAuditor, "/v1/prices/X?valid_at=yesterday");
  CHECK(bad_time.status == 400);
  CHECK(Body(bad_time)["field"] == "valid_at");
  const http::HttpReply bad_return =
      service.Post(testing::kPos, "/v1/returns/quote", {{"order_id", "R-1"}, {"lines", {{{"line_no", 0}, {"qty", 1}}}}});
  CHECK(bad_return.status == 400);
  CHECK_STATUS(service.Post(testing::kPos, "/v1/returns/quote",
                     {{"order_id", "R-NONE"}, {"lines", {{{"line_no", 1}, {"qty", 1}}}}}), 404);
  // The two attempts at set_price are audited as rejected, invalid, with the field; nothing
  // else is appended (what is not JSON, or names no command, is not an attempt at one).
  CHECK(service.Head() == head + 2);
  const json audit = Body(service.Get(
      testing::kAuditor, "/v1/audit?principal=service:pricing-engine&outcome=rejected"));
  REQUIRE(audit["attempts"].size() == 2);
  CHECK(audit["attempts"][0]["command"] == "set_price");
  CHECK(audit["attempts"][0]["field"] == "args.colour");
  CHECK(audit["attempts"][1]["field"] == "args.amount_minor");
  CHECK(audit["attempts"][1]["seq"] == Body(wrong_type)["audit_seqs"][0]);
}

TEST_CASE("HTTP: body size, JSON shape, batch size, rate, connections and slow clients are bounded",
          "[http]") {
  HttpService service(/*generated_history=*/false,
                      "body_bytes_max = 4096\nbatch_commands_max = 3\nconnections_max = 4\n"
                      "requests_per_s = 1\nrequests_burst = 6\nidle_timeout_ms = 400\n"
                      "read_timeout_ms = 400\n");
  const std::uint64_t head = service.Head();
  // 413: the body is over the limit (and the server closes the connection).
  const http::HttpReply big =
      service.Send(testing::kPos, "POST", "/v1/carts/price", std::string(5000, ' '));
  CHECK(big.status == 413);
  CHECK(Body(big)["error"] == "body_too_large");
  // 400: nested too deep.
  const http::HttpReply deep = service.Send(testing::kPos, "POST", "/v1/carts/price",
                                            std::string(30, '[') + std::string(30, ']'));
  CHECK(deep.status == 400);
  CHECK(Body(deep)["error"] == "limit");
  // A batch over batch_commands_max.
  std::string batch = "[";
  for (int i = 0; i < 4; ++i) batch += std::string(i ? "," : "") + "{}";
  batch += "]";
  const http::HttpReply too_many = service.Send(testing::kAdmin, "POST", "/v1/commands", batch);
  CHECK(too_many.status == 400);
  CHECK(Body(too_many)["message"].get<std::string>().find("more than 3") != std::string::npos);
  CHECK(service.Head() == head);

  // The token bucket: a burst of 6, then 429 with Retry-After.
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 10; ++i) {
    const http::HttpReply r = service.Get(testing::kFinance, "/v1/publication");
    if (r.status == 429) {
      ++limited;
      retry_after = r.Header("Retry-After");
      CHECK(Body(r)["error"] == "rate_limited");
    }
  }
  CHECK(limited >= 3);
  CHECK(retry_after == "1");
  // Another principal has its own bucket.
  CHECK(service.Get(testing::kAuditor, "/v1/publication").status == 200);

  // A client that stops in the middle of its headers is cut off after the read deadline.
  {
    std::unique_ptr<http::HttpClient> slow = service.Connect();
    REQUIRE(slow->WriteRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n").ok());
    CHECK(slow->ClosedByServer(std::chrono::seconds(5)));
  }
  // Connections beyond connections_max get 503.
  std::vector<std::unique_ptr<http::HttpClient>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(service.Connect());
    REQUIRE(open.back()->Send("GET", "/healthz").ok());
  }
  std::unique_ptr<http::HttpClient> extra = service.Connect();
  Result<http::HttpReply> refused = extra->ReadReply();
  REQUIRE(refused.ok());
  CHECK(refused->status == 503);
  CHECK(Body(*refused)["error"] == "too_many_connections");
}

TEST_CASE("HTTP: SIGTERM finishes in-flight requests, exits 0, and loses no acknowledged append",
          "[http]") {
  HttpService service(/*generated_history=*/false);
  // The admin writes authority rules while the server is told to stop.
  std::vector<std::string> acknowledged;
  std::thread writer([&] {
    std::unique_ptr<http::HttpClient> client = service.Connect();
    for (int i = 0; i < 1000; ++i) {
      const std::string key = "rule-" + std::to_string(i);
      Result<http::HttpReply> r = client->Send(
          "POST", "/v1/authority-rules",
          json{{"rule_id", key}, {"source_system", "pos"}, {"event_family", "price"}, {"allow", false}}
              .dump(),
          {{"Authorization", std::string("Bearer ") + testing::kAdmin}, {"Idempotency-Key", key}});
      if (!r.ok()) return;
      if (r->status == 201) acknowledged.push_back(key);
      if (!r->keep_alive) return;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(service.Terminate() == 0);
  writer.join();
  CHECK_FALSE(acknowledged.empty());
  // Restarted on the same folder: every acknowledged rule is there.
  service.Start();
  const http::HttpReply rules =
      service.Get(testing::kAuditor, "/v1/events?stream=governance/authority&limit=10000");
  std::set<std::string> recorded;
  for (std::size_t at = 0; at < rules.body.size();) {
    const std::size_t end = rules.body.find('\n', at);
    recorded.insert(json::parse(rules.body.substr(at, end - at))["payload"]["rule_id"]);
    at = end + 1;
  }
  for (const std::string& key : acknowledged) {
    INFO(key);
    CHECK(recorded.count(key) == 1);
  }
  CHECK(Body(service.Get("", "/readyz"))["ready"] == true);
}

}  // namespace
}  // namespace tillroll
