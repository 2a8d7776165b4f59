// tillroll-projection-crash-child DATA_DIR SEED: the process that projection_crash_test kills.
//
// It opens the ledger in DATA_DIR, catches its projections up (exit 3 if a projection cannot
// apply an event), starts following the log, and appends batches of prices (all scopes, windows,
// retractions), promotions, sales with funded discounts, returns and settlements until it is
// killed. It writes "following\n" to stdout once its first batch is acknowledged, so every run
// the test kills has grown the log. Exit status (it never exits 0): 2 bad usage or the log
// failed, 3 the projections did not catch up.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include "engine/event_log.h"
#include "projections/projection_runner.h"
#include "tests/support/domain_events.h"

namespace tillroll {
namespace {

[[noreturn]] void Fail(int exit_status, const std::string& message) {
  std::fprintf(stderr, "tillroll-projection-crash-child: %s\n", message.c_str());
  std::_Exit(exit_status);
}

// One batch of a consistent story: the orders are this process's own, so every return has its
// sale and no order is sold twice across runs.
std::vector<std::string> Batch(std::mt19937_64& rng, const std::string& run, int batch_no) {
  using testing::Day;
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<std::string> events;
  const std::string sku = "SKU-" + std::to_string(pick(1, 20));
  static const char* kStores[] = {"store-1", "store-2"};
  for (int i = 0; i < 10; ++i) {
    events.push_back(testing::PriceSetEvent(
        {.sku = sku,
         .type = static_cast<events::PriceType>(pick(0, 3)),
         .level = pick(0, 1) == 0 ? events::ScopeLevel::Global : events::ScopeLevel::Store,
         .scope_name = kStores[pick(0, 1)],
         .amount_minor = pick(100, 9000),
         .from_ns = Day(pick(0, 30))}));
  }
  for (int i = 0; i < 5; ++i) {
    const std::string order_id =
        "R-" + run + "-" + std::to_string(batch_no) + "-" + std::to_string(i);
    const testing::SaleSpec sale{.order_id = order_id,
                                 .sold_at_ns = Day(pick(0, 30)),
                                 .sku = sku,
                                 .qty = pick(1, 4),
                                 .rule_snapshot_seq = 1,
                                 .discount_minor = pick(0, 300),
                                 .vendor_share_bps = pick(0, 10'000)};
    events.push_back(testing::SaleRecordedEvent(sale));
    if (pick(0, 2) == 0) {
      events.push_back(testing::ReturnRecordedEvent(sale, "RET-" + order_id, sale.sold_at_ns, 1,
                                                    sale.unit_price_minor,
                                                    sale.discount_minor / sale.qty));
    }
  }
  events.push_back(testing::LiabilitySettledEvent("SPRING-10", 1, "vendor:acme", pick(1, 99)));
  events.push_back(
      testing::PublicationEvent(events::Payload::PublicationRequested, "price/" + sku, "odoo", 0));
  return events;
}

int Main(int argc, char** argv) {
  if (argc != 3) Fail(2, "usage: tillroll-projection-crash-child DATA_DIR SEED");
  const std::filesystem::path dir = argv[1];
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir);
  if (!log.ok()) Fail(2, log.status().ToString());
  Result<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Open(**log, dir / "projections");
  if (!runner.ok()) Fail(2, runner.status().ToString());
  if (Status s = (*runner)->CatchUp(); !s.ok()) Fail(3, s.ToString());
  (*runner)->StartFollowing();
  const std::string run = std::string(argv[2]) + "-" + std::to_string(getpid());
  for (int batch_no = 0;; ++batch_no) {
    Result<std::vector<AppendOutcome>> appended = (*log)->Append(Batch(rng, run, batch_no));
    if (!appended.ok()) Fail(2, appended.status().ToString());
    if (batch_no == 0) {
      // Only now: the test kills us after this line and expects the log to have grown.
      std::printf("following\n");
      std::fflush(stdout);
    }
  }
}

}  // namespace
}  // namespace tillroll

int main(int argc, char** argv) { return tillroll::Main(argc, argv); }
