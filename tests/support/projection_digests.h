#ifndef TILLROLL_TESTS_SUPPORT_PROJECTION_DIGESTS_H_
#define TILLROLL_TESTS_SUPPORT_PROJECTION_DIGESTS_H_

// Every projection's digest and checkpoint, for tests that compare live state with a rebuild.

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "projections/projection_runner.h"

namespace tillroll::testing {

inline std::map<std::string, std::string> ProjectionDigests(
    const projections::ProjectionRunner& runner) {
  std::map<std::string, std::string> digests;
  for (std::string_view name : projections::ProjectionRunner::Names()) {
    Result<projections::ProjectionDigest> d = runner.Digest(name);
    REQUIRE(d.ok());
    digests[std::string(name)] = d->sha256_hex + " @" + std::to_string(d->checkpoint);
  }
  return digests;
}

}  // namespace tillroll::testing

#endif  // TILLROLL_TESTS_SUPPORT_PROJECTION_DIGESTS_H_
