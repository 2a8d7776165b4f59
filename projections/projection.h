#ifndef TILLROLL_PROJECTIONS_PROJECTION_H_
#define TILLROLL_PROJECTIONS_PROJECTION_H_

// A projection folds the log into one read model. It is deterministic: the same events in the
// same order produce the same stored state, byte for byte, which is what makes a rebuilt
// projection's digest equal the live one's.
//
// Its state lives in its own RocksDB column family (projections/projection_store.h), written
// through StateWriter in the same batch as its checkpoint. In-memory indexes, where a
// projection keeps them for fast queries, are derived only from stored records (Load on open,
// the same code while applying), so what a process serves after a restart is what it served
// before.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.h"
#include "engine/status.h"
#include "schemas/envelope_generated.h"

namespace tillroll::projections {

// The stored state of one projection, read-only. Thread-safe.
class StateReader {
 public:
  virtual ~StateReader() = default;
  // Calls visit(key, value) for each record whose key starts with `prefix`, in key order, until
  // it returns false. Unavailable on an I/O error.
  virtual Status Scan(
      std::string_view prefix,
      const std::function<bool(std::string_view, std::string_view)>& visit) const = 0;
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
};

// Where Apply writes. Reads see the writes of the batch being built. Not thread-safe.
class StateWriter {
 public:
  virtual ~StateWriter() = default;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
};

// An event as the runner hands it to Apply: checked by the log, valid during the call.
struct LoggedEvent {
  Sequence seq = 0;
  std::string_view bytes;  // the sealed event
  const events::Event* event = nullptr;
};

class Projection {
 public:
  virtual ~Projection() = default;

  // The projection's name, also its column family's: "price_book", "promotions", ...
  virtual std::string_view name() const = 0;
  // Bumped whenever the stored layout or the folding rules change. State stored by another
  // version is rebuilt before it is served (see ProjectionRunner::Open).
  virtual std::uint32_t code_version() const = 0;

  // Folds one event. Events of other kinds are ignored.
  // InvalidArgument when the event contradicts what the projection holds (a return for an
  // unknown order, an approval of a version never drafted): the runner stops there and names
  // the sequence; it never skips an event.
  virtual Status Apply(const LoggedEvent& logged, StateWriter& state) = 0;

  // The streams this projection folds: those whose names start with this prefix (e.g.
  // "price/"), or every stream when empty. The runner hands it nothing else, so that a rebuild
  // can read just these streams through the log's stream index and fold the same state.
  virtual std::string_view stream_prefix() const { return {}; }

  // Whether Apply calls StateWriter::Get. A projection that never reads while applying gets a
  // plain write batch, which is cheaper than one that indexes its writes for reading.
  virtual bool reads_while_applying() const { return false; }

  // Rebuilds in-memory indexes from the stored state; called once, before any Apply.
  // Corruption when a stored record cannot be decoded.
  virtual Status Load(const StateReader& state) {
    (void)state;
    return Status::Ok();
  }
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_PROJECTION_H_
