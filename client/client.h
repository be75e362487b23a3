// File: client/client.h
// The C++ client of a Blindfold server (proto/blindfold/v1/inference.proto).
//
//   Connection: one channel to a server (plaintext or TLS, a bearer token
//   on every call), each call with a deadline and retried with exponential
//   backoff when the server is unavailable or its queue is full.
//   ModelSession: one model as one client uses it: the model's public
//   description, a secret key that never leaves this process (fresh, or
//   from a secret-key file), evaluation keys registered once, then
//   encrypt -> Infer -> decrypt per input.
//
//   auto conn = *Connection::Open({.target = "127.0.0.1:50051", .token = t});
//   auto cnn = *ModelSession::Open(conn.get(), "cnn");
//   std::vector<double> logits = *cnn->Infer(image);
#ifndef BLINDFOLD_CLIENT_CLIENT_H_
#define BLINDFOLD_CLIENT_CLIENT_H_

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/blindfold/v1/inference.pb.h"
#include "runtime/inference.h"
#include "runtime/plan_interface.h"

namespace blindfold::client {

struct ConnectionOptions {
  std::string target;          // host:port, or any gRPC target (dns:///name:port,
                               // ipv4:127.0.0.1:5001,127.0.0.1:5002)
  std::string token;           // bearer token; empty: none sent
  bool tls = false;            // TLS (implied by tls_ca_file)
  std::string tls_ca_file;     // PEM roots to trust; empty: the system's
  std::string tls_server_name; // expected name in the server certificate
  std::chrono::milliseconds timeout{120000};  // deadline of each attempt
  int max_attempts = 4;  // UNAVAILABLE and RESOURCE_EXHAUSTED are retried
  std::chrono::milliseconds initial_backoff{100};  // doubled per retry
  size_t chunk_bytes = size_t{1} << 20;            // key upload chunks
  int max_message_mb = 64;
  // gRPC load balancing over the addresses the target resolves to: empty
  // (gRPC's pick_first: one address), "pick_first" or "round_robin" (each
  // call to the next ready address; with a headless Kubernetes Service,
  // calls spread over every replica: docs/deploy.md).
  std::string lb_policy;
};

class Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);
  ~Connection();

  absl::StatusOr<std::vector<blindfold::v1::ModelInfo>> ListModels();
  absl::StatusOr<blindfold::v1::ModelInfo> GetModel(const std::string& name);
  absl::StatusOr<blindfold::v1::KeyInfo> RegisterKeys(const std::string& model,
                                                      std::string_view keys);
  absl::StatusOr<blindfold::v1::KeyInfo> GetKeyInfo(const std::string& key_id);
  absl::Status DeleteKeys(const std::string& key_id);
  absl::StatusOr<blindfold::v1::InferResponse> Infer(const blindfold::v1::InferRequest& req);
  // Many requests over one InferStream call (not retried: a failure ends
  // the stream with the status of the first bad request).
  absl::StatusOr<std::vector<blindfold::v1::InferResponse>> InferStream(
      const std::vector<blindfold::v1::InferRequest>& reqs);
  // grpc.health.v1 Check: true for SERVING. `service` empty: the server.
  absl::StatusOr<bool> Serving(const std::string& service = "");

  // Retries made so far (all calls).
  int64_t retries() const;
  const ConnectionOptions& options() const;

  struct State;

 private:
  explicit Connection(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

// A server's model description as a runtime::PlanInterface, validated
// (runtime::ValidatePlanInterface) and checked against its own parameter
// fingerprint: a client never acts on a description it has not checked.
absl::StatusOr<runtime::PlanInterface> InterfaceFromModelInfo(
    const blindfold::v1::ModelInfo& info);

struct InferTiming {
  double encrypt_seconds = 0, call_seconds = 0, decrypt_seconds = 0;
  double server_seconds = 0, queue_seconds = 0;  // as the server reports them
  size_t request_bytes = 0, response_bytes = 0;
};

class ModelSession {
 public:
  struct Options {
    // A secret-key file (runtime::InferenceClient::SecretKeyFile); empty:
    // a fresh key from the OS CSPRNG.
    std::string secret_key_file;
    // Keys already registered for this secret key; empty: register them.
    std::string key_id;
    // When set, the server's plan must have this SHA-256 (hex).
    std::string expected_plan_sha256;
  };
  static absl::StatusOr<std::unique_ptr<ModelSession>> Open(Connection* connection,
                                                            const std::string& model,
                                                            const Options& options);
  static absl::StatusOr<std::unique_ptr<ModelSession>> Open(Connection* connection,
                                                            const std::string& model) {
    return Open(connection, model, Options{});
  }

  const blindfold::v1::ModelInfo& info() const { return info_; }
  const runtime::PlanInterface& interface() const { return interface_; }
  const std::string& key_id() const { return key_id_; }
  // Keep it private (mode 0600).
  std::string SecretKeyFile() const { return client_->SecretKeyFile(); }
  const runtime::InferenceClient& crypto() const { return *client_; }

  // Encrypts x (the model's input values), runs the model on the server,
  // decrypts the output. Latency models: one request; throughput models: a
  // batch of one.
  absl::StatusOr<std::vector<double>> Infer(std::span<const double> x,
                                            InferTiming* timing = nullptr);
  // Many inputs: one InferStream call (latency models) or batches of up to
  // `slots` inputs (throughput models).
  absl::StatusOr<std::vector<std::vector<double>>> InferMany(
      const std::vector<std::vector<double>>& xs);

 private:
  ModelSession() = default;
  Connection* connection_ = nullptr;
  blindfold::v1::ModelInfo info_;
  runtime::PlanInterface interface_;
  std::unique_ptr<runtime::InferenceClient> client_;
  std::string key_id_;
};

}  // namespace blindfold::client

#endif  // BLINDFOLD_CLIENT_CLIENT_H_
