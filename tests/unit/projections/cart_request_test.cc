// ReadCartRequest: a till's cart read in one pass, every field where it belongs, and each
// malformed field refused by its path, as POST /v1/carts/price and POST /v1/sales answer it.

#include "projections/cart_request.h"

#include <catch2/catch.hpp>

namespace tillroll::testing {
namespace {

constexpr std::int64_t kNow = 1'772'532'000'000'000'000;  // 2026-03-03T10:00:00Z

struct Read {
  Status status;
  checkout::Cart cart;
  std::vector<std::string> coupon_codes;
};

Read ReadCart(std::string_view text) {
  Read r;
  r.status = projections::ReadCartRequest(text, kNow, r.cart, r.coupon_codes);
  return r;
}

// The message of a refusal, which must be InvalidArgument.
std::string Refusal(std::string_view text) {
  const Read r = ReadCart(text);
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == StatusCode::kInvalidArgument);
  return r.status.message();
}

TEST_CASE("a full cart is read field by field", "[cart_request]") {
  const Read r = ReadCart(R"({
    "currency": "SEK", "channel": "pos", "region": "se-south", "store": "store-07",
    "customer": {"customer_id": "C-1", "segments": ["gold", "staff"], "note": {"x": [1]}},
    "coupon_codes": ["WELCOME-1", "SPRING"],
    "at": "2026-03-10T12:00:00Z",
    "unknown": [{"deep": [[1, 2], {"a": null}]}, 3],
    "lines": [{"sku": "SKU-1", "qty": 2, "comment": ["kept", {"out": 1}]},
              {"sku": "SKU-2", "qty": 1, "unit_price_minor": 199,
               "override_reason": "damaged packaging"}]})");
  REQUIRE(r.status.ok());
  const checkout::Cart& c = r.cart;
  CHECK(c.currency == "SEK");
  CHECK(c.channel == "pos");
  CHECK(c.region == "se-south");
  CHECK(c.store == "store-07");
  CHECK(c.customer_id == "C-1");
  CHECK(c.segments == std::vector<std::string>{"gold", "staff"});
  CHECK(r.coupon_codes == std::vector<std::string>{"WELCOME-1", "SPRING"});
  CHECK(c.at_ns == 1'773'144'000'000'000'000);
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[0].sku == "SKU-1");
  CHECK(c.lines[0].qty == 2);
  CHECK(c.lines[0].override_reason.empty());
  CHECK(c.lines[1].sku == "SKU-2");
  CHECK(c.lines[1].unit_price_minor == 199);
  CHECK(c.lines[1].override_reason == "damaged packaging");
}

TEST_CASE("what a cart leaves out takes its default", "[cart_request]") {
  const Read r = ReadCart(R"({"lines": [{"qty": 1, "sku": "SKU-1"}]})");
  REQUIRE(r.status.ok());
  CHECK(r.cart.currency == "EUR");
  CHECK(r.cart.at_ns == kNow);
  CHECK(r.cart.channel.empty());
  CHECK(r.coupon_codes.empty());
  // UTC nanoseconds are taken as they are; a key given twice keeps its last value.
  const Read twice = ReadCart(
      R"({"at": 5, "lines": [{"sku": "A", "qty": 1}], "lines": [{"sku": "B", "qty": 3}]})");
  REQUIRE(twice.status.ok());
  CHECK(twice.cart.at_ns == 5);
  REQUIRE(twice.cart.lines.size() == 1);
  CHECK(twice.cart.lines[0].sku == "B");
}

TEST_CASE("a reason without an override price does not make the line overridden",
          "[cart_request]") {
  const Read r = ReadCart(R"({"lines": [{"sku": "A", "qty": 1, "override_reason": "x"}]})");
  REQUIRE(r.status.ok());
  CHECK(r.cart.lines[0].override_reason.empty());
  CHECK(r.cart.lines[0].unit_price_minor == 0);
  // Nor does one that is not text, whatever its shape: the line and the lines after it are
  // read as they stand.
  for (const char* reason : {"{}", "[\"x\", {\"y\": [1]}]", "{\"why\": \"x\"}"}) {
    INFO(reason);
    const Read shaped =
        ReadCart(std::string(R"({"lines": [{"sku": "A", "override_reason": )") + reason +
                 R"(, "qty": 2}, {"sku": "B", "qty": 1}], "store": "s1"})");
    REQUIRE(shaped.status.ok());
    REQUIRE(shaped.cart.lines.size() == 2);
    CHECK(shaped.cart.lines[0].qty == 2);
    CHECK(shaped.cart.lines[0].override_reason.empty());
    CHECK(shaped.cart.lines[1].sku == "B");
    CHECK(shaped.cart.store == "s1");
  }
}

