#include "ckks/evaluator.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "ckks/internal/access.h"
#include "ckks/internal/encoding.h"
#include "ckks/validation.h"
#include "math/vec_ops.h"
#include "ring/automorphism.h"

namespace blindfold::ckks {

using internal::Access;

using ring::RnsPoly;

namespace {

bool IsPowerOfTwo(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

// Two operands of one op: equal slot counts and, if `same_scale`, matching
// scales.
absl::Status CheckSlotsAndScaleMatch(std::size_t slots_a, std::size_t slots_b,
                                     Scale scale_a, Scale scale_b,
                                     absl::string_view op, bool same_scale) {
  if (slots_a != slots_b) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": slot counts differ (", slots_a, " vs ", slots_b, ")"));
  }
  if (same_scale && !scale_a.Matches(scale_b)) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": scales differ (", scale_a.ToString(), " vs ", scale_b.ToString(), ")"));
  }
  return absl::OkStatus();
}

// steps reduced into [0, slots): rotations by steps equal mod slots agree.
int64_t StepModSlots(int64_t steps, int64_t slots) { return ((steps % slots) + slots) % slots; }

// The key switch's inner product on one limb: acc[0] = sum_j digit_j * b_j
// and acc[1] = sum_j digit_j * a_j, on limb `l` of the digits and limb
// `key_limb` of the key (its P limbs start at its own |Q|).
void KeyInnerProduct(const std::vector<RnsPoly>& ext, int l, const SwitchingKey& key,
                     int key_limb, uint64_t* const acc[2], std::size_t n,
                     const math::Modulus& q) {
  const int digits = static_cast<int>(ext.size());
  const uint64_t* e[kMaxDnum];
  const uint64_t* kb[kMaxDnum];
  const uint64_t* ka[kMaxDnum];
  for (int j = 0; j < digits; ++j) {
    e[j] = ext[j].limb(l);
    kb[j] = key.b[j].limb(key_limb);
    ka[j] = key.a[j].limb(key_limb);
  }
  math::DotProductModVec2(e, kb, ka, digits, acc[0], acc[1], n, q);
}

}  // namespace

absl::StatusOr<Evaluator> Evaluator::Create(
    ParametersPtr params, std::shared_ptr<const EvaluationKeys> keys) {
  if (params == nullptr) return absl::InvalidArgumentError("Evaluator: no parameters");
  // EvaluationKeys::Create validated every key against its parameters; the
  // fingerprint covers (N, Q, P), hence every shape the keys were checked for.
  if (keys != nullptr && keys->fingerprint() != params->fingerprint()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Evaluator: evaluation keys belong to other parameters (fingerprint ",
        absl::Hex(keys->fingerprint()), ", expected ",
        absl::Hex(params->fingerprint()), ")"));
  }
  return Evaluator(std::move(params), std::move(keys));
}

Evaluator::Evaluator(ParametersPtr params,
                     std::shared_ptr<const EvaluationKeys> keys)
    : params_(std::move(params)), keys_(std::move(keys)) {
  const int L = params_->num_q();
  double acc = 0;
  for (int l = 0; l < L; ++l) {
    acc += std::log2(static_cast<double>(params_->q(l)));
    log_q_prefix_.push_back(acc);
  }
  const std::size_t n = params_->n();
  imag_.resize(L);
  for (int i = 0; i < L; ++i) {
    imag_[i].assign(n, 0);
    imag_[i][n / 2] = 1;
    internal::Access::ring(*params_).ntt(i).Forward(imag_[i].data());
  }
  if (keys_) {
    for (uint64_t g : keys_->galois_elements()) {
      automorphism_index_.emplace(g, ring::AutomorphismNttIndex(params_->log_n(), g));
    }
  }
}

uint64_t Evaluator::GaloisElementForRotation(int steps) const {
  return ring::GaloisElementForRotation(steps, params_->log_n());
}

absl::Status Evaluator::CheckBinary(const Ciphertext& a, const Ciphertext& b,
                                    absl::string_view op, bool same_scale) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, op));
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, b, op));
  if (a.level() != b.level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": levels differ (", a.level(), " vs ", b.level(),
        "); DropLevel the higher operand first"));
  }
  return CheckSlotsAndScaleMatch(Access::slots(a), Access::slots(b), Access::scale(a), Access::scale(b), op,
                                 same_scale);
}

absl::Status Evaluator::CheckScaleFits(Scale scale, int level,
                                       absl::string_view op) const {
  if (!(scale.log2() < log_q_prefix_[level] - 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": result scale ", scale.ToString(), " does not fit the modulus at level ",
        level, " (2^", static_cast<int>(log_q_prefix_[level]), "); rescale first"));
  }
  return absl::OkStatus();
}

absl::Status Evaluator::Add(const Ciphertext& a, const Ciphertext& b,
                            Ciphertext* out) const {
  BF_RETURN_IF_ERROR(CheckBinary(a, b, "Add", true));
  const Ciphertext& big = a.degree() >= b.degree() ? a : b;
  const Ciphertext& small = a.degree() >= b.degree() ? b : a;
  Ciphertext r;
  Access::polys(r).resize(Access::polys(big).size());
  for (std::size_t i = 0; i < Access::polys(big).size(); ++i) {
    if (i < Access::polys(small).size()) {
      Access::polys(r)[i] = RnsPoly(params_->n(), a.level() + 1, 0, true,
                           RnsPoly::Uninitialized{});
      ring::Add(internal::Access::ring(*params_), Access::polys(big)[i], Access::polys(small)[i], &Access::polys(r)[i]);
    } else {
      Access::polys(r)[i] = Access::polys(big)[i];
    }
  }
  Access::scale(r) = Access::scale(a);
  Access::slots(r) = Access::slots(a);
  Access::fingerprint(r) = Access::fingerprint(a);
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::Sub(const Ciphertext& a, const Ciphertext& b,
                            Ciphertext* out) const {
  BF_RETURN_IF_ERROR(CheckBinary(a, b, "Sub", true));
  Ciphertext r;
  const std::size_t deg = std::max(Access::polys(a).size(), Access::polys(b).size());
  Access::polys(r).resize(deg);
  for (std::size_t i = 0; i < deg; ++i) {
    if (i < Access::polys(a).size() && i < Access::polys(b).size()) {
      Access::polys(r)[i] = RnsPoly(params_->n(), a.level() + 1, 0, true, RnsPoly::Uninitialized{});
      ring::Sub(internal::Access::ring(*params_), Access::polys(a)[i], Access::polys(b)[i], &Access::polys(r)[i]);
    } else if (i < Access::polys(a).size()) {
      Access::polys(r)[i] = Access::polys(a)[i];
    } else {
      Access::polys(r)[i] = RnsPoly(params_->n(), a.level() + 1, 0, true, RnsPoly::Uninitialized{});
      ring::Negate(internal::Access::ring(*params_), Access::polys(b)[i], &Access::polys(r)[i]);
    }
  }
  Access::scale(r) = Access::scale(a);
  Access::slots(r) = Access::slots(a);
  Access::fingerprint(r) = Access::fingerprint(a);
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::Negate(const Ciphertext& a, Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "Negate"));
  Ciphertext r = a;
  Access::c1_seed(r).reset();
  for (auto& p : Access::polys(r)) ring::Negate(internal::Access::ring(*params_), p, &p);
  *out = std::move(r);
  return absl::OkStatus();
}

