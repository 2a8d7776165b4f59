#ifndef TILLROLL_PROJECTIONS_QUERY_JSON_H_
#define TILLROLL_PROJECTIONS_QUERY_JSON_H_

// The JSON answers of the projections' queries, shared by the CLI and the HTTP API. Money stays
// in minor units with its currency; times are printed twice, as UTC ns and as ISO 8601.
// Every function returns one line of strict JSON.

#include <optional>
#include <string>
#include <vector>

#include "engine/event_log.h"
#include "projections/governance.h"
#include "projections/liabilities.h"
#include "projections/orders.h"
#include "projections/price_book.h"
#include "projections/promotions.h"
#include "projections/publication.h"

namespace tillroll::projections {

// The point in time a query answered for.
struct AsOf {
  std::int64_t valid_at_ns = 0;
  std::int64_t known_at_ns = 0;
};

std::string PriceJson(const PriceAnswer& price, const AsOf& as_of);

// The promotion with every version (or only `version`), each with its state, workflow steps and
// full rule. NotFound when `version` does not exist.
Result<std::string> PromotionJson(const PromotionView& view, std::optional<std::uint32_t> version,
                                  const AsOf& as_of);
std::string LivePromotionsJson(const std::vector<LivePromotion>& live, const AsOf& as_of);
// Every promotion known at as_of.known_at_ns, with its live version and state.
std::string PromotionListJson(const Promotions& promotions, const AsOf& as_of);

std::string LiabilitiesJson(const std::vector<LiabilityRow>& rows, const AsOf& as_of);
std::string AuthorityJson(const AuthorityAnswer& answer, const AsOf& as_of);
std::string PublicationJson(const std::vector<PublicationRow>& rows, const AsOf& as_of);

// The returns desk's view of an order: the sale as recorded (lines, prices and their price
// events, discounts with their rule snapshots, taxes, totals), every return recorded so far,
// and per line what was sold, returned and can still be returned.
Result<std::string> OrderContextJson(const EventLog& log, const OrderRecord& order,
                                     const AsOf& as_of);

// The audit trail (CommandAudited events): which attempts an answer lists.
struct AuditFilter {
  std::string principal;  // empty: every principal
  std::string outcome;    // "Accepted", "Rejected", "HeldForApproval"; empty: every outcome
};
// The outcome's name in the log for "accepted", "rejected" or "held"; nullopt for another word.
std::optional<std::string> AuditOutcomeName(std::string_view word);
// One attempt as a JSON object (seq, recorded_at, principal, source_system, command, subject,
// outcome, reason, field, rule, roles, event_count); nullopt for an event that is not a
// CommandAudited or that the filter leaves out. `event_bytes` must be a verified Event.
std::optional<std::string> AuditRowJson(Sequence seq, std::string_view event_bytes,
                                        const AuditFilter& filter);

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_QUERY_JSON_H_
