// Serialization: round trips of every object type (objects compare equal and
// decrypt/evaluate the same), sizes against the bit-packing formula, and
// rejection of every class of malformed input with a clear error.
#include "ckks/serialization.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>

#include "ckks/internal/access.h"
#include "ckks/test_util.h"

namespace blindfold::ckks {
namespace {

using testing::Context;
using testing::RandomComplex;

// Offsets of the format (ckks/serialization.cc).
constexpr std::size_t kOffVersion = 4;
constexpr std::size_t kOffType = 6;
constexpr std::size_t kOffFlags = 7;
constexpr std::size_t kOffFingerprint = 8;
constexpr std::size_t kOffTotal = 16;
constexpr std::size_t kOffFields = 24;

void Put(std::string& s, std::size_t off, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s[off + i] = static_cast<char>(v >> (8 * i));
}

uint64_t Get(const std::string& s, std::size_t off, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(s[off + i])) << (8 * i);
  }
  return v;
}

// The total-length field follows the buffer (so that only the tested field
// is wrong).
void FixTotal(std::string& s) { Put(s, kOffTotal, s.size(), 8); }

template <typename T>
void ExpectError(const absl::StatusOr<T>& r, std::string_view prefix,
                 std::string_view substr) {
  ASSERT_FALSE(r.ok()) << "expected an error containing \"" << substr << "\"";
  const std::string msg(r.status().message());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << msg;
  EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;
  EXPECT_NE(msg.find(substr), std::string::npos)
      << "message \"" << msg << "\" lacks \"" << substr << "\"";
}

// Bytes of a polynomial: ceil(N bits / 8) per limb.
std::size_t PolyBytes(const Parameters& p, int num_q, int num_p) {
  std::size_t total = 0;
  for (int i = 0; i < num_q; ++i)
    total += (p.n() * std::bit_width(p.q(i)) + 7) / 8;
  for (int k = 0; k < num_p; ++k)
    total += (p.n() * std::bit_width(p.p(k)) + 7) / 8;
  return total;
}

// Smallest ring (N = 16): every bit of every object can be flipped.
ParametersLiteral TinyLiteral() {
  ParametersLiteral lit;
  lit.log_n = 4;
  lit.log_q = {30, 20, 20};
  lit.log_p = {30};
  lit.log_default_scale = 15;
  return lit;
}

const std::vector<int> kRotations = {1, 2, -1};

Context& Ctx(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Context>> cache;
  auto& c = cache[name];
  if (!c) {
    if (name == "LogN10") {
      c = Context::Make(TestPresetLiteral(TestPreset::kTestInsecureLogN10),
                        false, kRotations, true);
    } else if (name == "LogN11P2") {
      c = Context::Make(TestPresetLiteral(TestPreset::kTestInsecureLogN11P2),
                        false, kRotations, false);
    } else if (name == "Tiny") {
      c = Context::Make(TinyLiteral(), false, {1}, true);
    } else if (name == "Ckks128LogN13") {
      c = Context::Make(PresetLiteral(Preset::kCkks128LogN13LogQP180), true, {},
                        false);
    }
  }
  return *c;
}

Plaintext Encode(Context& c, std::mt19937_64& rng, int level = -1) {
  if (level < 0) level = c.params->max_level();
  Plaintext pt;
  EXPECT_TRUE(c.encoder
                  ->Encode(RandomComplex(c.params->max_slots(), rng),
                           c.params->max_slots(), level,
                           c.params->default_scale(), &pt)
                  .ok());
  return pt;
}

Ciphertext EncryptSeeded(Context& c, std::mt19937_64& rng, int level = -1) {
  auto ct = c.sym_encryptor->EncryptNew(Encode(c, rng, level));
  EXPECT_TRUE(ct.ok()) << ct.status();
  EXPECT_TRUE(ct->c1_seed().has_value());
  return *ct;
}

Ciphertext EncryptPublic(Context& c, std::mt19937_64& rng, int level = -1) {
  auto ct = c.encryptor->EncryptNew(Encode(c, rng, level));
  EXPECT_TRUE(ct.ok()) << ct.status();
  return *ct;
}

void ExpectSameCiphertext(const Ciphertext& a, const Ciphertext& b) {
  ASSERT_EQ(a.polys().size(), b.polys().size());
  for (std::size_t i = 0; i < a.polys().size(); ++i) {
    EXPECT_TRUE(a.polys()[i] == b.polys()[i]) << "c" << i;
  }
  EXPECT_EQ(a.scale(), b.scale());
  EXPECT_EQ(a.slots(), b.slots());
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.c1_seed().has_value(), b.c1_seed().has_value());
  if (a.c1_seed() && b.c1_seed()) {
    EXPECT_TRUE(*a.c1_seed() == *b.c1_seed());
  }
}

