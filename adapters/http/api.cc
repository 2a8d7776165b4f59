#include "adapters/http/api.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "adapters/http/api_support.h"
#include "adapters/http/openapi.h"
#include "engine/clock.h"
#include "engine/limits.h"
#include "projections/cart_quote.h"
#include "projections/decision_state.h"

namespace tillroll::http {

// A token bucket per principal.
class RateLimiter {
 public:
  RateLimiter(double per_s, double burst) : per_s_(per_s), burst_(burst) {}

  // nullopt when a request may go ahead; else the seconds until it may.
  std::optional<double> Take(const std::string& principal) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    auto [it, added] = buckets_.try_emplace(principal, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!added) {
      b.tokens = std::min(burst_, b.tokens + per_s_ * std::chrono::duration<double>(now - b.at).count());
      b.at = now;
    }
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return std::nullopt;
    }
    return (1.0 - b.tokens) / per_s_;
  }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  const double per_s_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kPublic = "public";
constexpr std::string_view kEveryRole =
    "pricing_manager pricing_approver promo_author promo_approver checkout returns_desk finance "
    "auditor admin";
constexpr std::string_view kCheckout = "checkout admin";
constexpr std::string_view kReturnQuotes = "returns_desk checkout admin";
constexpr std::string_view kLogReaders = "auditor admin finance";

using C = CommandType;

