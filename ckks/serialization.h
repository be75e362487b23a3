// File: ckks/serialization.h
// One versioned, self-describing binary format for CKKS objects: parameter
// sets, plaintexts, ciphertexts (full or seeded), public keys,
// relinearization keys and Galois keys.
//
// Every object is a 24-byte header followed by type-specific fields and a
// payload, all little-endian:
//
//   offset size  field
//   0      4     magic "BFCK"
//   4      2     format version (kSerializationVersion)
//   6      1     ObjectType
//   7      1     flags (ciphertext: bit 0 = seeded; 0 for every other type)
//   8      8     parameter fingerprint (Parameters::fingerprint())
//   16     8     total length in bytes, header included
//
// Residues are bit-packed limb by limb: coefficient x of limb i takes
// ceil(log2 q_i) bits (the prime's bit length), least significant bit first,
// and each limb is padded to a whole byte with zero bits (N >= 16 makes the
// padding empty). Type-specific fields and payloads are described in
// serialization.cc.
//
// Deserialization validates everything against the given Parameters (magic,
// version, type, fingerprint, shapes, ranges, exact length) before it
// allocates anything sized by the input, and never trusts a length it has
// not checked against the buffer. Errors are InvalidArgument and start with
// the operation, e.g. "DeserializeCiphertext: level 9 exceeds max level 2".
// Serialization validates its input the same way.
//
// Version 2 stores what keys.h generates: switching keys as seed + b_j, each
// with its own level (a key for a lower level has fewer digits and limbs),
// and Galois keys in their sigma_g^-1-permuted form. (Version 1 had every
// key at the top level.) A change of what a stored key or ciphertext means
// must bump kSerializationVersion.
//
// The encoding is canonical: an accepted buffer re-serializes to the same
// bytes (reserved fields and padding bits must be zero, Galois elements
// strictly ascending).
#ifndef BLINDFOLD_CKKS_SERIALIZATION_H_
#define BLINDFOLD_CKKS_SERIALIZATION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ckks/ciphertext.h"
#include "ckks/keys.h"
#include "ckks/parameters.h"

namespace blindfold::ckks {

inline constexpr uint16_t kSerializationVersion = 2;
inline constexpr std::size_t kSerializationHeaderSize = 24;

enum class ObjectType : uint8_t {
  kParameters = 1,
  kPlaintext = 2,
  kCiphertext = 3,
  kPublicKey = 4,
  kRelinKey = 5,
  kGaloisKeys = 6,
  kCompactCiphertext = 7,
};

// Parameters: log_n, the resolved q and p primes, default scale, secret and
// error distributions. Loading rebuilds the set with Parameters::Create (or
// CreateInsecureForTesting when allow_insecure), so the 128-bit check
// applies, and then checks the header fingerprint against the rebuilt set.
absl::StatusOr<std::string> SerializeParameters(const Parameters& params);
// allow_insecure: accept sets that only CreateInsecureForTesting accepts
// (tests).
absl::StatusOr<ParametersPtr> DeserializeParameters(
    std::string_view bytes, bool allow_insecure = false);

absl::StatusOr<std::string> SerializePlaintext(const Parameters& params,
                                               const Plaintext& pt);
absl::StatusOr<Plaintext> DeserializePlaintext(const Parameters& params,
                                               std::string_view bytes);

// A ciphertext with c1_seed (fresh symmetric encryption, degree 1) stores the
// 32-byte seed instead of c1 unless seeded == false. The seed is used only if
// it still expands to c1; otherwise (a stale seed) c1 is stored in full.
// Loading a seeded ciphertext re-expands c1 and sets c1_seed.
absl::StatusOr<std::string> SerializeCiphertext(const Parameters& params,
                                                const Ciphertext& ct,
                                                bool seeded = true);
absl::StatusOr<Ciphertext> DeserializeCiphertext(const Parameters& params,
                                                 std::string_view bytes);

// Public keys store b and a in full (a comes from a seed that keygen does not
// keep).
absl::StatusOr<std::string> SerializePublicKey(const Parameters& params,
                                               const PublicKey& pk);
absl::StatusOr<PublicKey> DeserializePublicKey(const Parameters& params,
                                               std::string_view bytes);

// Switching keys store their seed and the b_j only; the a_j are re-expanded
// with ExpandSwitchingKeyA on load. Serialization checks that every a_j is
// the expansion of the seed (error otherwise).
absl::StatusOr<std::string> SerializeRelinKey(const Parameters& params,
                                              const RelinKey& rk);
absl::StatusOr<RelinKey> DeserializeRelinKey(const Parameters& params,
                                             std::string_view bytes);
absl::StatusOr<std::string> SerializeGaloisKeys(const Parameters& params,
                                                const GaloisKeys& gk);
absl::StatusOr<GaloisKeys> DeserializeGaloisKeys(const Parameters& params,
                                                 std::string_view bytes);

// Compact ciphertexts: a result on its way to the client, as few bytes as
// its message needs. Two savings, both exact in what they keep:
// - A message whose slots repeat with `period` has its polynomial in
//   Z[X^g], g = N / (2 period), so decryption needs only the 2 period
//   coefficients of c0 at multiples of g (and all of c1); the others are
//   dropped.
// - Every kept coefficient, as an integer v in [0, Q_level), is rounded to a
//   multiple of 2^drop_bits: the message gains an error e (c1) s of about
//   2^drop_bits sqrt(h / 12) per coefficient (h: the secret's weight),
//   ~2^(drop_bits + 4.4) for a uniform ternary secret at N = 2^13.
// Level 0 or 1 only (two primes of at most 61 bits: 128-bit arithmetic),
// degree 1, and at most 61 bits per stored value (drop_bits is raised to
// that if needed). The period must divide the ciphertext's slots.
struct CompactOptions {
  int period = 0;
  int drop_bits = 0;
};
absl::StatusOr<std::string> SerializeCompactCiphertext(const Parameters& params,
                                                       const Ciphertext& ct,
                                                       const CompactOptions& options);
// The ciphertext to decrypt: c1, and c0 with the kept coefficients (zero
// elsewhere), with `period` slots, so decoding reads exactly the kept
// coefficients. Errors: anything malformed (shape, level, a value out of
// range, nonzero padding or reserved bits, wrong length).
absl::StatusOr<Ciphertext> DeserializeCompactCiphertext(const Parameters& params,
                                                        std::string_view bytes);

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_SERIALIZATION_H_
