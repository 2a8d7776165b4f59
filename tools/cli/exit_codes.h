#ifndef TILLROLL_TOOLS_CLI_EXIT_CODES_H_
#define TILLROLL_TOOLS_CLI_EXIT_CODES_H_

#include <ostream>
#include <string_view>

#include "engine/status.h"

namespace tillroll::cli {

// What `tillroll` exits with; scripts may rely on these.
enum ExitCode : int {
  kExitOk = 0,
  kExitVerifyFailed = 1,  // verify found damage; also stored data that fails its checks
  kExitBadInput = 2,      // usage, malformed input, limits; nothing was written
  kExitNotFound = 3,      // no ledger, stream, promotion or order of that name
  kExitConflict = 4,      // stale expected version or a reused idempotency key
  kExitUnavailable = 5,   // the ledger is locked by another process, or I/O failed
  kExitInternal = 70,
};

inline int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
      return kExitBadInput;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kConflict:
      return kExitConflict;
    case StatusCode::kCorruption:
      return kExitVerifyFailed;
    case StatusCode::kUnavailable:
      return kExitUnavailable;
    default:
      return kExitInternal;
  }
}

// Prints "tillroll COMMAND: <status>" on `err` and returns the status's exit code.
inline int FailCommand(std::ostream& err, std::string_view command, const Status& status) {
  err << "tillroll " << command << ": " << status.ToString() << "\n";
  return ExitCodeFor(status);
}

}  // namespace tillroll::cli

#endif  // TILLROLL_TOOLS_CLI_EXIT_CODES_H_