TEST_CASE("each malformed field is refused by its path", "[cart_request]") {
  CHECK(Refusal("{\"lines\": [").starts_with("cart: not JSON: "));
  CHECK(Refusal(R"({"lines": [{"sku": "A", "qty": 1}]} trailing)").starts_with("cart: not JSON"));
  CHECK(Refusal("[1, 2]") == "cart: expected an object");
  CHECK(Refusal("42") == "cart: expected an object");
  CHECK(Refusal(R"({"currency": 978, "lines": []})") == "currency: expected a string");
  CHECK(Refusal(R"({"store": ["s"]})") == "store: expected a string");
  CHECK(Refusal(R"({"customer": "C-1"})") == "customer: expected an object");
  CHECK(Refusal(R"({"customer": [1]})") == "customer: expected an object");
  CHECK(Refusal(R"({"customer": {"customer_id": 7}})") ==
        "customer.customer_id: expected a string");
  CHECK(Refusal(R"({"customer": {"segments": "gold"}})") == "customer.segments: expected a list");
  CHECK(Refusal(R"({"customer": {"segments": ["gold", 1]}})") ==
        "customer.segments[1]: expected a string");
  CHECK(Refusal(R"({"customer": {"segments": ["gold", ["x"]]}})") ==
        "customer.segments[1]: expected a string");
  CHECK(Refusal(R"({"at": 1.5})") == "at: expected ISO 8601 or UTC ns");
  CHECK(Refusal(R"({"at": 18446744073709551615})") == "at: expected ISO 8601 or UTC ns");
  CHECK(Refusal(R"({"at": "yesterday"})").starts_with("at: "));
  CHECK(Refusal(R"({"currency": "EUR"})") == "lines: required: at least one line");
  CHECK(Refusal(R"({"lines": []})") == "lines: required: at least one line");
  CHECK(Refusal(R"({"lines": {"sku": "A"}})") == "lines: required: at least one line");
  CHECK(Refusal(R"({"lines": [{"sku": "A", "qty": 1}, 7]})") == "lines[1]: expected an object");
  CHECK(Refusal(R"({"lines": [{"sku": "A", "qty": 1}, [7]]})") == "lines[1]: expected an object");
  CHECK(Refusal(R"({"lines": [{"qty": 1}]})") == "lines[0].sku: required");
  CHECK(Refusal(R"({"lines": [{"sku": 12, "qty": 1}]})") == "lines[0].sku: required");
  for (const char* qty : {"0", "-1", "1000001", "1.0", "\"2\"", "null", "99999999999999999999"}) {
    INFO(qty);
    CHECK(Refusal(std::string(R"({"lines": [{"sku": "A", "qty": )") + qty + "}]}") ==
          "lines[0].qty: expected an integer in 1..1000000");
  }
  CHECK(Refusal(R"({"lines": [{"sku": "A"}]})") ==
        "lines[0].qty: expected an integer in 1..1000000");
  CHECK(Refusal(R"({"lines": [{"sku": "A", "qty": 1, "unit_price_minor": -5,
                               "override_reason": "x"}]})") ==
        "lines[0].unit_price_minor: expected a non-negative integer");
  CHECK(Refusal(R"({"lines": [{"sku": "A", "qty": 1, "unit_price_minor": 5}]})") ==
        "lines[0].override_reason: required with a unit price override");
  CHECK(Refusal(R"({"lines": [{"sku": "A", "qty": 1, "unit_price_minor": 5,
                               "override_reason": ""}]})") ==
        "lines[0].override_reason: required with a unit price override");
  CHECK(Refusal(R"({"lines": [{"sku": "A", "qty": 1, "unit_price_minor": 5,
                               "override_reason": 3}]})") ==
        "lines[0].override_reason: required with a unit price override");
  CHECK(Refusal(R"({"lines": [{"sku": "A", "qty": 1, "unit_price_minor": 5,
                               "override_reason": ["x"]}]})") ==
        "lines[0].override_reason: required with a unit price override");
  CHECK(Refusal(R"({"lines": [{"sku": ["A"], "qty": 1}]})") == "lines[0].sku: required");
  CHECK(Refusal(R"({"lines": [{"sku": "A", "qty": {"n": 1}}]})") ==
        "lines[0].qty: expected an integer in 1..1000000");
  CHECK(Refusal(R"({"coupon_codes": "SPRING"})") == "coupon_codes: expected a list");
  CHECK(Refusal(R"({"coupon_codes": ["SPRING", {}]})") == "coupon_codes[1]: expected a string");
}

}  // namespace
}  // namespace tillroll::testing
