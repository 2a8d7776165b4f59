#include "projections/cart_request.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "engine/utc_time.h"

namespace tillroll::projections {
namespace {

constexpr std::int64_t kQtyMax = 1'000'000;

Status Bad(const std::string& field, const std::string& reason) {
  return Status::InvalidArgument(field + ": " + reason);
}

// One JSON scalar as the parser hands it over.
struct Scalar {
  enum class Type { kNull, kBool, kInteger, kFloat, kString };
  Type type = Type::kNull;
  bool integer_fits = false;  // kInteger: within int64
  std::int64_t integer = 0;
  std::string* text = nullptr;  // kString: the parser's string, which may be moved from

  // The value as an int64 when it is an integer that fits one.
  std::optional<std::int64_t> Int() const {
    if (type != Type::kInteger || !integer_fits) return std::nullopt;
    return integer;
  }
};

// nlohmann's SAX events for a cart, read straight into the Cart. Every method returns false
// to stop the parse at the first problem, which `status` then says.
class CartReader {
 public:
  using Json = nlohmann::json;

  CartReader(std::int64_t now_ns, checkout::Cart& cart, std::vector<std::string>& coupon_codes)
      : cart_(cart), coupon_codes_(coupon_codes) {
    cart_.at_ns = now_ns;
  }

  // The checks that need the whole cart; after a parse that went through.
  Status Finish() {
    if (!lines_seen_ || cart_.lines.empty()) return Bad("lines", "required: at least one line");
    if (cart_.currency.empty()) cart_.currency = "EUR";
    return Status::Ok();
  }

  Status status;

  // The SAX interface (nlohmann::json_sax).
  bool null() { return Value({}); }
  bool boolean(bool) { return Value({.type = Scalar::Type::kBool}); }
  bool number_integer(Json::number_integer_t v) {
    return Value({.type = Scalar::Type::kInteger, .integer_fits = true, .integer = v});
  }
  bool number_unsigned(Json::number_unsigned_t v) {
    const bool fits = v <= static_cast<Json::number_unsigned_t>(INT64_MAX);
    return Value({.type = Scalar::Type::kInteger,
                  .integer_fits = fits,
                  .integer = fits ? static_cast<std::int64_t>(v) : 0});
  }
  bool number_float(Json::number_float_t, const Json::string_t&) {
    return Value({.type = Scalar::Type::kFloat});
  }
  bool string(Json::string_t& v) { return Value({.type = Scalar::Type::kString, .text = &v}); }
  bool binary(Json::binary_t&) { return Value({}); }  // not in JSON text
  bool start_object(std::size_t) { return Open(false); }
  bool key(Json::string_t& k) {
    key_.swap(k);
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(true); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    status = Bad("cart", std::string("not JSON: ") + e.what());
    return false;
  }

 private:
  // What a container is, by where it stands in the cart.
  enum class Place { kRoot, kCustomer, kSegments, kLines, kLine, kCouponCodes, kSkipped };
  struct Frame {
    Place place;
    std::size_t elements = 0;  // arrays: how many elements have started
  };

  bool Fail(Status s) {
    status = std::move(s);
    return false;
  }
  std::string LinePath() const { return "lines[" + std::to_string(line_index_) + "]"; }
  std::string Element(const char* array) const {
    return std::string(array) + "[" + std::to_string(stack_.back().elements - 1) + "]";
  }

  // A value starts in the innermost container: counted when that is a list the cart reads.
  void Begin() {
    Frame& f = stack_.back();
    if (f.place == Place::kSegments || f.place == Place::kLines || f.place == Place::kCouponCodes) {
      ++f.elements;
    }
  }

  bool Open(bool array) {
    if (stack_.empty()) {
      if (array) return Fail(Bad("cart", "expected an object"));
      stack_.push_back({Place::kRoot});
      return true;
    }
    Begin();
    const Place here = stack_.back().place;
    if (here == Place::kRoot && key_ == "customer" && !array) {
      cart_.customer_id.clear();
      cart_.segments.clear();
      stack_.push_back({Place::kCustomer});
    } else if (here == Place::kRoot && key_ == "lines" && array) {
      cart_.lines.clear();
      lines_seen_ = true;
      stack_.push_back({Place::kLines});
    } else if (here == Place::kRoot && key_ == "coupon_codes" && array) {
      coupon_codes_.clear();
      stack_.push_back({Place::kCouponCodes});
    } else if (here == Place::kCustomer && key_ == "segments" && array) {
      cart_.segments.clear();
      stack_.push_back({Place::kSegments});
    } else if (here == Place::kLines && !array) {
      line_index_ = stack_.back().elements - 1;
      line_ = checkout::CartLine{};
      line_has_sku_ = line_has_qty_ = line_has_price_ = false;
      line_reason_is_text_ = false;
      stack_.push_back({Place::kLine});
    } else {
      // Where no such container belongs: refused as a value of the wrong kind would be, or else
      // skipped whole (a field the cart does not know, or a reason that is not text).
      if (here != Place::kSkipped && !Assign({})) return false;
      stack_.push_back({Place::kSkipped});
    }
    return true;
  }

