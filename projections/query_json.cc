#include "projections/query_json.h"

#include <map>
#include <nlohmann/json.hpp>

#include "engine/event_json.h"
#include "engine/utc_time.h"

namespace tillroll::projections {
namespace {

using json = nlohmann::ordered_json;

json Time(std::int64_t ns) { return ns == 0 ? json() : json(FormatUtcTime(ns)); }

json AsOfJson(const AsOf& as_of) {
  return {{"valid_at", Time(as_of.valid_at_ns)},
          {"valid_at_ns", as_of.valid_at_ns},
          {"known_at", Time(as_of.known_at_ns)},
          {"known_at_ns", as_of.known_at_ns}};
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The payload of a sealed event as FlatBuffers JSON.
Result<json> PayloadJson(std::string_view event_bytes) {
  EventJson converter;
  Result<std::string> text = converter.ToJson(event_bytes);
  if (!text.ok()) return text.status();
  json event = json::parse(*text, nullptr, false);
  if (event.is_discarded()) return Status::Internal("event JSON does not parse");
  return event.value("payload", json::object());
}

json StepJson(const PromotionStepRecord& s) {
  json j = {{"step", PromotionStepName(s.step)},
            {"seq", s.seq},
            {"recorded_at", Time(s.recorded_at_ns)},
            {"principal", s.principal}};
  if (!s.note.empty()) j["note"] = s.note;
  if (s.step == PromotionStep::kPublished) {
    j["window"] = {{"from", Time(s.window_from_ns)}, {"to", Time(s.window_to_ns)}};
    j["rule_snapshot_seq"] = s.rule_snapshot_seq;
  }
  return j;
}

}  // namespace

std::string PriceJson(const PriceAnswer& p, const AsOf& as_of) {
  json j = {
      {"sku", p.sku},
      {"price_type", events::EnumNamePriceType(p.price_type)},
      {"scope", {{"level", events::EnumNameScopeLevel(p.scope_level)}, {"name", p.scope_name}}},
      {"amount_minor", p.amount_minor},
      {"currency", p.currency},
      {"valid_from", Time(p.valid_from_ns)},
      {"valid_to", Time(p.valid_to_ns)},
      {"price_event_seq", p.seq},
      {"recorded_at", Time(p.recorded_at_ns)},
      {"as_of", AsOfJson(as_of)}};
  return Dump(j);
}

Result<std::string> PromotionJson(const PromotionView& view, std::optional<std::uint32_t> version,
                                  const AsOf& as_of) {
  json versions = json::array();
  for (const PromotionVersionView& v : view.versions) {
    if (version && v.version != *version) continue;
    Result<json> drafted = PayloadJson(v.rule_event);
    if (!drafted.ok()) return drafted.status();
    json steps = json::array();
    for (const PromotionStepRecord& s : v.steps) steps.push_back(StepJson(s));
    versions.push_back({{"version", v.version},
                        {"name", v.name},
                        {"state", v.state},
                        {"rule_snapshot_seq", v.rule_snapshot_seq},
                        {"steps", std::move(steps)},
                        {"rule", drafted->value("rule", json::object())}});
  }
  if (version && versions.empty()) {
    return Status::NotFound("promotion " + view.promotion_id + " has no version " +
                            std::to_string(*version));
  }
  json j = {{"promotion_id", view.promotion_id},
            {"live_version", view.live_version == 0 ? json() : json(view.live_version)},
            {"versions", std::move(versions)},
            {"as_of", AsOfJson(as_of)}};
  return Dump(j);
}

std::string LivePromotionsJson(const std::vector<LivePromotion>& live, const AsOf& as_of) {
  json list = json::array();
  for (const LivePromotion& p : live) {
    list.push_back({{"promotion_id", p.promotion_id},
                    {"version", p.version},
                    {"name", p.name},
                    {"rule_snapshot_seq", p.rule_snapshot_seq},
                    {"window", {{"from", Time(p.window_from_ns)}, {"to", Time(p.window_to_ns)}}}});
  }
  return Dump({{"promotions", std::move(list)}, {"as_of", AsOfJson(as_of)}});
}

std::string PromotionListJson(const Promotions& promotions, const AsOf& as_of) {
  json list = json::array();
  for (const std::string& id : promotions.Ids(as_of.known_at_ns)) {
    Result<PromotionView> view = promotions.Describe(id, as_of.known_at_ns);
    if (!view.ok()) continue;
    const PromotionVersionView& last = view->versions.back();
    list.push_back({{"promotion_id", id},
                    {"name", last.name},
                    {"versions", view->versions.size()},
                    {"latest_version_state", last.state},
                    {"live_version", view->live_version == 0 ? json() : json(view->live_version)}});
  }
  return Dump({{"promotions", std::move(list)}, {"as_of", AsOfJson(as_of)}});
}

std::string LiabilitiesJson(const std::vector<LiabilityRow>& rows, const AsOf& as_of) {
  json list = json::array();
  for (const LiabilityRow& r : rows) {
    list.push_back({{"promotion_id", r.promotion_id},
                    {"version", r.version},
                    {"party", r.party},
                    {"currency", r.currency},
                    {"accrued_minor", r.accrued_minor},
                    {"reversed_minor", r.reversed_minor},
                    {"settled_minor", r.settled_minor},
                    {"outstanding_minor", r.outstanding_minor}});
  }
  return Dump({{"liabilities", std::move(list)}, {"as_of", AsOfJson(as_of)}});
}

std::string AuthorityJson(const AuthorityAnswer& answer, const AsOf& as_of) {
  return Dump({{"allowed", answer.allowed},
               {"rule_id", answer.rule_id.empty() ? json() : json(answer.rule_id)},
               {"as_of", AsOfJson(as_of)}});
}

std::string PublicationJson(const std::vector<PublicationRow>& rows, const AsOf& as_of) {
  json list = json::array();
  for (const PublicationRow& r : rows) {
    json row = {{"artifact", r.artifact},
                {"destination", r.destination},
                {"state", r.state},
                {"seq", r.seq},
                {"recorded_at", Time(r.recorded_at_ns)},
                {"artifact_seq", r.artifact_seq},
                {"attempt", r.attempt}};
    if (!r.external_id.empty()) row["external_id"] = r.external_id;
    if (!r.error.empty()) row["error"] = r.error;
    if (r.next_retry_at_ns != 0) row["next_retry_at"] = Time(r.next_retry_at_ns);
    list.push_back(std::move(row));
  }
  return Dump({{"publications", std::move(list)}, {"as_of", AsOfJson(as_of)}});
}

Result<std::string> OrderContextJson(const EventLog& log, const OrderRecord& order,
                                     const AsOf& as_of) {
  auto payload_at = [&](Sequence seq) -> Result<json> {
    Result<std::vector<EventRecord>> read = log.Read(seq, 1);
    if (!read.ok()) return read.status();
    if (read->empty()) return Status::Corruption("event " + std::to_string(seq) + " is missing");
    return PayloadJson(read->front().bytes);
  };
  Result<json> sale = payload_at(order.sale_seq);
  if (!sale.ok()) return sale.status();
  std::map<std::int64_t, std::int64_t> returned_by_line;
  json returns = json::array();
  for (const OrderRecord::Return& r : order.returns) {
    Result<json> ret = payload_at(r.seq);
    if (!ret.ok()) return ret.status();
    for (const json& line : ret->value("lines", json::array())) {
      returned_by_line[line.value("line_no", 0)] += line.value("qty", 0);
    }
    returns.push_back({{"seq", r.seq}, {"recorded_at", Time(r.recorded_at_ns)}, {"return", *ret}});
  }
  json lines = json::array();
  for (const json& line : sale->value("lines", json::array())) {
    const std::int64_t sold = line.value("qty", 0);
    const std::int64_t returned = returned_by_line[line.value("line_no", 0)];
    lines.push_back({{"line_no", line.value("line_no", 0)},
                     {"sku", line.value("sku", "")},
                     {"sold_qty", sold},
                     {"returned_qty", returned},
                     {"returnable_qty", sold - returned}});
  }
  json j = {{"order_id", order.order_id},
            {"sale_seq", order.sale_seq},
            {"sale_recorded_at", Time(order.sale_recorded_at_ns)},
            {"sale", std::move(*sale)},
            {"returns", std::move(returns)},
            {"line_balance", std::move(lines)},
            {"as_of", AsOfJson(as_of)}};
  return Dump(j);
}

std::optional<std::string> AuditOutcomeName(std::string_view word) {
  if (word == "accepted") return "Accepted";
  if (word == "rejected") return "Rejected";
  if (word == "held") return "HeldForApproval";
  return std::nullopt;
}

std::optional<std::string> AuditRowJson(Sequence seq, std::string_view event_bytes,
                                        const AuditFilter& filter) {
  const events::Event* e = events::GetEvent(event_bytes.data());
  const events::CommandAudited* a = e->payload_as_CommandAudited();
  if (a == nullptr) return std::nullopt;
  auto text = [](const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); };
  if (!filter.principal.empty() && text(a->principal()) != filter.principal) return std::nullopt;
  const std::string outcome = events::EnumNameAuditOutcome(a->outcome());
  if (!filter.outcome.empty() && outcome != filter.outcome) return std::nullopt;
  nlohmann::ordered_json roles = nlohmann::ordered_json::array();
  if (a->roles() != nullptr) {
    for (const auto* r : *a->roles()) roles.push_back(r->str());
  }
  const nlohmann::ordered_json row = {{"seq", seq},
                                      {"recorded_at", FormatUtcTime(e->recorded_at_ns())},
                                      {"principal", text(a->principal())},
                                      {"source_system", text(a->source_system())},
                                      {"command", text(a->command())},
                                      {"subject", text(a->subject())},
                                      {"outcome", outcome},
                                      {"reason", text(a->reason())},
                                      {"field", text(a->field())},
                                      {"rule", text(a->rule())},
                                      {"roles", std::move(roles)},
                                      {"event_count", a->event_count()}};
  return row.dump();
}

}  // namespace tillroll::projections
