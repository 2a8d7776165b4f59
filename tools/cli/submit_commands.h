#ifndef TILLROLL_TOOLS_CLI_SUBMIT_COMMANDS_H_
#define TILLROLL_TOOLS_CLI_SUBMIT_COMMANDS_H_

// `tillroll submit` (the command path the HTTP API uses too) and `tillroll audit`.
//
// submit exit codes: 0 every command accepted or held for approval; 2 invalid input (a line
// that is not a command: nothing is decided or written; or a command the decider finds
// invalid); 4 a governance rejection (role, source system, separation of duties, workflow,
// four-eyes); 3 the principal is not in the configuration; 5 unavailable.

#include <filesystem>
#include <iosfwd>
#include <string>

namespace tillroll::cli {

struct SubmitArgs {
  std::filesystem::path data_dir;
  std::filesystem::path config = "tillroll.toml";
  std::string principal;  // --as
  std::string file;       // empty or "-": standard input
  bool partial = false;   // decide and record each line on its own
};
int RunSubmit(const SubmitArgs& args, std::istream& in, std::ostream& out, std::ostream& err);

struct AuditArgs {
  std::filesystem::path data_dir;
  std::string principal;
  std::string since;    // record time, ISO 8601 or ns
  std::string outcome;  // accepted, rejected or held; empty: all
  std::string format = "json";
};
int RunAudit(const AuditArgs& args, std::ostream& out, std::ostream& err);

}  // namespace tillroll::cli

#endif  // TILLROLL_TOOLS_CLI_SUBMIT_COMMANDS_H_
