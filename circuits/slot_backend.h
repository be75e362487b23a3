// File: circuits/slot_backend.h
// The float64 slot backend: runs circuits on plain slot vectors with exact
// cyclic rotations. It checks packing and diagonal plans (the same code the
// CKKS backend runs) without encryption, and counts the operations.
#ifndef BLINDFOLD_CIRCUITS_SLOT_BACKEND_H_
#define BLINDFOLD_CIRCUITS_SLOT_BACKEND_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "circuits/linear_transform.h"

namespace blindfold::circuits {

class SlotBackend {
 public:
  using Ct = std::vector<double>;

  explicit SlotBackend(int64_t slots) : slots_(slots) {}

  Ct Rotate(const Ct& x, int64_t steps) {
    ++rotations;
    Ct y(x.size());
    const int64_t n = static_cast<int64_t>(x.size());
    for (int64_t j = 0; j < n; ++j) y[j] = x[((j + steps) % n + n) % n];
    return y;
  }
  std::vector<Ct> RotateHoisted(const Ct& x, const std::vector<int64_t>& steps) {
    std::vector<Ct> out;
    for (int64_t s : steps) {
      out.push_back(Rotate(x, s));
      --rotations;
      ++hoisted_rotations;
    }
    return out;
  }
  Ct MulPlain(const Ct& x, const SparseDiagonal& d, int64_t period) {
    ++plain_products;
    const Ct t = Tile(d, period, slots_);
    Ct y(x.size());
    for (size_t j = 0; j < x.size(); ++j) y[j] = x[j] * t[j];
    return y;
  }
  void AddInPlace(Ct& acc, const Ct& y) {
    for (size_t j = 0; j < acc.size(); ++j) acc[j] += y[j];
  }
  Ct Finish(const Ct& x) { return x; }
  Ct DropLevel(const Ct& x, int) { return x; }
  void AddPlainInPlace(Ct& x, const std::vector<double>& values, int64_t period) {
    const Ct t = Tile(values, period, slots_);
    for (size_t j = 0; j < x.size(); ++j) x[j] += t[j];
  }
  Ct Multiply(const Ct& a, const Ct& b) {
    ++ciphertext_products;
    Ct y(a.size());
    for (size_t j = 0; j < a.size(); ++j) y[j] = a[j] * b[j];
    return y;
  }
  Ct Square(const Ct& a) { return Multiply(a, a); }
  Ct LinearCombination(const std::vector<const Ct*>& xs, const std::vector<double>& ws) {
    Ct y(xs[0]->size(), 0.0);
    for (size_t k = 0; k < xs.size(); ++k) {
      for (size_t j = 0; j < y.size(); ++j) y[j] += ws[k] * (*xs[k])[j];
    }
    return y;
  }
  void AddLinearCombinations(const std::vector<std::optional<Ct>*>& sums,
                             const std::vector<std::vector<const Ct*>>& xs,
                             const std::vector<std::vector<double>>& ws) {
    AddLinearCombinationsOneByOne(*this, sums, xs, ws);
  }
  void AddLinearCombination(Ct& acc, const std::vector<const Ct*>& xs,
                            const std::vector<double>& ws) {
    for (size_t k = 0; k < xs.size(); ++k) {
      for (size_t j = 0; j < acc.size(); ++j) acc[j] += ws[k] * (*xs[k])[j];
    }
  }
  int LevelOf(const Ct&) const { return 0; }  // slot vectors have no level
  void AddConstInPlace(Ct& x, double c) {
    for (double& v : x) v += c;
  }
  Ct Zero(int) { return Ct(slots_, 0.0); }

  int64_t rotations = 0, hoisted_rotations = 0, plain_products = 0,
          ciphertext_products = 0;

 private:
  int64_t slots_;
};

}  // namespace blindfold::circuits

#endif  // BLINDFOLD_CIRCUITS_SLOT_BACKEND_H_