// The route table. Every route declares its roles (a command route its command's); a test
// walks this table and the OpenAPI document.
const Route kRoutes[] = {
    // Operations.
    {"GET", "/healthz", kPublic, Work::kInline, &Api::Healthz, {}, "The process is up."},
    {"GET", "/readyz", kPublic, Work::kInline, &Api::Readyz, {},
     "The projections have caught up with the log and are healthy."},
    {"GET", "/metrics", kPublic, Work::kInline, &Api::MetricsText, {}, "Prometheus metrics."},
    {"GET", "/openapi.json", kPublic, Work::kInline, &Api::OpenApi, {}, "This API's OpenAPI 3 document."},
    // Commands.
    {"POST", "/v1/commands", kEveryRole, Work::kWorker, &Api::PostCommands, {},
     "One command, or a batch (JSON array or JSON lines)."},
    {"POST", "/v1/prices", "", Work::kWorker, &Api::PostAction, C::kSetPrice, "Set a price."},
    {"POST", "/v1/prices/retract", "", Work::kWorker, &Api::PostAction, C::kRetractPrice,
     "Retract a price."},
    {"POST", "/v1/price-changes/{proposal_id}/approve", "", Work::kWorker, &Api::PostAction,
     C::kApprovePriceChange, "Approve a held price change."},
    {"POST", "/v1/price-changes/{proposal_id}/reject", "", Work::kWorker, &Api::PostAction,
     C::kRejectPriceChange, "Reject a held price change."},
    {"POST", "/v1/promotions", "", Work::kWorker, &Api::PostAction, C::kDraftPromotion,
     "Draft a promotion."},
    {"POST", "/v1/promotions/{promotion_id}/amend", "", Work::kWorker, &Api::PostAction,
     C::kAmendPromotion, "Amend a promotion (a new version)."},
    {"POST", "/v1/promotions/{promotion_id}/submit", "", Work::kWorker, &Api::PostAction,
     C::kSubmitPromotion, "Submit a version for approval."},
    {"POST", "/v1/promotions/{promotion_id}/approve", "", Work::kWorker, &Api::PostAction,
     C::kApprovePromotion, "Approve a version."},
    {"POST", "/v1/promotions/{promotion_id}/reject", "", Work::kWorker, &Api::PostAction,
     C::kRejectPromotion, "Reject a version."},
    {"POST", "/v1/promotions/{promotion_id}/publish", "", Work::kWorker, &Api::PostAction,
     C::kPublishPromotion, "Publish an approved version."},
    {"POST", "/v1/promotions/{promotion_id}/pause", "", Work::kWorker, &Api::PostAction,
     C::kPausePromotion, "Pause a published version."},
    {"POST", "/v1/promotions/{promotion_id}/resume", "", Work::kWorker, &Api::PostAction,
     C::kResumePromotion, "Resume a paused version."},
    {"POST", "/v1/promotions/{promotion_id}/withdraw", "", Work::kWorker, &Api::PostAction,
     C::kWithdrawPromotion, "Withdraw a promotion."},
    {"POST", "/v1/coupons", "", Work::kWorker, &Api::PostAction, C::kIssueCoupons,
     "Issue coupon codes."},
    {"POST", "/v1/coupons/{code}/void", "", Work::kWorker, &Api::PostAction, C::kVoidCoupon,
     "Void a coupon code."},
    {"POST", "/v1/settlements", "", Work::kWorker, &Api::PostAction, C::kRecordSettlement,
     "Record a liability settlement."},
    {"POST", "/v1/authority-rules", "", Work::kWorker, &Api::PostAction, C::kSetAuthorityRule,
     "Set an authority rule."},
    {"POST", "/v1/roles/grant", "", Work::kWorker, &Api::PostAction, C::kGrantRole,
     "Grant a role."},
    {"POST", "/v1/roles/revoke", "", Work::kWorker, &Api::PostAction, C::kRevokeRole,
     "Revoke a role."},
    {"POST", "/v1/products", "", Work::kWorker, &Api::PostAction, C::kDefineProduct,
     "Define a product (category, taxes)."},
    // Checkout.
    {"POST", "/v1/carts/price", kCheckout, Work::kInline, &Api::PriceCart, {},
     "Price a cart from the projections."},
    {"POST", "/v1/sales", "checkout", Work::kWorker, &Api::RecordSale, {},
     "Price a cart and record it as a sale."},
    {"POST", "/v1/returns/quote", kReturnQuotes, Work::kInline, &Api::QuoteReturn, {},
     "Quote a return on the sale's own rules."},
    {"POST", "/v1/returns", "returns_desk checkout", Work::kWorker, &Api::RecordReturn, {},
     "Quote a return and record it."},
    // Queries.
    {"GET", "/v1/prices/{sku}", kEveryRole, Work::kInline, &Api::GetPrice, {},
     "The price in force for a SKU at a place."},
    {"GET", "/v1/price-book", kEveryRole, Work::kInline, &Api::GetPriceBook, {},
     "Selling prices of several SKUs at a place."},
    {"GET", "/v1/promotions", kEveryRole, Work::kInline, &Api::GetPromotions, {},
     "Every promotion, or those live at a place."},
    {"GET", "/v1/promotions/{promotion_id}", kEveryRole, Work::kInline, &Api::GetPromotion, {},
     "A promotion with its versions."},
    {"GET", "/v1/orders/{order_id}", "returns_desk checkout auditor finance admin", Work::kInline,
     &Api::GetOrder, {}, "An order's context: sale, discounts with rule snapshots, returns."},
    {"GET", "/v1/liabilities", "finance auditor admin promo_approver", Work::kInline,
     &Api::GetLiabilities, {},
     "Discount liabilities per promotion version and funding party (all, or one promotion's)."},
    {"GET", "/v1/publication", kEveryRole, Work::kInline, &Api::GetPublication, {},
     "Delivery state per artifact and destination."},
    {"GET", "/v1/authority", kEveryRole, Work::kInline, &Api::GetAuthority, {},
     "Who may write what, as of a moment."},
    {"GET", "/v1/audit", kLogReaders, Work::kWorker, &Api::GetAudit, {},
     "The audit trail of command attempts."},
    // The log.
    {"GET", "/v1/events", kLogReaders, Work::kWorker, &Api::GetEvents, {},
     "Events as JSON lines, paged."},
    {"GET", "/v1/verify", kLogReaders, Work::kWorker, &Api::GetVerify, {},
     "Walks the hash chain and checksums."},
};

// Matches `path` against a pattern; the {name} segments become params.
bool Match(std::string_view pattern, std::string_view path,
           std::vector<std::pair<std::string_view, std::string>>& params) {
  params.clear();
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/') {
      return false;
    }
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::string_view p = pattern.substr(0, pattern.find('/'));
    const std::string_view s = path.substr(0, path.find('/'));
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (s.empty()) return false;
      params.emplace_back(p.substr(1, p.size() - 2), std::string(s));
    } else if (p != s) {
      return false;
    }
    pattern.remove_prefix(p.size());
    path.remove_prefix(s.size());
  }
  return true;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string_view RolesOf(const Route& route) {
  return route.command ? SpecOf(*route.command).roles : route.roles;
}

std::string_view Call::Param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

