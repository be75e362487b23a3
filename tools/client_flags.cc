// File: tools/client_flags.cc
#include "tools/client_flags.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "tools/file_io.h"

namespace blindfold::tools {

absl::StatusOr<client::ConnectionOptions> ConnectionOptionsFromFlags(const ClientFlags& f) {
  client::ConnectionOptions o;
  o.target = f.server;
  if (o.target.empty()) return absl::InvalidArgumentError("--server HOST:PORT is required");
  if (!f.token_file.empty()) {
    BF_ASSIGN_OR_RETURN(std::string t, ReadFile(f.token_file, 4096, "--token-file"));
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    o.token = t;
  } else {
    const char* env = std::getenv("BLINDFOLD_TOKEN");
    if (env != nullptr) o.token = env;
  }
  o.tls = f.tls;
  o.tls_ca_file = f.tls_ca;
  o.tls_server_name = f.tls_server_name;
  if (!(f.timeout_seconds > 0)) return absl::InvalidArgumentError("--timeout must be > 0");
  o.timeout = std::chrono::milliseconds(static_cast<int64_t>(f.timeout_seconds * 1e3));
  if (f.attempts < 1) return absl::InvalidArgumentError("--attempts must be >= 1");
  o.max_attempts = f.attempts;
  o.lb_policy = f.lb_policy;
  return o;
}

void AddClientFlags(CLI::App* c, ClientFlags* f) {
  c->add_option("--server", f->server, "server HOST:PORT")->envname("BLINDFOLD_SERVER");
  c->add_option("--token-file", f->token_file,
                "file holding the bearer token (default: $BLINDFOLD_TOKEN)");
  c->add_flag("--tls", f->tls, "TLS with the system's roots");
  c->add_option("--tls-ca", f->tls_ca, "TLS, trusting the CA certificates in this PEM file")
      ->envname("BLINDFOLD_TLS_CA");
  c->add_option("--tls-server-name", f->tls_server_name,
                "name expected in the server's certificate (default: the host)")
      ->envname("BLINDFOLD_TLS_SERVER_NAME");
  c->add_option("--timeout", f->timeout_seconds, "seconds per call attempt")
      ->capture_default_str();
  c->add_option("--attempts", f->attempts,
                "attempts per call when the server is unavailable or busy")
      ->capture_default_str();
  c->add_option("--lb", f->lb_policy,
                "round_robin: spread calls over every address of --server (a headless "
                "Service's pods, or ipv4:HOST:PORT,HOST:PORT); default pick_first")
      ->check(CLI::IsMember({"pick_first", "round_robin"}))
      ->envname("BLINDFOLD_LB_POLICY");
}

}  // namespace blindfold::tools
