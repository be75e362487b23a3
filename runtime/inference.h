// File: runtime/inference.h
// The encrypted-inference API, both sides of it.
//
// Client (holds the secret; runs on the data owner's machine):
//   auto client = InferenceClient::Create(plan);          // fresh secret key
//   std::string evk = *client->EvaluationKeys();          // send once
//   std::string ct  = *client->EncryptInput(x);           // per input
//   std::vector<double> y = *client->DecryptOutput(out);  // per result
// Server (never sees the secret key):
//   auto server = InferenceServer::Create(plan, evk);
//   std::string out = *server->Run(ct, &stats);
//
// Wire formats: ciphertexts and keys use ckks/serialization.h (inputs are
// seeded symmetric encryptions: half the bytes); the secret-key file holds
// the parameter fingerprint and the 32-byte seed the secret expands from.
// Every byte string is validated before use; errors name what was wrong.
#ifndef BLINDFOLD_RUNTIME_INFERENCE_H_
#define BLINDFOLD_RUNTIME_INFERENCE_H_

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ckks/noise_flooding.h"
#include "ckks/parameters.h"
#include "runtime/plan.h"
#include "runtime/plan_interface.h"

namespace blindfold::circuits {
class PlaintextCache;
}  // namespace blindfold::circuits

namespace blindfold::runtime {

struct RunStats {
  int64_t rotations = 0, hoisted_rotations = 0, key_switches = 0;
  double seconds = 0;
};

class InferenceClient {
 public:
  // A fresh secret key from the OS CSPRNG. A client needs only the plan's
  // interface (runtime/plan_interface.h), which a server publishes.
  static absl::StatusOr<std::unique_ptr<InferenceClient>> Create(const Plan& plan);
  static absl::StatusOr<std::unique_ptr<InferenceClient>> Create(
      const PlanInterface& plan);
  // From a secret-key file written by SecretKeyFile(). Errors: bad magic or
  // version, wrong length, a key for other parameters.
  static absl::StatusOr<std::unique_ptr<InferenceClient>> FromSecretKeyFile(
      const Plan& plan, std::string_view bytes);
  static absl::StatusOr<std::unique_ptr<InferenceClient>> FromSecretKeyFile(
      const PlanInterface& plan, std::string_view bytes);
  ~InferenceClient();

  // The secret key as file bytes (keep them private: mode 0600).
  std::string SecretKeyFile() const;
  // Relinearization key (when the plan multiplies ciphertexts) and a Galois
  // key for exactly each rotation of the plan, serialized (seeded).
  absl::StatusOr<std::string> EvaluationKeys() const;
  // x: the plan's input values (row-major, input_shape). Returns the
  // serialized ciphertext.
  absl::StatusOr<std::string> EncryptInput(std::span<const double> x) const;
  // The plan's output values from a serialized result ciphertext. The
  // decryption floods noise (IND-CPA-D, ckks/noise_flooding.h: on by default,
  // s = 20 bits) and the values are rounded to 2^-kOutputBits, so a result
  // the client shows to anyone, the server included, does not leak the key.
  absl::StatusOr<std::vector<double>> DecryptOutput(std::string_view ct) const;
  static constexpr int kOutputBits = 20;
  const ckks::DecryptionOptions& decryption_options() const;

  // Throughput plans: up to plan.slots inputs in one request (one
  // ciphertext per input element, each holding that element of every
  // input); DecryptBatch returns one output vector per input.
  absl::StatusOr<std::string> EncryptBatch(
      const std::vector<std::vector<double>>& inputs) const;
  absl::StatusOr<std::vector<std::vector<double>>> DecryptBatch(
      std::string_view batch, int count) const;

  struct State;  // opaque

 private:
  explicit InferenceClient(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

class InferenceServer {
 public:
  // Errors: evaluation keys for other parameters, malformed, or missing a
  // key the plan needs (naming the rotation).
  // `plaintext_cache_bytes`: how much memory may hold encoded diagonals
  // across requests (BLINDFOLD_PLAINTEXT_CACHE_MB, default 256 MiB, when
  // not given; 0 for a server that answers one request).
  static absl::StatusOr<std::unique_ptr<InferenceServer>> Create(
      Plan plan, std::string_view evaluation_keys,
      std::optional<size_t> plaintext_cache_bytes = std::nullopt);
  // Many servers over one plan (a service makes one per client's keys):
  // they share the plan and its cache of encoded diagonals, whose keys are
  // addresses inside that plan.
  static absl::StatusOr<std::unique_ptr<InferenceServer>> Create(
      std::shared_ptr<const Plan> plan, std::shared_ptr<circuits::PlaintextCache> cache,
      std::string_view evaluation_keys);
  ~InferenceServer();

  // Runs the plan on one serialized input ciphertext (latency plans) or one
  // serialized batch (throughput plans); returns the serialized output (at
  // level 0). Errors: malformed ciphertext or batch, wrong level, scale,
  // slots or element count for this plan. `progress(done, total)`, when
  // given, follows a throughput batch row by row (runtime/plan.h: a large
  // model's batch takes minutes); latency plans do not call it.
  absl::StatusOr<std::string> Run(
      std::string_view input, RunStats* stats = nullptr,
      const std::function<void(int64_t, int64_t)>& progress = {}) const;

  const Plan& plan() const;
  int64_t evaluation_key_bytes() const;

  struct State;  // opaque

 private:
  explicit InferenceServer(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace blindfold::runtime

#endif  // BLINDFOLD_RUNTIME_INFERENCE_H_
