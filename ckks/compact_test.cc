// Compact ciphertexts (serialization.h): what a server sends a client. Only
// the c0 coefficients a periodic message needs and the high bits of every
// coefficient travel; decryption is as precise as the dropped bits allow,
// and malformed bytes are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <string>
#include <vector>

#include "ckks/internal/access.h"
#include "ckks/serialization.h"
#include "ckks/test_util.h"

namespace blindfold::ckks {
namespace {

using testing::Context;
using testing::Must;

constexpr std::size_t kFields = 24;  // after the common header

// N = 2^10, q_0 = 50 bits, 40-bit primes (insecure test preset).
std::unique_ptr<Context> Make() {
  return Context::Make(TestPresetLiteral(TestPreset::kTestInsecureLogN10), false);
}

// A ciphertext of the `period`-periodic message v (repeated over the
// slots) at level 0 (Q = q_0, scale 2^40), or, at level 1, of v^2 left
// unrescaled (scale 2^80 in a 90-bit Q, as a plan's output).
Ciphertext Periodic(Context& c, const std::vector<std::complex<double>>& v, int level) {
  const std::size_t slots = c.params->max_slots();
  std::vector<std::complex<double>> tiled(slots);
  for (std::size_t i = 0; i < slots; ++i) tiled[i] = v[i % v.size()];
  Ciphertext top = c.Encrypt(tiled, slots), low, sq;
  EXPECT_TRUE(c.evaluator->DropLevel(top, level, &low).ok());
  if (level == 0) return low;
  EXPECT_TRUE(c.evaluator->MulRelin(low, low, &sq).ok());
  return sq;
}

double MaxError(const std::vector<std::complex<double>>& got,
                const std::vector<std::complex<double>>& want) {
  double e = 0;
  for (std::size_t i = 0; i < want.size(); ++i) e = std::max(e, std::abs(got[i] - want[i]));
  return e;
}

TEST(CompactCiphertextTest, KeepsWhatThePeriodNeedsAndDecryptsPrecisely) {
  auto c = Make();
  const Parameters& p = *c->params;
  std::mt19937_64 rng(5);
  const auto v = testing::RandomComplex(16, rng);
  std::vector<std::complex<double>> v2(16);
  for (int i = 0; i < 16; ++i) v2[i] = v[i] * v[i];
  for (int level : {0, 1}) {
    const Ciphertext ct = Periodic(*c, v, level);
    const auto& want = level == 0 ? v : v2;
    const int q_bits = level == 0 ? 50 : 90;
    const std::string full = Must(SerializeCiphertext(p, ct, false));
    for (int drop : {0, 10, 20, 40}) {
      const std::string bytes = Must(SerializeCompactCiphertext(p, ct, {16, drop}));
      // 2 * 16 values of c0 and N of c1, at most 61 bits each (drop raised).
      const int bits = q_bits - std::max(drop, q_bits - 61);
      EXPECT_EQ(bytes.size(), 24 + kFields + (32 * bits + 7) / 8 + (p.n() * bits + 7) / 8)
          << "level " << level << " drop " << drop;
      // Canonical: what loads re-serializes to the same bytes.
      EXPECT_EQ(Must(SerializeCompactCiphertext(
                    p, Must(DeserializeCompactCiphertext(p, bytes)), {16, drop})),
                bytes);
      EXPECT_LT(bytes.size(), full.size() / 2 + 300);
      const Ciphertext back = Must(DeserializeCompactCiphertext(p, bytes));
      EXPECT_EQ(back.slots(), 16u);
      EXPECT_EQ(back.level(), level);
      // Rounding adds ~2^(drop + 2.9 + 2.5) / scale (sqrt(N/18) = 2^2.9 at
      // N = 2^10, sqrt(2 period) = 2^2.5): allow 2^4 times that, plus the
      // engine's own 2^-18.
      const int dropped = std::max(drop, q_bits - 61);
      const double bound = std::ldexp(1.0, dropped + 6 + 4 - (level == 0 ? 40 : 80)) +
                           std::ldexp(1.0, -18);
      EXPECT_LT(MaxError(c->Decrypt(back), want), bound) << "level " << level << " drop " << drop;
    }
  }
  // Period as large as the slots: every coefficient of c0 kept.
  const Ciphertext ct = Periodic(*c, v, 0);
  const std::string all =
      Must(SerializeCompactCiphertext(p, ct, {static_cast<int>(p.max_slots()), 0}));
  const auto got = c->Decrypt(Must(DeserializeCompactCiphertext(p, all)));
  ASSERT_EQ(got.size(), p.max_slots());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_LT(std::abs(got[i] - v[i % 16]), std::ldexp(1.0, -18)) << i;
  }
}

TEST(CompactCiphertextTest, RefusesWhatItCannotHold) {
  auto c = Make();
  const Parameters& p = *c->params;
  std::mt19937_64 rng(6);
  const Ciphertext top = c->Encrypt(testing::RandomComplex(p.max_slots(), rng));
  auto r = SerializeCompactCiphertext(p, top, {16, 0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected level 0 or 1"), std::string::npos) << r.status();
  const Ciphertext low = Periodic(*c, {{1, 0}}, 1);
  for (int period : {0, 3, 1024}) {
    r = SerializeCompactCiphertext(p, low, {period, 0});
    ASSERT_FALSE(r.ok()) << period;
    EXPECT_NE(r.status().message().find("is not a power of two dividing the 512 slots"),
              std::string::npos)
        << r.status();
  }
  r = SerializeCompactCiphertext(p, low, {16, 89});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("drop_bits 89 outside [0, 88]"), std::string::npos)
      << r.status();
}

void Put(std::string& s, std::size_t off, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s[off + i] = static_cast<char>(v >> (8 * i));
}

void ExpectError(const Parameters& p, const std::string& s, const std::string& want) {
  auto r = DeserializeCompactCiphertext(p, s);
  ASSERT_FALSE(r.ok()) << "accepted; wanted " << want;
  EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status();
}

TEST(CompactCiphertextTest, RejectsMalformedBytes) {
  auto c = Make();
  const Parameters& p = *c->params;
  const Ciphertext low = Periodic(*c, {{0.5, 0}, {-0.25, 0}}, 1);
  const std::string good = Must(SerializeCompactCiphertext(p, low, {2, 30}));
  ASSERT_TRUE(DeserializeCompactCiphertext(p, good).ok());
  const std::size_t f = 24;  // fields
  std::string s = good;
  Put(s, f, 2, 2);
  ExpectError(p, s, "level 2, expected 0 or 1");
  s = good;
  Put(s, f + 2, 1, 2);
  ExpectError(p, s, "reserved field after level is 1");
  s = good;
  Put(s, f + 4, 3, 4);
  ExpectError(p, s, "slots 3 not a power of two");
  s = good;
  Put(s, f + 16, 89, 1);
  ExpectError(p, s, "drop_bits 89 outside [29, 88]");
  s = good;
  Put(s, f + 17, 59, 1);
  ExpectError(p, s, "value_bits 59, expected 60");
  s = good;
  Put(s, f + 20, 7, 4);
  ExpectError(p, s, "reserved field after value_bits is 7");
  ExpectError(p, good.substr(0, good.size() - 1), "");
  s = good + "x";
  ExpectError(p, s, "");
  // A value above round((Q - 1) / 2^drop): all ones in the first c0 value.
  s = good;
  for (std::size_t i = 0; i < 8; ++i) s[24 + kFields + i] = static_cast<char>(0xff);
  ExpectError(p, s, "c0");
}

}  // namespace
}  // namespace blindfold::ckks