namespace {
absl::Status CheckPlainOperand(const Parameters& params, const Ciphertext& a,
                               const Plaintext& b, absl::string_view op,
                               bool same_scale) {
  BF_RETURN_IF_ERROR(ValidateCiphertext(params, a, op));
  BF_RETURN_IF_ERROR(ValidatePlaintext(params, b, op));
  if (b.level() < a.level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": plaintext level ", b.level(), " below ciphertext level ", a.level()));
  }
  return CheckSlotsAndScaleMatch(Access::slots(a), Access::slots(b), Access::scale(a), Access::scale(b), op,
                                 same_scale);
}
}  // namespace

absl::Status Evaluator::AddPlain(const Ciphertext& a, const Plaintext& b,
                                 Ciphertext* out) const {
  BF_RETURN_IF_ERROR(CheckPlainOperand(*params_, a, b, "AddPlain", true));
  Ciphertext r = a;
  Access::c1_seed(r).reset();
  ring::Add(internal::Access::ring(*params_), Access::polys(r)[0], Access::poly(b), &Access::polys(r)[0]);
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::SubPlain(const Ciphertext& a, const Plaintext& b,
                                 Ciphertext* out) const {
  BF_RETURN_IF_ERROR(CheckPlainOperand(*params_, a, b, "SubPlain", true));
  Ciphertext r = a;
  Access::c1_seed(r).reset();
  ring::Sub(internal::Access::ring(*params_), Access::polys(r)[0], Access::poly(b), &Access::polys(r)[0]);
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::ApplyConstant(std::complex<double> c, double scale,
                                      bool multiply, absl::string_view op,
                                      std::span<RnsPoly> polys) const {
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const std::size_t n = params_->n();
  const int nq = polys.empty() ? 0 : polys[0].num_q();
  BF_ASSIGN_OR_RETURN(const internal::ConstantResidues k,
                      internal::EncodeConstant(*params_, c, scale, nq, op));
  ParallelFor(nq, [&](std::size_t i) {
    const math::Modulus& q = ring.q(i);
    AlignedVector<uint64_t> t;  // re + im X^(N/2) in NTT form
    if (k.has_imag) {
      t.resize(n);
      math::MulScalarModVec(imag_[i].data(), k.im[i], t.data(), n, q);
      math::AddScalarModVec(t.data(), k.re[i], t.data(), n, q.value);
    }
    for (RnsPoly& poly : polys) {
      uint64_t* x = poly.limb(i);
      if (!k.has_imag) {
        if (multiply) {
          math::MulScalarModVec(x, k.re[i], x, n, q);
        } else {
          math::AddScalarModVec(x, k.re[i], x, n, q.value);
        }
      } else if (multiply) {
        math::MulModVec(x, t.data(), x, n, q);
      } else {
        math::AddModVec(x, t.data(), x, n, q.value);
      }
    }
  });
  return absl::OkStatus();
}

absl::Status Evaluator::AddConst(const Ciphertext& a, std::complex<double> c,
                                 Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "AddConst"));
  Ciphertext r = a;
  Access::c1_seed(r).reset();
  BF_RETURN_IF_ERROR(ApplyConstant(c, Access::scale(a).value(), /*multiply=*/false,
                                   "AddConst", std::span(Access::polys(r)).first(1)));
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::MultiplyConst(const Ciphertext& a, std::complex<double> c,
                                      Scale const_scale, Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "MultiplyConst"));
  if (!(const_scale.value() >= 1.0) || !std::isfinite(const_scale.value())) {
    return absl::InvalidArgumentError("MultiplyConst: constant scale must be >= 1");
  }
  BF_RETURN_IF_ERROR(CheckScaleFits(Access::scale(a) * const_scale, a.level(), "MultiplyConst"));
  Ciphertext r = a;
  Access::c1_seed(r).reset();
  BF_RETURN_IF_ERROR(ApplyConstant(c, const_scale.value(), /*multiply=*/true,
                                   "MultiplyConst", std::span(Access::polys(r))));
  Access::scale(r) = Access::scale(a) * const_scale;
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::LinearCombination(std::span<const Ciphertext* const> cts,
                                          std::span<const double> weights,
                                          Scale const_scale, Ciphertext* out) const {
  Ciphertext r;
  const LinearSum sum{&r, cts, weights};
  BF_RETURN_IF_ERROR(CombineLinearly({&sum, 1}, const_scale, "LinearCombination"));
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::AddLinearCombination(std::span<const Ciphertext* const> cts,
                                             std::span<const double> weights,
                                             Scale const_scale, Ciphertext* acc) const {
  // Here the sum must exist: an empty one is a caller's mistake.
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, *acc, "AddLinearCombination"));
  const LinearSum sum{acc, cts, weights};
  return CombineLinearly({&sum, 1}, const_scale, "AddLinearCombination");
}

absl::Status Evaluator::AddLinearCombinations(std::span<const LinearSum> sums,
                                              Scale const_scale) const {
  return CombineLinearly(sums, const_scale, "AddLinearCombinations");
}