void ExpectSameSwitchingKey(const SwitchingKey& a, const SwitchingKey& b) {
  ASSERT_EQ(a.b.size(), b.b.size());
  ASSERT_EQ(a.a.size(), b.a.size());
  for (std::size_t j = 0; j < a.b.size(); ++j) {
    EXPECT_TRUE(a.b[j] == b.b[j]) << "b_" << j;
    EXPECT_TRUE(a.a[j] == b.a[j]) << "a_" << j;
  }
  EXPECT_TRUE(a.seed == b.seed);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
}

void ExpectSameDecryption(Context& c, const Ciphertext& a,
                          const Ciphertext& b) {
  auto pa = c.decryptor->DecryptNew(a);
  auto pb = c.decryptor->DecryptNew(b);
  ASSERT_TRUE(pa.ok()) << pa.status();
  ASSERT_TRUE(pb.ok()) << pb.status();
  EXPECT_TRUE(pa->poly() == pb->poly());
}

// Sizes of the serialized objects by the formula of serialization.h.
std::size_t CiphertextSize(const Parameters& p, int level, int stored_polys,
                           bool seeded) {
  return 24 + 16 + (seeded ? 32 : 0) +
         stored_polys * PolyBytes(p, level + 1, 0);
}

// ---------------------------------------------------------------------------
// Round trips.

TEST(SerializationTest, ParametersRoundTrip) {
  for (const char* name : {"LogN10", "LogN11P2", "Tiny"}) {
    SCOPED_TRACE(name);
    const Parameters& p = *Ctx(name).params;
    auto bytes = SerializeParameters(p);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(bytes->size(), 24 + 20 + 8u * (p.num_q() + p.num_p()));
    auto back = DeserializeParameters(*bytes, /*allow_insecure=*/true);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ((*back)->fingerprint(), p.fingerprint());
    EXPECT_EQ((*back)->literal().q, p.literal().q);
    EXPECT_EQ((*back)->literal().p, p.literal().p);
    EXPECT_EQ((*back)->log_n(), p.log_n());
    EXPECT_EQ((*back)->literal().log_default_scale,
              p.literal().log_default_scale);
    EXPECT_EQ((*back)->literal().error_sigma, p.literal().error_sigma);
    EXPECT_EQ((*back)->dnum(), p.dnum());
    EXPECT_EQ(*SerializeParameters(**back), *bytes);
  }
  // Sparse secret and centered-binomial error survive (insecure only).
  ParametersLiteral lit = TinyLiteral();
  lit.secret = SecretDistribution::kSparseTernary;
  lit.secret_hamming_weight = 5;
  lit.error = ring::ErrorDistribution::kCenteredBinomial;
  lit.error_sigma = 4.5;
  auto p = Parameters::CreateInsecureForTesting(lit);
  ASSERT_TRUE(p.ok()) << p.status();
  auto bytes = SerializeParameters(**p);
  ASSERT_TRUE(bytes.ok());
  auto back = DeserializeParameters(*bytes, true);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->literal().secret, SecretDistribution::kSparseTernary);
  EXPECT_EQ((*back)->literal().secret_hamming_weight, 5);
  EXPECT_EQ((*back)->literal().error,
            ring::ErrorDistribution::kCenteredBinomial);
  EXPECT_EQ((*back)->literal().error_sigma, 4.5);
}

TEST(SerializationTest, ParametersRejectInsecureUnlessAllowed) {
  auto bytes = SerializeParameters(*Ctx("LogN10").params);
  ASSERT_TRUE(bytes.ok());
  ExpectError(DeserializeParameters(*bytes), "DeserializeParameters",
              "has no 128-bit bound");
}

