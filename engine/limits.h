#ifndef TILLROLL_ENGINE_LIMITS_H_
#define TILLROLL_ENGINE_LIMITS_H_

#include <cstddef>
#include <cstdint>

// Every bound of the ledger in one place. Input over a limit is an InvalidArgument, never a
// crash and never an unbounded allocation.
namespace tillroll::limits {

// One event, as FlatBuffers bytes (a sale of a few hundred lines fits comfortably).
inline constexpr std::size_t kEventBytesMax = 256 * 1024;
// One atomic append: a price file of 50k rows from the pricing engine fits in one batch.
inline constexpr std::size_t kBatchEventsMax = 100'000;
inline constexpr std::size_t kBatchBytesMax = 64 * 1024 * 1024;
inline constexpr std::size_t kStreamNameBytesMax = 200;
inline constexpr std::size_t kIdempotencyKeyBytesMax = 200;
inline constexpr std::size_t kIdBytesMax = 200;  // correlation and causation ids

// The writer's queue of pending appends; producers wait when it is full.
inline constexpr std::size_t kAppendQueueRequestsMax = 4096;
// One group commit: the writer stops collecting requests past either bound.
inline constexpr std::size_t kGroupEventsMax = 200'000;
inline constexpr std::size_t kGroupBytesMax = 128 * 1024 * 1024;
// Written groups waiting for the syncer; the writer waits when this many are queued.
inline constexpr std::size_t kSyncQueueGroupsMax = 64;
// Durable groups waiting for the indexer; the writer waits when this many are queued.
inline constexpr std::size_t kIndexQueueGroupsMax = 64;
// Stream versions the writer keeps in memory before it starts over from storage.
inline constexpr std::size_t kStreamVersionCacheEntriesMax = 1'000'000;

// FlatBuffers verification of buffers that did not come from our own writer.
inline constexpr std::uint32_t kVerifierDepthMax = 32;
inline constexpr std::uint32_t kVerifierTablesMax = 100'000;

// JSON input (append lines; later the HTTP API).
inline constexpr std::size_t kJsonLineBytesMax = 4 * kEventBytesMax;
inline constexpr std::size_t kJsonDepthMax = 24;
inline constexpr std::size_t kJsonArrayElementsMax = 10'000;

// Reads: the most events one call returns.
inline constexpr std::size_t kReadEventsMax = 100'000;

static_assert(kEventBytesMax <= kBatchBytesMax, "one event must fit a batch");
static_assert(kBatchEventsMax <= kGroupEventsMax, "one batch must fit a group commit");
static_assert(kBatchBytesMax <= kGroupBytesMax, "one batch must fit a group commit");
static_assert(kJsonLineBytesMax >= kEventBytesMax, "a JSON line must be able to carry an event");
static_assert(kJsonDepthMax <= kVerifierDepthMax, "JSON nesting must stay verifiable");

}  // namespace tillroll::limits

#endif  // TILLROLL_ENGINE_LIMITS_H_
