// File: ckks/internal/wire.h
// The wire primitives of the serialization format (ckks/serialization.h):
// little-endian writer and reader over a buffer of known size, bit packing
// of residue limbs, and the common 24-byte object header. Internal: only
// ckks/serialization.cc includes it; the per-object layouts live there.
#ifndef BLINDFOLD_CKKS_INTERNAL_WIRE_H_
#define BLINDFOLD_CKKS_INTERNAL_WIRE_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/check.h"
#include "base/random.h"
#include "base/status.h"
#include "ckks/parameters.h"
#include "ckks/serialization.h"
#include "ring/poly.h"

namespace blindfold::ckks::internal::wire {

inline constexpr char kMagic[4] = {'B', 'F', 'C', 'K'};

// Name of an ObjectType byte ("unknown" for others).
const char* TypeName(uint8_t type);

// The prime of limb i of a polynomial with num_q Q limbs (then P limbs).
const math::Modulus& LimbModulus(const Parameters& params, int num_q, int i);
std::string LimbName(const Parameters& params, int num_q, int i);
// Bytes of one limb of n residues of `bits` bits.
std::size_t LimbBytes(std::size_t n, int bits);
// Bytes of a polynomial with limbs 0..num_q-1 of Q and num_p of P.
// REQUIRES: num_q <= params.num_q(), num_p <= params.num_p().
std::size_t PolyBytes(const Parameters& params, int num_q, int num_p);
// Packs n residues of `bits` bits each (LSB first) into LimbBytes(n, bits)
// bytes at dst. Returns the index of the first residue >= q, or n.
std::size_t PackLimb(const uint64_t* src, std::size_t n, int bits, uint64_t q,
                     uint8_t* dst);
// Inverse of PackLimb over exactly LimbBytes(n, bits) bytes at src; a
// residue >= q or a nonzero padding bit is an error.
absl::Status UnpackLimb(const uint8_t* src, std::size_t n, int bits, uint64_t q,
                        uint64_t* dst, absl::string_view op,
                        absl::string_view what, const std::string& limb_name);

template <typename... Parts>
inline absl::Status Error(absl::string_view op, const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", parts...));
}

struct Header {
  uint8_t flags = 0;
  uint64_t fingerprint = 0;
};

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


void WriteHeader(Writer& w, ObjectType type, uint8_t flags,
                 uint64_t fingerprint, std::size_t total);
// Checks magic, version, type, the total-length field against the buffer,
// and that the buffer holds the type's fixed fields.
absl::StatusOr<Header> ReadHeader(Reader& r, ObjectType type,
                                  std::size_t fields_size, absl::string_view op);
absl::Status CheckFingerprint(const Parameters& params, uint64_t fingerprint,
                              absl::string_view op, absl::string_view what);
absl::Status CheckFlags(uint8_t flags, uint8_t allowed, absl::string_view op);
// ReadHeader for an object of `params`: also checks the fingerprint and that
// only `allowed_flags` are set. Returns the flags.
absl::StatusOr<uint8_t> ReadObjectHeader(Reader& r, const Parameters& params,
                                         ObjectType type,
                                         std::size_t fields_size,
                                         uint8_t allowed_flags,
                                         absl::string_view op);
absl::Status CheckReserved(uint64_t value, absl::string_view op,
                           absl::string_view field);
// `size` must be exactly `expected` (truncated / trailing bytes otherwise).
absl::Status CheckLength(std::size_t size, std::size_t expected,
                         absl::string_view op, absl::string_view what);

}  // namespace blindfold::ckks::internal::wire

#endif  // BLINDFOLD_CKKS_INTERNAL_WIRE_H_