  bool Close() {
    const Place closing = stack_.back().place;
    stack_.pop_back();
    if (closing != Place::kLine) return true;
    const std::string path = LinePath();
    if (!line_has_sku_) return Fail(Bad(path + ".sku", "required"));
    if (!line_has_qty_) return Fail(Bad(path + ".qty", "expected an integer in 1..1000000"));
    if (line_has_price_) {
      if (!line_reason_is_text_ || line_.override_reason.empty()) {
        return Fail(Bad(path + ".override_reason", "required with a unit price override"));
      }
    } else {
      line_.override_reason.clear();  // a reason without an override price is not one
    }
    cart_.lines.push_back(std::move(line_));
    return true;
  }

  bool Value(const Scalar& v) {
    if (stack_.empty()) return Fail(Bad("cart", "expected an object"));
    Begin();
    return Assign(v);
  }

  // A scalar where it stands, or a container where a scalar belongs (an empty Scalar: kNull).
  bool Assign(const Scalar& v) {
    const bool text = v.type == Scalar::Type::kString;
    switch (stack_.back().place) {
      case Place::kRoot:
        if (key_ == "currency" || key_ == "channel" || key_ == "region" || key_ == "store") {
          if (!text) return Fail(Bad(key_, "expected a string"));
          std::string& into = key_ == "currency"  ? cart_.currency
                              : key_ == "channel" ? cart_.channel
                              : key_ == "region"  ? cart_.region
                                                  : cart_.store;
          into = std::move(*v.text);
        } else if (key_ == "at") {
          if (v.Int()) {
            cart_.at_ns = *v.Int();
          } else if (text) {
            Result<std::int64_t> at = ParseUtcTimeNs(*v.text);
            if (!at.ok()) return Fail(Bad("at", at.status().message()));
            cart_.at_ns = *at;
          } else {
            return Fail(Bad("at", "expected ISO 8601 or UTC ns"));
          }
        } else if (key_ == "customer") {
          return Fail(Bad("customer", "expected an object"));
        } else if (key_ == "lines") {
          return Fail(Bad("lines", "required: at least one line"));
        } else if (key_ == "coupon_codes") {
          return Fail(Bad("coupon_codes", "expected a list"));
        }
        return true;
      case Place::kCustomer:
        if (key_ == "customer_id") {
          if (!text) return Fail(Bad("customer.customer_id", "expected a string"));
          cart_.customer_id = std::move(*v.text);
        } else if (key_ == "segments") {
          return Fail(Bad("customer.segments", "expected a list"));
        }
        return true;
      case Place::kSegments:
        if (!text) return Fail(Bad(Element("customer.segments"), "expected a string"));
        cart_.segments.push_back(std::move(*v.text));
        return true;
      case Place::kCouponCodes:
        if (!text) return Fail(Bad(Element("coupon_codes"), "expected a string"));
        coupon_codes_.push_back(std::move(*v.text));
        return true;
      case Place::kLines:
        line_index_ = stack_.back().elements - 1;
        return Fail(Bad(LinePath(), "expected an object"));
      case Place::kLine:
        return LineField(v);
      case Place::kSkipped:
        return true;
    }
    return true;
  }

  bool LineField(const Scalar& v) {
    if (key_ == "sku") {
      if (v.type != Scalar::Type::kString) return Fail(Bad(LinePath() + ".sku", "required"));
      line_.sku = std::move(*v.text);
      line_has_sku_ = true;
    } else if (key_ == "qty") {
      const std::optional<std::int64_t> qty = v.Int();
      if (!qty || *qty < 1 || *qty > kQtyMax) {
        return Fail(Bad(LinePath() + ".qty", "expected an integer in 1..1000000"));
      }
      line_.qty = static_cast<std::int32_t>(*qty);
      line_has_qty_ = true;
    } else if (key_ == "unit_price_minor") {
      const std::optional<std::int64_t> price = v.Int();
      if (!price || *price < 0) {
        return Fail(Bad(LinePath() + ".unit_price_minor", "expected a non-negative integer"));
      }
      line_.unit_price_minor = *price;
      line_has_price_ = true;
    } else if (key_ == "override_reason") {
      line_reason_is_text_ = v.type == Scalar::Type::kString;
      if (line_reason_is_text_) {
        line_.override_reason = std::move(*v.text);
      } else {
        line_.override_reason.clear();
      }
    }
    return true;
  }

  checkout::Cart& cart_;
  std::vector<std::string>& coupon_codes_;
  std::vector<Frame> stack_;
  std::string key_;  // the last key read
  bool lines_seen_ = false;
  std::size_t line_index_ = 0;
  checkout::CartLine line_;
  bool line_has_sku_ = false, line_has_qty_ = false, line_has_price_ = false;
  bool line_reason_is_text_ = false;
};

}  // namespace

Status ReadCartRequest(std::string_view text, std::int64_t now_ns, checkout::Cart& cart,
                       std::vector<std::string>& coupon_codes) {
  CartReader reader(now_ns, cart, coupon_codes);
  if (!nlohmann::json::sax_parse(text, &reader)) {
    return reader.status.ok() ? Bad("cart", "not JSON") : reader.status;
  }
  return reader.Finish();
}

}  // namespace tillroll::projections
