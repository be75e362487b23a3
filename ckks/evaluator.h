// File: ckks/evaluator.h
// Homomorphic operations on CKKS ciphertexts.
//
// Every op validates its operands first (parameters fingerprint, shape,
// level, scale, degree, slots, keys) and returns InvalidArgument or
// FailedPrecondition with a message "<Op>: <what was seen vs expected>";
// none aborts on misuse. Outputs are written last and may alias inputs.
// Ops allocate their outputs and scratch per call. All methods are const and
// may run concurrently on one Evaluator; each op is itself limb-parallel
// over the thread pool of base/thread_pool.h.
//
// Levels and scales (Delta = scale): Add/Sub keep level and scale; Multiply*
// multiplies scales (level unchanged); Rescale divides the scale by q_level
// and drops one level; DropLevel only drops primes; rotations keep both.
#ifndef BLINDFOLD_CKKS_EVALUATOR_H_
#define BLINDFOLD_CKKS_EVALUATOR_H_

#include <array>
#include <complex>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "ckks/ciphertext.h"
#include "ckks/keys.h"
#include "ckks/parameters.h"

namespace blindfold::ckks {

// Rotations of one ciphertext kept before ModDown (double hoisting:
// Evaluator::RotateHoistedExtended): per rotation two polynomials over
// Q_l and P, NTT form, holding P times the rotated ciphertext plus the key
// switch's unrounded term; and P times the ciphertext itself for rotation
// 0. Opaque: only Evaluator::MultiplyPlainSum reads it.
class HoistedRotations {
 public:
  HoistedRotations() = default;
  int level() const { return level_; }  // -1 when empty
  Scale scale() const { return scale_; }
  std::size_t slots() const { return slots_; }
  // The rotation amounts held (reduced mod slots), sorted.
  std::vector<int> steps() const;
  std::size_t bytes() const;

 private:
  friend class Evaluator;
  int level_ = -1;
  Scale scale_;
  std::size_t slots_ = 0;
  uint64_t fingerprint_ = 0;
  std::map<int, std::array<ring::RnsPoly, 2>> rotated_;  // step mod slots ->
};

class Evaluator {
 public:
  // `keys` (validated by EvaluationKeys::Create) may be null: then only ops
  // without key switching work. Errors (InvalidArgument, "Evaluator: ..."):
  // keys made for other parameters.
  static absl::StatusOr<Evaluator> Create(
      ParametersPtr params, std::shared_ptr<const EvaluationKeys> keys = nullptr);

  // out = a + b, a - b, -a. REQUIRES equal level, slots and scale (up to
  // Scale::Matches); degrees may differ (the result has the larger).
  absl::Status Add(const Ciphertext& a, const Ciphertext& b, Ciphertext* out) const;
  absl::Status Sub(const Ciphertext& a, const Ciphertext& b, Ciphertext* out) const;
  absl::Status Negate(const Ciphertext& a, Ciphertext* out) const;
  // Plaintext at level >= a's (extra limbs ignored), same scale and slots.
  absl::Status AddPlain(const Ciphertext& a, const Plaintext& b, Ciphertext* out) const;
  absl::Status SubPlain(const Ciphertext& a, const Plaintext& b, Ciphertext* out) const;
  // Adds the constant c to every slot (encoded at a's scale).
  absl::Status AddConst(const Ciphertext& a, std::complex<double> c, Ciphertext* out) const;

