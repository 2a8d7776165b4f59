#include "projections/projection_runner.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "projections/projection_store.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

// Events applied between two commits of a projection's batch (state + checkpoint).
constexpr std::uint64_t kCommitEvents = 8192;
// Events the follower takes from the live log at a time.
constexpr std::size_t kFollowEvents = 4096;
constexpr auto kFollowWait = std::chrono::milliseconds(100);
constexpr auto kProgressInterval = std::chrono::seconds(1);

constexpr std::array<std::string_view, 9> kNames = {
    PriceBook::kName,  Promotions::kName, Liabilities::kName, Orders::kName,     Publication::kName,
    Governance::kName, Coupons::kName,    Products::kName,    Redemptions::kName};

std::unique_ptr<Projection> MakeProjection(std::string_view name,
                                           std::shared_ptr<const StateReader> state) {
  if (name == PriceBook::kName) return std::make_unique<PriceBook>();
  if (name == Promotions::kName) return std::make_unique<Promotions>();
  if (name == Liabilities::kName) return std::make_unique<Liabilities>(std::move(state));
  if (name == Orders::kName) return std::make_unique<Orders>(std::move(state));
  if (name == Publication::kName) return std::make_unique<Publication>(std::move(state));
  if (name == Governance::kName) return std::make_unique<Governance>();
  if (name == Coupons::kName) return std::make_unique<Coupons>(std::move(state));
  if (name == Products::kName) return std::make_unique<Products>();
  if (name == Redemptions::kName) return std::make_unique<Redemptions>(std::move(state));
  return nullptr;
}

std::string DescribeEvent(const LoggedEvent& logged) {
  return std::string(events::EnumNamePayload(logged.event->payload_type())) + ", stream " +
         (logged.event->stream() ? logged.event->stream()->str() : std::string());
}

}  // namespace

// Reports progress at most once per interval, and once at the end.
class ProgressMeter {
 public:
  ProgressMeter(std::string_view label, Sequence from, Sequence to, const ProgressFn& report)
      : report_(report), start_(std::chrono::steady_clock::now()), last_(start_) {
    progress_.projection = label;
    progress_.applied_seq = from;
    progress_.target_seq = to;
  }
  void Applied(Sequence seq) {
    progress_.applied_seq = seq;
    ++progress_.applied_count;
    if ((progress_.applied_count & 1023) != 0 || !report_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < kProgressInterval) return;
    last_ = now;
    Report(now);
  }
  void Done() {
    if (!report_) return;
    progress_.done = true;
    Report(std::chrono::steady_clock::now());
  }

