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
//   kRelinKey (40 bytes): |Q| u16, |P| u16, dnum u16, reserved u16 = 0,
//     seed[32]; then b_0..b_{dnum-1} over Q P.
//   kGaloisKeys (16 bytes): |Q| u16, |P| u16, dnum u16, reserved u16 = 0,
//     count u32, reserved u32 = 0; then per key, by strictly ascending Galois
//     element: element u64, seed[32], b_0..b_{dnum-1} over Q P.
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
#include "ckks/internal/seed_expansion.h"
#include "ckks/validation.h"

namespace blindfold::ckks {
namespace {

using u128 = unsigned __int128;

constexpr char kMagic[4] = {'B', 'F', 'C', 'K'};
constexpr uint8_t kFlagSeeded = 1;

constexpr std::size_t kParamsFieldsSize = 20;
constexpr std::size_t kPlaintextFieldsSize = 16;
constexpr std::size_t kCiphertextFieldsSize = 16;
constexpr std::size_t kPublicKeyFieldsSize = 4 + Seed::kSize;
constexpr std::size_t kRelinFieldsSize = 8 + Seed::kSize;
constexpr std::size_t kGaloisFieldsSize = 16;
constexpr std::size_t kGaloisEntryFixedSize = 8 + Seed::kSize;

const char* TypeName(uint8_t type) {
  switch (type) {
    case static_cast<uint8_t>(ObjectType::kParameters):
      return "parameters";
    case static_cast<uint8_t>(ObjectType::kPlaintext):
      return "plaintext";
    case static_cast<uint8_t>(ObjectType::kCiphertext):
      return "ciphertext";
    case static_cast<uint8_t>(ObjectType::kPublicKey):
      return "public key";
    case static_cast<uint8_t>(ObjectType::kRelinKey):
      return "relinearization key";
    case static_cast<uint8_t>(ObjectType::kGaloisKeys):
      return "Galois keys";
  }
  return "unknown";
}

template <typename... Parts>
absl::Status Error(absl::string_view op, const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", parts...));
}

void StoreLe64(uint8_t* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint64_t LoadLe64(const uint8_t* src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(src[i]) << (8 * i);
  return v;
}

// ---------------------------------------------------------------------------
// Limb layout and bit packing.

// The prime of limb i of a polynomial with num_q Q limbs (then P limbs).
const math::Modulus& LimbModulus(const Parameters& params, int num_q, int i) {
  return i < num_q ? params.ring().q(i) : params.ring().p(i - num_q);
}

std::string LimbName(const Parameters& params, int num_q, int i) {
  return i < num_q
             ? absl::StrCat("limb ", i, " (q_", i, " = ", params.q(i), ")")
             : absl::StrCat("limb ", i, " (p_", i - num_q, " = ",
                            params.p(i - num_q), ")");
}

std::size_t LimbBytes(std::size_t n, int bits) {
  return (n * static_cast<std::size_t>(bits) + 7) / 8;
}

// Bytes of a polynomial with limbs 0..num_q-1 of Q and num_p of P.
// REQUIRES: num_q <= params.num_q(), num_p <= params.num_p().
std::size_t PolyBytes(const Parameters& params, int num_q, int num_p) {
  std::size_t total = 0;
  for (int i = 0; i < num_q + num_p; ++i) {
    total += LimbBytes(params.n(), LimbModulus(params, num_q, i).bits);
  }
  return total;
}

// Packs n residues of `bits` bits each (LSB first) into LimbBytes(n, bits)
// bytes at dst. Returns the index of the first residue >= q, or n.
std::size_t PackLimb(const uint64_t* src, std::size_t n, int bits, uint64_t q,
                     uint8_t* dst) {
  u128 acc = 0;
  int nacc = 0;  // < 64 between coefficients; bits <= 61 keeps acc in 125 bits
  for (std::size_t j = 0; j < n; ++j) {
    const uint64_t v = src[j];
    if (v >= q) return j;
    acc |= static_cast<u128>(v) << nacc;
    nacc += bits;
    if (nacc >= 64) {
      StoreLe64(dst, static_cast<uint64_t>(acc));
      dst += 8;
      acc >>= 64;
      nacc -= 64;
    }
  }
  while (nacc > 0) {
    *dst++ = static_cast<uint8_t>(acc);
    acc >>= 8;
    nacc -= 8;
  }
  return n;
}

// Inverse of PackLimb over exactly LimbBytes(n, bits) bytes at src.
absl::Status UnpackLimb(const uint8_t* src, std::size_t n, int bits, uint64_t q,
                        uint64_t* dst, absl::string_view op,
                        absl::string_view what, const std::string& limb_name) {
  const uint8_t* const end = src + LimbBytes(n, bits);
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  u128 acc = 0;
  int nacc = 0;
  for (std::size_t j = 0; j < n; ++j) {
    if (nacc < bits) {
      if (end - src >= 8) {
        acc |= static_cast<u128>(LoadLe64(src)) << nacc;  // nacc < 61
        src += 8;
        nacc += 64;
      } else {
        while (nacc < bits && src < end) {
          acc |= static_cast<u128>(*src++) << nacc;
          nacc += 8;
        }
        if (nacc < bits) {  // unreachable: the limb holds n * bits bits
          return Error(op, what, " ", limb_name, " ends early");
        }
      }
    }
    const uint64_t v = static_cast<uint64_t>(acc) & mask;
    acc >>= bits;
    nacc -= bits;
    if (v >= q) {
      return Error(op, what, " ", limb_name, ": coefficient ", j, " is ", v,
                   ", not below the prime");
    }
    dst[j] = v;
  }
  if (src != end || acc != 0) {
    return Error(op, what, " ", limb_name, ": nonzero padding bits");
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Writer and reader over a buffer whose size is known in advance.

class Writer {
 public:
  explicit Writer(std::size_t size) : out_(size, '\0') {}

  void U8(uint8_t v) { Put(v, 1); }
  void U16(uint16_t v) { Put(v, 2); }
  void U32(uint32_t v) { Put(v, 4); }
  void U64(uint64_t v) { Put(v, 8); }
  void F64(double v) { Put(std::bit_cast<uint64_t>(v), 8); }
  void Bytes(const void* p, std::size_t len) {
    BF_CHECK(len <= out_.size() - pos_);
    std::memcpy(out_.data() + pos_, p, len);
    pos_ += len;
  }

  // Writes the limbs of `poly` bit-packed; an out-of-range residue is an
  // error naming `what` and the limb.
  absl::Status Poly(const Parameters& params, const ring::RnsPoly& poly,
                    absl::string_view op, absl::string_view what) {
    const int num_q = poly.num_q();
    for (int i = 0; i < poly.num_limbs(); ++i) {
      const math::Modulus& m = LimbModulus(params, num_q, i);
      const std::size_t len = LimbBytes(poly.n(), m.bits);
      BF_CHECK(len <= out_.size() - pos_);
      const std::size_t bad =
          PackLimb(poly.limb(i), poly.n(), m.bits, m.value,
                   reinterpret_cast<uint8_t*>(out_.data() + pos_));
      if (bad != poly.n()) {
        return Error(op, what, " ", LimbName(params, num_q, i),
                     ": coefficient ", bad, " is ", poly.limb(i)[bad],
                     ", not below the prime");
      }
      pos_ += len;
    }
    return absl::OkStatus();
  }

  std::string Finish() && {
    BF_CHECK(pos_ == out_.size());
    return std::move(out_);
  }

 private:
  void Put(uint64_t v, int bytes) {
    BF_CHECK(static_cast<std::size_t>(bytes) <= out_.size() - pos_);
    for (int i = 0; i < bytes; ++i)
      out_[pos_++] = static_cast<char>(v >> (8 * i));
  }

  std::string out_;
  std::size_t pos_ = 0;
};

// Reads never run past the buffer: a short read yields zeros and marks the
// reader as overrun (callers check lengths first, so that is a bug guard).
class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())),
        size_(bytes.size()) {}

  std::size_t size() const { return size_; }
  std::size_t remaining() const { return size_ - pos_; }
  bool overrun() const { return overrun_; }

  uint8_t U8() { return static_cast<uint8_t>(Get(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Get(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Get(4)); }
  uint64_t U64() { return Get(8); }
  double F64() { return std::bit_cast<double>(Get(8)); }
  // Returns a pointer to the next len bytes, or nullptr if fewer remain.
  const uint8_t* Take(std::size_t len) {
    if (len > remaining()) {
      overrun_ = true;
      pos_ = size_;
      return nullptr;
    }
    const uint8_t* p = p_ + pos_;
    pos_ += len;
    return p;
  }
  Seed ReadSeed() {
    const uint8_t* p = Take(Seed::kSize);
    if (p == nullptr) return Seed();
    return Seed(std::span<const uint8_t, Seed::kSize>(p, Seed::kSize));
  }

  // Reads a polynomial of num_q Q limbs and num_p P limbs into *out.
  absl::Status Poly(const Parameters& params, int num_q, int num_p,
                    absl::string_view op, absl::string_view what,
                    ring::RnsPoly* out) {
    if (PolyBytes(params, num_q, num_p) > remaining()) {
      overrun_ = true;
      return Error(op, what, " runs past the end of the buffer");
    }
    ring::RnsPoly poly(params.n(), num_q, num_p, /*ntt=*/true);
    for (int i = 0; i < num_q + num_p; ++i) {
      const math::Modulus& m = LimbModulus(params, num_q, i);
      const uint8_t* src = Take(LimbBytes(params.n(), m.bits));
      if (src == nullptr)
        return Error(op, what, " runs past the end of the buffer");
      BF_RETURN_IF_ERROR(UnpackLimb(src, params.n(), m.bits, m.value,
                                    poly.limb(i), op, what,
                                    LimbName(params, num_q, i)));
    }
    *out = std::move(poly);
    return absl::OkStatus();
  }

 private:
  uint64_t Get(int bytes) {
    const uint8_t* p = Take(bytes);
    if (p == nullptr) return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
  }

  const uint8_t* p_;
  std::size_t size_;
  std::size_t pos_ = 0;
  bool overrun_ = false;
};

// ---------------------------------------------------------------------------
// Header.

void WriteHeader(Writer& w, ObjectType type, uint8_t flags,
                 uint64_t fingerprint, std::size_t total) {
  w.Bytes(kMagic, sizeof kMagic);
  w.U16(kSerializationVersion);
  w.U8(static_cast<uint8_t>(type));
  w.U8(flags);
  w.U64(fingerprint);
  w.U64(total);
}

struct Header {
  uint8_t flags = 0;
  uint64_t fingerprint = 0;
};

// Checks magic, version, type, the total-length field against the buffer,
// and that the buffer holds the type's fixed fields.
absl::StatusOr<Header> ReadHeader(Reader& r, ObjectType type,
                                  std::size_t fields_size,
                                  absl::string_view op) {
  const std::size_t size = r.size();
  if (size < kSerializationHeaderSize) {
    return Error(op, "buffer has ", size, " bytes, shorter than the ",
                 kSerializationHeaderSize, "-byte header (truncated)");
  }
  const uint8_t* magic = r.Take(sizeof kMagic);
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    const uint32_t got = uint32_t{magic[0]} << 24 | uint32_t{magic[1]} << 16 |
                         uint32_t{magic[2]} << 8 | uint32_t{magic[3]};
    return Error(op, "bad magic 0x", absl::Hex(got, absl::kZeroPad8),
                 ", expected 0x4246434b (\"BFCK\")");
  }
  const uint16_t version = r.U16();
  if (version != kSerializationVersion) {
    return Error(op, "format version ", version, ", expected ",
                 kSerializationVersion);
  }
  const uint8_t got_type = r.U8();
  if (got_type != static_cast<uint8_t>(type)) {
    return Error(op, "object type ", got_type, " (", TypeName(got_type),
                 "), expected ", static_cast<int>(type), " (",
                 TypeName(static_cast<uint8_t>(type)), ")");
  }
  Header h;
  h.flags = r.U8();
  h.fingerprint = r.U64();
  const uint64_t total = r.U64();
  if (total > size) {
    return Error(op, "header says ", total, " bytes but the buffer has ", size,
                 " (truncated)");
  }
  if (total < size) {
    return Error(op, "header says ", total, " bytes but the buffer has ", size,
                 " (", size - total, " trailing bytes)");
  }
  if (r.remaining() < fields_size) {
    return Error(op, "buffer has ", size, " bytes, shorter than the ",
                 kSerializationHeaderSize + fields_size, "-byte ",
                 TypeName(got_type), " header");
  }
  return h;
}

absl::Status CheckFingerprint(const Parameters& params, uint64_t fingerprint,
                              absl::string_view op, absl::string_view what) {
  if (fingerprint != params.fingerprint()) {
    return Error(op, what, " fingerprint 0x",
                 absl::Hex(fingerprint, absl::kZeroPad16),
                 " does not match the parameters' 0x",
                 absl::Hex(params.fingerprint(), absl::kZeroPad16));
  }
  return absl::OkStatus();
}

absl::Status CheckFlags(uint8_t flags, uint8_t allowed, absl::string_view op) {
  if ((flags & ~allowed) != 0) {
    return Error(op, "unknown flags 0x", absl::Hex(flags), " (allowed 0x",
                 absl::Hex(allowed), ")");
  }
  return absl::OkStatus();
}

// ReadHeader for an object of `params`: also checks the fingerprint and that
// only `allowed_flags` are set. Returns the flags.
absl::StatusOr<uint8_t> ReadObjectHeader(Reader& r, const Parameters& params,
                                         ObjectType type,
                                         std::size_t fields_size,
                                         uint8_t allowed_flags,
                                         absl::string_view op) {
  BF_ASSIGN_OR_RETURN(Header h, ReadHeader(r, type, fields_size, op));
  BF_RETURN_IF_ERROR(CheckFingerprint(params, h.fingerprint, op,
                                      TypeName(static_cast<uint8_t>(type))));
  BF_RETURN_IF_ERROR(CheckFlags(h.flags, allowed_flags, op));
  return h.flags;
}

absl::Status CheckReserved(uint64_t value, absl::string_view op,
                           absl::string_view field) {
  if (value != 0)
    return Error(op, "reserved field ", field, " is ", value, ", expected 0");
  return absl::OkStatus();
}

absl::Status CheckLength(std::size_t size, std::size_t expected,
                         absl::string_view op, absl::string_view what) {
  if (size != expected) {
    return Error(op, "buffer has ", size, " bytes, expected ", expected,
                 " for ", what,
                 size < expected ? " (truncated)" : " (trailing bytes)");
  }
  return absl::OkStatus();
}

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
  for (int j = 0; j < params.dnum(); ++j) {
    internal::ExpandSwitchingKeyA(params, key.seed, j, &a);
    if (!(a == key.a[j])) {
      return Error(op, what, " a_", j,
                   " is not the expansion of the key's seed; only seeded "
                   "switching keys can be serialized");
    }
  }
  return absl::OkStatus();
}

// Key shape fields shared by relin and Galois keys.
absl::Status CheckKeyShape(const Parameters& params, uint64_t num_q,
                           uint64_t num_p, uint64_t dnum,
                           absl::string_view op) {
  if (num_q != static_cast<uint64_t>(params.num_q()) ||
      num_p != static_cast<uint64_t>(params.num_p()) ||
      dnum != static_cast<uint64_t>(params.dnum())) {
    return Error(op, "key has ", num_q, " Q primes, ", num_p,
                 " P primes and dnum ", dnum, ", expected ", params.num_q(),
                 ", ", params.num_p(), " and ", params.dnum());
  }
  return absl::OkStatus();
}

// The shape fields shared by relin and Galois keys: |Q|, |P|, dnum and a
// reserved u16.
void WriteKeyShape(Writer& w, const Parameters& params) {
  w.U16(static_cast<uint16_t>(params.num_q()));
  w.U16(static_cast<uint16_t>(params.num_p()));
  w.U16(static_cast<uint16_t>(params.dnum()));
  w.U16(0);
}

absl::Status ReadKeyShape(Reader& r, const Parameters& params,
                          absl::string_view op) {
  const uint16_t num_q = r.U16();
  const uint16_t num_p = r.U16();
  const uint16_t dnum = r.U16();
  BF_RETURN_IF_ERROR(CheckReserved(r.U16(), op, "after dnum"));
  return CheckKeyShape(params, num_q, num_p, dnum, op);
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

absl::Status ReadSwitchingKey(Reader& r, const Parameters& params, Seed seed,
                              absl::string_view op, absl::string_view what,
                              SwitchingKey* key) {
  const int dnum = params.dnum();
  key->seed = seed;
  key->fingerprint = params.fingerprint();
  key->b.resize(dnum);
  key->a.resize(dnum);
  for (int j = 0; j < dnum; ++j) {
    BF_RETURN_IF_ERROR(r.Poly(params, params.num_q(), params.num_p(), op,
                              absl::StrCat(what, " b_", j), &key->b[j]));
    internal::ExpandSwitchingKeyA(params, key->seed, j, &key->a[j]);
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
  if (pt.slots > std::numeric_limits<uint32_t>::max()) {
    return Error(op, "slots ", pt.slots, " out of range");
  }
  const int level = pt.level();
  const std::size_t total = kSerializationHeaderSize + kPlaintextFieldsSize +
                            PolyBytes(params, level + 1, 0);
  Writer w(total);
  WriteHeader(w, ObjectType::kPlaintext, 0, params.fingerprint(), total);
  w.U16(static_cast<uint16_t>(level));
  w.U16(0);
  w.U32(static_cast<uint32_t>(pt.slots));
  w.F64(pt.scale.value());
  BF_RETURN_IF_ERROR(w.Poly(params, pt.poly, op, "plaintext"));
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
  BF_RETURN_IF_ERROR(r.Poly(params, level + 1, 0, op, "plaintext", &pt.poly));
  if (r.overrun() || r.remaining() != 0)
    return Error(op, "internal length mismatch");
  pt.scale = Scale(scale);
  pt.slots = slots;
  pt.fingerprint = params.fingerprint();
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
  if (ct.slots > std::numeric_limits<uint32_t>::max()) {
    return Error(op, "slots ", ct.slots, " out of range");
  }
  const int level = ct.level();
  bool use_seed = seeded && ct.c1_seed.has_value() && ct.degree() == 1;
  if (use_seed) {
    // A stale seed (c1 changed after encryption) must not replace c1.
    ring::RnsPoly c1;
    internal::ExpandCiphertextC1(params, *ct.c1_seed, level, &c1);
    use_seed = c1 == ct.polys[1];
  }
  const std::size_t stored_polys = use_seed ? 1 : ct.polys.size();
  const std::size_t total = kSerializationHeaderSize + kCiphertextFieldsSize +
                            (use_seed ? Seed::kSize : 0) +
                            stored_polys * PolyBytes(params, level + 1, 0);
  Writer w(total);
  WriteHeader(w, ObjectType::kCiphertext, use_seed ? kFlagSeeded : 0,
              params.fingerprint(), total);
  w.U16(static_cast<uint16_t>(level));
  w.U8(static_cast<uint8_t>(ct.degree()));
  w.U8(0);
  w.U32(static_cast<uint32_t>(ct.slots));
  w.F64(ct.scale.value());
  if (use_seed) w.Bytes(ct.c1_seed->bytes().data(), Seed::kSize);
  for (std::size_t i = 0; i < stored_polys; ++i) {
    BF_RETURN_IF_ERROR(w.Poly(params, ct.polys[i], op, absl::StrCat("c", i)));
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
  if (seeded) ct.c1_seed = r.ReadSeed();
  ct.polys.resize(std::size_t{degree} + 1);
  for (std::size_t i = 0; i < stored_polys; ++i) {
    BF_RETURN_IF_ERROR(
        r.Poly(params, level + 1, 0, op, absl::StrCat("c", i), &ct.polys[i]));
  }
  if (r.overrun() || r.remaining() != 0)
    return Error(op, "internal length mismatch");
  if (seeded) internal::ExpandCiphertextC1(params, *ct.c1_seed, level, &ct.polys[1]);
  ct.scale = Scale(scale);
  ct.slots = slots;
  ct.fingerprint = params.fingerprint();
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
  const int dnum = params.dnum();
  const std::size_t total =
      kSerializationHeaderSize + kRelinFieldsSize +
      dnum * PolyBytes(params, params.num_q(), params.num_p());
  Writer w(total);
  WriteHeader(w, ObjectType::kRelinKey, 0, params.fingerprint(), total);
  WriteKeyShape(w, params);
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
  BF_RETURN_IF_ERROR(ReadKeyShape(r, params, op));
  BF_RETURN_IF_ERROR(CheckLength(
      r.size(),
      kSerializationHeaderSize + kRelinFieldsSize +
          static_cast<std::size_t>(params.dnum()) *
          PolyBytes(params, params.num_q(), params.num_p()),
      op, "a relinearization key"));
  const Seed seed = r.ReadSeed();
  RelinKey rk;
  BF_RETURN_IF_ERROR(
      ReadSwitchingKey(r, params, seed, op, "relinearization key", &rk.key));
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
  const int dnum = params.dnum();
  const std::size_t entry =
      kGaloisEntryFixedSize +
      dnum * PolyBytes(params, params.num_q(), params.num_p());
  const std::size_t total =
      kSerializationHeaderSize + kGaloisFieldsSize + gk.keys.size() * entry;
  Writer w(total);
  WriteHeader(w, ObjectType::kGaloisKeys, 0, params.fingerprint(), total);
  WriteKeyShape(w, params);
  w.U32(static_cast<uint32_t>(gk.keys.size()));
  w.U32(0);
  for (const auto& [g, key] : gk.keys) {  // std::map: ascending elements
    w.U64(g);
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
  BF_RETURN_IF_ERROR(ReadKeyShape(r, params, op));
  const uint32_t count = r.U32();
  BF_RETURN_IF_ERROR(CheckReserved(r.U32(), op, "after count"));
  // At most one key per odd element below 2N; checked before any size math.
  if (count > params.n()) {
    return Error(op, "key count ", count, " exceeds N = ", params.n(),
                 " (the number of Galois elements)");
  }
  const std::size_t entry =
      kGaloisEntryFixedSize +
      static_cast<std::size_t>(params.dnum()) *
          PolyBytes(params, params.num_q(), params.num_p());
  BF_RETURN_IF_ERROR(CheckLength(
      r.size(), kSerializationHeaderSize + kGaloisFieldsSize + count * entry,
      op, absl::StrCat(count, " Galois keys")));
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
    const Seed seed = r.ReadSeed();
    SwitchingKey key;
    BF_RETURN_IF_ERROR(ReadSwitchingKey(r, params, seed, op,
                                        absl::StrCat("Galois key ", g), &key));
    gk.keys.emplace_hint(gk.keys.end(), g, std::move(key));
  }
  if (r.overrun() || r.remaining() != 0)
    return Error(op, "internal length mismatch");
  return gk;
}

}  // namespace blindfold::ckks
