#ifndef TILLROLL_ENGINE_ASSERT_H_
#define TILLROLL_ENGINE_ASSERT_H_

// Assertions are for programmer errors only; user input gets a Status, never an assert.
// TR_ASSERT is always on. TR_DASSERT is compiled only into debug builds (hot paths).

namespace tillroll::internal {
[[noreturn]] void AssertFailed(const char* condition, const char* file, int line);
}  // namespace tillroll::internal

#define TR_ASSERT(condition)                                              \
  do {                                                                    \
    if (!(condition)) {                                                   \
      ::tillroll::internal::AssertFailed(#condition, __FILE__, __LINE__); \
    }                                                                     \
  } while (false)

#ifdef NDEBUG
#define TR_DASSERT(condition) \
  do {                        \
  } while (false)
#else
#define TR_DASSERT(condition) TR_ASSERT(condition)
#endif

#endif  // TILLROLL_ENGINE_ASSERT_H_
