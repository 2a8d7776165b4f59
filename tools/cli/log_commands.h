#ifndef TILLROLL_TOOLS_CLI_LOG_COMMANDS_H_
#define TILLROLL_TOOLS_CLI_LOG_COMMANDS_H_

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

// The `tillroll` subcommands that work on the log itself. Each returns the process exit code
// (tools/cli/exit_codes.h) and writes results to `out`, problems to `err`.
namespace tillroll::cli {

struct AppendArgs {
  std::filesystem::path data_dir;
  std::string file;  // empty: standard input
};
int RunAppend(const AppendArgs& args, std::istream& in, std::ostream& out, std::ostream& err);

struct LogArgs {
  std::filesystem::path data_dir;
  std::uint64_t from = 1;
  std::optional<std::uint64_t> to;  // inclusive
  std::string stream;
  std::string since;  // record time, ISO 8601 or ns
};
int RunLog(const LogArgs& args, std::ostream& out, std::ostream& err);

int RunVerify(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err);
int RunStats(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err);

}  // namespace tillroll::cli

#endif  // TILLROLL_TOOLS_CLI_LOG_COMMANDS_H_
