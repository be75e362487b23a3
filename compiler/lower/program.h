// File: compiler/lower/program.h
// The affine-polynomial normal form of a model: what the HE compiler packs,
// plans and lowers to CKKS operations.
//
// A model over a flat input vector x (the graph input, row-major) becomes a
// list of *terms*, each a vector that the encrypted program materialises as
// ciphertexts, and an output *linear form*:
//
//   t_0 = x
//   t_k = f_k(L_k(t_0..t_{k-1}))            squares: L ⊙ L
//       or L_k(..) ⊙ L'_k(..)               products of two forms
//   y   = L_out(t_0..t_K)
//
// where every L is affine: L(t) = sum_j A_j t_j + b with sparse matrices A_j.
// Every plaintext-weight op of the graph (Conv, Gemm, MatMul, pooling,
// BatchNormalization, Add/Sub/Mul with constants, the in-graph normalisation,
// the activations' coefficients) is folded into the linear forms, so each
// form costs at most one level (one plaintext product and rescale) however
// many ops it fused, and each square or product one more. Depth is computed
// from the terms the lowering produced, not from a rule beside it.
#ifndef BLINDFOLD_COMPILER_LOWER_PROGRAM_H_
#define BLINDFOLD_COMPILER_LOWER_PROGRAM_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "compiler/ir/graph.h"

namespace blindfold::compiler {

// A sparse matrix stored by rows; each row's entries sorted by column, with
// no duplicate columns and no explicit zeros.
struct SparseMatrix {
  using Entry = std::pair<int32_t, double>;  // (column, value)
  int64_t rows = 0, cols = 0;
  std::vector<std::vector<Entry>> row;  // rows entries

  static SparseMatrix Identity(int64_t n);
  static SparseMatrix Diagonal(std::span<const double> d);
  static SparseMatrix Zero(int64_t rows, int64_t cols);
  int64_t nnz() const;
  bool IsIdentity() const;
  // y = this * x (dense), y has `rows` entries.
  void Apply(std::span<const double> x, std::span<double> y) const;
};

// l * a. REQUIRES l.cols == a.rows.
SparseMatrix Compose(const SparseMatrix& l, const SparseMatrix& a);
// a + b. REQUIRES equal shapes.
SparseMatrix AddMatrices(const SparseMatrix& a, const SparseMatrix& b);
// diag(s) * a. REQUIRES s.size() == a.rows.
SparseMatrix ScaleRows(const SparseMatrix& a, std::span<const double> s);

// sum_j parts[j] * t_j + bias: an affine function of earlier terms.
struct LinearForm {
  int64_t dim = 0;
  std::map<int, SparseMatrix> parts;  // term index -> dim x term dim
  std::vector<double> bias;           // dim values

  // True when no term contributes (a constant vector).
  bool IsConstant() const { return parts.empty(); }
  // True when the form is exactly t_j + bias for one term j, which costs no
  // level (adding a constant is free).
  bool IsShiftedTerm() const;
  // True when every part is an identity matrix: a sum of terms plus bias.
  bool IsIdentitySum() const;
  int64_t nnz() const;
};

struct Term {
  // kLinear materialises a form on its own (t = a): the variable of an
  // activation polynomial, shared by all its factors.
  enum class Kind { kInput = 0, kSquare = 1, kProduct = 2, kLinear = 3 };
  Kind kind = Kind::kInput;
  int64_t dim = 0;
  LinearForm a;  // kSquare: t = a ⊙ a; kProduct: t = a ⊙ b; kLinear: t = a
  LinearForm b;
  std::string source;  // the graph node that made this term (for messages)
  int depth = 0;       // multiplicative depth of t (levels consumed)
};

struct Program {
  std::string name;
  ir::Shape input_shape;
  ir::Shape output_shape;
  std::vector<Term> terms;  // terms[0] is the input
  LinearForm output;
  // Set by the unfused lowering (LowerOptions::fuse false): a form whose
  // parts are all identity matrices (a sum of terms plus a constant) costs
  // no level, as an addition in a conventional pipeline does: its deepest
  // terms are added as they are and the others are brought down to their
  // level first (with canonical scales, circuits/ckks_backend.h, by a
  // product with 1 where a conventional pipeline mod-switches and sets the
  // scale). Fused programs never build such sums.
  bool free_identity_sums = false;

  int64_t input_dim() const { return terms.empty() ? 0 : terms[0].dim; }
  // Levels consumed by the output: the program's multiplicative depth.
  int depth() const;
  // Levels consumed by a form: 0 for a constant or a shifted term (or, with
  // free_identity_sums, any sum of terms plus a constant), else the deepest
  // term it reads plus one (one plaintext product + rescale).
  int FormDepth(const LinearForm& f) const;
};

// Evaluates `program` in float64 on a flat input of input_dim() values.
// Errors: InvalidArgument on a wrong input length.
absl::StatusOr<std::vector<double>> EvaluatePlain(const Program& program,
                                                  std::span<const double> x);

// y = f(t) in float64, t[j] the value of term j.
void EvalForm(const LinearForm& f, const std::vector<std::vector<double>>& t,
              std::vector<double>& y);

// As EvaluatePlain, also returning every term's value (terms[k]).
absl::StatusOr<std::vector<double>> EvaluatePlain(
    const Program& program, std::span<const double> x,
    std::vector<std::vector<double>>* terms);

// A readable listing: one line per term and the output, with dimensions,
// non-zeros and depths.
std::string DumpProgram(const Program& program);

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_LOWER_PROGRAM_H_
