#include "ckks/encryptor.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "ckks/sampling_domains.h"
#include "ring/sampler.h"

namespace blindfold::ckks {

namespace {

bool ValidSlots(std::size_t slots, std::size_t n) {
  return slots != 0 && (slots & (slots - 1)) == 0 && slots <= n / 2;
}

absl::Status CheckPoly(const Parameters& params, const ring::RnsPoly& p,
                       int level, absl::string_view op, absl::string_view what) {
  if (p.n() != params.n() || p.num_q() != level + 1 || p.num_p() != 0 ||
      !p.is_ntt() || p.words().size() != params.n() * (level + 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " has ", p.num_q(), " Q limbs of ", p.n(),
        " words, expected ", level + 1, " of ", params.n(), " in NTT form"));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status ValidateCiphertext(const Parameters& params, const Ciphertext& ct,
                                absl::string_view op) {
  if (ct.fingerprint != params.fingerprint()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ciphertext belongs to other parameters (fingerprint ",
        absl::Hex(ct.fingerprint), ", expected ", absl::Hex(params.fingerprint()), ")"));
  }
  if (ct.polys.size() < 2 || ct.polys.size() > 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ciphertext has degree ", ct.degree(), ", expected 1 or 2"));
  }
  const int level = ct.level();
  if (level < 0 || level > params.max_level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ciphertext level ", level, " outside [0, ", params.max_level(), "]"));
  }
  for (std::size_t i = 0; i < ct.polys.size(); ++i) {
    auto s = CheckPoly(params, ct.polys[i], level, op, absl::StrCat("c", i));
    if (!s.ok()) return s;
  }
  if (!ValidSlots(ct.slots, params.n())) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ciphertext slots ", ct.slots, " not a power of two <= N/2"));
  }
  if (!(ct.scale.value() > 0) || !std::isfinite(ct.scale.value())) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ciphertext scale is not positive"));
  }
  return absl::OkStatus();
}

absl::Status ValidatePlaintext(const Parameters& params, const Plaintext& pt,
                               absl::string_view op) {
  if (pt.fingerprint != params.fingerprint()) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": plaintext belongs to other parameters"));
  }
  const int level = pt.level();
  if (level < 0 || level > params.max_level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": plaintext level ", level, " outside [0, ", params.max_level(), "]"));
  }
  auto s = CheckPoly(params, pt.poly, level, op, "plaintext");
  if (!s.ok()) return s;
  if (!ValidSlots(pt.slots, params.n()) || !(pt.scale.value() > 0) ||
      !std::isfinite(pt.scale.value())) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": plaintext slots or scale malformed"));
  }
  return absl::OkStatus();
}

Encryptor::Encryptor(ParametersPtr params, PublicKey pk)
    : params_(std::move(params)), pk_(std::move(pk)) {}
Encryptor::Encryptor(ParametersPtr params, SecretKey sk)
    : params_(std::move(params)), sk_(std::move(sk)) {}

absl::Status Encryptor::Encrypt(const Plaintext& pt, Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidatePlaintext(*params_, pt, "Encrypt"));
  const ring::RingContext& ring = params_->ring();
  const ParametersLiteral& lit = params_->literal();
  const std::size_t n = params_->n();
  const int nq = pt.level() + 1;
  Prng prng(Seed::FromOs(), 0);
  auto small_ntt = [&](std::vector<int64_t> coeffs) {
    ring::RnsPoly p(n, nq, 0, false);
    ring::SetFromSigned(ring, coeffs, &p);
    SecureZero(coeffs.data(), coeffs.size() * sizeof(int64_t));
    ring::ToNtt(ring, &p);
    return p;
  };
  Ciphertext ct;
  ct.polys.resize(2);
  if (pk_) {
    ring::RnsPoly u = small_ntt(ring::SampleTernary(prng, n));
    ct.polys[0] = small_ntt(ring::SampleError(prng, n, lit.error, lit.error_sigma));
    ct.polys[1] = small_ntt(ring::SampleError(prng, n, lit.error, lit.error_sigma));
    ring::MulAddPointwise(ring, u, pk_->b, &ct.polys[0]);
    ring::MulAddPointwise(ring, u, pk_->a, &ct.polys[1]);
    u.SecureWipe();
  } else {
    Seed seed = Seed::FromOs();
    ct.polys[1] = ring::RnsPoly(n, nq, 0, true);
    ring::SampleUniform(ring, seed, kDomainCiphertextC1, &ct.polys[1]);
    ring::RnsPoly e = small_ntt(ring::SampleError(prng, n, lit.error, lit.error_sigma));
    ct.polys[0] = ring::RnsPoly(n, nq, 0, true);
    ring::MulPointwise(ring, ct.polys[1], sk_->poly(), &ct.polys[0]);
    ring::Sub(ring, e, ct.polys[0], &ct.polys[0]);
    e.SecureWipe();
    ct.c1_seed = seed;
  }
  ring::Add(ring, ct.polys[0], pt.poly, &ct.polys[0]);
  ct.scale = pt.scale;
  ct.slots = pt.slots;
  ct.fingerprint = params_->fingerprint();
  *out = std::move(ct);
  return absl::OkStatus();
}

absl::StatusOr<Ciphertext> Encryptor::EncryptNew(const Plaintext& pt) const {
  Ciphertext ct;
  BF_RETURN_IF_ERROR(Encrypt(pt, &ct));
  return ct;
}

void ExpandCiphertextC1(const Parameters& params, const Seed& seed, int level,
                        ring::RnsPoly* c1) {
  *c1 = ring::RnsPoly(params.n(), level + 1, 0, true);
  ring::SampleUniform(params.ring(), seed, kDomainCiphertextC1, c1);
}

Decryptor::Decryptor(ParametersPtr params, SecretKey sk, DecryptionOptions options)
    : params_(std::move(params)), sk_(std::move(sk)), options_(options) {}

absl::Status Decryptor::Decrypt(const Ciphertext& ct, Plaintext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, ct, "Decrypt"));
  BF_RETURN_IF_ERROR(ValidateDecryptionOptions(*params_, options_));
  const ring::RingContext& ring = params_->ring();
  const int nq = ct.level() + 1;
  // Horner: m = c0 + s (c1 + s c2).
  ring::RnsPoly acc = ct.polys.back();
  for (int i = ct.degree() - 1; i >= 0; --i) {
    ring::RnsPoly t(params_->n(), nq, 0, true);
    ring::MulPointwise(ring, acc, sk_.poly(), &t);
    ring::Add(ring, t, ct.polys[i], &acc);
    t.SecureWipe();  // c s with c public gives s
  }
  FloodNoise(*params_, options_, &acc);  // IND-CPA-D (noise_flooding.h)
  out->poly = std::move(acc);
  out->scale = ct.scale;
  out->slots = ct.slots;
  out->fingerprint = ct.fingerprint;
  return absl::OkStatus();
}

absl::StatusOr<Plaintext> Decryptor::DecryptNew(const Ciphertext& ct) const {
  Plaintext pt;
  BF_RETURN_IF_ERROR(Decrypt(ct, &pt));
  return pt;
}

}  // namespace blindfold::ckks