Api::Api(const ServiceConfig& config, EventLog& log, projections::ProjectionRunner& runner,
         CommandExecutor& executor, Metrics& metrics)
    : config_(config),
      log_(log),
      runner_(runner),
      executor_(executor),
      metrics_(metrics),
      rate_limiter_(std::make_unique<RateLimiter>(config.http.requests_per_s,
                                                  config.http.requests_burst)) {}

Api::~Api() = default;

std::span<const Route> Api::Routes() { return kRoutes; }

std::vector<std::string> Api::RolesHeld(const ApiPrincipal& principal) const {
  return HeldRoles(principal.principal, projections::LedgerDecisionState(log_, runner_), SystemClock().NowNs());
}

std::variant<Api::Admitted, HttpResponse> Api::Admit(const HttpRequest& request) const {
  Admitted admitted;
  bool path_known = false;
  std::string allow;
  std::vector<std::pair<std::string_view, std::string>> params;
  for (const Route& route : kRoutes) {
    if (!Match(route.pattern, request.path, params)) continue;
    path_known = true;
    if (route.method != request.method) {
      allow += (allow.empty() ? "" : ", ") + std::string(route.method);
      continue;
    }
    admitted.route = &route;
    admitted.params = std::move(params);
    break;
  }
  if (admitted.route == nullptr) {
    if (!path_known) return ErrorResponse(404, "not_found", "no route " + request.path);
    HttpResponse r = ErrorResponse(405, "method_not_allowed",
                                   request.method + " is not allowed on " + request.path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  const Route& route = *admitted.route;
  if (RolesOf(route) != kPublic) {
    constexpr std::string_view kBearer = "Bearer ";
    const ApiPrincipal* principal = nullptr;
    if (StartsWith(request.authorization, kBearer)) {
      const std::string hash = TokenSha256(request.authorization.substr(kBearer.size()));
      for (const ApiPrincipal& p : config_.principals) {
        if (std::find(p.token_sha256.begin(), p.token_sha256.end(), hash) != p.token_sha256.end()) {
          principal = &p;
          break;
        }
      }
    }
    if (principal == nullptr) {
      HttpResponse r = ErrorResponse(
          401, "unauthenticated",
          request.authorization.empty() ? "Authorization: Bearer <token> is required"
                                        : "the bearer token is not known",
          "Authorization");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    if (AllowedRole(RolesOf(route), RolesHeld(*principal)).empty()) {
      return ErrorResponse(403, "forbidden",
                           std::string(route.method) + " " + std::string(route.pattern) +
                               " needs one of the roles " + std::string(RolesOf(route)) + "; " +
                               principal->principal.id + " holds none of them");
    }
    if (std::optional<double> wait = rate_limiter_->Take(principal->principal.id)) {
      HttpResponse r = ErrorResponse(429, "rate_limited",
                                     principal->principal.id + " sends more than " +
                                         std::to_string(static_cast<long>(config_.http.requests_per_s)) +
                                         " requests per second");
      r.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(std::ceil(*wait))));
      return r;
    }
    admitted.principal = principal;
  }
  if (request.method == "POST") {
    if (request.body.size() > config_.http.body_bytes_max) {
      return ErrorResponse(413, "body_too_large",
                           "the body has " + std::to_string(request.body.size()) +
                               " bytes; the limit is " + std::to_string(config_.http.body_bytes_max));
    }
    const bool json_body = StartsWith(request.content_type, "application/json");
    const bool lines_body = route.handler == &Api::PostCommands &&
                            StartsWith(request.content_type, "application/x-ndjson");
    if (!request.body.empty() && !json_body && !lines_body) {
      return ErrorResponse(415, "unsupported_media_type",
                           "expected Content-Type: application/json" +
                               std::string(route.handler == &Api::PostCommands
                                               ? " or application/x-ndjson"
                                               : "") +
                               ", got '" + request.content_type + "'",
                           "Content-Type");
    }
    if (json_body) {
      const std::size_t top_array_max = route.handler == &Api::PostCommands
                                            ? config_.http.batch_commands_max
                                            : limits::kJsonArrayElementsMax;
      if (std::optional<std::string> problem = JsonShapeProblem(
              request.body, limits::kJsonDepthMax, limits::kJsonArrayElementsMax, top_array_max)) {
        return ErrorResponse(400, "limit", *problem, "body");
      }
    }
  }
  return admitted;
}

HttpResponse Api::Handle(const Admitted& admitted, const HttpRequest& request) const {
  const Call call{request, *admitted.route, admitted.params, admitted.principal};
  try {
    return (this->*admitted.route->handler)(call);
  } catch (const std::exception& e) {
    // A handler reports problems as responses; this is a defect, answered without detail.
    return ErrorResponse(500, "internal", std::string("internal error: ") + e.what());
  }
}

// ---- Operations ----------------------------------------------------------------------------

HttpResponse Api::Healthz(const Call&) const {
  return HttpResponse{.body = R"({"status":"ok"})"};
}

HttpResponse Api::Readyz(const Call&) const {
  const Sequence head = log_.Head().seq;
  json projections = json::object();
  bool healthy = true;
  for (const projections::ProjectionState& s : runner_.State()) {
    json p = {{"checkpoint", s.checkpoint}, {"lag_events", head - std::min(head, s.checkpoint)}};
    if (!s.error.empty()) {
      p["error"] = s.error;
      healthy = false;
    }
    projections[s.projection] = std::move(p);
  }
  const bool ready = ready_.load() && healthy;
  json body = {{"ready", ready}, {"head_seq", head}, {"projections", std::move(projections)}};
  if (!ready) {
    body["error"] = "not_ready";
    body["message"] = ready_.load() ? "a projection stopped on an event it cannot apply"
                                    : "the projections are catching up with the log";
  }
  return HttpResponse{.status = ready ? 200 : 503, .body = body.dump()};
}

HttpResponse Api::MetricsText(const Call&) const {
  std::string out = metrics_.Render();
  const Sequence head = log_.Head().seq;
  out += "# HELP tillroll_log_head_seq The log's last durable sequence.\n"
         "# TYPE tillroll_log_head_seq gauge\n";
  AppendSample(out, "tillroll_log_head_seq", "", static_cast<double>(head));
  out += "# HELP tillroll_projection_lag_events Events appended but not yet applied, per "
         "projection.\n# TYPE tillroll_projection_lag_events gauge\n";
  for (const projections::ProjectionState& s : runner_.State()) {
    AppendSample(out, "tillroll_projection_lag_events",
                 "projection=\"" + LabelValue(s.projection) + "\"",
                 static_cast<double>(head - std::min(head, s.checkpoint)));
  }
  std::map<std::pair<std::string, std::string>, std::uint64_t> states;
  std::map<std::string, std::uint64_t> dead;
  if (auto rows = runner_.publication()->AsOf("", "", INT64_MAX); rows.ok()) {
    for (const projections::PublicationRow& row : *rows) {
      ++states[{row.destination, row.state}];
      if (row.state == "dead_lettered") ++dead[row.destination];
    }
  }
  out += "# HELP tillroll_publication_artifacts Artifacts per destination and delivery state.\n"
         "# TYPE tillroll_publication_artifacts gauge\n";
  for (const auto& [key, count] : states) {
    AppendSample(out, "tillroll_publication_artifacts",
                 "destination=\"" + LabelValue(key.first) + "\",state=\"" +
                     LabelValue(key.second) + "\"",
                 static_cast<double>(count));
  }
  out += "# HELP tillroll_dead_letters Artifacts dead-lettered per destination.\n"
         "# TYPE tillroll_dead_letters gauge\n";
  for (const auto& [destination, count] : dead) {
    AppendSample(out, "tillroll_dead_letters", "destination=\"" + LabelValue(destination) + "\"",
                 static_cast<double>(count));
  }
  Result<std::vector<Sequence>> exceptions = log_.SeqsOfStreams("reconciliation/", 0, head);
  out += "# HELP tillroll_reconciliation_exceptions Reconciliation exceptions recorded.\n"
         "# TYPE tillroll_reconciliation_exceptions gauge\n";
  AppendSample(out, "tillroll_reconciliation_exceptions", "",
               exceptions.ok() ? static_cast<double>(exceptions->size()) : 0.0);
  return HttpResponse{.content_type = "text/plain; version=0.0.4", .body = std::move(out)};
}

HttpResponse Api::OpenApi(const Call&) const {
  return HttpResponse{.body = std::string(OpenApiJson())};
}

// ---- Commands ------------------------------------------------------------------------------

std::optional<HttpResponse> Api::CheckStore(const Call& call, std::string_view store) const {
  if (call.principal == nullptr || call.principal->stores.empty()) return std::nullopt;
  const auto& stores = call.principal->stores;
  if (std::find(stores.begin(), stores.end(), store) != stores.end()) return std::nullopt;
  return ErrorResponse(403, "forbidden",
                       call.principal->principal.id + " acts for the stores " +
                           JoinNames(stores) + " only, not for '" + std::string(store) + "'",
                       "store");
}

std::optional<HttpResponse> Api::CheckRoleAt(const Call& call, const Place& place,
                                             std::string_view field) const {
  if (call.principal == nullptr) return std::nullopt;
  const std::vector<std::string> held =
      HeldRoles(call.principal->principal, projections::LedgerDecisionState(log_, runner_),
                SystemClock().NowNs(), &place);
  if (!AllowedRole(RolesOf(call.route), held).empty()) return std::nullopt;
  return ErrorResponse(403, "forbidden",
                       call.principal->principal.id + " holds none of the roles " +
                           std::string(RolesOf(call.route)) + " for channel '" + place.channel +
                           "', store '" + place.store + "': its grant is for other places",
                       std::string(field));
}

std::optional<HttpResponse> Api::CheckOrderStore(const Call& call,
                                                 std::string_view order_id) const {
  if (call.principal == nullptr) return std::nullopt;
  // Not bound to stores and holding the route's role everywhere: no need to read the order.
  if (call.principal->stores.empty() && !CheckRoleAt(call, Place{}, "order_id")) {
    return std::nullopt;
  }
  Result<projections::OrderRecord> order = runner_.orders()->Find(order_id, INT64_MAX);
  if (!order.ok()) return std::nullopt;  // the quote or the decision says it is unknown
  Result<std::vector<EventRecord>> sale = log_.Read(order->sale_seq, 1);
  if (!sale.ok()) return StatusResponse(sale.status());
  if (sale->empty()) return StatusResponse(Status::Internal("the sale event of an order is missing"));
  const events::SaleRecorded* s =
      events::GetEvent(sale->front().bytes.data())->payload_as_SaleRecorded();
  const std::string store = s != nullptr && s->store() != nullptr ? s->store()->str() : "";
  const std::string channel = s != nullptr && s->channel() != nullptr ? s->channel()->str() : "";
  if (std::optional<HttpResponse> refused = CheckRoleAt(call, {channel, "", store}, "order_id")) {
    return refused;
  }
  const auto& stores = call.principal->stores;
  if (stores.empty() || std::find(stores.begin(), stores.end(), store) != stores.end()) {
    return std::nullopt;
  }
  return ErrorResponse(403, "forbidden",
                       "order " + std::string(order_id) + " was sold in '" + store +
                           "', outside the stores of " + call.principal->principal.id + " (" +
                           JoinNames(stores) + ")",
                       "order_id");
}

namespace {

// 403 when none of `held` may send a command of `spec`.
std::optional<HttpResponse> CheckCommandRole(const Call& call, const CommandSpec& spec,
                                             const std::vector<std::string>& held) {
  if (!AllowedRole(spec.roles, held).empty()) return std::nullopt;
  return ErrorResponse(403, "forbidden",
                       std::string(spec.name) + " needs one of the roles " +
                           std::string(spec.roles) + "; " + call.principal->principal.id +
                           " holds none of them",
                       "command");
}

}  // namespace

std::optional<HttpResponse> Api::CheckCommand(const Call& call, const Command& command,
                                              const std::vector<std::string>& held) const {
  if (std::optional<HttpResponse> refused = CheckCommandRole(call, command.spec(), held)) {
    return refused;
  }
  const events::Event& args = command.args_event();
  if (const events::SaleRecorded* sale = args.payload_as_SaleRecorded()) {
    return CheckStore(call, sale->store() == nullptr ? "" : sale->store()->string_view());
  }
  if (const events::ReturnRecorded* ret = args.payload_as_ReturnRecorded()) {
    return CheckOrderStore(call, ret->order_id() == nullptr ? "" : ret->order_id()->string_view());
  }
  return std::nullopt;
}

HttpResponse Api::RefuseInvalid(const Call& call, const std::vector<ParsedCommand>& invalid,
                                const std::vector<FieldProblem>& problems) const {
  // Roles first, as for a well-formed command: a principal that may not send it learns
  // nothing more and leaves no record.
  const std::vector<std::string> held = RolesHeld(*call.principal);
  for (const ParsedCommand& parsed : invalid) {
    if (!parsed.named) continue;
    if (std::optional<HttpResponse> refused = CheckCommandRole(call, SpecOf(*parsed.named), held)) {
      return *refused;
    }
  }
  json audit_seqs = json::array();
  for (const ParsedCommand& parsed : invalid) {
    if (!parsed.named) continue;
    ParsedCommand attempt = parsed;
    if (attempt.correlation_id.empty()) attempt.correlation_id = call.request.request_id;
    Result<Sequence> audited = executor_.RecordInvalid(call.principal->principal, attempt);
    if (!audited.ok()) return StatusResponse(audited.status());
    audit_seqs.push_back(*audited);
  }
  json listed = json::array();
  for (const FieldProblem& p : problems) listed.push_back({{"field", p.path}, {"reason", p.reason}});
  json more = json::object();
  if (!audit_seqs.empty()) more["audit_seqs"] = std::move(audit_seqs);
  return ProblemsResponse(listed, more);
}

HttpResponse Api::Submit(const Call& call, std::vector<Command> commands, bool batch,
                         bool partial) const {
  const std::vector<std::string> held = RolesHeld(*call.principal);
  for (Command& command : commands) {
    if (command.correlation_id.empty()) command.correlation_id = call.request.request_id;
    if (std::optional<HttpResponse> refused = CheckCommand(call, command, held)) return *refused;
  }
  const Principal& principal = call.principal->principal;
  const auto start = std::chrono::steady_clock::now();
  Result<std::vector<SubmitOutcome>> outcomes =
      commands.size() == 1 ? [&]() -> Result<std::vector<SubmitOutcome>> {
    Result<SubmitOutcome> one = executor_.Submit(principal, commands.front());
    if (!one.ok()) return one.status();
    return std::vector<SubmitOutcome>{std::move(*one)};
  }()
      : executor_.SubmitBatch(principal, commands, partial);
  if (!outcomes.ok()) return StatusResponse(outcomes.status());
  // Read your writes: the projections apply what was just appended before the answer goes.
  Sequence last = 0;
  for (const SubmitOutcome& o : *outcomes) {
    last = std::max(last, o.audit_seq);
    for (const AppendOutcome& e : o.events) last = std::max(last, e.seq);
  }
  if (Status s = runner_.CatchUpTo(last); !s.ok()) {
    return StatusResponse(Status::Unavailable(s.message()));
  }
  std::size_t appended = 0;
  for (const SubmitOutcome& o : *outcomes) {
    if (!o.duplicate) appended += 1 + o.events.size();
  }
  metrics_.ObserveAppend(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), appended);
  if (!batch) {
    return OutcomeResponse(commands.front(), outcomes->front());
  }
  json rows = json::array();
  int status = 201;
  bool all_duplicates = true;
  for (std::size_t i = 0; i < outcomes->size(); ++i) {
    const HttpResponse one = OutcomeResponse(commands[i], (*outcomes)[i]);
    rows.push_back(json::parse(one.body));
    all_duplicates = all_duplicates && (*outcomes)[i].duplicate;
    if (!partial && one.status >= 400 && (status < 400 || one.status == 400)) status = one.status;
  }
  if (partial) status = 200;
  if (status == 201 && all_duplicates) status = 200;
  return HttpResponse{.status = status,
                      .body = json{{"partial", partial}, {"outcomes", std::move(rows)}}.dump()};
}