  // Tensor product: degree 2, scale a.scale * b.scale. REQUIRES degree 1,
  // equal level and slots.
  absl::Status Multiply(const Ciphertext& a, const Ciphertext& b, Ciphertext* out) const;
  // Slot-wise product with a plaintext: scale a.scale * b.scale.
  absl::Status MultiplyPlain(const Ciphertext& a, const Plaintext& b, Ciphertext* out) const;
  // Multiplies every slot by c, encoded as round(c * const_scale): the
  // result's scale is a.scale * const_scale (explicit bookkeeping; pass
  // Scale(1) with an integer c to keep the scale).
  absl::Status MultiplyConst(const Ciphertext& a, std::complex<double> c,
                             Scale const_scale, Ciphertext* out) const;
  // sum_i round(w_i * const_scale) * cts[i] in one pass over the limbs: the
  // kernels' scalar-weight dot product (IFMA / AVX2 / portable, accumulated
  // lazily, one reduction per 64 terms) — the multiply-accumulate of
  // scalar-weight linear maps. The result's
  // scale is the inputs' times const_scale. REQUIRES (else InvalidArgument
  // "LinearCombination: ..."): at least one ciphertext, all valid for these
  // parameters with degree 1 and equal level, slots and scale; as many
  // weights, each finite with |w * const_scale| < 2^62.
  absl::Status LinearCombination(std::span<const Ciphertext* const> cts,
                                 std::span<const double> weights, Scale const_scale,
                                 Ciphertext* out) const;
  // *acc += the same sum, in place: a sum built from parts that arrive
  // apart (the streamed throughput executor, runtime/plan.h) without a new
  // ciphertext per part. REQUIRES, besides LinearCombination's: *acc valid,
  // degree 1, at the inputs' level and slots, with their scale times
  // const_scale.
  absl::Status AddLinearCombination(std::span<const Ciphertext* const> cts,
                                    std::span<const double> weights, Scale const_scale,
                                    Ciphertext* acc) const;
  // Many such sums in one pass over the limbs: one task per (polynomial,
  // limb) runs every sum, so terms that several sums share are read from
  // cache (the streamed throughput executor pushes a block of a term into
  // thousands of sums at once). A sum without polynomials (a
  // default-constructed Ciphertext) starts at zero; every other is as
  // AddLinearCombination's *acc. All terms share one level, slots and scale.
  struct LinearSum {
    Ciphertext* sum;
    std::span<const Ciphertext* const> terms;
    std::span<const double> weights;
  };
  absl::Status AddLinearCombinations(std::span<const LinearSum> sums,
                                     Scale const_scale) const;
  // Degree 2 -> 1 with the relinearization key.
  absl::Status Relinearize(const Ciphertext& a, Ciphertext* out) const;
  // Multiply then Relinearize.
  absl::Status MulRelin(const Ciphertext& a, const Ciphertext& b, Ciphertext* out) const;
  // Divides by the last prime with rounding: level - 1, scale / q_level.
  absl::Status Rescale(const Ciphertext& a, Ciphertext* out) const;
  // Drops primes down to `level` (<= a's level); the scale is unchanged.
  absl::Status DropLevel(const Ciphertext& a, int level, Ciphertext* out) const;
  // The same for a plaintext: one encoded for a higher level, reused lower
  // (exact: the coefficients of a plaintext encoded for level l at a scale
  // that fits q_0 stay below q_0 / 2).
  absl::Status DropLevel(const Plaintext& a, int level, Plaintext* out) const;
  // Brings a to exactly `target` at level - 1: multiplies by the integer
  // round(target q_level / a.scale) and rescales (one level; the relative
  // error of the integer rounding is below 2^-(log2(target q / scale) + 1)).
  // Errors: level 0, a target so small the multiplier would be below 1, or
  // a target that does not fit level - 1.
  absl::Status SetScale(const Ciphertext& a, Scale target, Ciphertext* out) const;

  // Rotates slots left by `steps` (negative: right) within a.slots.
  absl::Status Rotate(const Ciphertext& a, int steps, Ciphertext* out) const;
  // Complex conjugation of every slot.
  absl::Status Conjugate(const Ciphertext& a, Ciphertext* out) const;
  // Rotations of one ciphertext by every step, sharing one decomposition
  // (Halevi-Shoup hoisting): the costly ModUp runs once. out[i] is a rotated
  // by steps[i].
  absl::Status RotateHoisted(const Ciphertext& a, std::span<const int> steps,
                             std::vector<Ciphertext>* out) const;
  // Double hoisting (Bossuat, Mouchet, Troncoso-Pastoriza, Hubaux,
  // EUROCRYPT 2021, Sec. 3.3): the rotations of RotateHoisted, kept over
  // Q_l and P before ModDown, so that a sum of their products with
  // plaintexts (MultiplyPlainSum) pays one ModDown in all instead of one
  // per rotation. A rotation then costs its key inner product and a
  // permutation. Steps equal mod slots are one rotation; a step of 0 (mod
  // slots) holds P a, without a key switch. Errors: as RotateHoisted's.
  absl::Status RotateHoistedExtended(const Ciphertext& a, std::span<const int> steps,
                                     HoistedRotations* out) const;
  // out = sum_k terms[k].pt * rot(a, terms[k].step), a the ciphertext of
  // `rotations`, as MultiplyPlain and Add would give but with one rounding
  // (ModDown) for the whole sum, so it is at least as precise. Scale:
  // a.scale * the plaintexts' (equal) scale; level and slots a's.
  // REQUIRES (else InvalidArgument "MultiplyPlainSum: ..."): rotations made
  // by RotateHoistedExtended for these parameters, at least one term, each
  // step among the held ones (mod slots), each plaintext valid with the P
  // limbs (Encoder::Encode with PlaintextBasis::kQP), at a's level or
  // above, with a's slots and one scale for all.
  struct RotatedTerm {
    int step = 0;
    const Plaintext* pt = nullptr;
  };
  absl::Status MultiplyPlainSum(const HoistedRotations& rotations,
                                std::span<const RotatedTerm> terms,
                                Ciphertext* out) const;
  // out[i] = sum_{k < count} a[i + k * stride]: log2(count) rotations.
  // REQUIRES: count a power of two, stride >= 1, stride * count <= slots.
  absl::Status InnerSum(const Ciphertext& a, int stride, int count, Ciphertext* out) const;
  // out[i] = sum_{k < count} a[i - k * stride]: copies a block of `stride`
  // slots `count` times when the other slots are zero.
  absl::Status Replicate(const Ciphertext& a, int stride, int count, Ciphertext* out) const;

