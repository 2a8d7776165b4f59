#include "projections/projection_store.h"

#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <mutex>

#include "engine/log_store.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

constexpr char kStatePrefix = 's';
constexpr char kMetaPrefix = 'm';
const std::string kCheckpointKey = std::string(1, kMetaPrefix) + "checkpoint";
const std::string kCodeVersionKey = std::string(1, kMetaPrefix) + "code_version";
const std::string kServingPrefix = "serving/";
const std::string kGenerationPrefix = "generation/";

std::string StateKey(std::string_view key) {
  std::string raw(1, kStatePrefix);
  raw.append(key);
  return raw;
}

rocksdb::ColumnFamilyHandle* Family(void* family) {
  return static_cast<rocksdb::ColumnFamilyHandle*>(family);
}

rocksdb::WriteOptions ProjectionWriteOptions() {
  // Projections are derived: an unsynced write lost to a power cut is re-applied from the log,
  // and state and checkpoint are lost together because they share one batch.
  rocksdb::WriteOptions options;
  options.sync = false;
  return options;
}

}  // namespace

struct StateSlot::Shared {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* meta = nullptr;  // the default family
  std::mutex families_mu;                       // serializes creating and dropping families

  ~Shared() {
    if (db != nullptr && meta != nullptr) db->DestroyColumnFamilyHandle(meta);
  }
};

StateSlot::StateSlot(std::shared_ptr<Shared> shared, void* family, std::string family_name)
    : shared_(std::move(shared)), family_(family), family_name_(std::move(family_name)) {}

StateSlot::~StateSlot() {
  std::lock_guard<std::mutex> lock(shared_->families_mu);
  if (drop_on_release_) (void)shared_->db->DropColumnFamily(Family(family_));
  (void)shared_->db->DestroyColumnFamilyHandle(Family(family_));
}

