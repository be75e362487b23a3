// File: tools/load_command.h
// `blindfold load`: a bounded load test against a server (or the same work
// in-process, for the service's overhead), docs/service.md "Load test".
#ifndef BLINDFOLD_TOOLS_LOAD_COMMAND_H_
#define BLINDFOLD_TOOLS_LOAD_COMMAND_H_

#include <functional>
#include <ostream>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace blindfold::tools {

// Registers `load` on `app`; the runner returns NotFound("no load
// subcommand") when it was not the one parsed.
std::function<absl::Status(std::ostream& out, std::ostream& err, bool tty)> AddLoadCommand(
    CLI::App& app);

}  // namespace blindfold::tools

#endif  // BLINDFOLD_TOOLS_LOAD_COMMAND_H_
