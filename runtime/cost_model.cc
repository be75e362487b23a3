// File: runtime/cost_model.cc
#include "runtime/cost_model.h"

#include <bit>
#include <cmath>

namespace blindfold::runtime {
namespace {

// engine_bench, N = 2^13, 3 Q limbs (+1 P), one thread, IFMA, microseconds.
constexpr double kRotate13 = 279.0;      // key switch + automorphism
constexpr double kHoisted13 = 168.0;     // each further hoisted rotation
constexpr double kEncode13 = 99.1;       // encode at the top level (split-array FFT)
constexpr double kMulPlain13 = 14.3;
constexpr double kMulRelin13 = 302.8;
constexpr double kRescale13 = 92.3;
// Throughput mode, per scalar-weight term: the arithmetic alone is ~2.1 us
// (engine_bench linear_combination/k:64 over 64), but the terms of a wide
// vector come from DRAM, so a term costs about what multiply_plain does:
// cnn's batch is predicted 2.98 s and measured 2.91 s (two threads).
constexpr double kMulConst13 = 14.3;
constexpr double kLimbs13 = 3.0;

double Scale(int log_n) { return std::pow(2.2, log_n - 13); }

}  // namespace

CostBreakdown PredictLatency(const Plan& plan) {
  CostBreakdown c;
  const double s = Scale(plan.params.log_n) / 1e3;  // -> ms
  auto limbs = [](int level) { return (level + 1) / kLimbs13; };
  auto form = [&](const PlanForm& f) {
    for (const PlanPart& p : f.parts) {
      if (p.identity) continue;
      const double l = limbs(f.level + 1);
      if (plan.mode == PackingMode::kThroughput) {
        int64_t nnz = 0;
        for (const auto& r : p.matrix) nnz += static_cast<int64_t>(r.size());
        c.plain_mul_ms += s * kMulConst13 * l * static_cast<double>(nnz);
        c.rescale_ms += s * kRescale13 * l * static_cast<double>(p.rows);
        continue;
      }
      // Rotations as the plan's execution options perform them (hoisted
      // or not, composed of powers of two or not).
      const circuits::RotationTally r = circuits::CountRotations(p.lt, plan.execution);
      const double diagonals = static_cast<double>(p.lt.num_diagonals());
      c.rotations_ms += s * kRotate13 * l * static_cast<double>(r.rotations);
      c.hoisted_ms += s * kHoisted13 * l * static_cast<double>(r.hoisted);
      c.encode_ms += s * kEncode13 * l * diagonals;
      c.plain_mul_ms += s * kMulPlain13 * l * diagonals;
      c.rescale_ms += s * kRescale13 * l *
                      (plan.execution.eager_rescale && f.rescale ? diagonals : 1.0);
    }
  };
  for (const PlanTerm& t : plan.terms) {
    if (t.kind == PlanTerm::Kind::kInput) continue;
    form(t.a);
    if (t.kind == PlanTerm::Kind::kProduct) form(t.b);
    if (t.kind == PlanTerm::Kind::kSquare || t.kind == PlanTerm::Kind::kProduct) {
      const double n = plan.mode == PackingMode::kThroughput ? static_cast<double>(t.dim) : 1.0;
      c.ciphertext_mul_ms += n * s * (kMulRelin13 + kRescale13) * limbs(t.a.level);
    }
  }
  form(plan.output);
  return c;
}

int64_t EvaluationKeyBytes(const Plan& plan) {
  const ckks::ParametersLiteral& p = plan.params;
  // Bit lengths of the primes (resolved) or of the requested sizes.
  auto bits_of = [](const std::vector<uint64_t>& primes, const std::vector<int>& sizes) {
    std::vector<int> out;
    for (uint64_t q : primes) out.push_back(static_cast<int>(std::bit_width(q)));
    if (primes.empty()) out = sizes;
    return out;
  };
  const std::vector<int> q_bits = bits_of(p.q, p.log_q), p_sizes = bits_of(p.p, p.log_p);
  const int alpha = static_cast<int>(p_sizes.size());
  if (q_bits.empty() || alpha == 0) return 0;
  int p_bits = 0;
  for (int b : p_sizes) p_bits += b;
  const int64_t n = int64_t{1} << p.log_n;
  auto key = [&](int level) {
    int bits = p_bits;
    for (int i = 0; i <= level; ++i) bits += q_bits[i];
    const int64_t digits = level / alpha + 1;  // ring::HybridDecomposition
    return digits * (n * bits / 8) + 48;       // + element, level, seed
  };
  int64_t total = 0;
  for (const auto& [r, level] : plan.RotationLevels()) total += key(level);
  if (plan.RelinLevel() >= 0) total += key(plan.RelinLevel());
  return total;
}

}  // namespace blindfold::runtime