  // Allocating twins.
  absl::StatusOr<Ciphertext> AddNew(const Ciphertext& a, const Ciphertext& b) const;
  absl::StatusOr<Ciphertext> MulRelinNew(const Ciphertext& a, const Ciphertext& b) const;
  absl::StatusOr<Ciphertext> RescaleNew(const Ciphertext& a) const;
  absl::StatusOr<Ciphertext> RotateNew(const Ciphertext& a, int steps) const;

  // Galois elements an op would need: for planning key sets.
  uint64_t GaloisElementForRotation(int steps) const;

  const ParametersPtr& params() const { return params_; }

 private:
  Evaluator(ParametersPtr params, std::shared_ptr<const EvaluationKeys> keys);

  absl::Status CheckBinary(const Ciphertext& a, const Ciphertext& b,
                           absl::string_view op, bool same_scale) const;
  absl::Status CheckScaleFits(Scale scale, int level, absl::string_view op) const;
  // The sums of AddLinearCombinations; errors start with `op`.
  absl::Status CombineLinearly(std::span<const LinearSum> sums, Scale const_scale,
                               absl::string_view op) const;
  absl::StatusOr<const SwitchingKey*> GaloisKey(uint64_t g, absl::string_view op,
                                                int steps) const;
  // The Galois element and key that rotate `slots` slots by `steps`.
  absl::StatusOr<std::pair<uint64_t, const SwitchingKey*>> RotationKey(
      int steps, std::size_t slots, absl::string_view op) const;
  // nullptr when no key of element g was given.
  const std::vector<uint32_t>* AutomorphismIndex(uint64_t g) const;
  // log2(count) rotations by stride * 2^k, each times `direction`, summed.
  absl::Status RotateAndSum(const Ciphertext& a, int stride, int count,
                            int direction, absl::string_view op,
                            Ciphertext* out) const;

  // ModUp of every digit of a (NTT form, Q_l).
  void Decompose(const ring::RnsPoly& a, std::vector<ring::RnsPoly>* ext) const;
  // One key switch of a decomposition, with what its caller does next:
  // for (d0, d1) over Q_l with d0 + d1 s ~ a s' (a decomposed into `ext`,
  // s' the key's source secret), out0 = perm(add0 + d0) and
  // out1 = perm(add1 + d1); a null add adds nothing, a null perm is the
  // identity (an NTT-form automorphism index otherwise).
  struct KeySwitchJob {
    const SwitchingKey* key = nullptr;
    const std::vector<uint32_t>* perm = nullptr;
    const ring::RnsPoly* add0 = nullptr;
    const ring::RnsPoly* add1 = nullptr;
    ring::RnsPoly* out0 = nullptr;  // allocated here; no alias of any input
    ring::RnsPoly* out1 = nullptr;
  };
  // Runs every job on the shared decomposition, fused limb by limb: the
  // inner product with the key, ModDown and the epilogue of one Q limb run
  // in one task on cache-resident scratch, the tasks of all jobs limb-major
  // (so jobs reuse ext's limb while it is cached). Errors: FailedPrecondition
  // for a key of a lower level, Internal only if the digit count exceeds
  // kMaxDnum, which Parameters::Create rules out.
  absl::Status KeySwitch(const std::vector<ring::RnsPoly>& ext,
                         std::span<const KeySwitchJob> jobs) const;
  // The Q limb count of `key` (a key made for a lower level has fewer);
  // FailedPrecondition if it cannot switch a ciphertext of nq limbs.
  absl::StatusOr<int> KeyQLimbs(const SwitchingKey& key, int nq, int digits) const;
  // Applies sigma_g via its key: the rotation core.
  absl::Status ApplyGalois(const Ciphertext& a, uint64_t g, const SwitchingKey& key,
                   Ciphertext* out) const;
  // The constant c encoded at `scale` (every slot), added to or multiplied
  // into every polynomial of `polys` (NTT form).
  absl::Status ApplyConstant(std::complex<double> c, double scale,
                             bool multiply, absl::string_view op,
                             std::span<ring::RnsPoly> polys) const;

  ParametersPtr params_;
  std::shared_ptr<const EvaluationKeys> keys_;
  std::map<uint64_t, std::vector<uint32_t>> automorphism_index_;
  std::vector<double> log_q_prefix_;         // log2(Q_l)
  std::vector<std::vector<uint64_t>> imag_;  // NTT of X^(N/2), per Q limb
};

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_EVALUATOR_H_
