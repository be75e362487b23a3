// File: ckks/encryptor.h
// Encryption (public key, or seeded symmetric with the secret key) and
// decryption. Fresh randomness comes from the OS CSPRNG for every call.
//
// Public key:  (c0, c1) = (u b + e0 + m, u a + e1), u ternary, e_i errors.
// Symmetric:   (c0, c1) = (-a s + e + m, a), a expanded from a fresh seed
//              kept in Ciphertext::c1_seed (serialized instead of c1).
// Decryption:  m' = c0 + c1 s (+ c2 s^2), at the ciphertext's level/scale,
//              plus flooding noise unless turned off (ckks/noise_flooding.h).
#ifndef BLINDFOLD_CKKS_ENCRYPTOR_H_
#define BLINDFOLD_CKKS_ENCRYPTOR_H_

#include <optional>

#include "absl/status/statusor.h"
#include "base/status.h"
#include "ckks/ciphertext.h"
#include "ckks/keys.h"
#include "ckks/noise_flooding.h"
#include "ckks/parameters.h"

namespace blindfold::ckks {

class Encryptor {
 public:
  // Validate the key against `params` (fingerprint, N, limb counts, NTT
  // form). Errors: InvalidArgument "Encryptor: ...".
  static absl::StatusOr<Encryptor> Create(ParametersPtr params, PublicKey pk);
  // Symmetric, seeded encryption; takes the key (pass sk.Clone() to keep one).
  static absl::StatusOr<Encryptor> Create(ParametersPtr params, SecretKey sk);

  // Encrypts at the plaintext's level and scale. Errors (InvalidArgument,
  // "Encrypt: ..."): plaintext from other parameters or malformed.
  absl::Status Encrypt(const Plaintext& pt, Ciphertext* out) const;
  absl::StatusOr<Ciphertext> EncryptNew(const Plaintext& pt) const;

 private:
  explicit Encryptor(ParametersPtr params) : params_(std::move(params)) {}

  ParametersPtr params_;
  std::optional<PublicKey> pk_;
  std::optional<SecretKey> sk_;
};

class Decryptor {
 public:
  // Validates the key against `params` and the options. `options`
  // (ckks/noise_flooding.h): noise flooding is on by default, so a decrypted
  // result can be shown to others without leaking the key;
  // DecryptionOptions::Exact() for results that stay with the key owner.
  // Errors: InvalidArgument "Decryptor: ...".
  static absl::StatusOr<Decryptor> Create(ParametersPtr params, SecretKey sk,
                                          DecryptionOptions options = {});

  // Errors: ciphertext from other parameters, malformed, or degree > 2;
  // flooding options invalid for the parameters.
  absl::Status Decrypt(const Ciphertext& ct, Plaintext* out) const;
  absl::StatusOr<Plaintext> DecryptNew(const Ciphertext& ct) const;

  const DecryptionOptions& options() const { return options_; }

 private:
  Decryptor(ParametersPtr params, SecretKey sk, DecryptionOptions options)
      : params_(std::move(params)), sk_(std::move(sk)), options_(options) {}

  ParametersPtr params_;
  SecretKey sk_;
  DecryptionOptions options_;
};

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_ENCRYPTOR_H_