HttpResponse Api::PostCommands(const Call& call) const {
  const HttpRequest& req = call.request;
  const bool partial = req.Param("partial").value_or("false") == "true";
  std::vector<CommandDoc> docs;
  bool batch = false;
  if (StartsWith(req.content_type, "application/x-ndjson")) {
    batch = true;
    std::size_t at = 0;
    std::size_t line_no = 0;
    while (at < req.body.size()) {
      const std::size_t end = std::min(req.body.find('\n', at), req.body.size());
      const std::string_view line = std::string_view(req.body).substr(at, end - at);
      at = end + 1;
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      if (std::optional<std::string> problem = JsonShapeProblem(
              line, limits::kJsonDepthMax, limits::kJsonArrayElementsMax,
              limits::kJsonArrayElementsMax)) {
        return ErrorResponse(400, "limit", "line " + std::to_string(line_no) + ": " + *problem);
      }
      CommandDoc doc = CommandDoc::parse(line, nullptr, false);
      if (doc.is_discarded()) {
        return ErrorResponse(400, "invalid_json",
                             "line " + std::to_string(line_no) + " is not valid JSON");
      }
      docs.push_back(std::move(doc));
    }
  } else {
    CommandDoc doc = CommandDoc::parse(req.body, nullptr, false);
    if (doc.is_discarded()) return ErrorResponse(400, "invalid_json", "the body is not valid JSON");
    if (doc.is_array()) {
      batch = true;
      for (CommandDoc& d : doc) docs.push_back(std::move(d));
    } else {
      docs.push_back(std::move(doc));
    }
  }
  if (docs.empty()) return ErrorResponse(400, "invalid", "no command given", "body");
  if (docs.size() > config_.http.batch_commands_max) {
    return ErrorResponse(413, "batch_too_large",
                         std::to_string(docs.size()) + " commands; one request takes at most " +
                             std::to_string(config_.http.batch_commands_max));
  }
  if (batch && (!req.idempotency_key.empty() || !req.if_match.empty())) {
    return ErrorResponse(400, "invalid",
                         "Idempotency-Key and If-Match apply to one command; a batch carries them "
                         "in each command",
                         req.idempotency_key.empty() ? "If-Match" : "Idempotency-Key");
  }
  if (!batch) {
    if (!docs.front().is_object()) {
      return ErrorResponse(400, "invalid", "expected a command object", "body");
    }
    if (std::optional<HttpResponse> bad = ApplyHeaders(req, docs.front())) return *bad;
  }
  std::vector<Command> commands;
  std::vector<ParsedCommand> invalid;
  std::vector<FieldProblem> problems;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const std::string prefix = batch ? "[" + std::to_string(i) + "]" : "";
    ParsedCommand parsed = ParseCommandDocument(std::move(docs[i]), ThreadEventJson());
    for (const FieldProblem& p : parsed.problems) {
      problems.push_back({prefix + (p.path.empty() || prefix.empty() ? "" : ".") + p.path, p.reason});
    }
    if (parsed.command) {
      commands.push_back(std::move(*parsed.command));
    } else {
      invalid.push_back(std::move(parsed));
    }
  }
  if (!problems.empty()) return RefuseInvalid(call, invalid, problems);
  return Submit(call, std::move(commands), batch, partial);
}