Status StateSlot::Scan(std::string_view prefix,
                       const std::function<bool(std::string_view, std::string_view)>& visit) const {
  const std::string raw_prefix = StateKey(prefix);
  std::unique_ptr<rocksdb::Iterator> it(
      shared_->db->NewIterator(rocksdb::ReadOptions(), Family(family_)));
  for (it->Seek(raw_prefix); it->Valid() && it->key().starts_with(raw_prefix); it->Next()) {
    if (!visit(it->key().ToStringView().substr(1), it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "reading projection state");
}

Result<std::optional<std::string>> StateSlot::GetRaw(std::string_view raw_key) const {
  std::string value;
  rocksdb::Status s = shared_->db->Get(rocksdb::ReadOptions(), Family(family_), raw_key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading projection state");
  return std::optional<std::string>(std::move(value));
}

Result<std::optional<std::string>> StateSlot::Get(std::string_view key) const {
  return GetRaw(StateKey(key));
}

Result<Sequence> StateSlot::Checkpoint() const {
  Result<std::optional<std::string>> value = GetRaw(kCheckpointKey);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return Sequence{0};
  RecordReader reader(**value);
  const Sequence seq = reader.U64();
  if (!reader.done()) return Status::Corruption(family_name_ + ": unreadable checkpoint");
  return seq;
}

Result<std::uint32_t> StateSlot::CodeVersion() const {
  Result<std::optional<std::string>> value = GetRaw(kCodeVersionKey);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::uint32_t{0};
  RecordReader reader(**value);
  const std::uint32_t version = reader.U32();
  if (!reader.done()) return Status::Corruption(family_name_ + ": unreadable code version");
  return version;
}

std::unique_ptr<StateBatch> StateSlot::NewBatch(bool readable) {
  return std::unique_ptr<StateBatch>(new StateBatch(this, readable));
}

struct StateBatch::Impl {
  explicit Impl(bool readable) {
    if (readable) {
      indexed = std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0,
                                                               /*overwrite_key=*/true);
    }
  }
  rocksdb::WriteBatch* batch() { return indexed ? indexed->GetWriteBatch() : &plain; }
  void Clear() { indexed ? indexed->Clear() : plain.Clear(); }

  std::unique_ptr<rocksdb::WriteBatchWithIndex> indexed;  // when readable
  rocksdb::WriteBatch plain;
  std::string key;  // reused buffer for the stored form of a key
};

StateBatch::StateBatch(StateSlot* slot, bool readable)
    : slot_(slot), impl_(std::make_unique<Impl>(readable)) {}
StateBatch::~StateBatch() = default;

void StateBatch::Put(std::string_view key, std::string_view value) {
  impl_->key.assign(1, kStatePrefix);
  impl_->key.append(key);
  rocksdb::Status s = impl_->indexed
                          ? impl_->indexed->Put(Family(slot_->family_), impl_->key, value)
                          : impl_->plain.Put(Family(slot_->family_), impl_->key, value);
  TR_ASSERT(s.ok());
  ++put_count_;
}

Result<std::optional<std::string>> StateBatch::Get(std::string_view key) {
  TR_ASSERT(impl_->indexed != nullptr);  // only readable batches are read
  std::string value;
  rocksdb::Status s =
      impl_->indexed->GetFromBatchAndDB(slot_->shared_->db.get(), rocksdb::ReadOptions(),
                                        Family(slot_->family_), StateKey(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading projection state");
  return std::optional<std::string>(std::move(value));
}

Status StateBatch::Commit(Sequence checkpoint, std::uint32_t code_version) {
  rocksdb::WriteBatch* batch = impl_->batch();
  rocksdb::Status s =
      batch->Put(Family(slot_->family_), kCheckpointKey, RecordWriter().U64(checkpoint).bytes());
  if (s.ok()) {
    s = batch->Put(Family(slot_->family_), kCodeVersionKey,
                   RecordWriter().U32(code_version).bytes());
  }
  if (s.ok()) s = slot_->shared_->db->Write(ProjectionWriteOptions(), batch);
  impl_->Clear();
  put_count_ = 0;
  return FromRocks(s, ("writing projection " + slot_->family_name_).c_str());
}

namespace {

// Copies one slot's batch into another batch, for CommitAll. State batches hold puts only.
class CopyPuts final : public rocksdb::WriteBatch::Handler {
 public:
  CopyPuts(rocksdb::WriteBatch& into, rocksdb::ColumnFamilyHandle* family)
      : into_(into), family_(family) {}
  rocksdb::Status PutCF(std::uint32_t, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    return into_.Put(family_, key, value);
  }

 private:
  rocksdb::WriteBatch& into_;
  rocksdb::ColumnFamilyHandle* family_;
};

}  // namespace

Status StateBatch::CommitAll(std::span<const Pending> pending) {
  if (pending.empty()) return Status::Ok();
  if (pending.size() == 1) {
    return pending.front().batch->Commit(pending.front().checkpoint,
                                         pending.front().code_version);
  }
  rocksdb::WriteBatch combined;
  rocksdb::Status s;
  for (const Pending& p : pending) {
    rocksdb::ColumnFamilyHandle* family = Family(p.batch->slot_->family_);
    CopyPuts copy(combined, family);
    s = p.batch->impl_->batch()->Iterate(&copy);
    if (s.ok()) s = combined.Put(family, kCheckpointKey, RecordWriter().U64(p.checkpoint).bytes());
    if (s.ok()) {
      s = combined.Put(family, kCodeVersionKey, RecordWriter().U32(p.code_version).bytes());
    }
    if (!s.ok()) break;
  }
  if (s.ok()) s = pending.front().batch->slot_->shared_->db->Write(ProjectionWriteOptions(), &combined);
  for (const Pending& p : pending) {
    p.batch->impl_->Clear();
    p.batch->put_count_ = 0;
  }
  return FromRocks(s, "writing projections");
}

ProjectionStore::~ProjectionStore() = default;

Result<std::unique_ptr<ProjectionStore>> ProjectionStore::Open(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create " + dir.string() + ": " + ec.message());
  const rocksdb::ColumnFamilyOptions family_options = LogFamilyOptions();
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(LogDbOptions(), dir.string(), &names);
  if (!s.ok()) names = {rocksdb::kDefaultColumnFamilyName};  // a new store
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) families.emplace_back(name, family_options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::Open(rocksdb::Options(LogDbOptions(), family_options), dir.string(), families,
                        &handles, &raw);
  if (!s.ok()) return FromRocks(s, ("opening projections in " + dir.string()).c_str());

  auto store = std::unique_ptr<ProjectionStore>(new ProjectionStore());
  store->shared_ = std::make_shared<StateSlot::Shared>();
  store->shared_->db.reset(raw);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == rocksdb::kDefaultColumnFamilyName) {
      store->shared_->meta = handles[i];
      continue;
    }
    auto slot = std::shared_ptr<StateSlot>(new StateSlot(store->shared_, handles[i], names[i]));
    const std::string projection = names[i].substr(0, names[i].rfind('.'));
    std::string serving;
    s = raw->Get(rocksdb::ReadOptions(), kServingPrefix + projection, &serving);
    if (s.ok() && serving == names[i]) {
      store->serving_.emplace_back(projection, std::move(slot));
    } else {
      slot->drop_on_release_ = true;  // an unfinished rebuild; dropped right here
    }
  }
  return store;
}

Result<std::shared_ptr<StateSlot>> ProjectionStore::CreateSlot(const std::string& family_name) {
  std::lock_guard<std::mutex> lock(shared_->families_mu);
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  rocksdb::Status s = shared_->db->CreateColumnFamily(LogFamilyOptions(), family_name, &handle);
  if (!s.ok()) return FromRocks(s, ("creating " + family_name).c_str());
  return std::shared_ptr<StateSlot>(new StateSlot(shared_, handle, family_name));
}

Result<std::shared_ptr<StateSlot>> ProjectionStore::Serving(std::string_view projection) {
  for (const auto& [name, slot] : serving_) {
    if (name == projection) return slot;
  }
  Result<std::shared_ptr<StateSlot>> slot = NewGeneration(projection);
  if (!slot.ok()) return slot;
  if (Status s = Promote(projection, *slot); !s.ok()) return s;
  return slot;
}

Result<std::shared_ptr<StateSlot>> ProjectionStore::NewGeneration(std::string_view projection) {
  const std::string generation_key = kGenerationPrefix + std::string(projection);
  std::string stored;
  std::uint64_t generation = 0;
  rocksdb::Status s = shared_->db->Get(rocksdb::ReadOptions(), generation_key, &stored);
  if (s.ok()) {
    RecordReader reader(stored);
    generation = reader.U64();
    if (!reader.done()) return Status::Corruption("unreadable " + generation_key);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading projection generations");
  }
  ++generation;
  s = shared_->db->Put(ProjectionWriteOptions(), generation_key,
                       RecordWriter().U64(generation).bytes());
  if (!s.ok()) return FromRocks(s, "writing projection generations");
  return CreateSlot(std::string(projection) + "." + std::to_string(generation));
}

Status ProjectionStore::Promote(std::string_view projection,
                                const std::shared_ptr<StateSlot>& slot) {
  rocksdb::WriteOptions options = ProjectionWriteOptions();
  options.sync = true;  // the old generation is dropped next: the switch must come first
  rocksdb::Status s =
      shared_->db->Put(options, kServingPrefix + std::string(projection), slot->family_name());
  if (!s.ok()) return FromRocks(s, "switching projection generations");
  for (auto& [name, serving] : serving_) {
    if (name != projection) continue;
    if (serving != slot) serving->drop_on_release_ = true;
    serving = slot;
    return Status::Ok();
  }
  serving_.emplace_back(std::string(projection), slot);
  return Status::Ok();
}

}  // namespace tillroll::projections