TEST(SerializationTest, PlaintextRoundTrip) {
  std::mt19937_64 rng(1);
  Context& c = Ctx("LogN10");
  for (int level : {c.params->max_level(), 0}) {
    Plaintext pt = Encode(c, rng, level);
    auto bytes = SerializePlaintext(*c.params, pt);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(bytes->size(), 24 + 16 + PolyBytes(*c.params, level + 1, 0));
    auto back = DeserializePlaintext(*c.params, *bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(back->poly() == pt.poly());
    EXPECT_EQ(back->scale(), pt.scale());
    EXPECT_EQ(back->slots(), pt.slots());
    EXPECT_EQ(back->fingerprint(), pt.fingerprint());
  }
}

TEST(SerializationTest, CiphertextRoundTripFullAndDegreeTwo) {
  std::mt19937_64 rng(2);
  for (const char* name : {"LogN10", "LogN11P2"}) {
    SCOPED_TRACE(name);
    Context& c = Ctx(name);
    const Parameters& p = *c.params;
    Ciphertext a = EncryptPublic(c, rng), b = EncryptPublic(c, rng);
    Ciphertext prod, rescaled;
    ASSERT_TRUE(c.evaluator->Multiply(a, b, &prod).ok());
    ASSERT_TRUE(c.evaluator->Rescale(a, &rescaled).ok());
    for (const Ciphertext* ct : {&a, &prod, &rescaled}) {
      auto bytes = SerializeCiphertext(p, *ct);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      EXPECT_EQ(bytes->size(),
                CiphertextSize(p, ct->level(), ct->degree() + 1, false));
      auto back = DeserializeCiphertext(p, *bytes);
      ASSERT_TRUE(back.ok()) << back.status();
      ExpectSameCiphertext(*ct, *back);
      ExpectSameDecryption(c, *ct, *back);
      EXPECT_EQ(*SerializeCiphertext(p, *back), *bytes);
    }
  }
}

TEST(SerializationTest, SeededCiphertextIsHalfSizeAndDecryptsSame) {
  std::mt19937_64 rng(3);
  Context& c = Ctx("LogN10");
  const Parameters& p = *c.params;
  for (int level : {p.max_level(), 1}) {
    Ciphertext ct = EncryptSeeded(c, rng, level);
    auto seeded = SerializeCiphertext(p, ct);
    auto full = SerializeCiphertext(p, ct, /*seeded=*/false);
    ASSERT_TRUE(seeded.ok() && full.ok());
    EXPECT_EQ(seeded->size(), CiphertextSize(p, level, 1, true));
    EXPECT_EQ(full->size(), CiphertextSize(p, level, 2, false));
    EXPECT_LT(seeded->size(), full->size() / 2 + 100);
    EXPECT_GT(seeded->size(), full->size() / 2);

    auto back = DeserializeCiphertext(p, *seeded);
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectSameCiphertext(ct, *back);  // c1 re-expanded, seed kept
    ExpectSameDecryption(c, ct, *back);
    EXPECT_EQ(*SerializeCiphertext(p, *back), *seeded);

    auto back_full = DeserializeCiphertext(p, *full);
    ASSERT_TRUE(back_full.ok()) << back_full.status();
    EXPECT_FALSE(back_full->c1_seed().has_value());
    EXPECT_TRUE(back_full->polys()[1] == ct.polys()[1]);
    ExpectSameDecryption(c, ct, *back_full);
  }
}

TEST(SerializationTest, StaleSeedStoresFullCiphertext) {
  std::mt19937_64 rng(4);
  Context& c = Ctx("LogN10");
  const Parameters& p = *c.params;
  Ciphertext ct = EncryptSeeded(c, rng);
  internal::Access::polys(ct)[1].limb(0)[0] =
      (ct.polys()[1].limb(0)[0] + 1) % p.q(0);  // keeps c1_seed
  auto bytes = SerializeCiphertext(p, ct);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), CiphertextSize(p, p.max_level(), 2, false));
  auto back = DeserializeCiphertext(p, *bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->polys()[1] == ct.polys()[1]);
  EXPECT_FALSE(back->c1_seed().has_value());
}

TEST(SerializationTest, PublicKeyRoundTrip) {
  std::mt19937_64 rng(5);
  Context& c = Ctx("LogN10");
  const Parameters& p = *c.params;
  auto bytes = SerializePublicKey(p, c.pk);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  // Seed instead of a: half the size of (b, a).
  EXPECT_EQ(bytes->size(), 24 + 4 + 32 + PolyBytes(p, p.num_q(), 0));
  auto back = DeserializePublicKey(p, *bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->b == c.pk.b);
  EXPECT_TRUE(back->a == c.pk.a);
  EXPECT_EQ(back->fingerprint, c.pk.fingerprint);
  // Encrypting with the loaded key decrypts correctly.
  auto v = RandomComplex(p.max_slots(), rng);
  Plaintext pt;
  ASSERT_TRUE(
      c.encoder->Encode(v, p.max_slots(), p.max_level(), p.default_scale(), &pt)
          .ok());
  Encryptor enc = testing::Must(Encryptor::Create(c.params, *back));
  auto ct = enc.EncryptNew(pt);
  ASSERT_TRUE(ct.ok());
  EXPECT_LT(testing::Log2MaxError(c.Decrypt(*ct), v), -20);
}