absl::Status Evaluator::CombineLinearly(std::span<const LinearSum> sums, Scale const_scale,
                                        absl::string_view op_name) const {
  if (sums.empty()) return absl::OkStatus();
  if (!(const_scale.value() >= 1.0) || !std::isfinite(const_scale.value())) {
    return absl::InvalidArgumentError(absl::StrCat(op_name, ": constant scale must be >= 1"));
  }
  // Every term is checked against the first sum's first term.
  if (sums[0].terms.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op_name, ": 0 ciphertexts, expected at least one"));
  }
  const Ciphertext& first = *sums[0].terms[0];
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, first, op_name));
  if (first.degree() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        op_name, ": ciphertext of degree ", first.degree(), ", expected 1"));
  }
  const Scale result_scale = Access::scale(first) * const_scale;
  BF_RETURN_IF_ERROR(CheckScaleFits(result_scale, first.level(), op_name));
  std::vector<std::vector<int64_t>> w(sums.size());
  std::vector<char> fresh(sums.size());
  for (std::size_t s = 0; s < sums.size(); ++s) {
    const LinearSum& sum = sums[s];
    const std::string op =
        sums.size() == 1 ? std::string(op_name) : absl::StrCat(op_name, ": sum ", s);
    if (sum.terms.empty() || sum.terms.size() != sum.weights.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": ", sum.terms.size(), " ciphertexts and ", sum.weights.size(),
          " weights, expected as many and at least one"));
    }
    w[s].resize(sum.terms.size());
    for (std::size_t k = 0; k < sum.terms.size(); ++k) {
      if (s > 0 || k > 0) BF_RETURN_IF_ERROR(CheckBinary(first, *sum.terms[k], op, true));
      if (sum.terms[k]->degree() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            op, ": ciphertext ", k, " has degree ", sum.terms[k]->degree()));
      }
      const double v = std::round(sum.weights[k] * const_scale.value());
      if (!std::isfinite(v) || std::abs(v) >= 0x1p62) {
        return absl::InvalidArgumentError(absl::StrCat(
            op, ": weight ", k, " times the scale is not finite or reaches 2^62"));
      }
      w[s][k] = static_cast<int64_t>(v);
    }
    fresh[s] = Access::polys(*sum.sum).empty();
    if (fresh[s]) continue;
    BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, *sum.sum, op));
    if (sum.sum->degree() != 1 || sum.sum->level() != first.level()) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": the sum has degree ", sum.sum->degree(), " at level ", sum.sum->level(),
          ", the terms degree 1 at level ", first.level()));
    }
    BF_RETURN_IF_ERROR(CheckSlotsAndScaleMatch(Access::slots(*sum.sum), Access::slots(first),
                                               Access::scale(*sum.sum), result_scale, op,
                                               true));
  }
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const std::size_t n = params_->n();
  const int nq = first.level() + 1;
  for (std::size_t s = 0; s < sums.size(); ++s) {
    if (!fresh[s]) continue;
    Ciphertext& r = *sums[s].sum;
    // Each output allocated on its own: assign(k, x) would copy x's words.
    Access::polys(r).resize(2);
    for (RnsPoly& p : Access::polys(r)) p = RnsPoly(n, nq, 0, true, RnsPoly::Uninitialized{});
    Access::scale(r) = result_scale;
    Access::slots(r) = Access::slots(first);
    Access::fingerprint(r) = Access::fingerprint(first);
  }
  // One task per (polynomial, limb), running every sum: weights reduced
  // mod q_i, then the kernels' scalar-weight dot product (IFMA / AVX2 /
  // portable, lazy accumulation, one reduction) over chunks of up to 64
  // ciphertexts, each chunk but a fresh sum's first added to the sum.
  ParallelFor(2 * static_cast<std::size_t>(nq), [&](std::size_t task) {
    const int poly = static_cast<int>(task % 2);
    const int i = static_cast<int>(task / 2);
    const math::Modulus& q = ring.q(i);
    const uint64_t qv = q.value;
    constexpr std::size_t kChunk = 64;
    std::vector<uint64_t> wq;
    std::vector<const uint64_t*> src;
    wq.reserve(kChunk);
    src.reserve(kChunk);
    AlignedVector<uint64_t> part(n);
    for (std::size_t s = 0; s < sums.size(); ++s) {
      const LinearSum& sum = sums[s];
      uint64_t* acc = Access::polys(*sum.sum)[poly].limb(i);
      bool into_acc = fresh[s];
      for (std::size_t start = 0; start < sum.terms.size(); start += kChunk) {
        wq.clear();
        src.clear();
        for (std::size_t k = start; k < std::min(sum.terms.size(), start + kChunk); ++k) {
          const int64_t wk = w[s][k];
          const uint64_t mag = static_cast<uint64_t>(wk < 0 ? -wk : wk) % qv;
          wq.push_back(wk < 0 && mag != 0 ? qv - mag : mag);
          src.push_back(Access::polys(*sum.terms[k])[poly].limb(i));
        }
        uint64_t* dst = into_acc ? acc : part.data();
        math::DotScalarModVec(src.data(), wq.data(), static_cast<int>(src.size()), dst, n, q,
                              q.bits);
        if (!into_acc) math::AddModVec(acc, part.data(), acc, n, qv);
        into_acc = false;
      }
    }
  });
  return absl::OkStatus();
}

absl::Status Evaluator::MultiplyPlain(const Ciphertext& a, const Plaintext& b,
                                      Ciphertext* out) const {
  BF_RETURN_IF_ERROR(CheckPlainOperand(*params_, a, b, "MultiplyPlain", false));
  BF_RETURN_IF_ERROR(CheckScaleFits(Access::scale(a) * Access::scale(b), a.level(), "MultiplyPlain"));
  Ciphertext r = a;
  Access::c1_seed(r).reset();
  for (auto& p : Access::polys(r)) ring::MulPointwise(internal::Access::ring(*params_), p, Access::poly(b), &p);
  Access::scale(r) = Access::scale(a) * Access::scale(b);
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::Multiply(const Ciphertext& a, const Ciphertext& b,
                                 Ciphertext* out) const {
  BF_RETURN_IF_ERROR(CheckBinary(a, b, "Multiply", false));
  if (a.degree() != 1 || b.degree() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Multiply: operands have degree ", a.degree(), " and ", b.degree(),
        ", expected 1; Relinearize first"));
  }
  BF_RETURN_IF_ERROR(CheckScaleFits(Access::scale(a) * Access::scale(b), a.level(), "Multiply"));
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const std::size_t n = params_->n();
  const int nq = a.level() + 1;
  Ciphertext r;
  // Each output allocated on its own: assign(k, x) would copy x's words.
  Access::polys(r).resize(3);
  for (RnsPoly& p : Access::polys(r)) p = RnsPoly(n, nq, 0, true, RnsPoly::Uninitialized{});
  ParallelFor(nq, [&](std::size_t i) {
    const math::Modulus& q = ring.q(i);
    const uint64_t* a0 = Access::polys(a)[0].limb(i);
    const uint64_t* a1 = Access::polys(a)[1].limb(i);
    const uint64_t* b0 = Access::polys(b)[0].limb(i);
    const uint64_t* b1 = Access::polys(b)[1].limb(i);
    math::MulModVec(a0, b0, Access::polys(r)[0].limb(i), n, q);
    math::MulModVec(a1, b1, Access::polys(r)[2].limb(i), n, q);
    const uint64_t* pa[2] = {a0, a1};
    const uint64_t* pb[2] = {b1, b0};
    math::DotProductModVec(pa, pb, 2, Access::polys(r)[1].limb(i), n, q);
  });
  Access::scale(r) = Access::scale(a) * Access::scale(b);
  Access::slots(r) = Access::slots(a);
  Access::fingerprint(r) = Access::fingerprint(a);
  *out = std::move(r);
  return absl::OkStatus();
}

