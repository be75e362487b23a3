// File: ckks/internal/encoding.h
// Scaled rounding shared by the encoder and the evaluator's constant ops:
// one bound (2^120) and one signed 128-bit reduction. Internal: no public
// header includes it, so __int128 stays out of the public API.
#ifndef BLINDFOLD_CKKS_INTERNAL_ENCODING_H_
#define BLINDFOLD_CKKS_INTERNAL_ENCODING_H_

#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckks/parameters.h"
#include "math/modarith.h"

namespace blindfold::ckks::internal {

// Scaled values must stay below 2^120 in magnitude: they are held as signed
// 128-bit integers and doubles are exact integers there.
inline constexpr double kMaxScaledMagnitude = 0x1p120;

// round(v * scale) into *out; false when not finite or |.| >= 2^120.
inline bool ScaleAndRound(double v, double scale, __int128* out) {
  const double r = std::round(v * scale);
  if (!(std::abs(r) < kMaxScaledMagnitude)) return false;
  *out = static_cast<__int128>(r);
  return true;
}

// v mod q in [0, q) for a signed 128-bit v.
inline uint64_t ReduceSigned128(__int128 v, const math::Modulus& q) {
  if (v >= 0) return math::BarrettReduce128(static_cast<math::u128>(v), q);
  const uint64_t r = math::BarrettReduce128(static_cast<math::u128>(-v), q);
  return r == 0 ? 0 : q.value - r;
}

// The encoding of the constant c in every slot at `scale`: the polynomial
// round(Re(c) scale) + round(Im(c) scale) X^(N/2), as residues per Q limb
// (i < num_q). Errors (InvalidArgument, "<op>: ..."): c * scale not finite or
// reaching 2^120.
struct ConstantResidues {
  std::vector<uint64_t> re, im;  // per Q limb
  bool has_imag = false;
};
absl::StatusOr<ConstantResidues> EncodeConstant(const Parameters& params,
                                                std::complex<double> c,
                                                double scale, int num_q,
                                                absl::string_view op);

}  // namespace blindfold::ckks::internal

#endif  // BLINDFOLD_CKKS_INTERNAL_ENCODING_H_