TEST(SerializationTest, RelinKeyRoundTrip) {
  std::mt19937_64 rng(6);
  for (const char* name : {"LogN10", "LogN11P2"}) {
    SCOPED_TRACE(name);
    Context& c = Ctx(name);
    const Parameters& p = *c.params;
    const RelinKey& rk = *c.keys->relin();
    auto bytes = SerializeRelinKey(p, rk);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(bytes->size(),
              24 + 8 + 32 + p.dnum() * PolyBytes(p, p.num_q(), p.num_p()));
    auto back = DeserializeRelinKey(p, *bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectSameSwitchingKey(rk.key, back->key);
    EXPECT_EQ(*SerializeRelinKey(p, *back), *bytes);
    // The loaded key relinearizes exactly like the original.
    Evaluator ev = testing::Must(Evaluator::Create(
        c.params, testing::Must(EvaluationKeys::Create(c.params, *back, {}))));
    Ciphertext a = EncryptPublic(c, rng), b = EncryptPublic(c, rng), r1, r2;
    ASSERT_TRUE(c.evaluator->MulRelin(a, b, &r1).ok());
    ASSERT_TRUE(ev.MulRelin(a, b, &r2).ok());
    ExpectSameCiphertext(r1, r2);
  }
}

TEST(SerializationTest, GaloisKeysRoundTrip) {
  std::mt19937_64 rng(7);
  Context& c = Ctx("LogN10");
  const Parameters& p = *c.params;
  const GaloisKeys& gk = c.keys->galois_keys();
  ASSERT_EQ(gk.keys.size(), 4u);  // rotations 1, 2, -1 and conjugation
  auto bytes = SerializeGaloisKeys(p, gk);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->size(),
            24 + 16 +
                gk.keys.size() *
                    (16 + 32 + p.dnum() * PolyBytes(p, p.num_q(), p.num_p())));
  auto back = DeserializeGaloisKeys(p, *bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->fingerprint, gk.fingerprint);
  ASSERT_EQ(back->keys.size(), gk.keys.size());
  for (const auto& [g, key] : gk.keys) {
    ASSERT_TRUE(back->Has(g)) << g;
    ExpectSameSwitchingKey(key, back->keys.at(g));
  }
  EXPECT_EQ(*SerializeGaloisKeys(p, *back), *bytes);
  Evaluator ev = testing::Must(Evaluator::Create(
      c.params,
      testing::Must(EvaluationKeys::Create(c.params, std::nullopt, *back))));
  Ciphertext a = EncryptPublic(c, rng), r1, r2;
  ASSERT_TRUE(c.evaluator->Rotate(a, -1, &r1).ok());
  ASSERT_TRUE(ev.Rotate(a, -1, &r2).ok());
  ExpectSameCiphertext(r1, r2);
  ASSERT_TRUE(ev.Conjugate(a, &r2).ok());
  ASSERT_TRUE(c.evaluator->Conjugate(a, &r1).ok());
  ExpectSameCiphertext(r1, r2);

  // An empty set round-trips too.
  GaloisKeys empty;
  empty.fingerprint = p.fingerprint();
  auto e = SerializeGaloisKeys(p, empty);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->size(), 40u);
  auto eb = DeserializeGaloisKeys(p, *e);
  ASSERT_TRUE(eb.ok()) << eb.status();
  EXPECT_TRUE(eb->keys.empty());
}

TEST(SerializationTest, RealPreset128BitRoundTrip) {
  std::mt19937_64 rng(8);
  Context& c = Ctx("Ckks128LogN13");
  const Parameters& p = *c.params;
  auto pb = SerializeParameters(p);
  ASSERT_TRUE(pb.ok());
  auto params = DeserializeParameters(*pb);  // secure: no allow_insecure
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_TRUE((*params)->secure());
  EXPECT_EQ((*params)->fingerprint(), p.fingerprint());

  Ciphertext ct = EncryptSeeded(c, rng);
  auto bytes = SerializeCiphertext(**params, ct);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->size(), CiphertextSize(p, p.max_level(), 1, true));
  auto back = DeserializeCiphertext(**params, *bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameCiphertext(ct, *back);
  ExpectSameDecryption(c, ct, *back);

  auto rk = SerializeRelinKey(p, *c.keys->relin());
  ASSERT_TRUE(rk.ok()) << rk.status();
  auto rk_back = DeserializeRelinKey(**params, *rk);
  ASSERT_TRUE(rk_back.ok()) << rk_back.status();
  ExpectSameSwitchingKey(c.keys->relin()->key, rk_back->key);
}

TEST(SerializationTest, SerializeValidatesInput) {
  std::mt19937_64 rng(9);
  Context& c = Ctx("LogN10");
  Context& other = Ctx("LogN11P2");
  const Parameters& p = *c.params;
  Ciphertext ct = EncryptPublic(c, rng);
  ExpectError(SerializeCiphertext(*other.params, ct), "SerializeCiphertext",
              "other parameters");
  ExpectError(SerializePublicKey(*other.params, c.pk), "SerializePublicKey",
              "belongs to other parameters");
  ExpectError(SerializeRelinKey(*other.params, *c.keys->relin()),
              "SerializeRelinKey", "belongs to other parameters");
  ExpectError(SerializeGaloisKeys(*other.params, c.keys->galois_keys()),
              "SerializeGaloisKeys", "belongs to other parameters");
  Plaintext pt = Encode(c, rng);
  ExpectError(SerializePlaintext(*other.params, pt), "SerializePlaintext",
              "other parameters");

  // A residue >= its prime is refused, naming the limb.
  Ciphertext bad = ct;
  internal::Access::polys(bad)[1].limb(2)[7] = p.q(2);
  ExpectError(SerializeCiphertext(p, bad), "SerializeCiphertext",
              "c1 limb 2 (q_2 = ");
  // A switching key whose a_j is not its seed's expansion cannot be stored
  // as seed + b_j.
  RelinKey rk = *c.keys->relin();
  rk.key.a[1].limb(0)[0] ^= 1;
  ExpectError(SerializeRelinKey(p, rk), "SerializeRelinKey",
              "a_1 is not the expansion of the key's seed");
  // Wrong shape.
  PublicKey pk = c.pk;
  pk.a.TruncateQ(1);
  ExpectError(SerializePublicKey(p, pk), "SerializePublicKey",
              "public key a has 1 + 0 limbs");
  pk = c.pk;
  pk.a.limb(0)[3] ^= 1;
  ExpectError(SerializePublicKey(p, pk), "SerializePublicKey",
              "public key a is not the expansion of the key's seed");
}

