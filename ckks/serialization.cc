// Binary format of ckks/serialization.h. After the 24-byte common header
// come the type-specific fields, then the payload:
//
//   kParameters (20 bytes of fields, then 8 (|Q| + |P|) bytes):
//     log_n u8, |Q| u8, |P| u8, log_default_scale u8, secret u8, error u8,
//     reserved u16 = 0, secret_hamming_weight u32 (0 unless sparse),
//     error_sigma f64; then q_0..q_{L-1}, p_0..p_{K-1} as u64.
//   kPlaintext (16 bytes): level u16, reserved u16 = 0, slots u32,
//     scale f64; then the polynomial's level + 1 limbs.
//   kCiphertext (16 bytes): level u16, degree u8, reserved u8 = 0, slots u32,
//     scale f64; if seeded (flags bit 0; degree 1 only) a 32-byte seed and
//     c0, else c0..c_degree, each level + 1 limbs.
//   kPublicKey (36 bytes): |Q| u16, |P| u16 (= 0), seed[32]; then b over Q
//     (a is re-expanded from the seed).
//   kRelinKey (40 bytes): |Q_l| u16, |P| u16, digits u16, reserved u16 = 0,
//     seed[32]; then b_0..b_{digits-1} over Q_l P, where Q_l = q_0..q_l is
//     the key's level's chain (|Q_l| <= |Q|) and digits its digit count.
//   kGaloisKeys (16 bytes): |Q| u16, |P| u16, dnum u16 (the parameters'),
//     reserved u16 = 0, count u32, reserved u32 = 0; then per key, by
//     strictly ascending Galois element: element u64, |Q_l| u16, reserved
//     u16 = 0, reserved u32 = 0, seed[32], b_0..b_{digits(l)-1} over Q_l P.
//   kCompactCiphertext (24 bytes): level u16 (0 or 1), reserved u16 = 0,
//     slots u32 (the period), scale f64, drop_bits u8, value_bits u8,
//     reserved u16 = 0, reserved u32 = 0; then the 2 slots kept coefficients
//     of c0 and the N of c1, each block bit-packed at value_bits bits per
//     value (v = round(c / 2^drop_bits), c the coefficient in [0, Q_level),
//     and 0 where v 2^drop_bits would reach Q_level).
//
// A polynomial over limbs 0..m-1 takes sum_i ceil(N bits_i / 8) bytes, where
// bits_i is the bit length of the limb's prime.
#include "ckks/serialization.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/check.h"
#include "base/status.h"
#include "ckks/internal/access.h"
#include "ckks/internal/seed_expansion.h"
#include "ckks/internal/wire.h"
#include "ckks/validation.h"
#include "math/modarith.h"
#include "ring/poly.h"

