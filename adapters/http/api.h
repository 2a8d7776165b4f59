#ifndef TILLROLL_ADAPTERS_HTTP_API_H_
#define TILLROLL_ADAPTERS_HTTP_API_H_

// The HTTP API's routes and what each does, on plain request and response values
// (http_message.h): the server (server.h) reads bytes into an HttpRequest, calls Admit and
// Handle, and writes the HttpResponse back. Tests call the same two.
//
// Every route declares who may call it (Route::roles, or the command's roles for a command
// route): "public" routes need no token; every other needs `Authorization: Bearer <token>`
// (401 without a known one) from a principal holding one of the roles (403 otherwise, and
// nothing is appended). Then the principal's token bucket (429 + Retry-After). Object-level
// checks follow in the handlers: a principal with a store scope prices carts, records sales
// and returns, and quotes returns for its own stores only (403).
//
// Commands go through the one command path (CommandExecutor), so the log's writer stays single
// and group-commits across connections; queries and cart pricing read the projections.
// Status codes: 200 read, 201 accepted, 202 held for approval, 400 invalid (also an invalid
// command, which is audited), 401, 403, 404, 409 conflict (stale If-Match, idempotency key
// reused for another command), 413 body too large, 415 content type, 422 refused by
// governance (audited), 429, 503 not ready or the ledger is unavailable.

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "adapters/http/http_message.h"
#include "adapters/http/metrics.h"
#include "adapters/http/service_config.h"
#include "engine/command.h"
#include "engine/command_executor.h"
#include "engine/event_log.h"
#include "projections/projection_runner.h"

namespace tillroll::http {

class Api;
class RateLimiter;

// Where a route's handler runs: on the I/O threads (answers from memory in microseconds) or
// on the worker threads (waits for a durable append, or reads much of the log).
enum class Work { kInline, kWorker };

struct Call;
using Handler = HttpResponse (Api::*)(const Call&) const;

struct Route {
  std::string_view method;
  std::string_view pattern;  // "/v1/promotions/{promotion_id}/approve"
  // Space-separated roles allowed, or "public". Empty only for a command route, which takes
  // its command's roles (engine/command.cc).
  std::string_view roles;
  Work work = Work::kInline;
  Handler handler = nullptr;
  // Command routes: the command and the args field a path parameter fills.
  std::optional<CommandType> command;
  std::string_view summary;
};

// The roles a route allows ("public" for none needed).
std::string_view RolesOf(const Route& route);

// A request matched to its route, with its path parameters and the principal that sent it
// (nullptr on a public route).
struct Call {
  const HttpRequest& request;
  const Route& route;
  std::vector<std::pair<std::string_view, std::string>> params;
  const ApiPrincipal* principal = nullptr;

  std::string_view Param(std::string_view name) const;
};

class Api {
 public:
  // Everything must outlive the API.
  Api(const ServiceConfig& config, EventLog& log, projections::ProjectionRunner& runner,
      CommandExecutor& executor, Metrics& metrics);
  ~Api();

  static std::span<const Route> Routes();

  // The route, the principal and its rate: a Call to Handle, or the response that refuses it
  // (404, 405, 401, 403, 429, 415, 413, 400 for a body nested too deep).
  struct Admitted {
    const Route* route = nullptr;
    std::vector<std::pair<std::string_view, std::string>> params;
    const ApiPrincipal* principal = nullptr;
  };
  std::variant<Admitted, HttpResponse> Admit(const HttpRequest& request) const;
  HttpResponse Handle(const Admitted& admitted, const HttpRequest& request) const;

  // /readyz answers 200 once the projections have caught up at start.
  void SetReady() { ready_.store(true); }

  // The handlers, as the route table names them.
  // Operations.
  HttpResponse Healthz(const Call& call) const;
  HttpResponse Readyz(const Call& call) const;
  HttpResponse MetricsText(const Call& call) const;
  HttpResponse OpenApi(const Call& call) const;
  // Commands.
  HttpResponse PostCommands(const Call& call) const;
  HttpResponse PostAction(const Call& call) const;
  // Checkout.
  HttpResponse PriceCart(const Call& call) const;
  HttpResponse RecordSale(const Call& call) const;
  HttpResponse QuoteReturn(const Call& call) const;
  HttpResponse RecordReturn(const Call& call) const;
  // Queries.
  HttpResponse GetPrice(const Call& call) const;
  HttpResponse GetPriceBook(const Call& call) const;
  HttpResponse GetPromotions(const Call& call) const;
  HttpResponse GetPromotion(const Call& call) const;
  HttpResponse GetOrder(const Call& call) const;
  HttpResponse GetLiabilities(const Call& call) const;
  HttpResponse GetPublication(const Call& call) const;
  HttpResponse GetAuthority(const Call& call) const;
  HttpResponse GetAudit(const Call& call) const;
  // The log.
  HttpResponse GetEvents(const Call& call) const;
  HttpResponse GetVerify(const Call& call) const;

 private:
  // Decides `commands` (parsed by the caller) and answers with their outcomes: one outcome
  // object, or for a batch {"partial", "outcomes": [...]}. Once acknowledged, the writes are in
  // the projections too, so the caller's next query sees them.
  HttpResponse Submit(const Call& call, std::vector<Command> commands, bool batch,
                      bool partial) const;
  // 403 unless a role in `held` (the principal's, RolesHeld) may send `command`; 403 when its
  // store scope does not cover the sale or the returned order.
  std::optional<HttpResponse> CheckCommand(const Call& call, const Command& command,
                                           const std::vector<std::string>& held) const;
  std::optional<HttpResponse> CheckStore(const Call& call, std::string_view store) const;
  std::optional<HttpResponse> CheckOrderStore(const Call& call, std::string_view order_id) const;
  // 400 for commands with problems. Each attempt at a known command is audited first
  // (CommandExecutor::RecordInvalid; the answer lists their audit_seqs); 403 and nothing
  // recorded when the principal may not send one of them.
  HttpResponse RefuseInvalid(const Call& call, const std::vector<ParsedCommand>& invalid,
                             const std::vector<FieldProblem>& problems) const;
  // 403 unless the principal holds one of the route's roles at `place` (a role granted for
  // some channels, regions or stores counts only there); `field` names what set the place.
  std::optional<HttpResponse> CheckRoleAt(const Call& call, const Place& place,
                                          std::string_view field) const;
  // Decides one command given as a JSON line (a sale or return the ledger priced), with the
  // request's Idempotency-Key and If-Match.
  HttpResponse SubmitLine(const Call& call, const std::string& command_line) const;
  // The principal's roles from the configuration and those granted since.
  std::vector<std::string> RolesHeld(const ApiPrincipal& principal) const;

  const ServiceConfig& config_;
  EventLog& log_;
  projections::ProjectionRunner& runner_;
  CommandExecutor& executor_;
  Metrics& metrics_;
  std::unique_ptr<RateLimiter> rate_limiter_;
  std::atomic<bool> ready_{false};
};

}  // namespace tillroll::http

#endif  // TILLROLL_ADAPTERS_HTTP_API_H_