// ---------------------------------------------------------------------------
// Malformed input.

struct Objects {
  std::string params, plaintext, ciphertext, seeded, public_key, relin, galois;
};

// Serialized objects of `c`: plaintext and ciphertexts at level 0 (small).
Objects MakeObjects(Context& c) {
  std::mt19937_64 rng(10);
  const Parameters& p = *c.params;
  Objects o;
  o.params = *SerializeParameters(p);
  o.plaintext = *SerializePlaintext(p, Encode(c, rng, 0));
  Ciphertext a = EncryptPublic(c, rng), prod;
  EXPECT_TRUE(c.evaluator->Multiply(a, a, &prod).ok());
  o.ciphertext = *SerializeCiphertext(p, prod);  // degree 2
  o.seeded = *SerializeCiphertext(p, EncryptSeeded(c, rng, 0));
  o.public_key = *SerializePublicKey(p, c.pk);
  o.relin = *SerializeRelinKey(p, *c.keys->relin());
  o.galois = *SerializeGaloisKeys(p, c.keys->galois_keys());
  return o;
}

// Deserializes `bytes` as `type`; on success re-serializes and expects the
// same bytes (the encoding is canonical). Returns whether it was accepted.
bool TryLoad(const Parameters& p, ObjectType type, const std::string& bytes) {
  auto check = [&](const auto& obj, auto serialize) {
    if (!obj.ok()) return false;
    auto again = serialize(*obj);
    EXPECT_TRUE(again.ok()) << again.status();
    if (again.ok()) {
      EXPECT_TRUE(*again == bytes) << "accepted input is not canonical";
    }
    return true;
  };
  switch (type) {
    case ObjectType::kParameters:
      return check(
          DeserializeParameters(bytes, true),
          [](const ParametersPtr& x) { return SerializeParameters(*x); });
    case ObjectType::kPlaintext:
      return check(DeserializePlaintext(p, bytes), [&](const Plaintext& x) {
        return SerializePlaintext(p, x);
      });
    case ObjectType::kCiphertext:
      return check(DeserializeCiphertext(p, bytes), [&](const Ciphertext& x) {
        return SerializeCiphertext(p, x);
      });
    case ObjectType::kPublicKey:
      return check(DeserializePublicKey(p, bytes), [&](const PublicKey& x) {
        return SerializePublicKey(p, x);
      });
    case ObjectType::kRelinKey:
      return check(DeserializeRelinKey(p, bytes),
                   [&](const RelinKey& x) { return SerializeRelinKey(p, x); });
    case ObjectType::kGaloisKeys:
      return check(DeserializeGaloisKeys(p, bytes), [&](const GaloisKeys& x) {
        return SerializeGaloisKeys(p, x);
      });
    case ObjectType::kCompactCiphertext:  // re-serialized with its stored drop_bits
      return check(DeserializeCompactCiphertext(p, bytes), [&](const Ciphertext& x) {
        return SerializeCompactCiphertext(
            p, x, {static_cast<int>(x.slots()), static_cast<uint8_t>(bytes[24 + 16])});
      });
  }
  return false;
}

std::vector<std::pair<ObjectType, const std::string*>> All(const Objects& o) {
  return {{ObjectType::kParameters, &o.params},
          {ObjectType::kPlaintext, &o.plaintext},
          {ObjectType::kCiphertext, &o.ciphertext},
          {ObjectType::kCiphertext, &o.seeded},
          {ObjectType::kPublicKey, &o.public_key},
          {ObjectType::kRelinKey, &o.relin},
          {ObjectType::kGaloisKeys, &o.galois}};
}

TEST(MalformedTest, RejectsEveryTruncation) {
  Context& c = Ctx("LogN10");
  const Objects o = MakeObjects(c);
  // Every prefix of the small objects, a dense sample of the large ones.
  for (const auto& [type, bytes] : All(o)) {
    const std::size_t step = bytes->size() > 20000 ? 97 : 1;
    for (std::size_t len = 0; len < bytes->size();
         len += (len < 64 ? 1 : step)) {
      ASSERT_FALSE(TryLoad(*c.params, type, bytes->substr(0, len)))
          << "prefix " << len << " of " << bytes->size() << " accepted";
    }
  }
  ExpectError(
      DeserializeCiphertext(*c.params, o.seeded.substr(0, 10)),
      "DeserializeCiphertext",
      "buffer has 10 bytes, shorter than the 24-byte header (truncated)");
  ExpectError(DeserializeCiphertext(*c.params, o.seeded.substr(0, 100)),
              "DeserializeCiphertext", "but the buffer has 100 (truncated)");
  // Truncated and the length field fixed up: caught by the shape check.
  std::string cut = o.seeded.substr(0, o.seeded.size() - 8);
  FixTotal(cut);
  ExpectError(DeserializeCiphertext(*c.params, cut), "DeserializeCiphertext",
              "for a seeded ciphertext of degree 1 at level 0 (truncated)");
}

