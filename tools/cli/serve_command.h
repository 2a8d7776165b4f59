#ifndef TILLROLL_TOOLS_CLI_SERVE_COMMAND_H_
#define TILLROLL_TOOLS_CLI_SERVE_COMMAND_H_

// `tillroll serve`: the HTTP API (adapters/http) on a ledger folder, and `tillroll token-hash`.

#include <filesystem>
#include <iosfwd>
#include <string>

namespace tillroll::cli {

struct ServeArgs {
  std::filesystem::path data_dir;
  std::filesystem::path config = "tillroll.toml";
  std::string listen;  // overrides [http] listen
};

// Opens (or creates) the ledger, catches the projections up, then serves until SIGTERM or
// SIGINT; prints "tillroll: serving http://HOST:PORT" on `out` once it accepts connections.
// Exit 0 after a clean shutdown; 2 for a bad configuration; 5 when the ledger or the address
// is not available.
int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err);

// Prints the SHA-256 of a bearer token, as tillroll.toml's token_sha256 wants it.
int RunTokenHash(const std::string& token, std::ostream& out);

}  // namespace tillroll::cli

#endif  // TILLROLL_TOOLS_CLI_SERVE_COMMAND_H_