HttpResponse Api::PostAction(const Call& call) const {
  const HttpRequest& req = call.request;
  CommandDoc args =
      req.body.empty() ? CommandDoc::object() : CommandDoc::parse(req.body, nullptr, false);
  if (args.is_discarded()) return ErrorResponse(400, "invalid_json", "the body is not valid JSON");
  if (!args.is_object()) {
    return ErrorResponse(400, "invalid", "expected the command's args as a JSON object", "body");
  }
  for (const auto& [name, value] : call.params) {
    const std::string field(name);
    if (args.contains(field) && args[field] != value) {
      return ErrorResponse(400, "invalid",
                           "the body names " + field + " '" + args[field].dump() +
                               "' but the path names '" + value + "'",
                           field);
    }
    args[field] = value;
  }
  if (req.idempotency_key.empty()) {
    return ErrorResponse(400, "invalid",
                         "required: an Idempotency-Key header chosen by the sender, so that a "
                         "retry is never applied twice",
                         "Idempotency-Key");
  }
  CommandDoc doc = {{"command", SpecOf(*call.route.command).name}, {"args", std::move(args)}};
  if (std::optional<HttpResponse> bad = ApplyHeaders(req, doc)) return *bad;
  ParsedCommand parsed = ParseCommandDocument(std::move(doc), ThreadEventJson());
  if (!parsed.problems.empty()) {
    std::vector<FieldProblem> problems;
    for (const FieldProblem& p : parsed.problems) {
      // The body is the args: name fields as the client wrote them.
      std::string path = p.path;
      if (StartsWith(path, "args.")) path = path.substr(5);
      problems.push_back({path, p.reason});
    }
    std::vector<ParsedCommand> invalid;
    invalid.push_back(std::move(parsed));
    return RefuseInvalid(call, invalid, problems);
  }
  std::vector<Command> commands;
  commands.push_back(std::move(*parsed.command));
  return Submit(call, std::move(commands), /*batch=*/false, /*partial=*/false);
}

