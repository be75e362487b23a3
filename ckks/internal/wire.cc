#include "ckks/internal/wire.h"

#include "ckks/internal/access.h"
namespace blindfold::ckks::internal::wire {
namespace {

using u128 = unsigned __int128;

void StoreLe64(uint8_t* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint64_t LoadLe64(const uint8_t* src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(src[i]) << (8 * i);
  return v;
}

}  // namespace

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
    case static_cast<uint8_t>(ObjectType::kCompactCiphertext):
      return "compact ciphertext";
  }
  return "unknown";
}


// ---------------------------------------------------------------------------
// Limb layout and bit packing.

// The prime of limb i of a polynomial with num_q Q limbs (then P limbs).
const math::Modulus& LimbModulus(const Parameters& params, int num_q, int i) {
  return i < num_q ? internal::Access::ring(params).q(i) : internal::Access::ring(params).p(i - num_q);
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


}  // namespace blindfold::ckks::internal::wire
