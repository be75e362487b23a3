// File: runtime/plan_interface.h
// What a client must know of a plan to make its keys, encrypt inputs and
// decrypt results, and nothing more: parameters, packing, the input and
// output layouts, the rotation set. No weights: a server publishes this to
// clients it does not trust with its model (service/, client/).
#ifndef BLINDFOLD_RUNTIME_PLAN_INTERFACE_H_
#define BLINDFOLD_RUNTIME_PLAN_INTERFACE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ckks/parameters.h"
#include "runtime/plan.h"

namespace blindfold::runtime {

struct PlanInterface {
  std::string model;
  PackingMode mode = PackingMode::kLatency;
  ckks::ParametersLiteral params;  // primes resolved
  double input_scale_log2 = 0;
  int64_t slots = 0;
  int depth = 0;  // the input's level
  std::vector<int64_t> input_shape, output_shape;
  // The input's element count and its layout over `input_period` slots
  // (runtime/plan.h: the client lays the input out, then tiles it).
  int64_t input_dim = 0, input_period = 0;
  Layout input_layout;
  // Where each output element sits in the result's `output_period` slots
  // (the result travels as a compact ciphertext of that period).
  int64_t output_dim = 0, output_period = 0;
  Layout output_layout;
  // The Galois key set: each rotation and the highest level it runs at
  // (its key need reach no higher: Plan::RotationLevels).
  std::map<int64_t, int> rotation_levels;
  // The highest level a ciphertext product is relinearized at; -1: the
  // plan multiplies no ciphertexts and needs no relinearization key.
  int relin_level = -1;
  std::vector<std::string> labels;
};

PlanInterface InterfaceOf(const Plan& plan);

// Checks an interface that came from elsewhere (a server) before a client
// acts on it: parameters pass Parameters::Create (128-bit), slots a power
// of two up to N/2, depth within the chain, shapes match the dims, periods
// and layouts as ValidatePlan requires (every entry in [-1, dim)), rotations
// nonzero and within the slots, key levels within the chain, labels one per
// output. Errors name the field ("PlanInterface: ...").
absl::Status ValidatePlanInterface(const PlanInterface& i);

}  // namespace blindfold::runtime

#endif  // BLINDFOLD_RUNTIME_PLAN_INTERFACE_H_