TEST(MalformedTest, RejectsTrailingBytes) {
  Context& c = Ctx("LogN10");
  const Objects o = MakeObjects(c);
  for (const auto& [type, bytes] : All(o)) {
    for (std::size_t extra : {1, 8, 1000}) {
      std::string s = *bytes + std::string(extra, '\0');
      EXPECT_FALSE(TryLoad(*c.params, type, s));
      FixTotal(s);  // consistent length field, inconsistent shape
      EXPECT_FALSE(TryLoad(*c.params, type, s));
    }
  }
  ExpectError(DeserializePlaintext(*c.params, o.plaintext + "x"),
              "DeserializePlaintext", "(1 trailing bytes)");
  std::string s = o.plaintext + "xy";
  FixTotal(s);
  ExpectError(DeserializePlaintext(*c.params, s), "DeserializePlaintext",
              "for a plaintext at level 0 (trailing bytes)");
}

TEST(MalformedTest, RejectsBadMagicVersionTypeFlags) {
  Context& c = Ctx("LogN10");
  const Parameters& p = *c.params;
  const Objects o = MakeObjects(c);
  for (const auto& [type, bytes] : All(o)) {
    for (std::size_t off = 0; off < 8; ++off) {
      std::string s = *bytes;
      s[off] ^= 0x20;
      EXPECT_FALSE(TryLoad(p, type, s)) << "header byte " << off;
    }
  }
  std::string s = o.seeded;
  s[0] = 'X';
  ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
              "bad magic 0x5846434b, expected 0x4246434b (\"BFCK\")");
  s = o.seeded;
  Put(s, kOffVersion, 1, 2);  // keys were all top-level in version 1
  ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
              "format version 1, expected 2");
  ExpectError(DeserializeCiphertext(p, o.plaintext), "DeserializeCiphertext",
              "object type 2 (plaintext), expected 3 (ciphertext)");
  ExpectError(DeserializeRelinKey(p, o.galois), "DeserializeRelinKey",
              "object type 6 (Galois keys), expected 5 (relinearization key)");
  s = o.seeded;
  s[kOffType] = 77;
  ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
              "object type 77 (unknown)");
  s = o.seeded;
  s[kOffFlags] = 3;
  ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
              "unknown flags 0x3");
  s = o.plaintext;
  s[kOffFlags] = 1;
  ExpectError(DeserializePlaintext(p, s), "DeserializePlaintext",
              "unknown flags 0x1");
  s = o.ciphertext;  // reserved byte after the degree
  s[kOffFields + 3] = 1;
  ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
              "reserved field after degree is 1, expected 0");
}

TEST(MalformedTest, RejectsWrongParameters) {
  Context& c = Ctx("LogN10");
  Context& other = Ctx("LogN11P2");
  const Objects o = MakeObjects(c);
  for (const auto& [type, bytes] : All(o)) {
    if (type == ObjectType::kParameters) continue;
    EXPECT_FALSE(TryLoad(*other.params, type, *bytes));
  }
  ExpectError(DeserializeCiphertext(*other.params, o.seeded),
              "DeserializeCiphertext", "ciphertext fingerprint 0x");
  ExpectError(DeserializeGaloisKeys(*other.params, o.galois),
              "DeserializeGaloisKeys", "does not match the parameters' 0x");
  // Parameters whose header fingerprint is not that of the rebuilt set.
  std::string s = o.params;
  Put(s, kOffFingerprint, Get(s, kOffFingerprint, 8) ^ 1, 8);
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "does not match the rebuilt parameters'");
}

TEST(MalformedTest, RejectsOutOfRangeResidue) {
  Context& c = Ctx("LogN10");
  const Parameters& p = *c.params;
  const Objects o = MakeObjects(c);
  // Plaintext at level 0: one limb of 50-bit residues starting at byte 40.
  // Coefficient 0 := all ones (2^50 - 1 >= q_0).
  std::string s = o.plaintext;
  const int bits0 = std::bit_width(p.q(0));
  for (int b = 0; b < bits0; ++b)
    s[40 + b / 8] |= static_cast<char>(1 << (b % 8));
  ExpectError(
      DeserializePlaintext(p, s), "DeserializePlaintext",
      absl::StrCat("plaintext limb 0 (q_0 = ", p.q(0), "): coefficient 0 is ",
                   (uint64_t{1} << bits0) - 1, ", not below the prime"));
  // Public key b, limb 2, coefficient 1 := q_2 exactly.
  s = o.public_key;
  std::size_t off = (24 + 4 + 32 + PolyBytes(p, 2, 0)) * 8;  // limb 2 of b
  const int bits2 = std::bit_width(p.q(2));
  off += bits2;  // coefficient 1
  for (int b = 0; b < bits2; ++b) {
    const std::size_t bit = off + b;
    char& byte = s[bit / 8];
    if ((p.q(2) >> b) & 1)
      byte |= static_cast<char>(1 << (bit % 8));
    else
      byte &= static_cast<char>(~(1 << (bit % 8)));
  }
  ExpectError(
      DeserializePublicKey(p, s), "DeserializePublicKey",
      absl::StrCat("public key b limb 2 (q_2 = ", p.q(2),
                   "): coefficient 1 is ", p.q(2), ", not below the prime"));
  // Relin key: the last limb is the special prime's.
  s = o.relin;
  for (int b = 0; b < 8; ++b) s[s.size() - 1 - b] = static_cast<char>(0xff);
  ExpectError(DeserializeRelinKey(p, s), "DeserializeRelinKey",
              absl::StrCat("relinearization key b_", p.dnum() - 1, " limb ",
                           p.num_q(), " (p_0 = ", p.p(0), ")"));
}

