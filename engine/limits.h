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
// Tips of recently indexed streams the indexer keeps for readers of stream versions (the
// command path asks for one per decided event) before it starts over from the index.
inline constexpr std::size_t kIndexedStreamTipsMax = 65'536;

// FlatBuffers verification of buffers that did not come from our own writer.
inline constexpr std::uint32_t kVerifierDepthMax = 32;
inline constexpr std::uint32_t kVerifierTablesMax = 100'000;

// JSON input (append lines; later the HTTP API).
inline constexpr std::size_t kJsonLineBytesMax = 4 * kEventBytesMax;
inline constexpr std::size_t kJsonDepthMax = 24;
inline constexpr std::size_t kJsonArrayElementsMax = 10'000;

// Reads: the most events one call returns.
inline constexpr std::size_t kReadEventsMax = 100'000;

// The HTTP API (adapters/http); each is a default that tillroll.toml's [http] table may change.
namespace http {
// One request body: a price file of 50k rows from the pricing engine fits.
inline constexpr std::size_t kBodyBytesMax = 32 * 1024 * 1024;
inline constexpr std::size_t kHeaderBytesMax = 16 * 1024;
// Commands in one POST /v1/commands (the log's batch bound: two events per command at most).
inline constexpr std::size_t kBatchCommandsMax = kBatchEventsMax / 2;
inline constexpr std::size_t kConnectionsMax = 1024;
// Per principal: a token bucket refilled at this rate, holding at most the burst.
inline constexpr double kRequestsPerSecond = 20'000;
inline constexpr double kRequestsBurst = 40'000;
// A client that sends a request or reads a response slower than this is cut off.
inline constexpr std::int64_t kReadTimeoutMs = 10'000;
inline constexpr std::int64_t kWriteTimeoutMs = 10'000;
// A keep-alive connection with no request for this long is closed.
inline constexpr std::int64_t kIdleTimeoutMs = 60'000;
// SIGTERM: in-flight requests get this long to finish.
inline constexpr std::int64_t kShutdownTimeoutMs = 10'000;
// GET /v1/events: the most events one page holds.
inline constexpr std::size_t kEventsPageMax = 10'000;
// GET /v1/price-book: the most SKUs one slice names.
inline constexpr std::size_t kPriceBookSkusMax = 1'000;
}  // namespace http

static_assert(kEventBytesMax <= kBatchBytesMax, "one event must fit a batch");
static_assert(kBatchEventsMax <= kGroupEventsMax, "one batch must fit a group commit");
static_assert(kBatchBytesMax <= kGroupBytesMax, "one batch must fit a group commit");
static_assert(kJsonLineBytesMax >= kEventBytesMax, "a JSON line must be able to carry an event");
static_assert(kJsonDepthMax <= kVerifierDepthMax, "JSON nesting must stay verifiable");

}  // namespace tillroll::limits

#endif  // TILLROLL_ENGINE_LIMITS_H_