void Evaluator::Decompose(const RnsPoly& a, std::vector<RnsPoly>* ext) const {
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const std::size_t n = params_->n();
  // Copy and inverse NTT limb by limb in one parallel loop (a serial copy
  // of the whole polynomial first would be a serial tail for the threads).
  RnsPoly a_coeff(n, a.num_q(), 0, false, RnsPoly::Uninitialized{});
  ParallelFor(a.num_q(), [&](std::size_t i) {
    std::copy_n(a.limb(static_cast<int>(i)), n, a_coeff.limb(static_cast<int>(i)));
    ring.ntt(static_cast<int>(i)).Inverse(a_coeff.limb(static_cast<int>(i)));
  });
  internal::Access::decomposition(*params_).ModUpAll(a_coeff, a, ext);
}

absl::StatusOr<int> Evaluator::KeyQLimbs(const SwitchingKey& key, int nq,
                                         int digits) const {
  const int L = key.b.empty() ? 0 : key.b[0].num_q();
  if (L < nq) {
    return absl::FailedPreconditionError(absl::StrCat(
        "KeySwitch: the key switches ciphertexts up to level ", L - 1,
        ", this one is at level ", nq - 1));
  }
  if (static_cast<int>(key.b.size()) < digits || static_cast<int>(key.a.size()) < digits) {
    return absl::InternalError(
        absl::StrCat("KeySwitch: ", digits, " digits for a key of ", key.b.size()));
  }
  return L;
}

absl::Status Evaluator::KeySwitch(const std::vector<RnsPoly>& ext,
                                  std::span<const KeySwitchJob> jobs) const {
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const ring::HybridDecomposition& dec = internal::Access::decomposition(*params_);
  const std::size_t n = params_->n();
  const int digits = static_cast<int>(ext.size());
  if (digits < 1 || digits > kMaxDnum) {
    return absl::InternalError(
        absl::StrCat("KeySwitch: ", digits, " digits, at most ", kMaxDnum));
  }
  const int nq = ext[0].num_q(), np = params_->num_p();
  const std::size_t num_jobs = jobs.size();
  // A key made for a lower level (keys.h) has fewer Q limbs: its P limbs
  // start at its own |Q|.
  std::vector<int> key_q(num_jobs);
  for (std::size_t s = 0; s < num_jobs; ++s) {
    BF_ASSIGN_OR_RETURN(key_q[s], KeyQLimbs(*jobs[s].key, nq, digits));
  }
  for (const KeySwitchJob& job : jobs) {
    *job.out0 = RnsPoly(n, nq, 0, true, RnsPoly::Uninitialized{});
    *job.out1 = RnsPoly(n, nq, 0, true, RnsPoly::Uninitialized{});
  }
  // Step 1: the inner product's P limbs, then ModDown's first step on them
  // (INTT, rounding offset, overflow u), both in parallel loops, so no
  // serial ModDown head is left.
  AlignedVector<uint64_t> p_part(num_jobs * 2 * np * n);
  std::vector<uint8_t> overflow(np > 1 ? num_jobs * 2 * n : 0);
  std::vector<uint64_t*> p_limb(num_jobs * 2 * np);
  for (std::size_t t = 0; t < p_limb.size(); ++t) p_limb[t] = p_part.data() + t * n;
  auto u_of = [&](std::size_t s, int o) -> uint8_t* {
    return np > 1 ? overflow.data() + (2 * s + o) * n : nullptr;
  };
  // The P limbs' products with both key halves at once (each digit limb
  // read once), in two halves of the words for the threads; then ModDown's
  // first step per (job, output).
  const std::size_t half_n = n / 2;
  ParallelFor(num_jobs * 2, [&](std::size_t task) {
    const std::size_t s = task / 2;
    const std::size_t begin = (task % 2) * half_n;
    const SwitchingKey& key = *jobs[s].key;
    const uint64_t* e[kMaxDnum];
    const uint64_t* kb[kMaxDnum];
    const uint64_t* ka[kMaxDnum];
    for (int p = 0; p < np; ++p) {
      for (int j = 0; j < digits; ++j) {
        e[j] = ext[j].limb(nq + p) + begin;
        kb[j] = key.b[j].limb(key_q[s] + p) + begin;
        ka[j] = key.a[j].limb(key_q[s] + p) + begin;
      }
      math::DotProductModVec2(e, kb, ka, digits, p_limb[(2 * s) * np + p] + begin,
                              p_limb[(2 * s + 1) * np + p] + begin, half_n, ring.p(p));
    }
  });
  ParallelFor(num_jobs * 2, [&](std::size_t task) {
    dec.ModDownPrepare(p_limb.data() + task * np, u_of(task / 2, static_cast<int>(task % 2)));
  });
  // Step 2, per (Q limb, job), limb-major: the inner product of limb i with
  // both key halves, ModDown's limb, the epilogue; all on per-thread scratch.
  ParallelFor(static_cast<std::size_t>(nq) * num_jobs, [&](std::size_t task) {
    const int i = static_cast<int>(task / num_jobs);
    const std::size_t s = task % num_jobs;
    const KeySwitchJob& job = jobs[s];
    const math::Modulus& q = ring.q(i);
    thread_local AlignedVector<uint64_t> scratch;
    scratch.resize(3 * n);
    uint64_t* const acc[2] = {scratch.data(), scratch.data() + n};
    uint64_t* const tmp = scratch.data() + 2 * n;
    KeyInnerProduct(ext, i, *job.key, i, acc, n, q);
    const RnsPoly* add[2] = {job.add0, job.add1};
    RnsPoly* out[2] = {job.out0, job.out1};
    for (int o = 0; o < 2; ++o) {
      uint64_t* d = job.perm != nullptr ? acc[o] : out[o]->limb(i);
      dec.ModDownLimb(i, p_limb.data() + (2 * s + o) * np, u_of(s, o), acc[o],
                      add[o] != nullptr ? add[o]->limb(i) : nullptr, d, tmp);
      if (job.perm != nullptr) ring::PermuteLimb(d, job.perm->data(), out[o]->limb(i), n);
    }
  });
  return absl::OkStatus();
}

