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

// How the client lays out the input for its one reader (the first layer),
// all weights-free (the client repeats pixels; nothing of the model leaks):
// - kPlain: element j in slot j.
// - kIm2col: the reader's rows are grouped by the columns they read (a
//   convolution: one group per output position), slot t·G + g holds the
//   t-th column of group g, and member m of group g lands in slot m·G + g;
//   the reader's diagonals number about (columns per group + members per
//   group). Needs (columns per group)·G slots.
// - kAlignedCopies: one plain copy of the input per group member (a
//   convolution: per output channel) at slots m·X, X = the input's size, and
//   member m of group g at m·X + anchor(g), the anchor aligning the group's
//   columns with the most common column pattern: one diagonal per kernel tap.
//   Needs members·X slots: for a first convolution with few channels far
//   fewer than im2col (cnn: 5·784 against 25·169 rounded up to 25·256).
// Later terms are tiled (element j in slot j, period pow2(dim)) unless
// PackOptions::fit_layouts finds a cheaper layout for them.
enum class InputPacking { kPlain = 0, kIm2col = 1, kAlignedCopies = 2 };
const char* InputPackingName(InputPacking p);

struct PackOptions {
  InputPacking input_packing = InputPacking::kPlain;
  // Lays out each later term that reads one earlier term so that its
  // transforms have few diagonals, where that is cheaper than the tiled
  // layout: rows reading the same slots (a convolution's channels at one
  // position) are anchored on the most common slot pattern and the members
  // of each group are spread by offsets that reuse diagonals (whole channel
  // blocks, the gaps a pooling left). The term's period is then its
  // source's. For cnn-deep's second convolution: 8,192 diagonals -> a few
  // hundred.
  bool fit_layouts = true;
  // Chooses each transform's baby step (baby-step/giant-step).
  circuits::RotationCost cost;
  // The plain diagonal method instead (docs/design/baseline.md): one giant
  // step holding every diagonal, i.e. the baby step is the number of
  // diagonal offsets and each diagonal costs one rotation of the input.
  bool plain_diagonals = false;
  // The input's level; 0 (or anything below the program's depth): the
  // depth. Above it the plan starts at that level and the output stays as
  // many levels higher (no modulus dropping: the input at the top of a
  // chain longer than the program needs).
  int input_level = 0;
};

// Errors (InvalidArgument, naming the term's source node): a vector whose
// period exceeds `max_slots` (no ring up to N = 2 max_slots fits it); an
// input packing other than kPlain when the input has no single reader whose
// rows group (a dense first layer).
absl::StatusOr<runtime::Plan> PackLatency(const Program& program, int64_t max_slots,
                                          const PackOptions& options);
absl::StatusOr<runtime::Plan> PackLatency(const Program& program,
                                          int64_t max_slots,
                                          const circuits::RotationCost& cost = {},
                                          InputPacking input_packing = InputPacking::kPlain);

// Throughput-mode packing: every element of every vector is its own
// ciphertext, whose `slots` slots hold a batch of inputs; forms keep their
// matrices (scalar weights), no rotations.
absl::StatusOr<runtime::Plan> PackThroughput(const Program& program, int64_t slots);

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_LOWER_PACK_H_
