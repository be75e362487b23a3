#include "ckks/encryptor.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "ckks/internal/access.h"
#include "ckks/internal/seed_expansion.h"
#include "ckks/sampling_domains.h"
#include "ckks/validation.h"
#include "ring/sampler.h"

namespace blindfold::ckks {

using internal::Access;

absl::StatusOr<Encryptor> Encryptor::Create(ParametersPtr params, PublicKey pk) {
  if (params == nullptr) return absl::InvalidArgumentError("Encryptor: no parameters");
  BF_RETURN_IF_ERROR(ValidatePublicKey(*params, pk, "Encryptor"));
  Encryptor enc(std::move(params));
  enc.pk_ = std::move(pk);
  return enc;
}

absl::StatusOr<Encryptor> Encryptor::Create(ParametersPtr params, SecretKey sk) {
  if (params == nullptr) return absl::InvalidArgumentError("Encryptor: no parameters");
  BF_RETURN_IF_ERROR(ValidateSecretKey(*params, sk, "Encryptor"));
  Encryptor enc(std::move(params));
  enc.sk_ = std::move(sk);
  return enc;
}

absl::Status Encryptor::Encrypt(const Plaintext& pt, Ciphertext* out) const {
  BF_RETURN_IF_ERROR(ValidatePlaintext(*params_, pt, "Encrypt"));
  const ring::RingContext& ring = internal::Access::ring(*params_);
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
  Access::polys(ct).resize(2);
  if (pk_) {
    ring::RnsPoly u = small_ntt(ring::SampleTernary(prng, n));
    Access::polys(ct)[0] = small_ntt(ring::SampleError(prng, n, lit.error, lit.error_sigma));
    Access::polys(ct)[1] = small_ntt(ring::SampleError(prng, n, lit.error, lit.error_sigma));
    ring::MulAddPointwise(ring, u, pk_->b, &Access::polys(ct)[0]);
    ring::MulAddPointwise(ring, u, pk_->a, &Access::polys(ct)[1]);
    u.SecureWipe();
  } else {
    Seed seed = Seed::FromOs();
    Access::polys(ct)[1] = ring::RnsPoly(n, nq, 0, true);
    ring::SampleUniform(ring, seed, kDomainCiphertextC1, &Access::polys(ct)[1]);
    ring::RnsPoly e = small_ntt(ring::SampleError(prng, n, lit.error, lit.error_sigma));
    Access::polys(ct)[0] = ring::RnsPoly(n, nq, 0, true);
    ring::MulPointwise(ring, Access::polys(ct)[1], sk_->poly(), &Access::polys(ct)[0]);
    ring::Sub(ring, e, Access::polys(ct)[0], &Access::polys(ct)[0]);
    e.SecureWipe();
    Access::c1_seed(ct) = seed;
  }
  ring::Add(ring, Access::polys(ct)[0], Access::poly(pt), &Access::polys(ct)[0]);
  Access::scale(ct) = Access::scale(pt);
  Access::slots(ct) = Access::slots(pt);
  Access::fingerprint(ct) = params_->fingerprint();
  *out = std::move(ct);
  return absl::OkStatus();
}

absl::StatusOr<Ciphertext> Encryptor::EncryptNew(const Plaintext& pt) const {
  Ciphertext ct;
  BF_RETURN_IF_ERROR(Encrypt(pt, &ct));
  return ct;
}

void internal::ExpandCiphertextC1(const Parameters& params, const Seed& seed, int level,
                        ring::RnsPoly* c1) {
  *c1 = ring::RnsPoly(params.n(), level + 1, 0, true);
  ring::SampleUniform(internal::Access::ring(params), seed, kDomainCiphertextC1, c1);
}

absl::StatusOr<Decryptor> Decryptor::Create(ParametersPtr params, SecretKey sk,
                                            DecryptionOptions options) {
  if (params == nullptr) return absl::InvalidArgumentError("Decryptor: no parameters");
  BF_RETURN_IF_ERROR(ValidateSecretKey(*params, sk, "Decryptor"));
  BF_RETURN_IF_ERROR(ValidateDecryptionOptions(*params, options));
  return Decryptor(std::move(params), std::move(sk), options);
}

absl::Status Decryptor::Decrypt(const Ciphertext& ct, Plaintext* out) const {
  BF_RETURN_IF_ERROR(ValidateCiphertext(*params_, ct, "Decrypt"));
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const int nq = ct.level() + 1;
  // Horner: m = c0 + s (c1 + s c2).
  ring::RnsPoly acc = Access::polys(ct).back();
  for (int i = ct.degree() - 1; i >= 0; --i) {
    ring::RnsPoly t(params_->n(), nq, 0, true);
    ring::MulPointwise(ring, acc, sk_.poly(), &t);
    ring::Add(ring, t, Access::polys(ct)[i], &acc);
    t.SecureWipe();  // c s with c public gives s
  }
  FloodNoise(*params_, options_, &acc);  // IND-CPA-D (noise_flooding.h)
  Access::poly(*out) = std::move(acc);
  Access::scale(*out) = Access::scale(ct);
  Access::slots(*out) = Access::slots(ct);
  Access::fingerprint(*out) = Access::fingerprint(ct);
  return absl::OkStatus();
}

absl::StatusOr<Plaintext> Decryptor::DecryptNew(const Ciphertext& ct) const {
  Plaintext pt;
  BF_RETURN_IF_ERROR(Decrypt(ct, &pt));
  return pt;
}

}  // namespace blindfold::ckks
