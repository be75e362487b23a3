// File: compiler/ir/checked_math.h
// Overflow-checked int64 arithmetic for shape inference. Shapes come from
// untrusted model files, so every sum or product of dimensions, pads,
// strides or element counts goes through these: signed overflow is
// undefined behaviour, and a wrapped product can look like a valid size.
#ifndef BLINDFOLD_COMPILER_IR_CHECKED_MATH_H_
#define BLINDFOLD_COMPILER_IR_CHECKED_MATH_H_

#include <cstdint>
#include <optional>

namespace blindfold::compiler::ir {

// a + b, or nullopt when it does not fit in int64.
inline std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// a * b, or nullopt when it does not fit in int64.
inline std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// a * b when both are in [0, limit] and so is the product; nullopt otherwise.
// The usual form: accumulate a bounded count.
inline std::optional<int64_t> BoundedMul(int64_t a, int64_t b, int64_t limit) {
  if (a < 0 || b < 0) return std::nullopt;
  const std::optional<int64_t> r = CheckedMul(a, b);
  if (!r || *r > limit) return std::nullopt;
  return r;
}

// a + b under the same rule.
inline std::optional<int64_t> BoundedAdd(int64_t a, int64_t b, int64_t limit) {
  if (a < 0 || b < 0) return std::nullopt;
  const std::optional<int64_t> r = CheckedAdd(a, b);
  if (!r || *r > limit) return std::nullopt;
  return r;
}

}  // namespace blindfold::compiler::ir

#endif  // BLINDFOLD_COMPILER_IR_CHECKED_MATH_H_
