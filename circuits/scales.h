// File: circuits/scales.h
// The scale rules every backend shares (circuits/ckks_backend.h explains
// them): canonical scales D_(l-1) = D_l^2 / q_l, and the plaintext scale
// that brings x (scale s, level l) to D_(l-1) after one rescale.
#ifndef BLINDFOLD_CIRCUITS_SCALES_H_
#define BLINDFOLD_CIRCUITS_SCALES_H_

#include <cmath>
#include <vector>

namespace blindfold::circuits {

// q[l] is the prime a rescale from level l divides by.
inline std::vector<double> CanonicalScales(const std::vector<double>& q,
                                           int top_level, double top_scale) {
  std::vector<double> s(top_level + 1);
  s[top_level] = top_scale;
  for (int l = top_level; l > 0; --l) s[l - 1] = s[l] / q[l] * s[l];
  return s;
}

inline double PlaintextScale(double q_l, double target_below, double x_scale) {
  return q_l * target_below / x_scale;
}

// Equal up to a relative 2^-30 (as ckks::Scale::Matches).
inline bool ScalesMatch(double a, double b) {
  return std::abs(a - b) <= std::ldexp(std::abs(a), -30);
}

}  // namespace blindfold::circuits

#endif  // BLINDFOLD_CIRCUITS_SCALES_H_
