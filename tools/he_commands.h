// File: tools/he_commands.h
// The encrypted-inference subcommands of the `blindfold` CLI: compile,
// keygen, encrypt, run, decrypt and eval-enc (docs/inference.md).
#ifndef BLINDFOLD_TOOLS_HE_COMMANDS_H_
#define BLINDFOLD_TOOLS_HE_COMMANDS_H_

#include <functional>
#include <ostream>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace blindfold::tools {

// Registers the subcommands on `app`; returns a runner that executes the
// one that was parsed (or returns NotFound when none of them was).
std::function<absl::Status(std::ostream& out, std::ostream& err, bool tty)>
AddHeCommands(CLI::App& app);

}  // namespace blindfold::tools

#endif  // BLINDFOLD_TOOLS_HE_COMMANDS_H_
