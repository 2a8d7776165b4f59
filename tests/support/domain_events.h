#ifndef TILLROLL_TESTS_SUPPORT_DOMAIN_EVENTS_H_
#define TILLROLL_TESTS_SUPPORT_DOMAIN_EVENTS_H_

// Unsealed domain events for tests that tell a story: prices per scope and window, a
// promotion's workflow, sales with discounts, returns and settlements. Every builder returns
// bytes ready for EventLog::Append.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/envelope_generated.h"

namespace tillroll::testing {

inline constexpr std::int64_t kDayNs = 86'400'000'000'000;
// 2026-03-01T00:00:00Z: day 0 of the stories.
inline constexpr std::int64_t kMarch1Ns = 1'772'323'200'000'000'000;
inline constexpr std::int64_t Day(int n) { return kMarch1Ns + n * kDayNs; }

struct PriceDecisionSpec {
  std::string_view sku = "4711";
  events::PriceType type = events::PriceType::List;
  events::ScopeLevel level = events::ScopeLevel::Global;
  std::string_view scope_name;  // channel, region or store
  std::int64_t amount_minor = 1000;
  std::string_view currency = "EUR";
  std::int64_t from_ns = 0;
  std::int64_t to_ns = 0;
};
std::string PriceSetEvent(const PriceDecisionSpec& spec);
std::string PriceRetractedEvent(const PriceDecisionSpec& spec, std::uint64_t retracted_seq);

struct PromotionSpec {
  std::string_view id = "SPRING-10";
  std::uint32_t version = 1;
  std::string_view name = "Spring 10% off dairy";
  std::vector<std::string> stores;  // targeting; empty = everywhere
  std::vector<std::string> channels;
  std::int64_t valid_from_ns = 0;
  std::int64_t valid_to_ns = 0;
  std::int32_t percent_bps = 1000;
  std::vector<std::string> include_skus;  // conditions; both empty = on every product
  std::vector<std::string> include_categories;
};
std::string PromotionDraftedEvent(const PromotionSpec& spec, std::string_view author = "user:ann");
// Submitted, Approved, Rejected, Paused, Resumed, Withdrawn or Expired of one version.
std::string PromotionStepEvent(events::Payload step, std::string_view id, std::uint32_t version,
                               std::string_view principal = "user:bob");
std::string PromotionPublishedEvent(std::string_view id, std::uint32_t version,
                                    std::int64_t from_ns, std::int64_t to_ns,
                                    std::uint64_t rule_snapshot_seq);

// One line with one discount funded by `vendor_share_bps` for "vendor:acme" and the rest by
// "retailer".
struct SaleSpec {
  std::string_view order_id = "R-991";
  std::int64_t sold_at_ns = 0;
  std::string_view sku = "4711";
  std::int32_t qty = 2;
  std::int64_t unit_price_minor = 1000;
  std::uint64_t price_event_seq = 0;
  std::string_view promotion_id = "SPRING-10";
  std::uint32_t promotion_version = 1;
  std::uint64_t rule_snapshot_seq = 0;
  std::int64_t discount_minor = 0;  // 0: no discount
  std::int32_t vendor_share_bps = 5000;
};
std::string SaleRecordedEvent(const SaleSpec& spec);
// Returns `qty` units of line 1, clawing back `discount_minor` of the sale's discount.
std::string ReturnRecordedEvent(const SaleSpec& sale, std::string_view return_id,
                                std::int64_t returned_at_ns, std::int32_t qty,
                                std::int64_t refund_minor, std::int64_t discount_minor);
std::string LiabilitySettledEvent(std::string_view promotion_id, std::uint32_t version,
                                  std::string_view party, std::int64_t amount_minor);
std::string PublicationEvent(events::Payload kind, std::string_view artifact,
                             std::string_view destination, std::uint32_t attempt);

}  // namespace tillroll::testing

#endif  // TILLROLL_TESTS_SUPPORT_DOMAIN_EVENTS_H_
