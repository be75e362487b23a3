// File: compiler/lower/approx.h
// Polynomial approximations of the non-polynomial activations (Relu,
// Sigmoid), fitted on the values the activation actually sees on
// calibration inputs (training images, never the test set), and factored
// for level-optimal evaluation.
//
// Fit: u = v / R with R the largest |v| seen (times a small margin), and
// p(u) of degree d minimising sum_i (p(u_i) - f(R u_i))^2 over the samples
// plus a light uniform grid on [-1, 1] (so p stays bounded where the data is
// thin); solved in the Chebyshev basis, then converted to monomials.
//
// Factoring: p(u) = lead · prod_j (u^2 + b_j u + c_j) [· (u - r)] from its
// roots (Aberth iteration). Each quadratic is a shifted square,
// (u + b_j/2)^2 + (c_j - b_j^2/4), so the encrypted evaluation is d/2 squares
// and a product tree: depth ceil(log2 d) above u, with `lead` folded into
// the next linear map.
#ifndef BLINDFOLD_COMPILER_LOWER_APPROX_H_
#define BLINDFOLD_COMPILER_LOWER_APPROX_H_

#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "compiler/ir/graph.h"

namespace blindfold::compiler {

struct ActivationFit {
  double range = 1;                 // R
  std::vector<double> coeffs;       // p in u, monomial, low degree first
  double lead = 0;                  // leading coefficient
  std::vector<std::pair<double, double>> quadratics;  // (b, c): u^2 + b u + c
  std::optional<double> linear_root;                  // (u - r)
  double max_sample_error = 0;      // max |p(u_i) - f(v_i)| on the samples
  double rms_sample_error = 0;
};

// The activation `op` (kRelu or kSigmoid) as a function of v.
double Activation(ir::OpKind op, double v);

// Errors: no samples, degree outside [1, 16], a fit whose factorisation
// does not reproduce the polynomial.
absl::StatusOr<ActivationFit> FitActivation(ir::OpKind op,
                                            const std::vector<double>& samples,
                                            int degree);

// p(u) from the factored form (for checks): lead · prod factors.
double EvaluateFactored(const ActivationFit& fit, double u);

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_LOWER_APPROX_H_
