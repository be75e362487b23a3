// File: tools/blindfold.cc
// The `blindfold` command (tools/cli.h lists the subcommands).
#include <unistd.h>

#include <iostream>

#include "tools/cli.h"

int main(int argc, char** argv) {
  return blindfold::tools::RunCli(argc, argv, std::cout, std::cerr,
                                  isatty(STDERR_FILENO) != 0);
}
