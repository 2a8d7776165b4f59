#include "engine/assert.h"

#include <cstdio>
#include <cstdlib>

namespace tillroll::internal {

void AssertFailed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "tillroll: assertion failed: %s at %s:%d\n", condition, file, line);
  std::abort();
}

}  // namespace tillroll::internal
