#include "ckks/validation.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "ckks/internal/access.h"

namespace blindfold::ckks {

bool IsValidSlotCount(std::size_t slots, std::size_t n) {
  return slots != 0 && (slots & (slots - 1)) == 0 && slots <= n / 2;
}

namespace {

absl::Status CheckFingerprint(const Parameters& params, uint64_t seen,
                              absl::string_view op, absl::string_view what) {
  if (seen != params.fingerprint()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " belongs to other parameters (fingerprint ",
        absl::Hex(seen), ", expected ", absl::Hex(params.fingerprint()), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckLevel(const Parameters& params, int level,
                        absl::string_view op, absl::string_view what) {
  if (level < 0 || level > params.max_level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " level ", level, " outside [0, ", params.max_level(), "]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePolyShape(const Parameters& params, const ring::RnsPoly& p,
                               int num_q, int num_p, absl::string_view op,
                               absl::string_view what) {
  if (p.n() != params.n() || p.num_q() != num_q || p.num_p() != num_p ||
      !p.is_ntt() ||
      p.words().size() != params.n() * static_cast<std::size_t>(num_q + num_p)) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " has ", p.num_q(), " + ", p.num_p(), " limbs of ",
        p.n(), " words", p.is_ntt() ? "" : " (coefficient form)", ", expected ",
        num_q, " + ", num_p, " of ", params.n(), " in NTT form"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSlotsAndScale(const Parameters& params, std::size_t slots,
                                   double scale, absl::string_view op,
                                   absl::string_view what) {
  if (!IsValidSlotCount(slots, params.n())) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " slots ", slots, " not a power of two in [1, ",
        params.max_slots(), "]"));
  }
  if (!(scale > 0) || !std::isfinite(scale)) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", what, " scale ", scale, " is not positive and finite"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCiphertext(const Parameters& params, const Ciphertext& ct,
                                absl::string_view op) {
  BF_RETURN_IF_ERROR(CheckFingerprint(params, ct.fingerprint(), op, "ciphertext"));
  if (ct.polys().size() < 2 || ct.polys().size() > 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ciphertext has degree ", ct.degree(), ", expected 1 or 2"));
  }
  const int level = ct.level();
  BF_RETURN_IF_ERROR(CheckLevel(params, level, op, "ciphertext"));
  for (std::size_t i = 0; i < ct.polys().size(); ++i) {
    BF_RETURN_IF_ERROR(ValidatePolyShape(params, ct.polys()[i], level + 1, 0, op,
                                         absl::StrCat("c", i)));
  }
  return ValidateSlotsAndScale(params, ct.slots(), ct.scale().value(), op,
                               "ciphertext");
}

absl::Status ValidatePlaintext(const Parameters& params, const Plaintext& pt,
                               absl::string_view op) {
  BF_RETURN_IF_ERROR(CheckFingerprint(params, pt.fingerprint(), op, "plaintext"));
  const int level = pt.level();
  BF_RETURN_IF_ERROR(CheckLevel(params, level, op, "plaintext"));
  // P limbs: none, or all of them (PlaintextBasis::kQP).
  BF_RETURN_IF_ERROR(ValidatePolyShape(params, pt.poly(), level + 1,
                                       pt.poly().num_p() == 0 ? 0 : params.num_p(), op,
                                       "plaintext"));
  return ValidateSlotsAndScale(params, pt.slots(), pt.scale().value(), op,
                               "plaintext");
}

absl::Status ValidateSecretKey(const Parameters& params, const SecretKey& sk,
                               absl::string_view op) {
  BF_RETURN_IF_ERROR(CheckFingerprint(params, sk.fingerprint(), op, "secret key"));
  return ValidatePolyShape(params, sk.poly(), params.num_q(), params.num_p(), op,
                           "secret key");
}

absl::Status ValidatePublicKey(const Parameters& params, const PublicKey& pk,
                               absl::string_view op) {
  BF_RETURN_IF_ERROR(CheckFingerprint(params, pk.fingerprint, op, "public key"));
  BF_RETURN_IF_ERROR(
      ValidatePolyShape(params, pk.b, params.num_q(), 0, op, "public key b"));
  return ValidatePolyShape(params, pk.a, params.num_q(), 0, op, "public key a");
}

absl::Status ValidateSwitchingKey(const Parameters& params,
                                  const SwitchingKey& key, absl::string_view op,
                                  absl::string_view what) {
  BF_RETURN_IF_ERROR(CheckFingerprint(params, key.fingerprint, op, what));
  const int level = key.level();
  if (level < 0 || level > params.max_level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " has ", key.b.size(), " digits and level ", level,
        ", expected a level in [0, ", params.max_level(), "]"));
  }
  const std::size_t dnum = static_cast<std::size_t>(
      internal::Access::decomposition(params).NumDigits(level));
  if (key.b.size() != dnum || key.a.size() != dnum) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " has ", key.b.size(), " b and ", key.a.size(),
        " a digits, expected ", dnum, " for level ", level));
  }
  for (std::size_t j = 0; j < dnum; ++j) {
    BF_RETURN_IF_ERROR(ValidatePolyShape(params, key.b[j], level + 1,
                                         params.num_p(), op,
                                         absl::StrCat(what, " b_", j)));
    BF_RETURN_IF_ERROR(ValidatePolyShape(params, key.a[j], level + 1,
                                         params.num_p(), op,
                                         absl::StrCat(what, " a_", j)));
  }
  return absl::OkStatus();
}

absl::Status ValidateGaloisElement(const Parameters& params, uint64_t g,
                                   absl::string_view op) {
  const uint64_t two_n = uint64_t{2} * params.n();
  if ((g & 1) == 0 || g >= two_n) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": Galois element ", g, " is not odd in [1, ", two_n, ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateGaloisKeys(const Parameters& params, const GaloisKeys& gk,
                                absl::string_view op) {
  BF_RETURN_IF_ERROR(CheckFingerprint(params, gk.fingerprint, op, "Galois keys"));
  for (const auto& [g, key] : gk.keys) {
    BF_RETURN_IF_ERROR(ValidateGaloisElement(params, g, op));
    BF_RETURN_IF_ERROR(
        ValidateSwitchingKey(params, key, op, absl::StrCat("Galois key ", g)));
  }
  return absl::OkStatus();
}

}  // namespace blindfold::ckks
