// The API's read routes: point-in-time queries over the projections, the audit trail and the
// log. Queries over the projections take known_at (what the ledger had recorded by then), and
// those whose answer has a valid time (prices, live promotions, liabilities, authority) also
// valid_at; ISO 8601 or UTC ns, default now.

#include <charconv>

#include "adapters/http/api.h"
#include "adapters/http/api_support.h"
#include "engine/limits.h"
#include "projections/query_json.h"

namespace tillroll::http {
namespace {

using json = nlohmann::ordered_json;
using projections::AsOf;

Result<AsOf> AsOfParams(const HttpRequest& request) {
  Result<std::int64_t> valid_at = TimeParam(request, "valid_at");
  if (!valid_at.ok()) return valid_at.status();
  Result<std::int64_t> known_at = TimeParam(request, "known_at");
  if (!known_at.ok()) return known_at.status();
  return AsOf{*valid_at, *known_at};
}

// A whole-number query parameter in [lo, hi]; `fallback` when absent.
Result<std::uint64_t> NumberParam(const HttpRequest& request, std::string_view name,
                                  std::uint64_t fallback, std::uint64_t lo, std::uint64_t hi) {
  std::optional<std::string_view> text = request.Param(name);
  if (!text || text->empty()) return fallback;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < lo || value > hi) {
    return Status::InvalidArgument(std::string(name) + ": expected a whole number in " +
                                   std::to_string(lo) + ".." + std::to_string(hi));
  }
  return value;
}

// `param` names the query parameter in the error.
Result<events::PriceType> PriceTypeParam(std::string_view param, std::string_view name) {
  for (auto type : events::EnumValuesPriceType()) {
    if (name == events::EnumNamePriceType(type)) return type;
  }
  return Status::InvalidArgument(std::string(param) + ": expected " +
                                 (param == "type" ? "selling, " : "") +
                                 "List, Markdown, Cost or Floor, got '" + std::string(name) + "'");
}

HttpResponse Answer(Result<std::string> json_line) {
  if (!json_line.ok()) return StatusResponse(json_line.status());
  return HttpResponse{.body = std::move(*json_line)};
}

std::string ParamOr(const HttpRequest& request, std::string_view name) {
  return std::string(request.Param(name).value_or(""));
}

}  // namespace

HttpResponse Api::GetPrice(const Call& call) const {
  const HttpRequest& req = call.request;
  Result<AsOf> as_of = AsOfParams(req);
  if (!as_of.ok()) return StatusResponse(as_of.status());
  const std::string channel = ParamOr(req, "channel"), region = ParamOr(req, "region"),
                    store = ParamOr(req, "store"), type = ParamOr(req, "type");
  const projections::PriceQuery query{call.Param("sku"), channel,           region,
                                      store,             as_of->valid_at_ns, as_of->known_at_ns};
  auto book = runner_.price_book();
  Result<projections::PriceAnswer> price = Status::Internal("unset");
  if (type.empty() || type == "selling") {
    price = book->SellingPrice(query);
  } else {
    Result<events::PriceType> parsed = PriceTypeParam("type", type);
    if (!parsed.ok()) return StatusResponse(parsed.status());
    price = book->PriceOfType(query, *parsed);
  }
  if (!price.ok()) return StatusResponse(price.status());
  return HttpResponse{.body = projections::PriceJson(*price, *as_of)};
}

HttpResponse Api::GetPriceBook(const Call& call) const {
  const HttpRequest& req = call.request;
  Result<AsOf> as_of = AsOfParams(req);
  if (!as_of.ok()) return StatusResponse(as_of.status());
  const std::string skus = ParamOr(req, "skus");
  if (skus.empty()) return ErrorResponse(400, "invalid", "required: skus=SKU,SKU,...", "skus");
  const std::string channel = ParamOr(req, "channel"), region = ParamOr(req, "region"),
                    store = ParamOr(req, "store");
  auto book = runner_.price_book();
  std::string out = "{\"prices\":[";
  std::size_t count = 0;
  for (std::size_t at = 0; at <= skus.size();) {
    const std::size_t end = std::min(skus.find(',', at), skus.size());
    const std::string_view sku = std::string_view(skus).substr(at, end - at);
    at = end + 1;
    if (sku.empty()) continue;
    if (++count > limits::http::kPriceBookSkusMax) {
      return ErrorResponse(400, "limit",
                           "one slice names at most " +
                               std::to_string(limits::http::kPriceBookSkusMax) + " SKUs",
                           "skus");
    }
    Result<projections::PriceAnswer> price = book->SellingPrice(
        {sku, channel, region, store, as_of->valid_at_ns, as_of->known_at_ns});
    if (count > 1) out += ",";
    if (price.ok()) {
      out += projections::PriceJson(*price, *as_of);
    } else {
      out += json{{"sku", sku}, {"error", "not_found"}, {"message", price.status().message()}}
                 .dump();
    }
  }
  out += "]}";
  return HttpResponse{.body = std::move(out)};
}

