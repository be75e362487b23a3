// File: circuits/ckks_backend.h
// The CKKS backend of the circuits (circuits/linear_transform.h,
// runtime/plan.h): slot vectors are ciphertexts.
//
// Scales. Every value at level l has the canonical scale D_l, with D_top the
// input's scale and D_(l-1) = D_l^2 / q_l: a square (or product) of two
// level-l values rescaled by q_l lands on D_(l-1) exactly. A linear transform
// of x (level l, scale s) multiplies by diagonals encoded at
// q_l D_(l-1) / s, so after one rescale it also lands on D_(l-1), whatever
// level x was dropped from. Adding values therefore never needs a scale fix.
//
// Errors inside an op (which a validated plan does not produce) are kept:
// status() returns the first; later ops are skipped.
#ifndef BLINDFOLD_CIRCUITS_CKKS_BACKEND_H_
#define BLINDFOLD_CIRCUITS_CKKS_BACKEND_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "ckks/ciphertext.h"
#include "ckks/encoder.h"
#include "ckks/evaluator.h"
#include "circuits/linear_transform.h"

namespace blindfold::circuits {

// Encoded diagonals kept across requests (a server's plan is fixed, so a
// diagonal at a given level always encodes the same), up to a byte budget.
// Each diagonal is kept in its compact form (ckks::CompactPlaintext: its
// integer coefficients, 2 slots words whatever the level) and, while the
// budget allows, in its full form (NTT limbs, ready to multiply). A full
// form gives way when a new diagonal's compact form needs the room, so a
// plan whose full forms exceed the budget keeps every diagonal compact and
// pays only the reduction and NTTs per use, not the encoding's FFT. Beyond
// even that, diagonals are encoded per use. Thread-safe.
class PlaintextCache {
 public:
  explicit PlaintextCache(size_t budget_bytes) : budget_(budget_bytes) {}
  struct Entry {
    std::shared_ptr<const ckks::Plaintext> full;  // null: not kept
    std::shared_ptr<const ckks::CompactPlaintext> compact;
  };
  // `qp`: the full form with the P limbs (PlaintextBasis::kQP) rather than
  // Q's; the compact form serves both.
  Entry Find(const void* key, int level, bool qp = false);
  // Keeps `compact` (making room by dropping full forms) and `full` (qp as
  // its P limbs say) if they fit the budget.
  void Insert(const void* key, int level, std::shared_ptr<const ckks::Plaintext> full,
              std::shared_ptr<const ckks::CompactPlaintext> compact);
  size_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  // Diagonals kept, and how many full forms of them.
  size_t entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return map_.size();
  }
  size_t full_forms() const {
    std::lock_guard<std::mutex> lock(mu_);
    return full_order_.size();
  }

 private:
  struct Node {
    std::shared_ptr<const ckks::CompactPlaintext> compact;
    std::shared_ptr<const ckks::Plaintext> full[2];  // [qp]
  };
  using Key = std::pair<const void*, int>;
  mutable std::mutex mu_;
  std::map<Key, Node> map_;
  std::vector<std::pair<Key, bool>> full_order_;  // full forms, oldest first
  size_t bytes_ = 0, budget_;
};

class CkksBackend {
 public:
  using Ct = ckks::Ciphertext;

  // `top_level` and `top_scale`: the input's level and scale; `slots` the
  // packing width; `cache` (optional) keeps encoded diagonals.
  CkksBackend(const ckks::Evaluator& evaluator, const ckks::Encoder& encoder,
              int top_level, ckks::Scale top_scale, int64_t slots,
              PlaintextCache* cache = nullptr);

  // The canonical scale of level l.
  ckks::Scale CanonicalScale(int level) const { return scales_[level]; }