absl::Status Evaluator::Relinearize(const Ciphertext& a, Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "Relinearize"));
  if (a.degree() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Relinearize: ciphertext has degree ", a.degree(), ", expected 2"));
  }
  if (!keys_ || !keys_->relin()) {
    return absl::FailedPreconditionError("Relinearize: no relinearization key");
  }
  std::vector<RnsPoly> ext;
  Decompose(Access::polys(a)[2], &ext);
  Ciphertext r;
  Access::polys(r).resize(2);
  const KeySwitchJob job{&keys_->relin()->key, nullptr, &Access::polys(a)[0],
                         &Access::polys(a)[1], &Access::polys(r)[0], &Access::polys(r)[1]};
  BF_RETURN_IF_ERROR(KeySwitch(ext, std::span(&job, 1)));
  Access::scale(r) = Access::scale(a);
  Access::slots(r) = Access::slots(a);
  Access::fingerprint(r) = Access::fingerprint(a);
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::MulRelin(const Ciphertext& a, const Ciphertext& b,
                                 Ciphertext* out) const {
  if (!keys_ || !keys_->relin()) {
    return absl::FailedPreconditionError("MulRelin: no relinearization key");
  }
  Ciphertext t;
  BF_RETURN_IF_ERROR(AnnotateStatus(Multiply(a, b, &t), "MulRelin"));
  return Relinearize(t, out);
}

absl::Status Evaluator::Rescale(const Ciphertext& a, Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "Rescale"));
  const int l = a.level();
  if (l == 0) return absl::InvalidArgumentError("Rescale: ciphertext at level 0");
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const std::size_t n = params_->n();
  const math::Modulus& ql = ring.q(l);
  const uint64_t half = ql.value >> 1;
  Ciphertext r;
  Access::polys(r).resize(Access::polys(a).size());
  for (std::size_t p = 0; p < Access::polys(a).size(); ++p) {
    // Centered remainder: last = [x + half]_{q_l}; x - (last - half) is
    // divisible by q_l and the quotient is round(x / q_l).
    AlignedVector<uint64_t> last(Access::polys(a)[p].limb(l), Access::polys(a)[p].limb(l) + n);
    ring.ntt(l).Inverse(last.data());
    math::AddScalarModVec(last.data(), half, last.data(), n, ql.value);
    RnsPoly& dst = Access::polys(r)[p];
    dst = RnsPoly(n, l, 0, true, RnsPoly::Uninitialized{});
    ParallelFor(l, [&](std::size_t i) {
      const math::Modulus& qi = ring.q(i);
      AlignedVector<uint64_t> t(n);  // written next
      math::ReduceVec(last.data(), t.data(), n, qi, ql.bits);
      math::AddScalarModVec(t.data(), qi.value - half % qi.value, t.data(), n, qi.value);
      ring.ntt(i).Forward(t.data());
      math::SubModVec(Access::polys(a)[p].limb(i), t.data(), dst.limb(i), n, qi.value);
      math::MulScalarModVec(dst.limb(i), internal::Access::q_inv_mod_q(*params_, l, i), dst.limb(i), n, qi);
    });
  }
  Access::scale(r) = Access::scale(a) / static_cast<double>(ql.value);
  Access::slots(r) = Access::slots(a);
  Access::fingerprint(r) = Access::fingerprint(a);
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::DropLevel(const Ciphertext& a, int level,
                                  Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "DropLevel"));
  if (level < 0 || level > a.level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DropLevel: target level ", level, " outside [0, ", a.level(), "]"));
  }
  Ciphertext r = a;
  for (auto& p : Access::polys(r)) p.TruncateQ(level + 1);
  if (level != a.level()) Access::c1_seed(r).reset();
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::DropLevel(const Plaintext& a, int level, Plaintext* out) const {
  BF_RETURN_IF_ERROR(ValidatePlaintext(*params_, a, "DropLevel"));
  if (level < 0 || level > a.level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DropLevel: target level ", level, " outside [0, ", a.level(), "]"));
  }
  Plaintext r = a;
  Access::poly(r).TruncateQ(level + 1);
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::SetScale(const Ciphertext& a, Scale target, Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "SetScale"));
  if (a.level() < 1) {
    return absl::InvalidArgumentError("SetScale: ciphertext at level 0 (it costs a level)");
  }
  if (!(target.value() > 0) || !std::isfinite(target.value())) {
    return absl::InvalidArgumentError(
        absl::StrCat("SetScale: target scale ", target.value(), " is not positive"));
  }
  BF_RETURN_IF_ERROR(CheckScaleFits(target, a.level() - 1, "SetScale"));
  const double multiplier =
      target.value() * static_cast<double>(params_->q(a.level())) / a.scale().value();
  if (!(multiplier >= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SetScale: target 2^", target.log2(), " from 2^", a.scale().log2(), " at level ",
        a.level(), " needs a multiplier below 1"));
  }
  Ciphertext scaled;
  BF_RETURN_IF_ERROR(MultiplyConst(a, 1.0, Scale(multiplier), &scaled));
  BF_RETURN_IF_ERROR(Rescale(scaled, out));
  Access::scale(*out) = target;  // equal up to the float rounding of the product
  return absl::OkStatus();
}

absl::StatusOr<const SwitchingKey*> Evaluator::GaloisKey(uint64_t g,
                                                         absl::string_view op,
                                                         int steps) const {
  if (const SwitchingKey* key = keys_ ? keys_->galois(g) : nullptr) return key;
  return absl::FailedPreconditionError(absl::StrCat(
      op, ": no Galois key for ",
      g == ring::GaloisElementForConjugation(params_->log_n())
          ? std::string("conjugation")
          : absl::StrCat("rotation ", steps),
      " (galois element ", g, ")"));
}

