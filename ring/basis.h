// File: ring/basis.h
// RNS basis conversion and the two halves of hybrid key switching.
//
// Fast basis conversion (Bajard et al., "A full RNS variant of FV like
// somewhat homomorphic encryption schemes", SAC 2016; Halevi-Polyakov-Shoup
// 2019): from residues x_i mod b_i of x in [0, B), computes
//   sum_i [x_i (B/b_i)^-1]_{b_i} (B/b_i)  mod t
// which equals x + u B mod t for some 0 <= u < |basis|. In ModUp the u B term
// vanishes modulo Q under the gadget and only adds key noise; ModDown
// computes u and removes it (see ModDown).
//
// Hybrid decomposition (Han-Ki, CT-RSA 2020, "Better bootstrapping for
// approximate homomorphic encryption", Sec. 3): the Q chain is cut into
// digits D_j of `alpha` consecutive primes (alpha = |P|); ModUp extends
// digit j of a polynomial to Q_l P; ModDown divides a Q_l P polynomial by P
// with rounding back to Q_l.
#ifndef BLINDFOLD_RING_BASIS_H_
#define BLINDFOLD_RING_BASIS_H_

#include <memory>
#include <vector>

#include "ring/poly.h"
#include "ring/ring_context.h"

namespace blindfold::ring {

class BasisConverter {
 public:
  // Source primes by global index (RingContext); targets may be any global
  // indices not in the source.
  BasisConverter(const RingContext& ctx, std::vector<int> source);

  // dst[t] = fast conversion of src into modulus targets[t], coefficient
  // form. REQUIRES: src has source().size() limbs of n words in [0, b_i);
  // targets disjoint from source; dst[t] has n words.
  void Convert(const uint64_t* const* src, std::span<const int> targets,
               uint64_t* const* dst) const;

  // Convert in two steps, for callers that produce one target limb at a
  // time (fused key switching): ScaleSource turns source limb i into
  // y_i = [src_i (B/b_i)^-1]_{b_i} (out may alias src; with one source
  // prime y_0 = src_0 and no call is needed), ConvertOne writes target
  // `target` (a global index) from the y's. Same results as Convert.
  void ScaleSource(int i, const uint64_t* src, uint64_t* y) const;
  void ConvertOne(const uint64_t* const* y, int target, uint64_t* dst) const;

  const std::vector<int>& source() const { return source_; }

 private:
  const RingContext* ctx_;
  std::vector<int> source_;
  std::vector<uint64_t> inv_hat_;            // (B/b_i)^-1 mod b_i
  int y_bits_ = 0;                           // max bits of the source primes
  std::vector<std::vector<uint64_t>> hat_;   // [global target][i] = B/b_i mod t
};

class HybridDecomposition {
 public:
  // REQUIRES: ctx.num_p() >= 1.
  explicit HybridDecomposition(std::shared_ptr<const RingContext> ctx);

  int alpha() const { return alpha_; }
  // Number of digits of a polynomial at `level` (level + 1 Q limbs).
  int NumDigits(int level) const { return level / alpha_ + 1; }
  // Total digits at the top level: the key-switching keys' dnum.
  int dnum() const { return NumDigits(ctx_->num_q() - 1); }

  // Extends digit `digit` of a (level l = a_ntt.num_q() - 1) to Q_l P in NTT
  // form. REQUIRES: a_coeff is a_ntt in coefficient form (same limbs, no P);
  // out has l+1 Q limbs and all P limbs.
  void ModUp(const RnsPoly& a_coeff, const RnsPoly& a_ntt, int digit,
             RnsPoly* out) const;
  // ModUp of every digit (ext->size() = NumDigits(l)) in two parallel loops
  // over all digits' limbs at once, rather than two per digit: the same
  // results as ModUp digit by digit. Allocates (*ext)[j].
  void ModUpAll(const RnsPoly& a_coeff, const RnsPoly& a_ntt,
                std::vector<RnsPoly>* ext) const;

  // out = round(x / P) over Q_l, NTT form: the P residue is centred
  // (floor(P/2) is added before the conversion and taken back after), so
  // the division rounds to nearest rather than down, and with alpha > 1 the
  // fast conversion's overflow u P is computed and removed (exact except
  // within ~2^-18 of a tie, where the result may round the other way).
  // REQUIRES: x is NTT form over Q_l P (l + 1 = out->num_q()); x's P limbs
  // are destroyed.
  void ModDown(RnsPoly* x, RnsPoly* out) const;

  // ModDown in two steps, for key switching that fuses it with the inner
  // product and its consumer limb by limb (ckks/evaluator.cc); ModDown is
  // these two steps. ModDownPrepare turns the alpha P limbs of x (NTT
  // form, n words each) in place into what ModDownLimb reads, and with
  // alpha > 1 writes the conversion's overflow u (n bytes). It runs on the
  // calling thread (no ParallelFor). ModDownLimb then writes Q limb i of
  // round(x / P) + add (NTT form; add_i null: nothing added) from x's Q
  // limb i: `out` may alias `x_i` or `add_i`; `scratch` has n words and
  // aliases none of them.
  void ModDownPrepare(uint64_t* const* p_limbs, uint8_t* u) const;
  void ModDownLimb(int i, const uint64_t* const* p_limbs, const uint8_t* u,
                   const uint64_t* x_i, const uint64_t* add_i, uint64_t* out,
                   uint64_t* scratch) const;

  // P mod q_i, for building keys.
  uint64_t p_mod_q(int i) const { return p_mod_q_[i]; }

 private:
  std::shared_ptr<const RingContext> ctx_;
  int alpha_;
  // converters_[j][s-1]: digit j truncated to its first s primes.
  std::vector<std::vector<std::unique_ptr<BasisConverter>>> converters_;
  std::unique_ptr<BasisConverter> p_to_q_;
  std::vector<uint64_t> p_mod_q_, p_inv_mod_q_;
  // floor(P/2) mod p_k, and -floor(P/2) mod q_i: ModDown's rounding offset.
  std::vector<uint64_t> half_p_mod_p_, neg_half_p_mod_q_;
  // ModDown's overflow correction: c_k = (P/p_k)^-1 / p_k as frac(c_k) and
  // frac(2^32 c_k), and [i * alpha + u] = (-floor(P/2) - u P) mod q_i.
  std::vector<double> p_frac_lo_, p_frac_hi_;
  std::vector<uint64_t> neg_half_minus_up_mod_q_;
  // [j * alpha + s - 1][global modulus]: floor(D/2) mod that modulus for
  // digit j truncated to s primes (ModUp's centring offset).
  std::vector<std::vector<uint64_t>> half_digit_;
};

}  // namespace blindfold::ring

#endif  // BLINDFOLD_RING_BASIS_H_
