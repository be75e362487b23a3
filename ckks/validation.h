// File: ckks/validation.h
// The one validation unit of the CKKS layer (as SEAL's valcheck): every
// public entry point that takes a ciphertext, plaintext or key (encryptor,
// decryptor, evaluator and its key set, encoder, serialization, key
// generator) checks it here against the Parameters it will be used with,
// before it reads a word of it. A value that passes may be indexed with the
// parameters' N, limb counts and dnum without further checks.
//
// Errors are InvalidArgument with messages "<op>: <what> seen vs expected".
#ifndef BLINDFOLD_CKKS_VALIDATION_H_
#define BLINDFOLD_CKKS_VALIDATION_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ckks/ciphertext.h"
#include "ckks/keys.h"
#include "ckks/parameters.h"

namespace blindfold::ckks {

// A slot count is a power of two in [1, N/2].
bool IsValidSlotCount(std::size_t slots, std::size_t n);

// Fingerprint, 2 or 3 polys of level + 1 Q limbs of N words in NTT form,
// level in range, power-of-two slots, positive finite scale.
absl::Status ValidateCiphertext(const Parameters& params, const Ciphertext& ct,
                                absl::string_view op);
// Fingerprint, level + 1 Q limbs in NTT form, slots, scale.
absl::Status ValidatePlaintext(const Parameters& params, const Plaintext& pt,
                               absl::string_view op);
// Slots and scale alone (decoded headers, encoder arguments).
absl::Status ValidateSlotsAndScale(const Parameters& params, std::size_t slots,
                                   double scale, absl::string_view op,
                                   absl::string_view what);

// Keys: fingerprint and shape (N, |Q|, |P|, NTT form; switching keys dnum
// digits). Seeds are not re-expanded here (serialization does that).
absl::Status ValidateSecretKey(const Parameters& params, const SecretKey& sk,
                               absl::string_view op);
absl::Status ValidatePublicKey(const Parameters& params, const PublicKey& pk,
                               absl::string_view op);
absl::Status ValidateSwitchingKey(const Parameters& params,
                                  const SwitchingKey& key, absl::string_view op,
                                  absl::string_view what);
// An automorphism X -> X^g of Z[X]/(X^N + 1): g odd and in [1, 2N).
absl::Status ValidateGaloisElement(const Parameters& params, uint64_t g,
                                   absl::string_view op);
// Fingerprint, every element valid and every key well formed.
absl::Status ValidateGaloisKeys(const Parameters& params, const GaloisKeys& gk,
                                absl::string_view op);

// One RNS polynomial: N words per limb, num_q + num_p limbs, NTT form.
absl::Status ValidatePolyShape(const Parameters& params, const ring::RnsPoly& p,
                               int num_q, int num_p, absl::string_view op,
                               absl::string_view what);

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_VALIDATION_H_
