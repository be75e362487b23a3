// File: compiler/lower/pack.h
// Latency-mode packing: one input per ciphertext. Every term is a tiled slot
// vector with period pow2(dim); every non-identity part of a linear form
// becomes a diagonal plan (circuits/linear_transform.h) with baby-step/
// giant-step rotations. The slot count is the largest period.
#ifndef BLINDFOLD_COMPILER_LOWER_PACK_H_
#define BLINDFOLD_COMPILER_LOWER_PACK_H_

#include <optional>

#include "absl/status/statusor.h"
#include "compiler/lower/program.h"
#include "runtime/plan.h"

namespace blindfold::compiler {

// With `gather_input`, the client lays the input out for its one reader
// (the first layer) instead of plainly: the reader's rows are grouped by
// the columns they read (a convolution: one group per output position),
// slot t·G + g of the input holds the t-th column of group g (pixels
// repeat: an im2col done by the client, weights-free, so nothing of the
// model leaks), and the reader's output puts member m of group g in slot
// m·G + g. The reader's diagonals then number about (columns per group +
// members per group) instead of up to the input's period. Later maps read
// that layout as it is.
// Errors (InvalidArgument, naming the term's source node): a vector whose
// period exceeds `max_slots` (no ring up to N = 2 max_slots fits it).
absl::StatusOr<runtime::Plan> PackLatency(const Program& program,
                                          int64_t max_slots,
                                          const circuits::RotationCost& cost = {},
                                          bool gather_input = false);

// Throughput-mode packing: every element of every vector is its own
// ciphertext, whose `slots` slots hold a batch of inputs; forms keep their
// matrices (scalar weights), no rotations.
absl::StatusOr<runtime::Plan> PackThroughput(const Program& program, int64_t slots);

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_LOWER_PACK_H_
