// File: compiler/lower/pack.h
// Latency-mode packing: one input per ciphertext. Every term is a tiled slot
// vector with period pow2(dim); every non-identity part of a linear form
// becomes a diagonal plan (circuits/linear_transform.h) with baby-step/
// giant-step rotations. The slot count is the largest period.
#ifndef BLINDFOLD_COMPILER_LOWER_PACK_H_
#define BLINDFOLD_COMPILER_LOWER_PACK_H_

#include "absl/status/statusor.h"
#include "compiler/lower/program.h"
#include "runtime/plan.h"

namespace blindfold::compiler {

// Errors (InvalidArgument, naming the term's source node): a vector whose
// period exceeds `max_slots` (no ring up to N = 2 max_slots fits it).
absl::StatusOr<runtime::Plan> PackLatency(const Program& program,
                                          int64_t max_slots,
                                          const circuits::RotationCost& cost = {});

// Throughput-mode packing: every element of every vector is its own
// ciphertext, whose `slots` slots hold a batch of inputs; forms keep their
// matrices (scalar weights), no rotations.
absl::StatusOr<runtime::Plan> PackThroughput(const Program& program, int64_t slots);

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_LOWER_PACK_H_