TEST(MalformedTest, RejectsBadLevelDegreeSlotsScale) {
  Context& c = Ctx("LogN10");
  const Parameters& p = *c.params;
  const Objects o = MakeObjects(c);
  std::string s = o.seeded;
  Put(s, kOffFields, 9, 2);
  ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
              "level 9 exceeds max level 3");
  s = o.plaintext;
  Put(s, kOffFields, 0xffff, 2);
  ExpectError(DeserializePlaintext(p, s), "DeserializePlaintext",
              "level 65535 exceeds max level 3");
  // Level 1 claimed for a level-0 body: length mismatch.
  s = o.seeded;
  Put(s, kOffFields, 1, 2);
  ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
              "(truncated)");

  for (uint64_t degree : {0, 3, 255}) {
    s = o.ciphertext;
    s[kOffFields + 2] = static_cast<char>(degree);
    ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
                absl::StrCat("degree ", degree, ", expected 1 or 2"));
  }
  s = o.seeded;
  s[kOffFields + 2] = 2;
  ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
              "seeded ciphertext has degree 2, expected 1");

  for (uint64_t slots :
       {uint64_t{0}, uint64_t{3}, uint64_t{p.n()}, uint64_t{1} << 31}) {
    s = o.seeded;
    Put(s, kOffFields + 4, slots, 4);
    ExpectError(
        DeserializeCiphertext(p, s), "DeserializeCiphertext",
        absl::StrCat("slots ", slots, " not a power of two in [1, 512]"));
    s = o.plaintext;
    Put(s, kOffFields + 4, slots, 4);
    ExpectError(
        DeserializePlaintext(p, s), "DeserializePlaintext",
        absl::StrCat("slots ", slots, " not a power of two in [1, 512]"));
  }
  for (double scale : {std::nan(""), -std::pow(2.0, 40), 0.0, -0.0,
                       std::numeric_limits<double>::infinity()}) {
    s = o.seeded;
    Put(s, kOffFields + 8, std::bit_cast<uint64_t>(scale), 8);
    ExpectError(DeserializeCiphertext(p, s), "DeserializeCiphertext",
                "is not positive and finite");
    s = o.plaintext;
    Put(s, kOffFields + 8, std::bit_cast<uint64_t>(scale), 8);
    ExpectError(DeserializePlaintext(p, s), "DeserializePlaintext",
                "is not positive and finite");
  }
}

TEST(MalformedTest, RejectsAbsurdCounts) {
  Context& c = Ctx("LogN10");
  const Parameters& p = *c.params;
  const Objects o = MakeObjects(c);
  // A huge Galois key count is refused before any size computation or
  // allocation (the buffer is tiny).
  std::string s = o.galois.substr(0, 40);
  FixTotal(s);
  Put(s, kOffFields + 8, 0xffffffff, 4);
  ExpectError(DeserializeGaloisKeys(p, s), "DeserializeGaloisKeys",
              "key count 4294967295 exceeds N = 1024");
  Put(s, kOffFields + 8, p.n(), 4);  // allowed count, but no bytes for it
  ExpectError(DeserializeGaloisKeys(p, s), "DeserializeGaloisKeys",
              "1024 Galois keys need at least");
  // Key shape fields must match the parameters.
  s = o.relin;
  Put(s, kOffFields + 4, 60000, 2);  // dnum
  ExpectError(
      DeserializeRelinKey(p, s), "DeserializeRelinKey",
      "key has 4 Q primes, 1 P primes and 60000 digits, expected at most 4, 1 and the "
      "digits of that level");
  s = o.public_key;
  Put(s, kOffFields, 300, 2);
  ExpectError(DeserializePublicKey(p, s), "DeserializePublicKey",
              "public key has 300 Q and 0 P primes, expected 4 and 0");
  // Parameters: prime counts bounded before the prime list is read.
  s = o.params;
  s[kOffFields + 1] = static_cast<char>(200);
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "200 Q primes and 1 P primes, expected at least one of each and 64 in all");
  s = o.params;
  s[kOffFields + 2] = 0;
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "4 Q primes and 0 P primes");
  s = o.params;
  s[kOffFields + 1] = 60;
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "for 60 + 1 primes (truncated)");
}

