// File: tools/cli.h
// The `blindfold` command line, as a library so tests can run it in-process.
// Subcommands:
//   inspect MODEL.onnx [--json]   the imported graph, shapes, depth, weights
//   eval-plain MODEL.onnx [--dataset NAME] [--data PATH] [--limit K] [--json]
//              [--logits-out FILE] accuracy and timing of the float64
//                                  reference executor on the test split
//                                  (Fashion-MNIST or breast cancer)
#ifndef BLINDFOLD_TOOLS_CLI_H_
#define BLINDFOLD_TOOLS_CLI_H_

#include <ostream>

namespace blindfold::tools {

// Runs the CLI on argv (argv[0] is the program name). Results go to `out`,
// errors and the progress bar to `err`; the progress bar is drawn only when
// `err_is_terminal`. Returns the process exit status: 0 on success, 1 for an
// error in the work (message "blindfold <command>: ..." on `err`), and
// CLI11's status for a usage error. Never throws.
int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err, bool err_is_terminal);

}  // namespace blindfold::tools

#endif  // BLINDFOLD_TOOLS_CLI_H_
