// File: service/model_registry.h
// The models a server serves: every <name>.plan file in a directory
// (plans from `blindfold compile`), loaded and validated once at start.
// Each model keeps one plan and one cache of encoded diagonals that every
// client's evaluator shares (runtime::InferenceServer's shared-plan Create),
// and its public description (ModelInfo: no weights).
#ifndef BLINDFOLD_SERVICE_MODEL_REGISTRY_H_
#define BLINDFOLD_SERVICE_MODEL_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "circuits/ckks_backend.h"
#include "proto/blindfold/v1/inference.pb.h"
#include "runtime/plan.h"
#include "runtime/plan_interface.h"

namespace blindfold::service {

struct Model {
  std::string name;
  std::shared_ptr<const runtime::Plan> plan;
  std::shared_ptr<circuits::PlaintextCache> cache;
  std::string plan_sha256;  // hex, of the plan file's bytes
  uint64_t fingerprint = 0;
  blindfold::v1::ModelInfo info;
};

// The public description of a plan (runtime/plan_interface.h as proto).
blindfold::v1::ModelInfo ModelInfoOf(const std::string& name, const runtime::Plan& plan,
                                     const std::string& plan_sha256);

// Hex SHA-256 (libsodium crypto_hash_sha256).
std::string Sha256Hex(std::string_view bytes);

class ModelRegistry {
 public:
  // Loads every *.plan in `dir`; the model's name is the file's stem
  // (1 to 64 of [A-Za-z0-9._@-]). Errors: no such directory, no plans, a
  // plan that does not load (naming the file). `cache_bytes`: each model's
  // budget for encoded diagonals.
  static absl::StatusOr<ModelRegistry> LoadDirectory(const std::string& dir,
                                                     size_t cache_bytes);
  // Adds one plan (tests).
  absl::Status Add(const std::string& name, runtime::Plan plan, const std::string& plan_bytes,
                   size_t cache_bytes);

  const Model* Find(const std::string& name) const;
  std::vector<const Model*> models() const;
  // "cnn, logreg" (for errors).
  std::string Names() const;

 private:
  std::map<std::string, std::shared_ptr<const Model>> models_;
};

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_MODEL_REGISTRY_H_
