// File: tools/service_commands.h
// The service subcommands of the `blindfold` CLI (docs/service.md):
//   serve   run a Blindfold server (service/server.h)
//   infer   classify images through a server (client/client.h)
//   token   make a bearer token and its tokens-file line
//   load    a bounded load test (tools/load_command.h)
#ifndef BLINDFOLD_TOOLS_SERVICE_COMMANDS_H_
#define BLINDFOLD_TOOLS_SERVICE_COMMANDS_H_

#include <functional>
#include <ostream>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace blindfold::tools {

// Registers the subcommands on `app`; returns a runner that executes the
// one that was parsed (NotFound when none of them was).
std::function<absl::Status(std::ostream& out, std::ostream& err, bool tty)>
AddServiceCommands(CLI::App& app);

}  // namespace blindfold::tools

#endif  // BLINDFOLD_TOOLS_SERVICE_COMMANDS_H_