// ---- Checkout ------------------------------------------------------------------------------

HttpResponse Api::PriceCart(const Call& call) const {
  Result<std::int64_t> known_at = TimeParam(call.request, "known_at");
  if (!known_at.ok()) return StatusResponse(known_at.status());
  const projections::CartQuoter quoter(log_, runner_);
  std::optional<HttpResponse> refused;
  Result<std::string> priced =
      quoter.Price(call.request.body, SystemClock().NowNs(), *known_at, [&](const checkout::Cart& cart) {
        refused = CheckStore(call, cart.store);
        if (!refused) refused = CheckRoleAt(call, {cart.channel, cart.region, cart.store}, "store");
        return refused ? Status::Unavailable("outside the caller's stores") : Status::Ok();
      });
  if (refused) return *refused;
  if (!priced.ok()) return StatusResponse(priced.status());
  return HttpResponse{.body = std::move(*priced)};
}

HttpResponse Api::RecordSale(const Call& call) const {
  const json body = json::parse(call.request.body, nullptr, false);
  if (std::optional<HttpResponse> bad =
          CheckObject(body, {{"order_id", json::value_t::string}, {"cart", json::value_t::object}})) {
    return *bad;
  }
  const json& cart = body["cart"];
  if (std::optional<HttpResponse> refused = CheckStore(call, cart.value("store", ""))) {
    return *refused;
  }
  const std::int64_t now = SystemClock().NowNs();
  const projections::CartQuoter quoter(log_, runner_);
  Result<std::string> line =
      quoter.SaleCommand(cart.dump(), body["order_id"].get<std::string>(), now, now);
  if (!line.ok()) return StatusResponse(line.status(), "cart.");
  return SubmitLine(call, *line);
}