const std::vector<uint32_t>* Evaluator::AutomorphismIndex(uint64_t g) const {
  auto it = automorphism_index_.find(g);
  return it == automorphism_index_.end() ? nullptr : &it->second;
}

absl::Status Evaluator::ApplyGalois(const Ciphertext& a, uint64_t g,
                                    const SwitchingKey& key, Ciphertext* out) const {
  // With the key of keys.h, d0 + d1 sigma_g^-1(s) ~ c1 s, so
  // sigma_g(c0 + d0) + sigma_g(d1) s ~ sigma_g(c0 + c1 s): one permutation
  // of each output polynomial, none of the digits.
  // The index exists for every key of the immutable key set (constructor).
  const std::vector<uint32_t>* idx = AutomorphismIndex(g);
  if (idx == nullptr) {
    return absl::InternalError(absl::StrCat("Rotate: no index for Galois element ", g));
  }
  std::vector<RnsPoly> ext;
  Decompose(Access::polys(a)[1], &ext);
  Ciphertext r;
  Access::polys(r).resize(2);
  const KeySwitchJob job{&key, idx, &Access::polys(a)[0], nullptr, &Access::polys(r)[0],
                         &Access::polys(r)[1]};
  BF_RETURN_IF_ERROR(KeySwitch(ext, std::span(&job, 1)));
  Access::scale(r) = Access::scale(a);
  Access::slots(r) = Access::slots(a);
  Access::fingerprint(r) = Access::fingerprint(a);
  *out = std::move(r);
  return absl::OkStatus();
}

absl::StatusOr<std::pair<uint64_t, const SwitchingKey*>>
Evaluator::RotationKey(int steps, std::size_t slots, absl::string_view op) const {
  // Keys are made for 5^(steps mod N/2); with fewer slots any element
  // 5^(steps mod slots + t slots) rotates the same way, so try both.
  const int64_t s = static_cast<int64_t>(slots);
  const int64_t k = StepModSlots(steps, s);
  for (uint64_t g : {GaloisElementForRotation(steps),
                     GaloisElementForRotation(static_cast<int>(k))}) {
    if (const SwitchingKey* key = keys_ ? keys_->galois(g) : nullptr) {
      return std::make_pair(g, key);
    }
  }
  BF_ASSIGN_OR_RETURN(const SwitchingKey* key,
                      GaloisKey(GaloisElementForRotation(steps), op, steps));
  return std::make_pair(GaloisElementForRotation(steps), key);
}

absl::Status Evaluator::Rotate(const Ciphertext& a, int steps, Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "Rotate"));
  if (a.degree() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Rotate: ciphertext has degree ", a.degree(), ", expected 1"));
  }
  const int64_t slots = static_cast<int64_t>(Access::slots(a));
  if (steps % slots == 0) {
    *out = a;
    return absl::OkStatus();
  }
  BF_ASSIGN_OR_RETURN(auto gk, RotationKey(steps, Access::slots(a), "Rotate"));
  return ApplyGalois(a, gk.first, *gk.second, out);
}

absl::Status Evaluator::Conjugate(const Ciphertext& a, Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "Conjugate"));
  if (a.degree() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Conjugate: ciphertext has degree ", a.degree(), ", expected 1"));
  }
  const uint64_t g = ring::GaloisElementForConjugation(params_->log_n());
  BF_ASSIGN_OR_RETURN(const SwitchingKey* key, GaloisKey(g, "Conjugate", 0));
  return ApplyGalois(a, g, *key, out);
}

absl::Status Evaluator::RotateHoisted(const Ciphertext& a,
                                      std::span<const int> steps,
                                      std::vector<Ciphertext>* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, "RotateHoisted"));
  if (a.degree() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RotateHoisted: ciphertext has degree ", a.degree(), ", expected 1"));
  }
  const int64_t slots = static_cast<int64_t>(Access::slots(a));
  std::vector<uint64_t> gs;  // 0: identity
  std::vector<const SwitchingKey*> keys;
  for (int s : steps) {
    gs.push_back(0);
    keys.push_back(nullptr);
    if (s % slots == 0) continue;
    BF_ASSIGN_OR_RETURN(auto gk, RotationKey(s, Access::slots(a), "RotateHoisted"));
    gs.back() = gk.first;
    keys.back() = gk.second;
  }
  // One decomposition of c1, shared by every rotation: the Galois keys are
  // permuted by sigma_g^-1 (keys.h), so the digits are used as they are,
  // and all rotations' key switches run as one batch (limb-major, so each
  // limb of the digits is read from memory once for all of them).
  std::vector<Ciphertext> result(steps.size());
  std::vector<KeySwitchJob> jobs;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    if (gs[s] == 0) {
      result[s] = a;
      continue;
    }
    const std::vector<uint32_t>* idx = AutomorphismIndex(gs[s]);
    if (idx == nullptr) {
      return absl::InternalError(
          absl::StrCat("RotateHoisted: no index for Galois element ", gs[s]));
    }
    Ciphertext& r = result[s];
    Access::polys(r).resize(2);
    Access::scale(r) = Access::scale(a);
    Access::slots(r) = Access::slots(a);
    Access::fingerprint(r) = Access::fingerprint(a);
    jobs.push_back({keys[s], idx, &Access::polys(a)[0], nullptr, &Access::polys(r)[0],
                    &Access::polys(r)[1]});
  }
  if (!jobs.empty()) {
    std::vector<RnsPoly> ext;
    Decompose(Access::polys(a)[1], &ext);
    BF_RETURN_IF_ERROR(KeySwitch(ext, jobs));
  }
  *out = std::move(result);
  return absl::OkStatus();
}

std::vector<int> HoistedRotations::steps() const {
  std::vector<int> s;
  for (const auto& [step, polys] : rotated_) s.push_back(step);
  return s;
}

std::size_t HoistedRotations::bytes() const {
  std::size_t b = 0;
  for (const auto& [step, polys] : rotated_) {
    for (const RnsPoly& p : polys) b += p.words().size() * sizeof(uint64_t);
  }
  return b;
}

