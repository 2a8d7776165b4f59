// tillroll: the ledger's command-line tool. Each subcommand has --help.

#include <CLI/CLI.hpp>
#include <iostream>

#include "tools/cli/exit_codes.h"
#include "tools/cli/log_commands.h"

namespace {

constexpr const char* kDefaultDataDir = "./tillroll-data";

CLI::Option* AddDataDir(CLI::App* command, std::filesystem::path* dir) {
  return command->add_option("--data", *dir, "the ledger's folder")->default_str(kDefaultDataDir);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tillroll::cli;
  CLI::App app{"tillroll - the ledger of a retailer's commercial decisions"};
  app.require_subcommand(1);

  AppendArgs append{kDefaultDataDir};
  CLI::App* append_cmd = app.add_subcommand(
      "append",
      "Append JSON lines of events (the FlatBuffers JSON of schemas/envelope.fbs) as one atomic "
      "batch and print each event as stored. Set expected_version and idempotency_key in the "
      "event. Any bad line: every problem is printed, nothing is appended, exit 2.");
  AddDataDir(append_cmd, &append.data_dir);
  append_cmd->add_option("--file", append.file, "read events from this file instead of stdin");

  LogArgs log{kDefaultDataDir};
  std::uint64_t to = 0;
  CLI::App* log_cmd = app.add_subcommand("log", "Print events as JSON lines, in sequence order.");
  AddDataDir(log_cmd, &log.data_dir);
  log_cmd->add_option("--from", log.from, "first sequence (inclusive)");
  CLI::Option* to_option = log_cmd->add_option("--to", to, "last sequence (inclusive)");
  log_cmd->add_option("--stream", log.stream, "only this stream, e.g. price/4711");
  log_cmd->add_option("--since", log.since,
                      "only events recorded at or after this time (ISO 8601 or UTC ns)");

  std::filesystem::path verify_dir = kDefaultDataDir;
  CLI::App* verify_cmd = app.add_subcommand(
      "verify",
      "Check RocksDB checksums and the hash chain. Prints 'ok <count> events, head <hash>' and "
      "exits 0, or the first bad sequence and why, and exits 1.");
  AddDataDir(verify_cmd, &verify_dir);

  std::filesystem::path stats_dir = kDefaultDataDir;
  CLI::App* stats_cmd =
      app.add_subcommand("stats", "Print events, streams, bytes, head sequence and hash as JSON.");
  AddDataDir(stats_cmd, &stats_dir);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  if (to_option->count() > 0) log.to = to;
  if (*append_cmd) return RunAppend(append, std::cin, std::cout, std::cerr);
  if (*log_cmd) return RunLog(log, std::cout, std::cerr);
  if (*verify_cmd) return RunVerify(verify_dir, std::cout, std::cerr);
  if (*stats_cmd) return RunStats(stats_dir, std::cout, std::cerr);
  return kExitBadInput;
}
