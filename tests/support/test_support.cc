#include "tests/support/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace tillroll::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tillroll-test-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::uint64_t TestSeed(std::string_view test_name) {
  std::uint64_t seed = 0;
  if (const char* env = std::getenv("TILLROLL_SEED"); env != nullptr && *env != '\0') {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    seed = std::random_device{}();
  }
  std::fprintf(stderr, "%.*s: TILLROLL_SEED=%llu\n", static_cast<int>(test_name.size()),
               test_name.data(), static_cast<unsigned long long>(seed));
  return seed;
}

std::string PriceEvent(const PriceSpec& spec) {
  flatbuffers::FlatBufferBuilder fbb;
  flatbuffers::Offset<events::Scope> scope = 0;
  if (!spec.store.empty()) {
    scope = events::CreateScope(fbb, events::ScopeLevel::Store, 0, 0,
                                fbb.CreateString(spec.store.data(), spec.store.size()));
  }
  const auto sku = fbb.CreateString(spec.sku.data(), spec.sku.size());
  const auto currency = fbb.CreateString("EUR");
  const auto valid = events::CreateValidWindow(fbb, 1'772'323'200'000'000'000, 0);
  events::PriceSetBuilder price(fbb);
  price.add_sku(sku);
  price.add_price_type(events::PriceType::List);
  price.add_scope(scope);
  price.add_amount_minor(spec.amount_minor);
  price.add_currency(currency);
  price.add_valid(valid);
  const auto payload = price.Finish();
  const std::string stream = "price/" + std::string(spec.sku);
  Envelope envelope;
  envelope.stream = stream;
  envelope.expected_version = spec.expected_version;
  envelope.idempotency_key = spec.idempotency_key;
  envelope.principal = "service:pricing-engine";
  envelope.source_system = "pricing-engine";
  return FinishUnsealedEvent(fbb, envelope, events::Payload::PriceSet, payload.Union());
}

std::filesystem::path BinaryDir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path();
}

std::filesystem::path SamplesDir(std::string_view version) {
  return std::filesystem::path(TILLROLL_SOURCE_DIR) / "schemas" / "samples" / version;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

CliRun RunTillroll(const TempDir& dir, const std::string& args, const std::string& input) {
  const auto in = dir.path() / "stdin";
  const auto out = dir.path() / "stdout";
  const auto err = dir.path() / "stderr";
  std::ofstream(in) << input;
  const std::string command = (BinaryDir() / "tillroll").string() + " " + args + " --data " +
                              (dir.path() / "ledger").string() + " < " + in.string() + " > " +
                              out.string() + " 2> " + err.string();
  const int status = std::system(command.c_str());
  CliRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(out);
  run.err = ReadFile(err);
  return run;
}

std::string ReadSample(std::string_view name, std::string_view version) {
  return ReadFile(SamplesDir(version) / (std::string(name) + ".json"));
}

}  // namespace tillroll::testing