absl::Status Evaluator::RotateHoistedExtended(const Ciphertext& a,
                                              std::span<const int> steps,
                                              HoistedRotations* out) const {
  constexpr absl::string_view kOp = "RotateHoistedExtended";
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, kOp));
  if (a.degree() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        kOp, ": ciphertext has degree ", a.degree(), ", expected 1"));
  }
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const ring::HybridDecomposition& dec = internal::Access::decomposition(*params_);
  const std::size_t n = params_->n();
  const int nq = a.level() + 1, np = params_->num_p();
  const int digits = dec.NumDigits(a.level());
  const int64_t slots = static_cast<int64_t>(Access::slots(a));
  struct Job {
    int step;
    const SwitchingKey* key;
    int key_q;
    const std::vector<uint32_t>* perm;
  };
  std::vector<Job> jobs;
  for (int s : steps) {
    const int k = static_cast<int>(StepModSlots(s, slots));
    if (k == 0 || std::any_of(jobs.begin(), jobs.end(),
                              [&](const Job& j) { return j.step == k; })) {
      continue;
    }
    BF_ASSIGN_OR_RETURN(auto gk, RotationKey(s, Access::slots(a), kOp));
    BF_ASSIGN_OR_RETURN(const int key_q, KeyQLimbs(*gk.second, nq, digits));
    const std::vector<uint32_t>* idx = AutomorphismIndex(gk.first);
    if (idx == nullptr) {
      return absl::InternalError(
          absl::StrCat(kOp, ": no index for Galois element ", gk.first));
    }
    jobs.push_back({k, gk.second, key_q, idx});
  }
  HoistedRotations r;
  r.level_ = a.level();
  r.scale_ = Access::scale(a);
  r.slots_ = Access::slots(a);
  r.fingerprint_ = Access::fingerprint(a);
  // Rotation 0 if asked for: P * a over Q_l (its P limbs would be zero,
  // and are never read: MultiplyPlainSum skips rotation 0 there).
  if (std::any_of(steps.begin(), steps.end(), [&](int s) { return s % slots == 0; })) {
    std::array<RnsPoly, 2>& zero = r.rotated_[0];
    for (int o = 0; o < 2; ++o) {
      zero[o] = RnsPoly(n, nq, 0, true, RnsPoly::Uninitialized{});
    }
    ParallelFor(static_cast<std::size_t>(2 * nq), [&](std::size_t t) {
      const int o = static_cast<int>(t % 2), i = static_cast<int>(t / 2);
      math::MulScalarModVec(Access::polys(a)[o].limb(i), dec.p_mod_q(i),
                            zero[o].limb(i), n, ring.q(i));
    });
  }
  if (!jobs.empty()) {
    std::vector<std::array<RnsPoly, 2>*> dst;
    for (const Job& job : jobs) {
      std::array<RnsPoly, 2>& polys = r.rotated_[job.step];
      for (RnsPoly& p : polys) p = RnsPoly(n, nq, np, true, RnsPoly::Uninitialized{});
      dst.push_back(&polys);
    }
    std::vector<RnsPoly> ext;
    Decompose(Access::polys(a)[1], &ext);
    // u = sum_j digit_j * key_j over Q_l and P, plus P c_0 in the Q limbs
    // of u_0, then sigma_g of both (keys are made for sigma_g^-1, so the
    // digits are used as they are): per (limb, rotation), limb-major.
    const int limbs = nq + np;
    ParallelFor(static_cast<std::size_t>(limbs) * jobs.size(), [&](std::size_t task) {
      const int l = static_cast<int>(task / jobs.size());
      const Job& job = jobs[task % jobs.size()];
      const bool is_q = l < nq;
      const int key_limb = is_q ? l : job.key_q + (l - nq);
      const math::Modulus& q = is_q ? ring.q(l) : ring.p(l - nq);
      thread_local AlignedVector<uint64_t> scratch;
      scratch.resize(3 * n);
      uint64_t* const acc[2] = {scratch.data(), scratch.data() + n};
      uint64_t* const tmp = scratch.data() + 2 * n;
      KeyInnerProduct(ext, l, *job.key, key_limb, acc, n, q);
      if (is_q) {
        math::MulScalarModVec(Access::polys(a)[0].limb(l), dec.p_mod_q(l), tmp, n, q);
        math::AddModVec(acc[0], tmp, acc[0], n, q.value);
      }
      std::array<RnsPoly, 2>& polys = *dst[task % jobs.size()];
      for (int o = 0; o < 2; ++o) ring::PermuteLimb(acc[o], job.perm->data(), polys[o].limb(l), n);
    });
  }
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::MultiplyPlainSum(const HoistedRotations& rotations,
                                         std::span<const RotatedTerm> terms,
                                         Ciphertext* out) const {
  constexpr absl::string_view kOp = "MultiplyPlainSum";
  if (rotations.level_ < 0 || rotations.fingerprint_ != params_->fingerprint()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kOp, rotations.level_ < 0 ? ": no rotations (RotateHoistedExtended first)"
                                  : ": rotations made for other parameters"));
  }
  if (terms.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": no terms"));
  }
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const ring::HybridDecomposition& dec = internal::Access::decomposition(*params_);
  const std::size_t n = params_->n();
  const int nq = rotations.level_ + 1, np = params_->num_p();
  const int64_t slots = static_cast<int64_t>(rotations.slots_);
  // Per term: its plaintext's limbs and the rotation it multiplies.
  std::vector<const std::array<RnsPoly, 2>*> rot(terms.size());
  const Scale pt_scale = terms[0].pt != nullptr ? terms[0].pt->scale() : Scale();
  for (std::size_t k = 0; k < terms.size(); ++k) {
    const RotatedTerm& t = terms[k];
    const std::string what = absl::StrCat(kOp, ": term ", k);
    if (t.pt == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, ": no plaintext"));
    BF_RETURN_IF_ERROR(ValidatePlaintext(*params_, *t.pt, what));
    if (t.pt->poly().num_p() != np) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": the plaintext has no P limbs (encode it with PlaintextBasis::kQP)"));
    }
    if (t.pt->level() < rotations.level_ || t.pt->slots() != rotations.slots_ ||
        !t.pt->scale().Matches(pt_scale)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": plaintext at level ", t.pt->level(), " with ", t.pt->slots(),
          " slots and scale ", t.pt->scale().ToString(), ", expected level >= ",
          rotations.level_, ", ", rotations.slots_, " slots and the scale of term 0 (",
          pt_scale.ToString(), ")"));
    }
    const int step = static_cast<int>(StepModSlots(t.step, slots));
    auto it = rotations.rotated_.find(step);
    if (it == rotations.rotated_.end()) {
      const std::vector<int> held = rotations.steps();
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": rotation by ", t.step, " is not among the hoisted ones (",
          absl::StrJoin(held, ", "), ")"));
    }
    rot[k] = &it->second;
  }
  const Scale result_scale = rotations.scale_ * pt_scale;
  BF_RETURN_IF_ERROR(CheckScaleFits(result_scale, rotations.level_, kOp));

  // sum_k pt_k . u_k on one limb of output o, four terms per kernel call
  // (the lazily reduced dot product of IFMA / AVX2) added into dst: each
  // call reads 8 long sequential streams. (All terms in one call read 2k
  // streams in short bursts from DRAM, and term by term with MulAddModVec,
  // which has no IFMA kernel, was portable-speed on IFMA machines: both
  // measured slower than MultiplyPlain + Add.) Rotation 0 has no P limbs:
  // it is P a, zero mod P.
  auto dot = [&](int l, int o, uint64_t* dst, uint64_t* part) {
    const bool is_q = l < nq;
    const math::Modulus& q = is_q ? ring.q(l) : ring.p(l - nq);
    constexpr int kGroup = 4;
    const uint64_t* x[kGroup];
    const uint64_t* y[kGroup];
    int count = 0;
    bool any = false;
    auto flush = [&] {
      if (count == 0) return;
      math::DotProductModVec(x, y, count, any ? part : dst, n, q);
      if (any) math::AddModVec(dst, part, dst, n, q.value);
      any = true;
      count = 0;
    };
    for (std::size_t k = 0; k < terms.size(); ++k) {
      const RnsPoly& u = (*rot[k])[o];
      if (!is_q && u.num_p() == 0) continue;
      const RnsPoly& pt = terms[k].pt->poly();
      x[count] = pt.limb(is_q ? l : pt.num_q() + (l - nq));
      y[count] = u.limb(l);
      if (++count == kGroup) flush();
    }
    flush();
    if (!any) std::fill_n(dst, n, 0);
  };
  // The P limbs of both sums and ModDown's first step on them; then each
  // Q limb's sum and its ModDown, on per-thread scratch.
  AlignedVector<uint64_t> p_part(2 * np * n);
  std::vector<uint8_t> overflow(np > 1 ? 2 * n : 0);
  std::vector<uint64_t*> p_limb(2 * np);
  for (int t = 0; t < 2 * np; ++t) p_limb[t] = p_part.data() + t * n;
  ParallelFor(static_cast<std::size_t>(2 * np), [&](std::size_t t) {
    thread_local AlignedVector<uint64_t> scratch;
    scratch.resize(n);
    dot(nq + static_cast<int>(t % np), static_cast<int>(t / np), p_limb[t], scratch.data());
  });
  ParallelFor(2, [&](std::size_t o) {
    dec.ModDownPrepare(p_limb.data() + o * np, np > 1 ? overflow.data() + o * n : nullptr);
  });
  Ciphertext r;
  Access::polys(r).resize(2);
  for (RnsPoly& p : Access::polys(r)) p = RnsPoly(n, nq, 0, true, RnsPoly::Uninitialized{});
  ParallelFor(static_cast<std::size_t>(2 * nq), [&](std::size_t t) {
    const int o = static_cast<int>(t % 2), i = static_cast<int>(t / 2);
    thread_local AlignedVector<uint64_t> scratch;
    scratch.resize(3 * n);
    uint64_t* const acc = scratch.data();
    dot(i, o, acc, scratch.data() + n);
    dec.ModDownLimb(i, p_limb.data() + o * np, np > 1 ? overflow.data() + o * n : nullptr,
                    acc, nullptr, Access::polys(r)[o].limb(i), scratch.data() + 2 * n);
  });
  Access::scale(r) = result_scale;
  Access::slots(r) = rotations.slots_;
  Access::fingerprint(r) = rotations.fingerprint_;
  *out = std::move(r);
  return absl::OkStatus();
}