 private:
  void Report(std::chrono::steady_clock::time_point now) {
    const double elapsed_s = std::chrono::duration<double>(now - start_).count();
    progress_.events_per_s =
        elapsed_s > 0 ? static_cast<double>(progress_.applied_count) / elapsed_s : 0;
    const double remaining = static_cast<double>(progress_.target_seq - progress_.applied_seq);
    progress_.eta_s = progress_.events_per_s > 0 ? remaining / progress_.events_per_s : 0;
    report_(progress_);
  }
  const ProgressFn& report_;
  ApplyProgress progress_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

struct ProjectionRunner::Served {
  std::string name;
  std::shared_ptr<StateSlot> slot;
  std::shared_ptr<Projection> projection;
  Sequence checkpoint = 0;
  std::string error;
};

// A projection being applied to, with its open batch.
struct ProjectionRunner::Target {
  std::string name;
  std::shared_ptr<StateSlot> slot;
  std::shared_ptr<Projection> projection;
  std::unique_ptr<StateBatch> batch;
  Sequence checkpoint = 0;   // committed
  Sequence applied = 0;      // applied to the batch
  Served* served = nullptr;  // the serving entry to keep informed; null for a new generation
  Status error;
};

std::span<const std::string_view> ProjectionRunner::Names() { return kNames; }

ProjectionRunner::ProjectionRunner(const EventLog& log, RunnerOptions options)
    : log_(log), options_(std::move(options)) {}

ProjectionRunner::~ProjectionRunner() { StopFollowing(); }

Result<std::unique_ptr<ProjectionRunner>> ProjectionRunner::Open(const EventLog& log,
                                                                 const std::filesystem::path& dir,
                                                                 RunnerOptions options) {
  auto runner = std::unique_ptr<ProjectionRunner>(new ProjectionRunner(log, std::move(options)));
  Result<std::unique_ptr<ProjectionStore>> store = ProjectionStore::Open(dir);
  if (!store.ok()) return store.status();
  runner->store_ = std::move(*store);
  runner->served_.reserve(kNames.size());
  for (std::string_view name : kNames) {
    if (Status s = runner->OpenServed(name); !s.ok()) return s;
  }
  return runner;
}

Status ProjectionRunner::OpenServed(std::string_view name) {
  Result<std::shared_ptr<StateSlot>> slot = store_->Serving(name);
  if (!slot.ok()) return slot.status();
  Result<Sequence> checkpoint = (*slot)->Checkpoint();
  if (!checkpoint.ok()) return checkpoint.status();
  Result<std::uint32_t> stored_version = (*slot)->CodeVersion();
  if (!stored_version.ok()) return stored_version.status();
  std::shared_ptr<Projection> projection = MakeProjection(name, *slot);
  served_.push_back({std::string(name), *slot, projection, *checkpoint, ""});
  if (*stored_version != 0 && *stored_version != projection->code_version()) {
    if (options_.notice) {
      options_.notice("rebuilding " + std::string(name) + ": its state was built by code version " +
                      std::to_string(*stored_version) + ", this is version " +
                      std::to_string(projection->code_version()));
    }
    std::unique_lock<std::mutex> lock(apply_mu_);
    return RebuildLocked(served_.size() - 1, RebuildMode::kInPlace, options_.progress, lock);
  }
  return projection->Load(**slot);
}

Status ProjectionRunner::ApplyEvent(Target& target, const LoggedEvent& logged) {
  if (logged.seq <= target.applied) return Status::Ok();
  TR_ASSERT(logged.seq == target.applied + 1);
  const std::string_view prefix = target.projection->stream_prefix();
  if (!prefix.empty() && !logged.event->stream()->string_view().starts_with(prefix)) {
    target.applied = logged.seq;  // not one of its streams
    return Status::Ok();
  }
  Status s = target.projection->Apply(logged, *target.batch);
  if (!s.ok()) {
    return Status::Corruption(target.name + " cannot apply event " + std::to_string(logged.seq) +
                              " (" + DescribeEvent(logged) + "): " + s.message());
  }
  target.applied = logged.seq;
  return Status::Ok();
}

Status ProjectionRunner::ApplyRange(std::span<Target> targets, Sequence to, std::string_view label,
                                    const ProgressFn& progress) {
  Sequence from = to;
  for (const Target& t : targets) from = std::min(from, t.applied);
  if (from >= to) return Status::Ok();
  auto commit = [&](Target& t) {
    if (t.applied == t.checkpoint) return Status::Ok();
    Status s = t.batch->Commit(t.applied, t.projection->code_version());
    if (!s.ok()) return s;
    t.checkpoint = t.applied;
    if (t.served != nullptr) {
      std::lock_guard<std::mutex> lock(served_mu_);
      t.served->checkpoint = t.checkpoint;
    }
    return Status::Ok();
  };
  ProgressMeter meter(label, from, to, progress);
  if (targets.size() == 1 && !targets[0].projection->stream_prefix().empty() &&
      to - from >= options_.stream_index_events_min) {
    Result<std::vector<Sequence>> seqs =
        log_.SeqsOfStreams(targets[0].projection->stream_prefix(), from, to);
    if (!seqs.ok()) return targets[0].error = seqs.status();
    // Point reads pay off only when the projection's streams are a small part of the range.
    if (seqs->size() * 100 <= (to - from) * options_.stream_index_share_max_pct) {
      return ApplyStreams(targets[0], *seqs, to, meter, commit);
    }
  }
  // A projection that cannot apply an event stops there; the others go on.
  Status first_error;
  std::size_t running = targets.size();
  std::uint64_t since_commit = 0;
  Status replayed = log_.Replay(from + 1, to + 1, [&](Sequence seq, std::string_view bytes) {
    const LoggedEvent logged{seq, bytes, events::GetEvent(bytes.data())};
    const bool commit_now = ++since_commit >= kCommitEvents;
    for (Target& t : targets) {
      if (!t.error.ok()) continue;
      Status s = ApplyEvent(t, logged);
      if (!s.ok()) {
        // Apply wrote nothing for the event it rejected: what came before it is kept.
        if (Status committed = commit(t); !committed.ok()) s = committed;
      } else if (commit_now) {
        s = commit(t);
      }
      if (s.ok()) continue;
      t.error = s;  // never committed again: a failed batch is gone
      if (first_error.ok()) first_error = s;
      --running;
    }
    if (commit_now) since_commit = 0;
    meter.Applied(seq);
    return running > 0;
  });
  // What is left in every batch goes in one write.
  std::vector<StateBatch::Pending> pending;
  std::vector<Target*> committing;
  for (Target& t : targets) {
    if (!t.error.ok() || t.applied == t.checkpoint) continue;
    pending.push_back({t.batch.get(), t.applied, t.projection->code_version()});
    committing.push_back(&t);
  }
  const Status committed = StateBatch::CommitAll(pending);
  for (Target* t : committing) {
    if (!committed.ok()) {
      t->error = committed;
      continue;
    }
    t->checkpoint = t->applied;
    if (t->served != nullptr) {
      std::lock_guard<std::mutex> lock(served_mu_);
      t->served->checkpoint = t->checkpoint;
    }
  }
  for (const Target& t : targets) {
    if (!t.error.ok() && first_error.ok()) first_error = t.error;
  }
  if (!replayed.ok()) {
    for (Target& t : targets) {
      if (t.error.ok()) t.error = replayed;
    }
    return replayed;
  }
  if (!first_error.ok()) return first_error;
  meter.Done();
  return Status::Ok();
}

// One projection over a long range: only the events of its streams, found through the log's
// stream index and read one by one (each checked against its own hash), instead of every event
// of the log. The state is the same as the dense path's because ApplyEvent hands a projection
// nothing outside its streams either.
Status ProjectionRunner::ApplyStreams(Target& t, std::span<const Sequence> seqs, Sequence to,
                                      ProgressMeter& meter,
                                      const std::function<Status(Target&)>& commit) {
  std::uint64_t since_commit = 0;
  for (Sequence seq : seqs) {
    Result<std::vector<EventRecord>> read = log_.Read(seq, 1);
    if (!read.ok() || read->empty()) {
      return t.error = read.ok()
                           ? Status::Corruption("event " + std::to_string(seq) + " is missing")
                           : read.status();
    }
    const std::string& bytes = read->front().bytes;
    const LoggedEvent logged{seq, bytes, events::GetEvent(bytes.data())};
    t.applied = seq - 1;  // the events in between are on other streams
    Status s = ApplyEvent(t, logged);
    if (!s.ok()) {
      if (Status committed = commit(t); !committed.ok()) s = committed;
      return t.error = s;
    }
    meter.Applied(seq);
    if (++since_commit >= kCommitEvents) {
      since_commit = 0;
      if (Status c = commit(t); !c.ok()) return t.error = c;
    }
  }
  t.applied = to;
  if (Status c = commit(t); !c.ok()) return t.error = c;
  meter.Done();
  return Status::Ok();
}

Status ProjectionRunner::CatchUp() {
  std::unique_lock<std::mutex> lock(apply_mu_);
  std::vector<Target> targets = HealthyTargets();
  Status s = ApplyRange(targets, log_.Head().seq, "all", options_.progress);
  RecordErrors(targets);
  return s;
}

Status ProjectionRunner::CatchUpTo(Sequence seq) {
  if (CaughtUpSeq() >= seq) return Status::Ok();
  std::unique_lock<std::mutex> lock(apply_mu_);
  // Whoever held the lock before may have applied `seq` already.
  if (CaughtUpSeq() >= seq) return Status::Ok();
  std::vector<Target> targets = HealthyTargets();
  Status s = ApplyRange(targets, log_.Head().seq, "all", options_.progress);
  RecordErrors(targets);
  return s;
}

void ProjectionRunner::RecordErrors(std::span<const Target> targets) {
  std::lock_guard<std::mutex> lock(served_mu_);
  for (const Target& t : targets) {
    if (!t.error.ok() && t.served != nullptr) t.served->error = t.error.message();
  }
}

std::vector<ProjectionRunner::Target> ProjectionRunner::HealthyTargets() {
  std::vector<Target> targets;
  std::lock_guard<std::mutex> lock(served_mu_);
  for (Served& s : served_) {
    if (!s.error.empty()) continue;
    targets.push_back({s.name, s.slot, s.projection,
                       s.slot->NewBatch(s.projection->reads_while_applying()), s.checkpoint,
                       s.checkpoint, &s});
  }
  return targets;
}

Status ProjectionRunner::RebuildLocked(std::size_t index, RebuildMode mode,
                                       const ProgressFn& progress,
                                       std::unique_lock<std::mutex>& apply_lock) {
  Served& served = served_[index];
  Result<std::shared_ptr<StateSlot>> slot = store_->NewGeneration(served.name);
  if (!slot.ok()) return slot.status();
  std::shared_ptr<Projection> projection = MakeProjection(served.name, *slot);
  Target target{served.name, *slot, projection,
                (*slot)->NewBatch(projection->reads_while_applying())};
  auto swap = [&]() -> Status {
    if (Status s = store_->Promote(served.name, *slot); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(served_mu_);
    served.slot = *slot;
    served.projection = projection;
    served.checkpoint = target.checkpoint;
    served.error.clear();
    target.served = &served;
    return Status::Ok();
  };
  if (mode == RebuildMode::kInPlace) {
    if (Status s = swap(); !s.ok()) return s;
  } else {
    apply_lock.unlock();  // the serving generation keeps following the log meanwhile
    Status built = ApplyRange(std::span(&target, 1), log_.Head().seq, served.name, progress);
    apply_lock.lock();
    if (!built.ok()) return built;
  }
  Status s = ApplyRange(std::span(&target, 1), log_.Head().seq, served.name, progress);
  if (!s.ok()) {
    if (target.served != nullptr) {
      std::lock_guard<std::mutex> lock(served_mu_);
      served.error = s.message();
    }
    return s;
  }
  return mode == RebuildMode::kSideBySide ? swap() : Status::Ok();
}

Status ProjectionRunner::Rebuild(std::string_view name, RebuildMode mode,
                                 const ProgressFn& progress) {
  for (std::size_t i = 0; i < served_.size(); ++i) {
    if (served_[i].name != name) continue;
    std::unique_lock<std::mutex> lock(apply_mu_);
    return RebuildLocked(i, mode, progress, lock);
  }
  return Status::NotFound("no projection named " + std::string(name));
}

void ProjectionRunner::StartFollowing() {
  if (follower_.joinable()) return;
  stop_ = false;
  follower_ = std::thread([this] { FollowLoop(); });
}

void ProjectionRunner::StopFollowing() {
  stop_ = true;
  if (follower_.joinable()) follower_.join();
}

void ProjectionRunner::FollowLoop() {
  while (!stop_) {
    std::unique_lock<std::mutex> lock(apply_mu_);
    std::vector<Target> targets = HealthyTargets();
    Sequence from = UINT64_MAX;
    for (const Target& t : targets) from = std::min(from, t.applied);
    if (targets.empty() || log_.Head().seq <= from) {
      lock.unlock();
      if (targets.empty()) {
        std::this_thread::sleep_for(kFollowWait);
      } else {
        (void)log_.WaitForHead(from + 1, kFollowWait);
      }
      continue;
    }
    const Sequence to = std::min<Sequence>(log_.Head().seq, from + kFollowEvents);
    (void)ApplyRange(targets, to, "all", {});
    RecordErrors(targets);
  }
}

Sequence ProjectionRunner::CaughtUpSeq() const {
  std::lock_guard<std::mutex> lock(served_mu_);
  Sequence seq = UINT64_MAX;
  for (const Served& s : served_) seq = std::min(seq, s.checkpoint);
  return served_.empty() ? 0 : seq;
}

std::vector<ProjectionState> ProjectionRunner::State() const {
  std::lock_guard<std::mutex> lock(served_mu_);
  std::vector<ProjectionState> states;
  for (const Served& s : served_) {
    states.push_back(
        {s.name, s.slot->family_name(), s.checkpoint, s.projection->code_version(), s.error});
  }
  return states;
}

Status ProjectionRunner::Health(std::string_view name) const {
  std::lock_guard<std::mutex> lock(served_mu_);
  for (const Served& s : served_) {
    if (s.name != name) continue;
    if (s.error.empty()) return Status::Ok();
    return Status::Corruption(s.name + " stopped at seq " + std::to_string(s.checkpoint) + ": " +
                              s.error);
  }
  return Status::NotFound("no projection named " + std::string(name));
}

Result<ProjectionDigest> ProjectionRunner::Digest(std::string_view name) const {
  std::shared_ptr<StateSlot> slot;
  ProjectionDigest digest;
  {
    std::lock_guard<std::mutex> lock(served_mu_);
    for (const Served& s : served_) {
      if (s.name != name) continue;
      slot = s.slot;
      digest = {s.name, s.slot->family_name(), s.checkpoint, s.projection->code_version()};
    }
  }
  if (slot == nullptr) return Status::NotFound("no projection named " + std::string(name));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  TR_ASSERT(ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  auto update = [&](std::string_view bytes) {
    const std::string length = RecordWriter().U64(bytes.size()).Release();
    EVP_DigestUpdate(ctx.get(), length.data(), length.size());
    EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
  };
  update(RecordWriter().U32(digest.code_version).bytes());
  Status scanned = slot->Scan("", [&](std::string_view key, std::string_view value) {
    update(key);
    update(value);
    ++digest.record_count;
    return true;
  });
  if (!scanned.ok()) return scanned;
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), out.data(), &size);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < size; ++i) {
    digest.sha256_hex.push_back(kHex[out[i] >> 4]);
    digest.sha256_hex.push_back(kHex[out[i] & 15]);
  }
  return digest;
}

