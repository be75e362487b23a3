// File: tools/bench_command.h
// `blindfold bench`: the paper's table (docs/results.md). For every model,
// the conventional baseline (docs/design/baseline.md), Blindfold's
// optimized plan and the plan with each optimization turned off alone are
// compiled and measured side by side, at each thread count: server latency
// (median and p90), client encrypt and decrypt time, the server's peak RSS,
// evaluation-key, input and output bytes, and top-1 agreement and max
// |logit error| against the same plan run in float64.
//
// The client (keys, encryption, decryption, scoring) runs in this process;
// the server of every (model, configuration, threads) runs in a child
// process of its own (`blindfold bench-server`, this binary), fed one
// request at a time over a pipe, so its peak RSS (the child's own VmHWM,
// which it reports when the requests end) is the server's: plan, keys,
// working memory and the default 256 MiB cache of encoded diagonals,
// nothing of the client's or of other configurations'.
#ifndef BLINDFOLD_TOOLS_BENCH_COMMAND_H_
#define BLINDFOLD_TOOLS_BENCH_COMMAND_H_

#include <functional>
#include <ostream>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace blindfold::tools {

// Registers `bench` and the hidden `bench-server` on `app`; returns a runner
// for the one parsed (NotFound when neither was).
std::function<absl::Status(std::ostream& out, std::ostream& err, bool tty)>
AddBenchCommands(CLI::App& app);

}  // namespace blindfold::tools

#endif  // BLINDFOLD_TOOLS_BENCH_COMMAND_H_
