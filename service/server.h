// File: service/server.h
// A whole Blindfold server: models from a plan directory, a key store
// (SQLite in a data directory, or Redis) with a byte-bounded cache in
// front, bearer-token authentication, TLS from certificate files, the
// blindfold.v1.Inference service with the standard gRPC health service and
// server reflection, Prometheus metrics on an HTTP port, a bounded work
// queue, and a graceful drain. `blindfold serve` is a thin shell over it
// (docs/service.md lists every option with its flag and variable).
#ifndef BLINDFOLD_SERVICE_SERVER_H_
#define BLINDFOLD_SERVICE_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace blindfold::service {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";  // host:port; port 0 picks one
  std::string models_dir;                  // *.plan

  std::string key_store = "sqlite";  // sqlite | redis
  std::string data_dir = "blindfold-data";
  std::string redis = "127.0.0.1:6379";
  std::string redis_password;  // from BLINDFOLD_REDIS_PASSWORD, never a flag
  std::string redis_prefix = "blindfold:";
  int64_t key_cache_mb = 1024;
  int64_t plaintext_cache_mb = 256;  // per model: encoded diagonals
  int key_recheck_seconds = 10;

  std::string tokens_file;  // required unless allow_unauthenticated
  bool allow_unauthenticated = false;
  std::string tls_cert, tls_key;  // PEM files; both or neither

  std::string metrics_listen;  // host:port for GET /metrics; empty: off

  int workers = 1;
  int queue = 16;
  int64_t max_message_mb = 16;
  int64_t max_key_mb = 512;
  int max_uploads = 4;
  double request_timeout_seconds = 60;
  double drain_seconds = 30;
};

// Checks option values on their own (ranges, pairs) before anything starts.
absl::Status ValidateOptions(const ServerOptions& o);

class Server {
 public:
  // Loads the models, opens the key store, starts listening.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();  // Drain() if not drained

  int port() const;
  int metrics_port() const;  // 0 when metrics are off

  // Reports NOT_SERVING (health service and /healthz), stops accepting
  // calls, lets those in flight finish for up to drain_seconds (then
  // cancels them), runs what is queued, stops the workers.
  void Drain();
  // Blocks until the gRPC server has shut down.
  void Wait();

  struct State;

 private:
  explicit Server(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_SERVER_H_