std::shared_ptr<const Projection> ProjectionRunner::Find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(served_mu_);
  for (const Served& s : served_) {
    if (s.name == name) return s.projection;
  }
  TR_ASSERT(false);
  return nullptr;
}

std::shared_ptr<const PriceBook> ProjectionRunner::price_book() const {
  return std::static_pointer_cast<const PriceBook>(Find(PriceBook::kName));
}
std::shared_ptr<const Promotions> ProjectionRunner::promotions() const {
  return std::static_pointer_cast<const Promotions>(Find(Promotions::kName));
}
std::shared_ptr<const Liabilities> ProjectionRunner::liabilities() const {
  return std::static_pointer_cast<const Liabilities>(Find(Liabilities::kName));
}
std::shared_ptr<const Orders> ProjectionRunner::orders() const {
  return std::static_pointer_cast<const Orders>(Find(Orders::kName));
}
std::shared_ptr<const Publication> ProjectionRunner::publication() const {
  return std::static_pointer_cast<const Publication>(Find(Publication::kName));
}
std::shared_ptr<const Governance> ProjectionRunner::governance() const {
  return std::static_pointer_cast<const Governance>(Find(Governance::kName));
}
std::shared_ptr<const Coupons> ProjectionRunner::coupons() const {
  return std::static_pointer_cast<const Coupons>(Find(Coupons::kName));
}
std::shared_ptr<const Redemptions> ProjectionRunner::redemptions() const {
  return std::static_pointer_cast<const Redemptions>(Find(Redemptions::kName));
}
std::shared_ptr<const Products> ProjectionRunner::products() const {
  return std::static_pointer_cast<const Products>(Find(Products::kName));
}

}  // namespace tillroll::projections
