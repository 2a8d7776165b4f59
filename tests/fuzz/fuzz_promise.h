#ifndef TILLROLL_TESTS_FUZZ_FUZZ_PROMISE_H_
#define TILLROLL_TESTS_FUZZ_FUZZ_PROMISE_H_

#include <cstdio>
#include <cstdlib>

#include "engine/status.h"

namespace tillroll::fuzz {

// Aborts, which libFuzzer reports with the input, when a promise of the code under test is
// broken; `status` says what the code answered.
inline void Require(bool condition, const char* promise, const Status& status = Status::Ok()) {
  if (condition) return;
  std::fprintf(stderr, "broken promise: %s%s%s\n", promise, status.ok() ? "" : ": ",
               status.ok() ? "" : status.ToString().c_str());
  std::abort();
}

}  // namespace tillroll::fuzz

#endif  // TILLROLL_TESTS_FUZZ_FUZZ_PROMISE_H_