TEST(MalformedTest, RejectsBadGaloisElements) {
  Context& c = Ctx("LogN10");
  const Parameters& p = *c.params;
  const Objects o = MakeObjects(c);
  const std::size_t entry =
      16 + 32 + p.dnum() * PolyBytes(p, p.num_q(), p.num_p());
  const std::size_t first = 40, second = 40 + entry;
  const uint64_t g0 = Get(o.galois, first, 8), g1 = Get(o.galois, second, 8);
  ASSERT_LT(g0, g1);
  std::string s = o.galois;
  Put(s, first, 4, 8);
  ExpectError(DeserializeGaloisKeys(p, s), "DeserializeGaloisKeys",
              "Galois element 4 is not odd in [1, 2048)");
  s = o.galois;
  Put(s, first, 2049, 8);
  ExpectError(DeserializeGaloisKeys(p, s), "DeserializeGaloisKeys",
              "Galois element 2049 is not odd in [1, 2048)");
  s = o.galois;
  Put(s, second, g0, 8);
  ExpectError(DeserializeGaloisKeys(p, s), "DeserializeGaloisKeys",
              absl::StrCat("duplicate Galois element ", g0, " (key 1)"));
  s = o.galois;
  Put(s, first, g1, 8);
  Put(s, second, g0, 8);
  ExpectError(DeserializeGaloisKeys(p, s), "DeserializeGaloisKeys",
              absl::StrCat("Galois element ", g0, " (key 1) follows ", g1,
                           ": elements must be strictly ascending"));
}

TEST(MalformedTest, RejectsBadParameterFields) {
  const Objects o = MakeObjects(Ctx("LogN10"));
  std::string s = o.params;
  Put(s, kOffFields + 20, 0,
      8);  // q_0 = 0 (Parameters::Create takes its bit length)
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "prime 0 outside [3, 2^61)");
  s = o.params;
  Put(s, kOffFields + 20 + 8 * 4, uint64_t{1} << 62, 8);
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "prime 4611686018427387904 outside [3, 2^61)");
  s = o.params;
  Put(s, kOffFields + 20 + 8, Get(s, kOffFields + 20 + 8, 8) + 2,
      8);  // not prime
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "DeserializeParameters: Parameters: ");
  s = o.params;
  s[kOffFields + 4] = 7;
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "secret distribution 7, expected 0 (uniform ternary) or 1");
  s = o.params;
  s[kOffFields + 5] = 2;
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "error distribution 2, expected 0");
  s = o.params;
  Put(s, kOffFields + 8, 5, 4);
  ExpectError(
      DeserializeParameters(s, true), "DeserializeParameters",
      "Hamming weight 5 given for a uniform ternary secret, expected 0");
  s = o.params;
  Put(s, kOffFields + 12, std::bit_cast<uint64_t>(std::nan("")), 8);
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "error_sigma");
  s = o.params;
  s[kOffFields] = 40;  // log_n
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "log_n = 40 outside [4, 17]");
  s = o.params;
  Put(s, kOffFields + 6, 1, 2);
  ExpectError(DeserializeParameters(s, true), "DeserializeParameters",
              "reserved field");
}

// Single-bit flips over the N = 16 ring (every bit of the small objects and
// of the first 80 bytes of the keys, a sample of the rest) and a sample over
// N = 2^10: no crash, and whatever is accepted re-serializes to the same
// bytes. Flips in the common header must be rejected; flips in payloads often
// give valid objects or residue errors.
TEST(MalformedTest, BitFlipsNeverCrashAndStayCanonical) {
  std::mt19937_64 rng(11);
  {
    Context& c = Ctx("Tiny");
    const Objects o = MakeObjects(c);
    for (const auto& [type, bytes] : All(o)) {
      const std::size_t bits = bytes->size() * 8;
      std::vector<std::size_t> flips;
      const std::size_t exhaustive = bytes->size() <= 400 ? bits : 80 * 8;
      for (std::size_t bit = 0; bit < exhaustive; ++bit) flips.push_back(bit);
      for (int t = 0; exhaustive < bits && t < 400; ++t) {
        flips.push_back(exhaustive + rng() % (bits - exhaustive));
      }
      int accepted = 0;
      for (std::size_t bit : flips) {
        std::string s = *bytes;
        s[bit / 8] ^= static_cast<char>(1 << (bit % 8));
        const bool ok = TryLoad(*c.params, type, s);
        accepted += ok;
        if (bit < kOffFields * 8 && ok) ADD_FAILURE() << "header bit " << bit;
      }
      EXPECT_LT(accepted, static_cast<int>(flips.size()));
    }
  }
  Context& c = Ctx("LogN10");
  const Objects o = MakeObjects(c);
  for (const auto& [type, bytes] : All(o)) {
    const int samples =
        type == ObjectType::kGaloisKeys || type == ObjectType::kRelinKey ? 40
                                                                         : 300;
    for (int t = 0; t < samples; ++t) {
      std::string s = *bytes;
      const std::size_t bit = t < 100 ? rng() % (64 * 8)  // fields often
                                      : rng() % (bytes->size() * 8);
      s[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      TryLoad(*c.params, type, s);
    }
  }
}

}  // namespace
}  // namespace blindfold::ckks
