#ifndef TILLROLL_TOOLS_GENERATE_HISTORY_GENERATOR_H_
#define TILLROLL_TOOLS_GENERATE_HISTORY_GENERATOR_H_

// A realistic, internally consistent history of a retailer's prices, promotions, coupons,
// sales, returns and settlements, appended to an EventLog: demo data, projection tests and
// benchmarks. The same options give byte-identical events.
//
// The story: day 0 loads governance (authority rules, role grants) and the catalogue (per SKU
// Cost, Floor and List prices, then channel, region and store List overrides). Every later day
// the pricing engine runs at 04:00 (List changes, markdown waves, corrections, retractions);
// promotions go through their workflow (drafted, submitted, approved or rejected, amended,
// published, paused, resumed, withdrawn, expired); tills (07:00-21:00), web shop and
// marketplace record sales with the prices and promotions in force, coupons are redeemed,
// ~5% of sales come back 1-14 days later; on the 1st of each month vendor-funded discounts are
// settled. Who writes which stream, and how: tools/generate/{price_desk,promotion_campaigns,
// promotion_desk,checkout}.h.
//
// Conditions: `log` must have been opened with `clock` as its LogOptions::clock, and nobody
// else may append to it while this runs (events cite the global_seq of earlier ones, which the
// generator knows from the log's head and checks against every append). The log should be
// empty: the generated stream names (e.g. "order/R-000000001") must be new to it, and its
// head must be recorded before the history's first day.
//
// Errors: InvalidArgument for options out of range or a log holding events recorded after the
// first day; Conflict if the log already holds a generated stream or idempotency key, or
// another writer appends meanwhile; Unavailable if an append fails. Events appended before an
// error stay in the log. Thread-safety: one call at a time per log and clock.

#include <cstddef>
#include <cstdint>
#include <functional>

#include "engine/clock.h"
#include "engine/command_executor.h"
#include "engine/event_log.h"
#include "engine/status.h"

namespace tillroll::generate {

struct HistoryOptions {
  std::size_t sku_count = 200;
  std::size_t store_count = 5;
  std::size_t day_count = 60;
  std::uint64_t seed = 1;
  // Record time of the last simulated day's end; 0 = start of today UTC. Day i (from 0) is
  // [end_ns - (day_count - i) days, end_ns - (day_count - i - 1) days): pass a UTC midnight
  // for calendar days.
  std::int64_t end_ns = 0;
  std::size_t sales_per_store_day = 40;  // mean; scale knob for big histories
  std::size_t batch_events = 2000;       // events per EventLog::Append
};

struct HistoryReport {
  std::uint64_t event_count = 0, price_events = 0, promotion_events = 0, sale_count = 0,
                return_count = 0, settlement_count = 0, coupon_events = 0;
  // Start of the first and of the last simulated day (UTC ns); last_day_ns + 1 day = end.
  std::int64_t first_day_ns = 0, last_day_ns = 0;
  std::uint64_t rejected_attempts = 0;  // front door: the bad attempts the ledger refused
};

// The governance rules the story is told under: the default thresholds, its channels,
// regions and stores as the places a front door checks, and sales recorded as the story's
// tills priced them (they do not price with tillroll's checkout engine).
GovernanceRules StoryRules(const HistoryOptions& options);

// Appends a generated history to `log`, which must be opened with `clock` as its
// LogOptions::clock; the generator moves `clock` through the simulated days so recorded_at
// follows the story. progress(events_so_far) is called after each append (may be empty).
//
// With `front_door` (an executor on `log` and `clock` with StoryRules(options)), every
// decision goes through the command path as the principal the story names, so the audit trail
// holds what a real one would: the accepted commands, the big price moves held and approved,
// and a few bad attempts the ledger refuses (an author approving their own draft, Odoo setting
// a selling price, publishing a rejected version). Without it (bulk), events are appended as
// they are: 30-50 times faster, for benchmark-sized histories, with no audit trail. Both tell
// the same story with the same seed; the front door's log also holds the audit records, the
// approvals and the attempts.
Result<HistoryReport> GenerateHistory(EventLog& log, ManualClock& clock,
                                      const HistoryOptions& options,
                                      const std::function<void(std::uint64_t)>& progress = {},
                                      CommandExecutor* front_door = nullptr);

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_HISTORY_GENERATOR_H_