HttpResponse Api::GetPromotions(const Call& call) const {
  const HttpRequest& req = call.request;
  Result<AsOf> as_of = AsOfParams(req);
  if (!as_of.ok()) return StatusResponse(as_of.status());
  auto promotions = runner_.promotions();
  if (req.Param("active").value_or("false") != "true") {
    return HttpResponse{.body = projections::PromotionListJson(*promotions, *as_of)};
  }
  const std::string channel = ParamOr(req, "channel"), region = ParamOr(req, "region"),
                    store = ParamOr(req, "store");
  return HttpResponse{.body = projections::LivePromotionsJson(
                          promotions->Live({channel, region, store, as_of->valid_at_ns,
                                            as_of->known_at_ns}),
                          *as_of)};
}

HttpResponse Api::GetPromotion(const Call& call) const {
  Result<AsOf> as_of = AsOfParams(call.request);
  if (!as_of.ok()) return StatusResponse(as_of.status());
  Result<std::uint64_t> version = NumberParam(call.request, "version", 0, 1, UINT32_MAX);
  if (!version.ok()) return StatusResponse(version.status());
  Result<projections::PromotionView> view =
      runner_.promotions()->Describe(call.Param("promotion_id"), as_of->known_at_ns);
  if (!view.ok()) return StatusResponse(view.status());
  return Answer(projections::PromotionJson(
      *view,
      *version == 0 ? std::nullopt : std::optional<std::uint32_t>(static_cast<std::uint32_t>(*version)),
      *as_of));
}

HttpResponse Api::GetOrder(const Call& call) const {
  Result<AsOf> as_of = AsOfParams(call.request);
  if (!as_of.ok()) return StatusResponse(as_of.status());
  const std::string order_id(call.Param("order_id"));
  if (std::optional<HttpResponse> refused = CheckOrderStore(call, order_id)) return *refused;
  auto order = runner_.orders()->Find(order_id, as_of->known_at_ns);
  if (!order.ok()) return StatusResponse(order.status());
  return Answer(projections::OrderContextJson(log_, *order, *as_of));
}

HttpResponse Api::GetLiabilities(const Call& call) const {
  Result<AsOf> as_of = AsOfParams(call.request);
  if (!as_of.ok()) return StatusResponse(as_of.status());
  const std::string promotion_id = ParamOr(call.request, "promotion_id");
  auto rows = runner_.liabilities()->AsOf(promotion_id, as_of->valid_at_ns, as_of->known_at_ns);
  if (!rows.ok()) return StatusResponse(rows.status());
  if (rows->empty() && !promotion_id.empty()) {
    return ErrorResponse(404, "not_found", "no liabilities for promotion " + promotion_id);
  }
  return HttpResponse{.body = projections::LiabilitiesJson(*rows, *as_of)};
}

HttpResponse Api::GetPublication(const Call& call) const {
  Result<AsOf> as_of = AsOfParams(call.request);
  if (!as_of.ok()) return StatusResponse(as_of.status());
  auto rows = runner_.publication()->AsOf(ParamOr(call.request, "artifact"),
                                          ParamOr(call.request, "destination"),
                                          as_of->known_at_ns);
  if (!rows.ok()) return StatusResponse(rows.status());
  return HttpResponse{.body = projections::PublicationJson(*rows, *as_of)};
}

HttpResponse Api::GetAuthority(const Call& call) const {
  const HttpRequest& req = call.request;
  Result<AsOf> as_of = AsOfParams(req);
  if (!as_of.ok()) return StatusResponse(as_of.status());
  std::optional<events::PriceType> type;
  if (const std::string name = ParamOr(req, "price_type"); !name.empty()) {
    Result<events::PriceType> parsed = PriceTypeParam("price_type", name);
    if (!parsed.ok()) return StatusResponse(parsed.status());
    type = *parsed;
  }
  const projections::AuthorityAnswer answer = runner_.governance()->Authority(
      ParamOr(req, "source_system"), ParamOr(req, "family"), type, ParamOr(req, "channel"),
      ParamOr(req, "region"), as_of->valid_at_ns, as_of->known_at_ns);
  return HttpResponse{.body = projections::AuthorityJson(answer, *as_of)};
}

