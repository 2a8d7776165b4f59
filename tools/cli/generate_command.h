#ifndef TILLROLL_TOOLS_CLI_GENERATE_COMMAND_H_
#define TILLROLL_TOOLS_CLI_GENERATE_COMMAND_H_

// `tillroll generate`: writes a realistic retail history (tools/generate) into a fresh ledger
// and folds its projections, so that queries answer at once.

#include <cstdint>
#include <filesystem>
#include <iosfwd>

namespace tillroll::cli {

struct GenerateArgs {
  std::filesystem::path out;
  std::size_t skus = 200;
  std::size_t stores = 5;
  std::size_t days = 60;
  std::uint64_t seed = 1;
  std::size_t sales_per_store_day = 40;
  // Append the story's events as they are, without governance or audit trail (benchmarks).
  bool bulk = false;
};

// Exit 2 when `out` already holds something (a history goes into a fresh folder only).
int RunGenerate(const GenerateArgs& args, std::ostream& out, std::ostream& err);

}  // namespace tillroll::cli

#endif  // TILLROLL_TOOLS_CLI_GENERATE_COMMAND_H_
