// File: ckks/scale.h
// Scale: the factor Delta a CKKS plaintext is multiplied by before rounding.
// A value type (never a bare double in an API) carrying the exact double and
// its log2; products and quotients track multiplication and rescaling.
#ifndef BLINDFOLD_CKKS_SCALE_H_
#define BLINDFOLD_CKKS_SCALE_H_

#include <cmath>
#include <string>

namespace blindfold::ckks {

class Scale {
 public:
  constexpr Scale() = default;
  constexpr explicit Scale(double value) : value_(value) {}
  static Scale FromLog2(double log2) { return Scale(std::exp2(log2)); }

  constexpr double value() const { return value_; }
  double log2() const { return std::log2(value_); }

  Scale operator*(Scale o) const { return Scale(value_ * o.value_); }
  Scale operator/(Scale o) const { return Scale(value_ / o.value_); }
  Scale operator/(double d) const { return Scale(value_ / d); }

  // Equal up to a relative 2^-30: scales reached by different but equivalent
  // operation orders differ only in the last bits of the double.
  bool Matches(Scale o) const {
    return std::abs(value_ - o.value_) <= std::ldexp(std::abs(value_), -30);
  }
  bool operator==(const Scale& o) const { return value_ == o.value_; }

  std::string ToString() const;

 private:
  double value_ = 0;
};

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_SCALE_H_
