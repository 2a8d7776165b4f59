#ifndef TILLROLL_PROJECTIONS_PROJECTION_RUNNER_H_
#define TILLROLL_PROJECTIONS_PROJECTION_RUNNER_H_

// The runner keeps every projection of a ledger up to date with its log: catch-up from each
// projection's checkpoint, then (optionally) following the live log on a thread; rebuilds,
// in place or side by side; digests.
//
// Code versions: a projection whose stored state was written by another code version is rebuilt
// in place when the runner opens, before any query can see it (the notice callback says so). A
// process never serves state folded by other rules than its own.
//
// Rebuilds build a new generation of the projection's state from sequence 1. In place, the new
// generation serves from the start (queries see it fill up; the live log waits). Side by side,
// the serving generation keeps answering and following the log while the new one is built; the
// swap happens once the new one has caught up with the log, under the apply lock, so a query
// sees either the old state or the complete new one. The old generation is dropped when its
// last reader lets go.
//
// An event a projection cannot apply stops that projection at the sequence before it; the
// error names the projection, the sequence, the event and the reason. Nothing is skipped.
//
// Thread-safety: all methods may be called from any thread. The accessors return shared
// pointers that stay valid across swaps.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/event_log.h"
#include "projections/coupons.h"
#include "projections/governance.h"
#include "projections/liabilities.h"
#include "projections/orders.h"
#include "projections/price_book.h"
#include "projections/products.h"
#include "projections/promotions.h"
#include "projections/publication.h"
#include "projections/redemptions.h"

namespace tillroll::projections {

class ProgressMeter;
class ProjectionStore;
class StateSlot;

struct ApplyProgress {
  std::string_view projection;  // or "all"
  Sequence applied_seq = 0;
  Sequence target_seq = 0;
  std::uint64_t applied_count = 0;  // events applied so far in this run
  double events_per_s = 0;
  double eta_s = 0;
  bool done = false;
};
using ProgressFn = std::function<void(const ApplyProgress&)>;

struct ProjectionDigest {
  std::string projection;
  std::string generation;  // the column family holding it, e.g. "price_book.3"
  Sequence checkpoint = 0;
  std::uint32_t code_version = 0;
  std::uint64_t record_count = 0;
  std::string sha256_hex;  // over the code version and every (key, value) in key order
};

struct ProjectionState {
  std::string projection;
  std::string generation;
  Sequence checkpoint = 0;
  std::uint32_t code_version = 0;
  std::string error;  // why it stopped; empty while healthy
};

enum class RebuildMode { kInPlace, kSideBySide };

struct RunnerOptions {
  // Progress of catch-up and rebuilds, at most about once a second and once when done.
  ProgressFn progress;
  // One line for each thing an operator should know (a rebuild forced by a code version).
  std::function<void(std::string_view)> notice;
  // A single projection with its own streams (Projection::stream_prefix) reads just those,
  // through the log's stream index, when it has at least this many events to cover (a
  // rebuild); shorter ranges read the log in order.
  Sequence stream_index_events_min = 50'000;
  // ... and when its events are at most this share of them (point reads cost more than a scan).
  std::uint64_t stream_index_share_max_pct = 25;
};

class ProjectionRunner {
 public:
  // The projections a ledger keeps, in order.
  static std::span<const std::string_view> Names();

  // Opens the projections of the ledger whose log is `log`, stored in `dir`; rebuilds those
  // built by other code versions; loads in-memory indexes. Does not catch up (see CatchUp).
  // `log` must outlive the runner.
  static Result<std::unique_ptr<ProjectionRunner>> Open(const EventLog& log,
                                                        const std::filesystem::path& dir,
                                                        RunnerOptions options = {});
  ~ProjectionRunner();
  ProjectionRunner(const ProjectionRunner&) = delete;
  ProjectionRunner& operator=(const ProjectionRunner&) = delete;

  // Applies every event up to the log's head to every projection. Corruption when a projection
  // cannot apply an event (see above); Unavailable on an I/O error.
  Status CatchUp();
  // The same, unless every projection has already applied `seq`: then it returns at once. Many
  // threads that each need their own append applied (the command path under load) share one
  // catch-up instead of queueing for one each.
  Status CatchUpTo(Sequence seq);

  // Follows the live log on a thread until StopFollowing or destruction. A projection that
  // cannot apply an event stops there; State() reports why.
  void StartFollowing();
  void StopFollowing();

  // Rebuilds one projection from sequence 1 (see above). NotFound for an unknown name.
  Status Rebuild(std::string_view name, RebuildMode mode, const ProgressFn& progress = {});

  Result<ProjectionDigest> Digest(std::string_view name) const;
  std::vector<ProjectionState> State() const;
  // Ok, or Corruption/Unavailable saying why the projection stopped. NotFound for an unknown name.
  Status Health(std::string_view name) const;
  // The lowest checkpoint of all projections: every query reflects at least this sequence.
  Sequence CaughtUpSeq() const;

  std::shared_ptr<const PriceBook> price_book() const;
  std::shared_ptr<const Promotions> promotions() const;
  std::shared_ptr<const Liabilities> liabilities() const;
  std::shared_ptr<const Orders> orders() const;
  std::shared_ptr<const Coupons> coupons() const;
  std::shared_ptr<const Products> products() const;
  std::shared_ptr<const Redemptions> redemptions() const;
  std::shared_ptr<const Publication> publication() const;
  std::shared_ptr<const Governance> governance() const;

 private:
  struct Served;
  struct Target;
  ProjectionRunner(const EventLog& log, RunnerOptions options);

  Status OpenServed(std::string_view name);
  std::shared_ptr<const Projection> Find(std::string_view name) const;
  // Applies events (from, to] to `targets`, committing every few thousand events.
  Status ApplyRange(std::span<Target> targets, Sequence to, std::string_view label,
                    const ProgressFn& progress);
  Status ApplyEvent(Target& target, const LoggedEvent& logged);
  Status ApplyStreams(Target& target, std::span<const Sequence> seqs, Sequence to,
                      ProgressMeter& meter, const std::function<Status(Target&)>& commit);
  // One target per serving projection that has not stopped on an error.
  std::vector<Target> HealthyTargets();
  void RecordErrors(std::span<const Target> targets);
  Status RebuildLocked(std::size_t index, RebuildMode mode, const ProgressFn& progress,
                       std::unique_lock<std::mutex>& apply_lock);
  void FollowLoop();

  const EventLog& log_;
  RunnerOptions options_;
  std::unique_ptr<ProjectionStore> store_;

  std::mutex apply_mu_;           // held while applying events; one applier at a time
  mutable std::mutex served_mu_;  // guards the pointers in served_
  std::vector<Served> served_;

  std::atomic<bool> stop_{false};
  std::thread follower_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_PROJECTION_RUNNER_H_
