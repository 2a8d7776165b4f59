#ifndef TILLROLL_TOOLS_CLI_TERMINAL_OUTPUT_H_
#define TILLROLL_TOOLS_CLI_TERMINAL_OUTPUT_H_

// How the CLI shows long work and answers to a person: a progress bar on a terminal (progress
// lines otherwise), and JSON answers as readable tables with --format table.

#include <iosfwd>
#include <string>
#include <string_view>

#include "projections/projection_runner.h"

namespace tillroll::cli {

// Renders projection progress on `err`: a redrawn bar with events/s and ETA when `err` is a
// terminal, else one log line per report.
projections::ProgressFn ProgressPrinter(std::ostream& err, bool terminal);
// True when standard error is a terminal.
bool StderrIsTerminal();

// Prints a one-line JSON answer as text: scalar fields as "name: value" lines, arrays of
// objects as aligned tables (nested objects flattened as "parent.child"; nested arrays shown
// by their length). Falls back to the JSON itself when it does not parse.
void PrintTable(std::string_view json_line, std::ostream& out);

}  // namespace tillroll::cli

#endif  // TILLROLL_TOOLS_CLI_TERMINAL_OUTPUT_H_
