// File: runtime/cost_model.h
// Predicted server latency of a plan: op counts per level times per-op
// costs. The costs are engine_bench medians (docs/benchmarks.md, one thread,
// AVX-512 IFMA, N = 2^13 with 3 limbs and N = 2^14 with 8), scaled linearly
// in the number of limbs an op touches and by 2.2x per doubling of N. The
// prediction is for the IFMA path on the development machine; the
// inference benchmark prints it beside the measured time.
#ifndef BLINDFOLD_RUNTIME_COST_MODEL_H_
#define BLINDFOLD_RUNTIME_COST_MODEL_H_

#include "runtime/plan.h"

namespace blindfold::runtime {

struct CostBreakdown {
  double rotations_ms = 0, hoisted_ms = 0, encode_ms = 0, plain_mul_ms = 0,
         ciphertext_mul_ms = 0, rescale_ms = 0;
  double total_ms() const {
    return rotations_ms + hoisted_ms + encode_ms + plain_mul_ms + ciphertext_mul_ms +
           rescale_ms;
  }
};

// Per input (latency mode) or per batch (throughput mode).
CostBreakdown PredictLatency(const Plan& plan);

// Bytes of the plan's serialized evaluation keys (InferenceClient::
// EvaluationKeys): per key, digits(level) seeded b_j over q_0..q_level and
// P at the primes' bit lengths, each key at the level the plan needs.
int64_t EvaluationKeyBytes(const Plan& plan);

}  // namespace blindfold::runtime

#endif  // BLINDFOLD_RUNTIME_COST_MODEL_H_