namespace blindfold::ckks {

using internal::Access;
namespace {

using namespace internal::wire;  // NOLINT: the wire format primitives

constexpr uint8_t kFlagSeeded = 1;

constexpr std::size_t kParamsFieldsSize = 20;
constexpr std::size_t kPlaintextFieldsSize = 16;
constexpr std::size_t kCiphertextFieldsSize = 16;
constexpr std::size_t kPublicKeyFieldsSize = 4 + Seed::kSize;
constexpr std::size_t kRelinFieldsSize = 8 + Seed::kSize;
constexpr std::size_t kGaloisFieldsSize = 16;
constexpr std::size_t kGaloisEntryFixedSize = 16 + Seed::kSize;
constexpr std::size_t kCompactFieldsSize = 24;

absl::Status CheckLevel(const Parameters& params, uint64_t level,
                        absl::string_view op) {
  if (level > static_cast<uint64_t>(params.max_level())) {
    return Error(op, "level ", level, " exceeds max level ",
                 params.max_level());
  }
  return absl::OkStatus();
}

absl::Status CheckSlotsAndScale(const Parameters& params, uint64_t slots,
                                double scale, absl::string_view op) {
  return ValidateSlotsAndScale(params, static_cast<std::size_t>(slots), scale,
                               op, "header");
}

// Checks a switching key's shape and that its a_j expand from its seed.
absl::Status CheckSwitchingKey(const Parameters& params,
                               const SwitchingKey& key, absl::string_view op,
                               absl::string_view what) {
  BF_RETURN_IF_ERROR(ValidateSwitchingKey(params, key, op, what));
  ring::RnsPoly a;
  for (std::size_t j = 0; j < key.a.size(); ++j) {
    internal::ExpandSwitchingKeyA(params, key.seed, static_cast<int>(j), key.level() + 1, &a);
    if (!(a == key.a[j])) {
      return Error(op, what, " a_", j,
                   " is not the expansion of the key's seed; only seeded "
                   "switching keys can be serialized");
    }
  }
  return absl::OkStatus();
}

int KeyDigits(const Parameters& params, int num_q) {
  return internal::Access::decomposition(params).NumDigits(num_q - 1);
}

// The shape fields of a relinearization key (its own |Q_l|, |P|, digits)
// or of a Galois key set (the parameters'), and a reserved u16.
void WriteKeyShape(Writer& w, const Parameters& params, int num_q) {
  w.U16(static_cast<uint16_t>(num_q));
  w.U16(static_cast<uint16_t>(params.num_p()));
  w.U16(static_cast<uint16_t>(KeyDigits(params, num_q)));
  w.U16(0);
}

// Reads the shape fields; `exact_q`: |Q| must be the parameters' (a Galois
// key set), else any level's (a relinearization key). Returns |Q_l|.
absl::StatusOr<int> ReadKeyShape(Reader& r, const Parameters& params, bool exact_q,
                                 absl::string_view op) {
  const uint16_t num_q = r.U16();
  const uint16_t num_p = r.U16();
  const uint16_t dnum = r.U16();
  BF_RETURN_IF_ERROR(CheckReserved(r.U16(), op, "after dnum"));
  const bool q_ok = exact_q ? num_q == params.num_q()
                            : num_q >= 1 && num_q <= params.num_q();
  if (!q_ok || num_p != params.num_p() ||
      (q_ok && dnum != KeyDigits(params, num_q))) {
    return Error(op, "key has ", num_q, " Q primes, ", num_p, " P primes and ", dnum,
                 " digits, expected ", exact_q ? "" : "at most ", params.num_q(), ", ",
                 params.num_p(), " and the digits of that level");
  }
  return static_cast<int>(num_q);
}

absl::Status WriteSwitchingKeyB(Writer& w, const Parameters& params,
                                const SwitchingKey& key, absl::string_view op,
                                absl::string_view what) {
  for (std::size_t j = 0; j < key.b.size(); ++j) {
    BF_RETURN_IF_ERROR(
        w.Poly(params, key.b[j], op, absl::StrCat(what, " b_", j)));
  }
  return absl::OkStatus();
}

// The bytes of a switching key's b_j at |Q_l| = num_q.
std::size_t SwitchingKeyBytes(const Parameters& params, int num_q) {
  return static_cast<std::size_t>(KeyDigits(params, num_q)) *
         PolyBytes(params, num_q, params.num_p());
}

absl::Status ReadSwitchingKey(Reader& r, const Parameters& params, Seed seed,
                              int num_q, absl::string_view op, absl::string_view what,
                              SwitchingKey* key) {
  const int digits = KeyDigits(params, num_q);
  key->seed = seed;
  key->fingerprint = params.fingerprint();
  key->b.resize(digits);
  key->a.resize(digits);
  for (int j = 0; j < digits; ++j) {
    BF_RETURN_IF_ERROR(r.Poly(params, num_q, params.num_p(), op,
                              absl::StrCat(what, " b_", j), &key->b[j]));
    internal::ExpandSwitchingKeyA(params, key->seed, j, num_q, &key->a[j]);
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------
// Parameters.

absl::StatusOr<std::string> SerializeParameters(const Parameters& params) {
  constexpr absl::string_view op = "SerializeParameters";
  const ParametersLiteral& lit = params.literal();
  if (lit.q.size() != static_cast<std::size_t>(params.num_q()) ||
      lit.p.size() != static_cast<std::size_t>(params.num_p()) ||
      params.num_q() < 1 || params.num_p() < 1 ||
      params.num_q() + params.num_p() > kMaxPrimes) {
    return Error(op, "parameters have ", lit.q.size(), " + ", lit.p.size(),
                 " primes, expected 1 + 1 to ", kMaxPrimes, " in all");
  }
  const bool sparse = lit.secret == SecretDistribution::kSparseTernary;
  if (lit.secret != SecretDistribution::kUniformTernary && !sparse) {
    return Error(op, "unknown secret distribution ",
                 static_cast<int>(lit.secret));
  }
  if (lit.error != ring::ErrorDistribution::kDiscreteGaussian &&
      lit.error != ring::ErrorDistribution::kCenteredBinomial) {
    return Error(op, "unknown error distribution ",
                 static_cast<int>(lit.error));
  }
  if (lit.log_default_scale < 0 || lit.log_default_scale > 255 ||
      (sparse && lit.secret_hamming_weight < 0)) {
    return Error(op, "default scale 2^", lit.log_default_scale,
                 " or Hamming weight ", lit.secret_hamming_weight,
                 " out of range");
  }
  const std::size_t total = kSerializationHeaderSize + kParamsFieldsSize +
                            8 * (lit.q.size() + lit.p.size());
  Writer w(total);
  WriteHeader(w, ObjectType::kParameters, 0, params.fingerprint(), total);
  w.U8(static_cast<uint8_t>(params.log_n()));
  w.U8(static_cast<uint8_t>(lit.q.size()));
  w.U8(static_cast<uint8_t>(lit.p.size()));
  w.U8(static_cast<uint8_t>(lit.log_default_scale));
  w.U8(static_cast<uint8_t>(lit.secret));
  w.U8(static_cast<uint8_t>(lit.error));
  w.U16(0);
  w.U32(sparse ? static_cast<uint32_t>(lit.secret_hamming_weight) : 0);
  w.F64(lit.error_sigma);
  for (uint64_t q : lit.q) w.U64(q);
  for (uint64_t p : lit.p) w.U64(p);
  return std::move(w).Finish();
}

absl::StatusOr<ParametersPtr> DeserializeParameters(std::string_view bytes,
                                                    bool allow_insecure) {
  constexpr absl::string_view op = "DeserializeParameters";
  Reader r(bytes);
  BF_ASSIGN_OR_RETURN(
      Header h, ReadHeader(r, ObjectType::kParameters, kParamsFieldsSize, op));
  BF_RETURN_IF_ERROR(CheckFlags(h.flags, 0, op));
  const int log_n = r.U8();
  const int num_q = r.U8();
  const int num_p = r.U8();
  const int log_scale = r.U8();
  const uint8_t secret = r.U8();
  const uint8_t error = r.U8();
  BF_RETURN_IF_ERROR(CheckReserved(r.U16(), op, "after error distribution"));
  const uint32_t hamming_weight = r.U32();
  const double sigma = r.F64();
  if (num_q < 1 || num_p < 1 || num_q + num_p > kMaxPrimes) {
    return Error(op, num_q, " Q primes and ", num_p, " P primes, expected ",
                 "at least one of each and ", kMaxPrimes, " in all");
  }
  BF_RETURN_IF_ERROR(CheckLength(r.size(),
                                 kSerializationHeaderSize + kParamsFieldsSize +
                                     8 * std::size_t(num_q + num_p),
                                 op,
                                 absl::StrCat(num_q, " + ", num_p, " primes")));
  if (secret > static_cast<uint8_t>(SecretDistribution::kSparseTernary)) {
    return Error(op, "secret distribution ", static_cast<int>(secret),
                 ", expected 0 (uniform ternary) or 1 (sparse ternary)");
  }
  if (error >
      static_cast<uint8_t>(ring::ErrorDistribution::kCenteredBinomial)) {
    return Error(op, "error distribution ", static_cast<int>(error),
                 ", expected 0 (discrete Gaussian) or 1 (centered binomial)");
  }
  const bool sparse =
      secret == static_cast<uint8_t>(SecretDistribution::kSparseTernary);
  if (!sparse && hamming_weight != 0) {
    return Error(op, "Hamming weight ", hamming_weight,
                 " given for a uniform ternary secret, expected 0");
  }
  if (hamming_weight > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
    return Error(op, "Hamming weight ", hamming_weight, " out of range");
  }
  ParametersLiteral lit;
  lit.log_n = log_n;
  lit.log_default_scale = log_scale;
  lit.secret = static_cast<SecretDistribution>(secret);
  lit.secret_hamming_weight = static_cast<int>(hamming_weight);
  lit.error = static_cast<ring::ErrorDistribution>(error);
  lit.error_sigma = sigma;
  lit.q.resize(num_q);
  lit.p.resize(num_p);
  for (int i = 0; i < num_q + num_p; ++i) {
    // Ranges, primality and the cost limits are Parameters::Create's.
    (i < num_q ? lit.q[i] : lit.p[i - num_q]) = r.U64();
  }
  if (r.overrun() || r.remaining() != 0) {
    return Error(op, "internal length mismatch");
  }
  auto params = allow_insecure ? Parameters::CreateInsecureForTesting(lit)
                               : Parameters::Create(lit);
  if (!params.ok()) return Error(op, params.status().message());
  if ((*params)->fingerprint() != h.fingerprint) {
    return Error(op, "header fingerprint 0x",
                 absl::Hex(h.fingerprint, absl::kZeroPad16),
                 " does not match the rebuilt parameters' 0x",
                 absl::Hex((*params)->fingerprint(), absl::kZeroPad16));
  }
  return *std::move(params);
}

// ---------------------------------------------------------------------------
// Plaintext.

absl::StatusOr<std::string> SerializePlaintext(const Parameters& params,
                                               const Plaintext& pt) {
  constexpr absl::string_view op = "SerializePlaintext";
  BF_RETURN_IF_ERROR(ValidatePlaintext(params, pt, op));
  if (Access::slots(pt) > std::numeric_limits<uint32_t>::max()) {
    return Error(op, "slots ", Access::slots(pt), " out of range");
  }
  const int level = pt.level();
  const std::size_t total = kSerializationHeaderSize + kPlaintextFieldsSize +
                            PolyBytes(params, level + 1, 0);
  Writer w(total);
  WriteHeader(w, ObjectType::kPlaintext, 0, params.fingerprint(), total);
  w.U16(static_cast<uint16_t>(level));
  w.U16(0);
  w.U32(static_cast<uint32_t>(Access::slots(pt)));
  w.F64(Access::scale(pt).value());
  BF_RETURN_IF_ERROR(w.Poly(params, Access::poly(pt), op, "plaintext"));
  return std::move(w).Finish();
}

absl::StatusOr<Plaintext> DeserializePlaintext(const Parameters& params,
                                               std::string_view bytes) {
  constexpr absl::string_view op = "DeserializePlaintext";
  Reader r(bytes);
  BF_RETURN_IF_ERROR(
      ReadObjectHeader(r, params, ObjectType::kPlaintext, kPlaintextFieldsSize, 0, op).status());
  const uint16_t level = r.U16();
  BF_RETURN_IF_ERROR(CheckReserved(r.U16(), op, "after level"));
  const uint32_t slots = r.U32();
  const double scale = r.F64();
  BF_RETURN_IF_ERROR(CheckLevel(params, level, op));
  BF_RETURN_IF_ERROR(CheckSlotsAndScale(params, slots, scale, op));
  BF_RETURN_IF_ERROR(
      CheckLength(r.size(),
                  kSerializationHeaderSize + kPlaintextFieldsSize +
                      PolyBytes(params, level + 1, 0),
                  op, absl::StrCat("a plaintext at level ", level)));
  Plaintext pt;
  BF_RETURN_IF_ERROR(r.Poly(params, level + 1, 0, op, "plaintext", &Access::poly(pt)));
  if (r.overrun() || r.remaining() != 0)
    return Error(op, "internal length mismatch");
  Access::scale(pt) = Scale(scale);
  Access::slots(pt) = slots;
  Access::fingerprint(pt) = params.fingerprint();
  BF_RETURN_IF_ERROR(ValidatePlaintext(params, pt, op));
  return pt;
}

// ---------------------------------------------------------------------------
// Ciphertext.

absl::StatusOr<std::string> SerializeCiphertext(const Parameters& params,
                                                const Ciphertext& ct,
                                                bool seeded) {
  constexpr absl::string_view op = "SerializeCiphertext";
  BF_RETURN_IF_ERROR(ValidateCiphertext(params, ct, op));
  if (Access::slots(ct) > std::numeric_limits<uint32_t>::max()) {
    return Error(op, "slots ", Access::slots(ct), " out of range");
  }
  const int level = ct.level();
  bool use_seed = seeded && Access::c1_seed(ct).has_value() && ct.degree() == 1;
  if (use_seed) {
    // A stale seed (c1 changed after encryption) must not replace c1.
    ring::RnsPoly c1;
    internal::ExpandCiphertextC1(params, *Access::c1_seed(ct), level, &c1);
    use_seed = c1 == Access::polys(ct)[1];
  }
  const std::size_t stored_polys = use_seed ? 1 : Access::polys(ct).size();
  const std::size_t total = kSerializationHeaderSize + kCiphertextFieldsSize +
                            (use_seed ? Seed::kSize : 0) +
                            stored_polys * PolyBytes(params, level + 1, 0);
  Writer w(total);
  WriteHeader(w, ObjectType::kCiphertext, use_seed ? kFlagSeeded : 0,
              params.fingerprint(), total);
  w.U16(static_cast<uint16_t>(level));
  w.U8(static_cast<uint8_t>(ct.degree()));
  w.U8(0);
  w.U32(static_cast<uint32_t>(Access::slots(ct)));
  w.F64(Access::scale(ct).value());
  if (use_seed) w.Bytes(Access::c1_seed(ct)->bytes().data(), Seed::kSize);
  for (std::size_t i = 0; i < stored_polys; ++i) {
    BF_RETURN_IF_ERROR(w.Poly(params, Access::polys(ct)[i], op, absl::StrCat("c", i)));
  }
  return std::move(w).Finish();
}

absl::StatusOr<Ciphertext> DeserializeCiphertext(const Parameters& params,
                                                 std::string_view bytes) {
  constexpr absl::string_view op = "DeserializeCiphertext";
  Reader r(bytes);
  BF_ASSIGN_OR_RETURN(
      const uint8_t flags,
      ReadObjectHeader(r, params, ObjectType::kCiphertext,
                       kCiphertextFieldsSize, kFlagSeeded, op));
  const bool seeded = (flags & kFlagSeeded) != 0;
  const uint16_t level = r.U16();
  const uint8_t degree = r.U8();
  BF_RETURN_IF_ERROR(CheckReserved(r.U8(), op, "after degree"));
  const uint32_t slots = r.U32();
  const double scale = r.F64();
  BF_RETURN_IF_ERROR(CheckLevel(params, level, op));
  if (degree != 1 && degree != 2) {
    return Error(op, "degree ", static_cast<int>(degree), ", expected 1 or 2");
  }
  if (seeded && degree != 1) {
    return Error(op, "seeded ciphertext has degree ", static_cast<int>(degree),
                 ", expected 1");
  }
  BF_RETURN_IF_ERROR(CheckSlotsAndScale(params, slots, scale, op));
  const std::size_t stored_polys = seeded ? 1 : std::size_t{degree} + 1;
  BF_RETURN_IF_ERROR(CheckLength(
      r.size(),
      kSerializationHeaderSize + kCiphertextFieldsSize +
          (seeded ? Seed::kSize : 0) +
          stored_polys * PolyBytes(params, level + 1, 0),
      op,
      absl::StrCat(seeded ? "a seeded" : "a", " ciphertext of degree ",
                   static_cast<int>(degree), " at level ", level)));
  Ciphertext ct;
  if (seeded) Access::c1_seed(ct) = r.ReadSeed();
  Access::polys(ct).resize(std::size_t{degree} + 1);
  for (std::size_t i = 0; i < stored_polys; ++i) {
    BF_RETURN_IF_ERROR(
        r.Poly(params, level + 1, 0, op, absl::StrCat("c", i), &Access::polys(ct)[i]));
  }
  if (r.overrun() || r.remaining() != 0)
    return Error(op, "internal length mismatch");
  if (seeded) internal::ExpandCiphertextC1(params, *Access::c1_seed(ct), level, &Access::polys(ct)[1]);
  Access::scale(ct) = Scale(scale);
  Access::slots(ct) = slots;
  Access::fingerprint(ct) = params.fingerprint();
  BF_RETURN_IF_ERROR(ValidateCiphertext(params, ct, op));
  return ct;
}

// ---------------------------------------------------------------------------
// Public key.

absl::StatusOr<std::string> SerializePublicKey(const Parameters& params,
                                               const PublicKey& pk) {
  constexpr absl::string_view op = "SerializePublicKey";
  BF_RETURN_IF_ERROR(ValidatePublicKey(params, pk, op));
  const int L = params.num_q();
  ring::RnsPoly a;
  internal::ExpandPublicKeyA(params, pk.seed, &a);
  if (!(a == pk.a)) {
    return Error(op, "public key a is not the expansion of the key's seed; "
                 "only seeded public keys can be serialized");
  }
  const std::size_t total = kSerializationHeaderSize + kPublicKeyFieldsSize +
                            PolyBytes(params, L, 0);
  Writer w(total);
  WriteHeader(w, ObjectType::kPublicKey, 0, params.fingerprint(), total);
  w.U16(static_cast<uint16_t>(L));
  w.U16(0);
  w.Bytes(pk.seed.bytes().data(), Seed::kSize);
  BF_RETURN_IF_ERROR(w.Poly(params, pk.b, op, "public key b"));
  return std::move(w).Finish();
}

absl::StatusOr<PublicKey> DeserializePublicKey(const Parameters& params,
                                               std::string_view bytes) {
  constexpr absl::string_view op = "DeserializePublicKey";
  Reader r(bytes);
  BF_RETURN_IF_ERROR(
      ReadObjectHeader(r, params, ObjectType::kPublicKey, kPublicKeyFieldsSize, 0, op).status());
  const uint16_t num_q = r.U16();
  const uint16_t num_p = r.U16();
  const int L = params.num_q();
  if (num_q != L || num_p != 0) {
    return Error(op, "public key has ", num_q, " Q and ", num_p,
                 " P primes, expected ", L, " and 0");
  }
  PublicKey pk;
  pk.seed = r.ReadSeed();
  BF_RETURN_IF_ERROR(CheckLength(r.size(),
                                 kSerializationHeaderSize +
                                     kPublicKeyFieldsSize +
                                     PolyBytes(params, L, 0),
                                 op, "a public key"));
  BF_RETURN_IF_ERROR(r.Poly(params, L, 0, op, "public key b", &pk.b));
  internal::ExpandPublicKeyA(params, pk.seed, &pk.a);
  if (r.overrun() || r.remaining() != 0)
    return Error(op, "internal length mismatch");
  pk.fingerprint = params.fingerprint();
  return pk;
}

// ---------------------------------------------------------------------------
// Relinearization key.

absl::StatusOr<std::string> SerializeRelinKey(const Parameters& params,
                                              const RelinKey& rk) {
  constexpr absl::string_view op = "SerializeRelinKey";
  BF_RETURN_IF_ERROR(
      CheckSwitchingKey(params, rk.key, op, "relinearization key"));
  const int num_q = rk.key.level() + 1;
  const std::size_t total =
      kSerializationHeaderSize + kRelinFieldsSize + SwitchingKeyBytes(params, num_q);
  Writer w(total);
  WriteHeader(w, ObjectType::kRelinKey, 0, params.fingerprint(), total);
  WriteKeyShape(w, params, num_q);
  w.Bytes(rk.key.seed.bytes().data(), Seed::kSize);
  BF_RETURN_IF_ERROR(
      WriteSwitchingKeyB(w, params, rk.key, op, "relinearization key"));
  return std::move(w).Finish();
}

absl::StatusOr<RelinKey> DeserializeRelinKey(const Parameters& params,
                                             std::string_view bytes) {
  constexpr absl::string_view op = "DeserializeRelinKey";
  Reader r(bytes);
  BF_RETURN_IF_ERROR(
      ReadObjectHeader(r, params, ObjectType::kRelinKey, kRelinFieldsSize, 0, op).status());
  BF_ASSIGN_OR_RETURN(const int num_q, ReadKeyShape(r, params, /*exact_q=*/false, op));
  BF_RETURN_IF_ERROR(CheckLength(
      r.size(),
      kSerializationHeaderSize + kRelinFieldsSize + SwitchingKeyBytes(params, num_q),
      op, "a relinearization key"));
  const Seed seed = r.ReadSeed();
  RelinKey rk;
  BF_RETURN_IF_ERROR(
      ReadSwitchingKey(r, params, seed, num_q, op, "relinearization key", &rk.key));
  if (r.overrun() || r.remaining() != 0)
    return Error(op, "internal length mismatch");
  return rk;
}

// ---------------------------------------------------------------------------
// Galois keys.

absl::StatusOr<std::string> SerializeGaloisKeys(const Parameters& params,
                                                const GaloisKeys& gk) {
  constexpr absl::string_view op = "SerializeGaloisKeys";
  if (gk.keys.size() > params.n()) {
    return Error(op, gk.keys.size(), " keys, more than the N = ", params.n(),
                 " Galois elements");
  }
  BF_RETURN_IF_ERROR(ValidateGaloisKeys(params, gk, op));
  for (const auto& [g, key] : gk.keys) {
    BF_RETURN_IF_ERROR(
        CheckSwitchingKey(params, key, op, absl::StrCat("Galois key ", g)));
  }
  std::size_t total = kSerializationHeaderSize + kGaloisFieldsSize;
  for (const auto& [g, key] : gk.keys) {
    total += kGaloisEntryFixedSize + SwitchingKeyBytes(params, key.level() + 1);
  }
  Writer w(total);
  WriteHeader(w, ObjectType::kGaloisKeys, 0, params.fingerprint(), total);
  WriteKeyShape(w, params, params.num_q());
  w.U32(static_cast<uint32_t>(gk.keys.size()));
  w.U32(0);
  for (const auto& [g, key] : gk.keys) {  // std::map: ascending elements
    w.U64(g);
    w.U16(static_cast<uint16_t>(key.level() + 1));
    w.U16(0);
    w.U32(0);
    w.Bytes(key.seed.bytes().data(), Seed::kSize);
    BF_RETURN_IF_ERROR(
        WriteSwitchingKeyB(w, params, key, op, absl::StrCat("Galois key ", g)));
  }
  return std::move(w).Finish();
}

absl::StatusOr<GaloisKeys> DeserializeGaloisKeys(const Parameters& params,
                                                 std::string_view bytes) {
  constexpr absl::string_view op = "DeserializeGaloisKeys";
  Reader r(bytes);
  BF_RETURN_IF_ERROR(
      ReadObjectHeader(r, params, ObjectType::kGaloisKeys, kGaloisFieldsSize, 0, op).status());
  BF_RETURN_IF_ERROR(ReadKeyShape(r, params, /*exact_q=*/true, op).status());
  const uint32_t count = r.U32();
  BF_RETURN_IF_ERROR(CheckReserved(r.U32(), op, "after count"));
  // At most one key per odd element below 2N; checked before any size math.
  if (count > params.n()) {
    return Error(op, "key count ", count, " exceeds N = ", params.n(),
                 " (the number of Galois elements)");
  }
  // Every key takes at least its fixed fields and a level-0 key's b_0.
  const std::size_t smallest =
      kGaloisEntryFixedSize + SwitchingKeyBytes(params, 1);
  if (r.remaining() < count * smallest) {
    return Error(op, count, " Galois keys need at least ", count * smallest,
                 " bytes, ", r.remaining(), " left");
  }
  GaloisKeys gk;
  gk.fingerprint = params.fingerprint();
  uint64_t previous = 0;
  for (uint32_t k = 0; k < count; ++k) {
    const uint64_t g = r.U64();
    BF_RETURN_IF_ERROR(ValidateGaloisElement(params, g, op));
    if (k > 0 && g == previous) {
      return Error(op, "duplicate Galois element ", g, " (key ", k, ")");
    }
    if (k > 0 && g < previous) {
      return Error(op, "Galois element ", g, " (key ", k, ") follows ",
                   previous, ": elements must be strictly ascending");
    }
    previous = g;
    const uint16_t num_q = r.U16();
    BF_RETURN_IF_ERROR(CheckReserved(r.U16(), op, "after a key's |Q|"));
    BF_RETURN_IF_ERROR(CheckReserved(r.U32(), op, "after a key's |Q|"));
    if (num_q < 1 || num_q > params.num_q()) {
      return Error(op, "Galois key ", g, " has ", num_q, " Q primes, expected 1 to ",
                   params.num_q());
    }
    const Seed seed = r.ReadSeed();
    if (r.overrun() || r.remaining() < SwitchingKeyBytes(params, num_q)) {
      return Error(op, "Galois key ", g, " runs past the end of the buffer");
    }
    SwitchingKey key;
    BF_RETURN_IF_ERROR(ReadSwitchingKey(r, params, seed, num_q, op,
                                        absl::StrCat("Galois key ", g), &key));
    gk.keys.emplace_hint(gk.keys.end(), g, std::move(key));
  }
  if (r.overrun() || r.remaining() != 0)
    return Error(op, "internal length mismatch");
  return gk;
}

// ---------------------------------------------------------------------------
// Compact ciphertexts.

namespace {

using u128 = unsigned __int128;

// Q_level as a 128-bit integer and what a coefficient needs after dropping
// `drop` bits: a stored value u stands for u 2^drop, which must be below Q,
// so u <= (Q - 1) >> drop (a coefficient that would round up to Q or past it
// is stored as 0, the same residue up to less than 2^drop).
struct CompactShape {
  u128 q = 1;
  uint64_t q0 = 0, q1 = 0;  // q1 = 0 at level 0
  uint64_t max_value = 0;
  int value_bits = 0;
};

CompactShape MakeCompactShape(const Parameters& params, int level, int drop) {
  CompactShape s;
  s.q0 = params.q(0);
  s.q = s.q0;
  if (level == 1) {
    s.q1 = params.q(1);
    s.q *= s.q1;
  }
  s.max_value = static_cast<uint64_t>((s.q - 1) >> drop);
  s.value_bits = static_cast<int>(std::bit_width(s.max_value));
  return s;
}

int BitWidth128(u128 x) {
  const uint64_t hi = static_cast<uint64_t>(x >> 64);
  return hi ? 64 + static_cast<int>(std::bit_width(hi))
            : static_cast<int>(std::bit_width(static_cast<uint64_t>(x)));
}

}  // namespace

absl::StatusOr<std::string> SerializeCompactCiphertext(const Parameters& params,
                                                       const Ciphertext& ct,
                                                       const CompactOptions& o) {
  constexpr absl::string_view op = "SerializeCompactCiphertext";
  BF_RETURN_IF_ERROR(ValidateCiphertext(params, ct, op));
  const int level = ct.level();
  if (level > 1 || ct.degree() != 1) {
    return Error(op, "ciphertext at level ", level, " of degree ", ct.degree(),
                 ", expected level 0 or 1 and degree 1");
  }
  const std::size_t slots = Access::slots(ct), n = params.n();
  if (o.period < 1 || !std::has_single_bit(static_cast<unsigned>(o.period)) ||
      static_cast<std::size_t>(o.period) > slots) {
    return Error(op, "period ", o.period, " is not a power of two dividing the ", slots,
                 " slots");
  }
  CompactShape probe = MakeCompactShape(params, level, 0);
  const int q_bits = BitWidth128(probe.q);
  if (o.drop_bits < 0 || o.drop_bits >= q_bits - 1) {
    return Error(op, "drop_bits ", o.drop_bits, " outside [0, ", q_bits - 2, "]");
  }
  const int drop = std::max(o.drop_bits, q_bits - 61);
  const CompactShape shape = MakeCompactShape(params, level, drop);
  const std::size_t kept = 2 * static_cast<std::size_t>(o.period), gap = n / kept;
  const std::size_t total = kSerializationHeaderSize + kCompactFieldsSize +
                            LimbBytes(kept, shape.value_bits) +
                            LimbBytes(n, shape.value_bits);
  // Coefficients as integers mod Q_level (CRT of at most two limbs).
  const ring::RingContext& ring = Access::ring(params);
  std::vector<uint64_t> v0(kept), v1(n);
  const uint64_t q0_inv = level == 1 ? math::InvMod(shape.q0 % shape.q1, ring.q(1)) : 0;
  const u128 half = drop > 0 ? u128{1} << (drop - 1) : 0;
  for (int i = 0; i < 2; ++i) {
    ring::RnsPoly c = Access::polys(ct)[i];
    ring::FromNtt(ring, &c);
    const std::size_t count = i == 0 ? kept : n, step = i == 0 ? gap : 1;
    std::vector<uint64_t>& out = i == 0 ? v0 : v1;
    for (std::size_t j = 0; j < count; ++j) {
      const uint64_t r0 = c.limb(0)[j * step];
      u128 v = r0;
      if (level == 1) {
        const uint64_t r1 = c.limb(1)[j * step];
        const uint64_t t = math::MulMod(math::SubMod(r1, r0 % shape.q1, shape.q1), q0_inv,
                                        ring.q(1));
        v += static_cast<u128>(shape.q0) * t;
      }
      const u128 u = (v + half) >> drop;
      out[j] = (u << drop) < shape.q ? static_cast<uint64_t>(u) : 0;
    }
  }
  Writer w(total);
  WriteHeader(w, ObjectType::kCompactCiphertext, 0, params.fingerprint(), total);
  w.U16(static_cast<uint16_t>(level));
  w.U16(0);
  w.U32(static_cast<uint32_t>(o.period));
  w.F64(Access::scale(ct).value());
  w.U8(static_cast<uint8_t>(drop));
  w.U8(static_cast<uint8_t>(shape.value_bits));
  w.U16(0);
  w.U32(0);
  for (const std::vector<uint64_t>* v : {&v0, &v1}) {
    std::vector<uint8_t> packed(LimbBytes(v->size(), shape.value_bits));
    PackLimb(v->data(), v->size(), shape.value_bits, shape.max_value + 1, packed.data());
    w.Bytes(packed.data(), packed.size());
  }
  return std::move(w).Finish();
}

absl::StatusOr<Ciphertext> DeserializeCompactCiphertext(const Parameters& params,
                                                        std::string_view bytes) {
  constexpr absl::string_view op = "DeserializeCompactCiphertext";
  Reader r(bytes);
  BF_RETURN_IF_ERROR(
      ReadObjectHeader(r, params, ObjectType::kCompactCiphertext, kCompactFieldsSize, 0, op)
          .status());
  const uint16_t level = r.U16();
  BF_RETURN_IF_ERROR(CheckReserved(r.U16(), op, "after level"));
  const uint32_t period = r.U32();
  const double scale = r.F64();
  const uint8_t drop = r.U8();
  const uint8_t value_bits = r.U8();
  BF_RETURN_IF_ERROR(CheckReserved(r.U16(), op, "after value_bits"));
  BF_RETURN_IF_ERROR(CheckReserved(r.U32(), op, "after value_bits"));
  BF_RETURN_IF_ERROR(CheckLevel(params, level, op));
  if (level > 1) return Error(op, "level ", level, ", expected 0 or 1");
  BF_RETURN_IF_ERROR(CheckSlotsAndScale(params, period, scale, op));
  const int q_bits = BitWidth128(MakeCompactShape(params, level, 0).q);
  if (drop >= q_bits - 1 || drop < std::max(0, q_bits - 61)) {
    return Error(op, "drop_bits ", static_cast<int>(drop), " outside [",
                 std::max(0, q_bits - 61), ", ", q_bits - 2, "]");
  }
  const CompactShape shape = MakeCompactShape(params, level, drop);
  if (value_bits != shape.value_bits) {
    return Error(op, "value_bits ", static_cast<int>(value_bits), ", expected ",
                 shape.value_bits, " for level ", level, " and drop_bits ",
                 static_cast<int>(drop));
  }
  const std::size_t n = params.n(), kept = 2 * static_cast<std::size_t>(period),
                    gap = n / kept;
  BF_RETURN_IF_ERROR(CheckLength(
      r.size(),
      kSerializationHeaderSize + kCompactFieldsSize + LimbBytes(kept, value_bits) +
          LimbBytes(n, value_bits),
      op, absl::StrCat("a compact ciphertext at level ", level, " with period ", period)));
  const ring::RingContext& ring = Access::ring(params);
  Ciphertext ct;
  Access::polys(ct).assign(2, ring::RnsPoly(n, level + 1, 0, /*ntt=*/false));
  for (int i = 0; i < 2; ++i) {
    const std::size_t count = i == 0 ? kept : n, step = i == 0 ? gap : 1;
    std::vector<uint64_t> v(count);
    const uint8_t* src = r.Take(LimbBytes(count, value_bits));
    if (src == nullptr) return Error(op, "internal length mismatch");
    BF_RETURN_IF_ERROR(UnpackLimb(src, count, value_bits, shape.max_value + 1, v.data(), op,
                                  absl::StrCat("c", i), "values"));
    ring::RnsPoly& c = Access::polys(ct)[i];
    for (std::size_t j = 0; j < count; ++j) {
      const u128 x = static_cast<u128>(v[j]) << drop;  // < Q: v[j] <= max_value
      c.limb(0)[j * step] = static_cast<uint64_t>(x % shape.q0);
      if (level == 1) c.limb(1)[j * step] = static_cast<uint64_t>(x % shape.q1);
    }
    ring::ToNtt(ring, &c);
  }
  if (r.overrun() || r.remaining() != 0) return Error(op, "internal length mismatch");
  Access::scale(ct) = Scale(scale);
  Access::slots(ct) = period;
  Access::fingerprint(ct) = params.fingerprint();
  BF_RETURN_IF_ERROR(ValidateCiphertext(params, ct, op));
  return ct;
}

}  // namespace blindfold::ckks
