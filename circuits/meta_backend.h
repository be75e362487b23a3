// File: circuits/meta_backend.h
// The metadata-only simulator: runs a circuit on (level, scale, degree)
// alone, with the same scale rules as the CKKS backend (circuits/scales.h),
// and records every rotation and key switch. The compiler uses it to verify
// a plan before any encryption; tests check that the CKKS backend produces
// the same level and scale for every value.
#ifndef BLINDFOLD_CIRCUITS_META_BACKEND_H_
#define BLINDFOLD_CIRCUITS_META_BACKEND_H_

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "circuits/linear_transform.h"
#include "circuits/scales.h"

namespace blindfold::circuits {

struct MetaCt {
  int level = -1;
  double scale = 0;
  int degree = 1;
};

class MetaBackend {
 public:
  using Ct = MetaCt;

  // q[l]: the prime dropped by a rescale from level l (q[0] unused).
  MetaBackend(std::vector<double> q, int top_level, double top_scale)
      : q_(std::move(q)), scales_(CanonicalScales(q_, top_level, top_scale)) {}

  double CanonicalScale(int level) const { return scales_[level]; }

  std::vector<Ct> RotateHoisted(const Ct& x, const std::vector<int64_t>& steps) {
    for (int64_t s : steps) Rotated(x, s);
    hoisted_rotations += static_cast<int64_t>(steps.size());
    key_switches += static_cast<int64_t>(steps.size());
    return std::vector<Ct>(steps.size(), x);
  }
  Ct Rotate(const Ct& x, int64_t steps) {
    Rotated(x, steps);
    ++rotations;
    ++key_switches;
    return x;
  }
  Ct MulPlain(const Ct& x, const SparseDiagonal&, int64_t) {
    Ct y = x;
    if (Check(x.level >= 1, "MulPlain at level 0")) {
      y.scale = x.scale * PlaintextScale(q_[x.level], scales_[x.level - 1], x.scale);
    }
    return y;
  }
  void AddInPlace(Ct& acc, const Ct& y) {
    Check(acc.level == y.level && ScalesMatch(acc.scale, y.scale),
          absl::StrCat("Add of level ", acc.level, " scale 2^", std::log2(acc.scale),
                       " and level ", y.level, " scale 2^", std::log2(y.scale)));
    acc.degree = std::max(acc.degree, y.degree);
  }
  Ct Finish(const Ct& x) { return Rescaled(x); }
  Ct DropLevel(const Ct& x, int level) {
    Ct y = x;
    if (Check(level <= x.level, "DropLevel upwards")) y.level = level;
    return y;
  }
  void AddPlainInPlace(Ct&, const std::vector<double>&, int64_t) {}
  Ct Multiply(const Ct& a, const Ct& b) {
    Check(a.level == b.level && a.degree == 1 && b.degree == 1,
          "Multiply of different levels or degrees");
    ++key_switches;  // relinearization
    ++ciphertext_products;
    relin_level_ = std::max(relin_level_, a.level);
    Ct p = a;
    p.scale = a.scale * b.scale;
    return Rescaled(p);
  }
  Ct Square(const Ct& a) { return Multiply(a, a); }
  Ct LinearCombination(const std::vector<const Ct*>& xs, const std::vector<double>&) {
    const Ct& x = *xs[0];
    for (const Ct* c : xs) {
      Check(c->level == x.level && ScalesMatch(c->scale, x.scale),
            "LinearCombination of different levels or scales");
    }
    Ct y = x;
    if (Check(x.level >= 1, "MulConst at level 0")) {
      y.scale = x.scale * PlaintextScale(q_[x.level], scales_[x.level - 1], x.scale);
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
    AddInPlace(acc, LinearCombination(xs, ws));
  }
  void AddConstInPlace(Ct&, double) {}
  Ct Zero(int level) { return Ct{level, scales_[level], 1}; }
  int LevelOf(const Ct& x) const { return x.level; }

  const absl::Status& status() const { return status_; }
  const std::set<int64_t>& rotations_used() const { return used_; }
  // The highest level each rotation / the relinearization ran at (the
  // level each key must reach); relin_level -1 when none ran.
  const std::map<int64_t, int>& rotation_levels() const { return levels_; }
  int relin_level() const { return relin_level_; }
  int64_t rotations = 0, hoisted_rotations = 0, key_switches = 0,
          ciphertext_products = 0;

 private:
  bool Check(bool ok, const std::string& what) {
    if (!ok && status_.ok()) status_ = absl::FailedPreconditionError("Simulate: " + what);
    return ok;
  }
  void Rotated(const Ct& x, int64_t s) {
    Check(x.degree == 1, "rotation of a degree-2 ciphertext");
    used_.insert(s);
    int& l = levels_.emplace(s, x.level).first->second;
    l = std::max(l, x.level);
  }
  Ct Rescaled(const Ct& x) {
    Ct y = x;
    if (Check(x.level >= 1, "Rescale at level 0")) {
      y.scale = x.scale / q_[x.level];
      --y.level;
    }
    return y;
  }

  std::vector<double> q_;
  std::vector<double> scales_;
  std::set<int64_t> used_;
  std::map<int64_t, int> levels_;
  int relin_level_ = -1;
  absl::Status status_;
};

}  // namespace blindfold::circuits

#endif  // BLINDFOLD_CIRCUITS_META_BACKEND_H_