HttpResponse Api::QuoteReturn(const Call& call) const {
  const json body = json::parse(call.request.body, nullptr, false);
  if (std::optional<HttpResponse> bad = CheckObject(
          body, {{"order_id", json::value_t::string}, {"lines", json::value_t::array}})) {
    return *bad;
  }
  Result<std::vector<checkout::ReturnedQty>> lines = ReturnLines(body["lines"]);
  if (!lines.ok()) return StatusResponse(lines.status());
  const std::string order_id = body["order_id"].get<std::string>();
  if (std::optional<HttpResponse> refused = CheckOrderStore(call, order_id)) return *refused;
  const projections::CartQuoter quoter(log_, runner_);
  Result<std::string> quote = quoter.QuoteReturn(order_id, *lines);
  if (!quote.ok()) return StatusResponse(quote.status());
  return HttpResponse{.body = std::move(*quote)};
}

HttpResponse Api::RecordReturn(const Call& call) const {
  const json body = json::parse(call.request.body, nullptr, false);
  if (std::optional<HttpResponse> bad = CheckObject(body, {{"order_id", json::value_t::string},
                                                           {"return_id", json::value_t::string},
                                                           {"lines", json::value_t::array},
                                                           {"reason", json::value_t::string}},
                                                    /*optional=*/{"reason"})) {
    return *bad;
  }
  Result<std::vector<checkout::ReturnedQty>> lines = ReturnLines(body["lines"]);
  if (!lines.ok()) return StatusResponse(lines.status());
  const std::string order_id = body["order_id"].get<std::string>();
  if (std::optional<HttpResponse> refused = CheckOrderStore(call, order_id)) return *refused;
  const projections::CartQuoter quoter(log_, runner_);
  Result<std::string> line =
      quoter.ReturnCommand(order_id, *lines, body["return_id"].get<std::string>(),
                           body.value("reason", "customer return"), SystemClock().NowNs());
  if (!line.ok()) return StatusResponse(line.status());
  return SubmitLine(call, *line);
}

HttpResponse Api::SubmitLine(const Call& call, const std::string& command_line) const {
  CommandDoc doc = CommandDoc::parse(command_line);
  if (!call.request.idempotency_key.empty()) doc.erase("idempotency_key");
  if (std::optional<HttpResponse> bad = ApplyHeaders(call.request, doc)) return *bad;
  ParsedCommand parsed = ParseCommandDocument(std::move(doc), ThreadEventJson());
  if (!parsed.command) {
    std::vector<ParsedCommand> invalid;
    invalid.push_back(parsed);
    return RefuseInvalid(call, invalid, parsed.problems);
  }
  std::vector<Command> commands;
  commands.push_back(std::move(*parsed.command));
  return Submit(call, std::move(commands), /*batch=*/false, /*partial=*/false);
}

}  // namespace tillroll::http