  std::vector<Ct> RotateHoisted(const Ct& x, const std::vector<int64_t>& steps);
  // Double hoisting (linear_transform.h; allowed unless turned off, used per
  // transform by UseDoubleHoisting): the baby rotations stay over Q and P and
  // each giant step's sum of products pays one ModDown
  // (ckks::Evaluator::MultiplyPlainSum); its diagonals are encoded with the
  // P limbs.
  using Hoisted = ckks::HoistedRotations;
  bool double_hoisting() const { return double_hoisting_; }
  void set_double_hoisting(bool on) { double_hoisting_ = on; }
  // Whether double hoisting pays off for `plan` applied to x. It saves a
  // ModDown, about 2 (|Q_l| + |P|) limb NTTs, per baby rotation beyond the
  // number of giant steps (each giant step's sum pays one). Per term with a
  // baby rotation, single hoisting pays a product, a copy and an add over
  // the Q limbs (~1.5 lazy products a limb), double hoisting one lazy
  // product over Q and P. A limb NTT costs ~2.5 limb products read from
  // memory. Fitted on the shipped models (one thread, IFMA and AVX2):
  // double hoisting everywhere with more babies than giant steps made mlp,
  // cnn and mlp-relu 8-19 % faster but cnn-deep (|P| = 4, 656 terms over 16
  // giant steps) 13 % slower; this rule keeps the first and not the second.
  bool UseDoubleHoisting(const Ct& x, const LinearTransformPlan& plan) const;
  Hoisted HoistExtended(const Ct& x, const std::vector<int64_t>& steps);
  Ct MulPlainSum(const Hoisted& h, const std::map<int64_t, SparseDiagonal>& diagonals,
                 int64_t period);
  Ct Rotate(const Ct& x, int64_t steps);
  Ct MulPlain(const Ct& x, const SparseDiagonal& diagonal, int64_t period);
  void AddInPlace(Ct& acc, const Ct& y);
  Ct Finish(const Ct& x);  // rescale
  Ct DropLevel(const Ct& x, int level);
  void AddPlainInPlace(Ct& x, const std::vector<double>& values, int64_t period);
  Ct Square(const Ct& x);
  Ct Multiply(const Ct& a, const Ct& b);
  // Throughput mode (scalar weights; runtime/plan.h).
  Ct LinearCombination(const std::vector<const Ct*>& xs, const std::vector<double>& ws);
  // acc += LinearCombination(xs, ws), in place (acc: a LinearCombination
  // of terms at the same level).
  void AddLinearCombination(Ct& acc, const std::vector<const Ct*>& xs,
                            const std::vector<double>& ws);
  // The same for many sums at once (*sums[s] += the combination of xs[s]
  // and ws[s]; an empty sum starts at zero): one pass over the limbs.
  void AddLinearCombinations(const std::vector<std::optional<Ct>*>& sums,
                             const std::vector<std::vector<const Ct*>>& xs,
                             const std::vector<std::vector<double>>& ws);
  void AddConstInPlace(Ct& x, double c);
  Ct Zero(int level);
  int LevelOf(const Ct& x) const { return x.level(); }

  const absl::Status& status() const { return status_; }
  int64_t rotations = 0, hoisted_rotations = 0, key_switches = 0;
  int64_t double_hoisted_rotations = 0;  // of hoisted_rotations

 private:
  bool Ok(const absl::Status& s);
  ckks::Plaintext Encode(const std::vector<double>& slot_values, int level,
                         ckks::Scale scale,
                         ckks::PlaintextBasis basis = ckks::PlaintextBasis::kQ);
  // Diagonal d encoded for a product with x (level l, scale s) that
  // rescales onto D_(l-1), from the cache when it holds it.
  std::shared_ptr<const ckks::Plaintext> Diagonal(const SparseDiagonal& d, int64_t period,
                                                  int level, ckks::Scale x_scale,
                                                  ckks::PlaintextBasis basis);
  ckks::Scale ConstScale(const Ct& x) const;

  const ckks::Evaluator& ev_;
  const ckks::Encoder& enc_;
  int64_t slots_;
  PlaintextCache* cache_;
  std::vector<ckks::Scale> scales_;  // by level
  absl::Status status_;
  bool double_hoisting_ = true;
};

}  // namespace blindfold::circuits

#endif  // BLINDFOLD_CIRCUITS_CKKS_BACKEND_H_
