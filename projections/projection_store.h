#ifndef TILLROLL_PROJECTIONS_PROJECTION_STORE_H_
#define TILLROLL_PROJECTIONS_PROJECTION_STORE_H_

// The RocksDB database that holds every projection's state, in `<ledger>/projections`.
// Private to projections/.
//
// Layout: one column family per projection generation, named "<projection>.<generation>".
// Inside it, state records have keys 's' + the projection's key, and two meta records sit
// beside them: 'm' "checkpoint" (U64, the last applied sequence) and 'm' "code_version" (U32).
// The default column family maps "serving/<projection>" to the generation that answers
// queries and "generation/<projection>" to the last generation number handed out. A
// generation that is not serving when the store opens is a rebuild that did not finish: it is
// dropped.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/event.h"
#include "engine/status.h"
#include "projections/projection.h"

namespace tillroll::projections {

class StateBatch;

// One generation of one projection's state. Reads are thread-safe. A slot replaced by
// ProjectionStore::Promote is dropped from disk when its last reference goes.
class StateSlot : public StateReader {
 public:
  ~StateSlot() override;
  const std::string& family_name() const { return family_name_; }

  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  Result<std::optional<std::string>> Get(std::string_view key) const override;

  // The last sequence applied to this state (0 when empty) and the code version that wrote it
  // (0 when never written).
  Result<Sequence> Checkpoint() const;
  Result<std::uint32_t> CodeVersion() const;

  // A batch of writes to this slot, committed atomically together with its checkpoint. Only a
  // batch made `readable` answers Get (from its own writes, then the stored state).
  std::unique_ptr<StateBatch> NewBatch(bool readable = false);

 private:
  friend class ProjectionStore;
  friend class StateBatch;
  struct Shared;
  StateSlot(std::shared_ptr<Shared> shared, void* family, std::string family_name);
  Result<std::optional<std::string>> GetRaw(std::string_view raw_key) const;

  std::shared_ptr<Shared> shared_;
  void* family_;  // rocksdb::ColumnFamilyHandle*, owned
  std::string family_name_;
  bool drop_on_release_ = false;
};

// Writes for one slot. Not thread-safe. Commit writes the state changes, the checkpoint and
// the code version as one RocksDB write batch: after a crash the slot holds all of it or none.
class StateBatch : public StateWriter {
 public:
  ~StateBatch() override;
  void Put(std::string_view key, std::string_view value) override;
  Result<std::optional<std::string>> Get(std::string_view key) override;
  // Unavailable when the write fails; the batch is empty again either way.
  Status Commit(Sequence checkpoint, std::uint32_t code_version);

  // Commits several batches (of slots of one store) as one RocksDB write: after a crash all of
  // them are there or none. One write instead of one per projection is what makes following
  // the live log a few events at a time cheap. Each batch is empty again either way.
  struct Pending {
    StateBatch* batch;
    Sequence checkpoint;
    std::uint32_t code_version;
  };
  static Status CommitAll(std::span<const Pending> pending);
  std::size_t put_count() const { return put_count_; }

 private:
  friend class StateSlot;
  StateBatch(StateSlot* slot, bool readable);
  struct Impl;
  StateSlot* slot_;
  std::unique_ptr<Impl> impl_;
  std::size_t put_count_ = 0;
};

class ProjectionStore {
 public:
  // Opens or creates the store in `dir` and drops generations left by unfinished rebuilds.
  // Unavailable when the folder is locked or unreadable.
  static Result<std::unique_ptr<ProjectionStore>> Open(const std::filesystem::path& dir);
  ~ProjectionStore();

  // The generation serving `projection`; a new empty one when there is none.
  Result<std::shared_ptr<StateSlot>> Serving(std::string_view projection);
  // A new empty generation, not serving.
  Result<std::shared_ptr<StateSlot>> NewGeneration(std::string_view projection);
  // Makes `slot` serve `projection`. The generation it replaces is dropped once released.
  Status Promote(std::string_view projection, const std::shared_ptr<StateSlot>& slot);

 private:
  ProjectionStore() = default;
  Result<std::shared_ptr<StateSlot>> CreateSlot(const std::string& family_name);
  std::shared_ptr<StateSlot::Shared> shared_;
  // Slots that serve, by projection name.
  std::vector<std::pair<std::string, std::shared_ptr<StateSlot>>> serving_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_PROJECTION_STORE_H_
