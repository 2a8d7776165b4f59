#ifndef TILLROLL_PROJECTIONS_CART_REQUEST_H_
#define TILLROLL_PROJECTIONS_CART_REQUEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/checkout.h"
#include "engine/status.h"

namespace tillroll::projections {

// A cart as a till or a web shop sends it (the body of POST /v1/carts/price; see
// cart_quote.h for its fields), read into `cart` and `coupon_codes` in one pass over the
// text, without building a document: carts are read on every pricing request. `cart.at_ns`
// is `now_ns` unless the cart says "at"; the currency is EUR unless it says one. Fields it
// does not know are skipped. InvalidArgument names the field ("lines[2].qty: ...", or
// "cart: not JSON: ..." for text that is not JSON).
Status ReadCartRequest(std::string_view text, std::int64_t now_ns, checkout::Cart& cart,
                       std::vector<std::string>& coupon_codes);

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_CART_REQUEST_H_