HttpResponse Api::GetAudit(const Call& call) const {
  const HttpRequest& req = call.request;
  projections::AuditFilter filter{ParamOr(req, "principal"), ""};
  const std::string outcome = ParamOr(req, "outcome");
  if (!outcome.empty()) {
    std::optional<std::string> name = projections::AuditOutcomeName(outcome);
    if (!name) {
      return ErrorResponse(400, "invalid", "expected accepted, rejected or held", "outcome");
    }
    filter.outcome = *name;
  }
  Result<std::uint64_t> limit =
      NumberParam(req, "limit", 1000, 1, limits::http::kEventsPageMax);
  if (!limit.ok()) return StatusResponse(limit.status());
  Result<std::uint64_t> from = NumberParam(req, "from", 1, 1, UINT64_MAX);
  if (!from.ok()) return StatusResponse(from.status());
  Sequence start = *from;
  if (req.Param("since")) {
    Result<std::int64_t> since = TimeParam(req, "since");
    if (!since.ok()) return StatusResponse(since.status());
    Result<Sequence> first = log_.FirstRecordedAtOrAfter(*since);
    if (!first.ok()) return StatusResponse(first.status());
    start = std::max(start, *first);
  }
  const Sequence head = log_.Head().seq;
  std::string rows;
  std::uint64_t count = 0;
  Sequence next = 0;
  const Status scanned = log_.Replay(start, head + 1, [&](Sequence seq, std::string_view bytes) {
    if (count == *limit) {
      next = seq;
      return false;
    }
    std::optional<std::string> row = projections::AuditRowJson(seq, bytes, filter);
    if (!row) return true;
    rows += (count++ == 0 ? "" : ",") + *row;
    return true;
  });
  if (!scanned.ok()) return StatusResponse(scanned);
  std::string body = "{\"attempts\":[" + rows + "]";
  if (next != 0) body += ",\"next_from\":" + std::to_string(next);
  body += "}";
  return HttpResponse{.body = std::move(body)};
}

HttpResponse Api::GetEvents(const Call& call) const {
  const HttpRequest& req = call.request;
  Result<std::uint64_t> from = NumberParam(req, "from", 1, 1, UINT64_MAX);
  if (!from.ok()) return StatusResponse(from.status());
  Result<std::uint64_t> to = NumberParam(req, "to", UINT64_MAX, 1, UINT64_MAX);
  if (!to.ok()) return StatusResponse(to.status());
  Result<std::uint64_t> limit =
      NumberParam(req, "limit", 1000, 1, limits::http::kEventsPageMax);
  if (!limit.ok()) return StatusResponse(limit.status());
  const Sequence last = std::min<Sequence>(*to, log_.Head().seq);
  const std::string stream = ParamOr(req, "stream");
  EventJson& converter = ThreadEventJson();
  HttpResponse response{.content_type = "application/x-ndjson"};
  std::uint64_t count = 0;
  Sequence next = 0;
  auto add = [&](const EventRecord& record) -> Status {
    if (count == *limit) {
      next = record.seq;
      return Status::Ok();
    }
    Result<std::string> text = converter.ToJson(record.bytes);
    if (!text.ok()) return text.status();
    response.body += *text;
    response.body += "\n";
    ++count;
    return Status::Ok();
  };
  if (!stream.empty()) {
    // Pages of the stream by version, skipping the events before `from`.
    std::uint64_t version = 1;
    while (next == 0) {
      Result<std::vector<EventRecord>> page = log_.ReadStream(stream, version, *limit + 1);
      if (!page.ok()) return StatusResponse(page.status());
      for (const EventRecord& record : *page) {
        if (record.seq < *from || record.seq > last || next != 0) continue;
        if (Status s = add(record); !s.ok()) return StatusResponse(s);
      }
      if (page->size() < *limit + 1) break;
      version += page->size();
    }
  } else if (*from <= last) {
    Result<std::vector<EventRecord>> page =
        log_.Read(*from, static_cast<std::size_t>(std::min<Sequence>(*limit + 1, last - *from + 1)));
    if (!page.ok()) return StatusResponse(page.status());
    for (const EventRecord& record : *page) {
      if (Status s = add(record); !s.ok()) return StatusResponse(s);
    }
  }
  if (next != 0) {
    response.headers.emplace_back("X-Next-From", std::to_string(next));
    std::string link = "/v1/events?from=" + std::to_string(next) + "&limit=" +
                       std::to_string(*limit);
    if (*to != UINT64_MAX) link += "&to=" + std::to_string(*to);
    if (!stream.empty()) link += "&stream=" + stream;
    response.headers.emplace_back("Link", "<" + link + ">; rel=\"next\"");
  }
  return response;
}

HttpResponse Api::GetVerify(const Call&) const {
  const VerifyReport report = log_.Verify();
  json body = {{"ok", report.status.ok()},
               {"events", report.event_count},
               {"head_seq", report.head.seq},
               {"head_hash", report.head.hash.ToHex()}};
  if (!report.status.ok()) {
    body["first_bad_seq"] = report.first_bad_seq;
    body["message"] = report.status.message();
  }
  return HttpResponse{.body = body.dump()};
}

}  // namespace tillroll::http