absl::Status Evaluator::RotateAndSum(const Ciphertext& a, int stride, int count,
                                     int direction, absl::string_view op,
                                     Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, a, op));
  if (stride < 1 || !IsPowerOfTwo(count) ||
      static_cast<int64_t>(stride) * count > static_cast<int64_t>(Access::slots(a))) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": stride ", stride, " x count ", count,
        " must be >= 1, a power-of-two count, and fit ", Access::slots(a), " slots"));
  }
  Ciphertext acc = a;
  for (int64_t s = stride; s < static_cast<int64_t>(stride) * count; s <<= 1) {
    Ciphertext rot;
    BF_RETURN_IF_ERROR(AnnotateStatus(
        Rotate(acc, static_cast<int>(direction * s), &rot), op));
    BF_RETURN_IF_ERROR(Add(acc, rot, &acc));
  }
  *out = std::move(acc);
  return absl::OkStatus();
}

absl::Status Evaluator::InnerSum(const Ciphertext& a, int stride, int count,
                                 Ciphertext* out) const {
  return RotateAndSum(a, stride, count, /*direction=*/+1, "InnerSum", out);
}

absl::Status Evaluator::Replicate(const Ciphertext& a, int stride, int count,
                                  Ciphertext* out) const {
  return RotateAndSum(a, stride, count, /*direction=*/-1, "Replicate", out);
}

absl::StatusOr<Ciphertext> Evaluator::AddNew(const Ciphertext& a,
                                             const Ciphertext& b) const {
  Ciphertext r;
  BF_RETURN_IF_ERROR(Add(a, b, &r));
  return r;
}
absl::StatusOr<Ciphertext> Evaluator::MulRelinNew(const Ciphertext& a,
                                                  const Ciphertext& b) const {
  Ciphertext r;
  BF_RETURN_IF_ERROR(MulRelin(a, b, &r));
  return r;
}
absl::StatusOr<Ciphertext> Evaluator::RescaleNew(const Ciphertext& a) const {
  Ciphertext r;
  BF_RETURN_IF_ERROR(Rescale(a, &r));
  return r;
}
absl::StatusOr<Ciphertext> Evaluator::RotateNew(const Ciphertext& a, int steps) const {
  Ciphertext r;
  BF_RETURN_IF_ERROR(Rotate(a, steps, &r));
  return r;
}

}  // namespace blindfold::ckks
