#ifndef TILLROLL_TESTS_SUPPORT_TEST_SUPPORT_H_
#define TILLROLL_TESTS_SUPPORT_TEST_SUPPORT_H_

// Shared by the tests: temporary folders, seeds and small events.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "engine/event_builder.h"

namespace tillroll::testing {

// A fresh folder under the system temp dir, removed when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// TILLROLL_SEED if set, otherwise a random seed; printed so that a failure can be replayed.
std::uint64_t TestSeed(std::string_view test_name);

struct PriceSpec {
  std::string_view sku = "4711";
  std::int64_t amount_minor = 1299;
  std::int64_t expected_version = -1;
  std::string_view idempotency_key;
  std::string_view store;  // empty: global scope
};

// An unsealed PriceSet event on stream "price/<sku>".
std::string PriceEvent(const PriceSpec& spec);

// What a run of the `tillroll` binary printed and how it ended.
struct CliRun {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string out;
  std::string err;
};

// Runs `tillroll ARGS --data <dir>/ledger` (the binary beside the test's) with `input` on stdin.
CliRun RunTillroll(const TempDir& dir, const std::string& args, const std::string& input = "");

// The directory of the running test binary (helper programs are built next to it).
std::filesystem::path BinaryDir();

// The whole content of a file (binary-safe); empty when it cannot be read.
std::string ReadFile(const std::filesystem::path& path);

// The schema versions with a sample corpus, oldest first: schemas/samples/<version>/.
inline constexpr std::string_view kSampleVersions[] = {"v1", "v2", "v3"};

// A sample event: schemas/samples/<version>/<name>.json.
std::string ReadSample(std::string_view name, std::string_view version = "v1");
std::filesystem::path SamplesDir(std::string_view version = "v1");

}  // namespace tillroll::testing

#endif  // TILLROLL_TESTS_SUPPORT_TEST_SUPPORT_H_
