// File: tools/client_flags.h
// The flags every client subcommand shares (--server, --token-file, TLS,
// --timeout, --attempts) and the connection options they make.
#ifndef BLINDFOLD_TOOLS_CLIENT_FLAGS_H_
#define BLINDFOLD_TOOLS_CLIENT_FLAGS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "client/client.h"

namespace blindfold::tools {

struct ClientFlags {
  std::string server, token_file, tls_ca, tls_server_name, lb_policy;
  bool tls = false;
  double timeout_seconds = 120;
  int attempts = 4;
};

void AddClientFlags(CLI::App* command, ClientFlags* flags);

// The token comes from --token-file, else $BLINDFOLD_TOKEN (never a flag:
// command lines are visible to other users).
absl::StatusOr<client::ConnectionOptions> ConnectionOptionsFromFlags(const ClientFlags& flags);

}  // namespace blindfold::tools

#endif  // BLINDFOLD_TOOLS_CLIENT_FLAGS_H_
