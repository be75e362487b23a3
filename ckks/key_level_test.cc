// Switching keys made for a level below the top (keys.h): smaller, exact at
// their level and below, refused above it, and serialized with their level.
#include <gtest/gtest.h>

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
using testing::Log2MaxError;
using testing::Must;
using testing::RandomComplex;

// N = 2^10, q_0 + 3 primes, one special prime: 4 digits at the top level
// (insecure test preset).
std::unique_ptr<Context> Make() {
  return Context::Make(TestPresetLiteral(TestPreset::kTestInsecureLogN10), false);
}

std::vector<std::complex<double>> RotateLeft(const std::vector<std::complex<double>>& v,
                                             int k) {
  std::vector<std::complex<double>> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[(i + k) % v.size()];
  return out;
}

TEST(KeyLevelTest, LowLevelKeyHasThatLevelsDigitsAndLimbs) {
  auto c = Make();
  const uint64_t g = c->evaluator->GaloisElementForRotation(1);
  const SwitchingKey top = Must(c->keygen->GenGaloisKey(c->sk, g));
  const SwitchingKey low = Must(c->keygen->GenGaloisKey(c->sk, g, 1));
  EXPECT_EQ(top.level(), c->params->max_level());
  EXPECT_EQ(top.b.size(), static_cast<std::size_t>(c->params->dnum()));
  EXPECT_EQ(low.level(), 1);
  ASSERT_EQ(low.b.size(), 2u);  // one prime per digit: digits of q_0, q_1
  EXPECT_EQ(low.b[0].num_q(), 2);
  EXPECT_EQ(low.b[0].num_p(), c->params->num_p());
  auto bad = c->keygen->GenGaloisKey(c->sk, g, c->params->max_level() + 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("key level 4 outside [0, 3]"), std::string::npos)
      << bad.status();
}

TEST(KeyLevelTest, RotatesAndRelinearizesAtItsLevelAndRefusesAbove) {
  auto c = Make();
  std::mt19937_64 rng(11);
  const uint64_t g = c->evaluator->GaloisElementForRotation(3);
  GaloisKeys gk;
  gk.fingerprint = c->params->fingerprint();
  gk.keys.emplace(g, Must(c->keygen->GenGaloisKey(c->sk, g, 1)));
  auto keys = Must(EvaluationKeys::Create(c->params, Must(c->keygen->GenRelinKey(c->sk, 1)),
                                          std::move(gk)));
  Evaluator ev = Must(Evaluator::Create(c->params, keys));

  const std::size_t slots = c->params->max_slots();
  const auto x = RandomComplex(slots, rng), y = RandomComplex(slots, rng);
  const Ciphertext top = c->Encrypt(x), top_y = c->Encrypt(y);
  Ciphertext at1, y1, out;
  ASSERT_TRUE(ev.DropLevel(top, 1, &at1).ok());
  ASSERT_TRUE(ev.DropLevel(top_y, 1, &y1).ok());

  // At level 1 (and 0) the low key rotates as precisely as a full one.
  ASSERT_TRUE(ev.Rotate(at1, 3, &out).ok());
  EXPECT_LT(Log2MaxError(c->Decrypt(out), RotateLeft(x, 3)), -20);
  Ciphertext at0;
  ASSERT_TRUE(ev.DropLevel(top, 0, &at0).ok());
  ASSERT_TRUE(ev.Rotate(at0, 3, &out).ok());
  EXPECT_LT(Log2MaxError(c->Decrypt(out), RotateLeft(x, 3)), -20);
  std::vector<Ciphertext> hoisted;
  const std::vector<int> steps = {0, 3};
  ASSERT_TRUE(ev.RotateHoisted(at1, steps, &hoisted).ok());
  EXPECT_LT(Log2MaxError(c->Decrypt(hoisted[1]), RotateLeft(x, 3)), -20);

  ASSERT_TRUE(ev.MulRelin(at1, y1, &out).ok());
  std::vector<std::complex<double>> xy(slots);
  for (std::size_t i = 0; i < slots; ++i) xy[i] = x[i] * y[i];
  EXPECT_LT(Log2MaxError(c->Decrypt(out), xy), -20);

  // Above its level the key is refused with a status, not used wrongly.
  auto rotated = ev.Rotate(top, 3, &out);
  ASSERT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(rotated.message().find("up to level 1, this one is at level 3"),
            std::string::npos)
      << rotated;
  EXPECT_FALSE(ev.RotateHoisted(top, steps, &hoisted).ok());
  EXPECT_FALSE(ev.MulRelin(top, top_y, &out).ok());
}

TEST(KeyLevelTest, SerializedWithTheirLevelAndSmaller) {
  auto c = Make();
  const Parameters& p = *c->params;
  const uint64_t g1 = c->evaluator->GaloisElementForRotation(1);
  const uint64_t g2 = c->evaluator->GaloisElementForRotation(2);
  GaloisKeys mixed, full;
  mixed.fingerprint = full.fingerprint = p.fingerprint();
  mixed.keys.emplace(g1, Must(c->keygen->GenGaloisKey(c->sk, g1, 0)));
  mixed.keys.emplace(g2, Must(c->keygen->GenGaloisKey(c->sk, g2)));
  full.keys.emplace(g1, Must(c->keygen->GenGaloisKey(c->sk, g1)));
  full.keys.emplace(g2, Must(c->keygen->GenGaloisKey(c->sk, g2)));
  const std::string bytes = Must(SerializeGaloisKeys(p, mixed));
  EXPECT_LT(bytes.size(), Must(SerializeGaloisKeys(p, full)).size());
  const GaloisKeys back = Must(DeserializeGaloisKeys(p, bytes));
  ASSERT_EQ(back.keys.size(), 2u);
  EXPECT_EQ(back.keys.at(g1).level(), 0);
  EXPECT_EQ(back.keys.at(g2).level(), p.max_level());
  for (const auto& [g, key] : mixed.keys) {
    const SwitchingKey& k = back.keys.at(g);
    ASSERT_EQ(k.b.size(), key.b.size());
    for (std::size_t j = 0; j < key.b.size(); ++j) {
      EXPECT_TRUE(k.b[j] == key.b[j]) << "element " << g << " b_" << j;
      EXPECT_TRUE(k.a[j] == key.a[j]) << "element " << g << " a_" << j;
    }
  }
  const RelinKey rk{Must(c->keygen->GenRelinKey(c->sk, 2))};
  const RelinKey rk_back = Must(DeserializeRelinKey(p, Must(SerializeRelinKey(p, rk))));
  EXPECT_EQ(rk_back.key.level(), 2);
  EXPECT_TRUE(rk_back.key.b[2] == rk.key.b[2]);

  // The per-key |Q_l| field (after the 8-byte element of the first entry).
  const std::size_t q_field = 24 + 16 + 8;
  for (uint64_t bad_q : {uint64_t{0}, uint64_t{5}}) {
    std::string s = bytes;
    s[q_field] = static_cast<char>(bad_q);
    auto r = DeserializeGaloisKeys(p, s);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(absl::StrCat("has ", bad_q, " Q primes, expected 1 to 4")),
              std::string::npos)
        << r.status();
  }
  // Claiming a higher level than the bytes hold runs past the buffer.
  GaloisKeys one;
  one.fingerprint = p.fingerprint();
  one.keys.emplace(g1, Must(c->keygen->GenGaloisKey(c->sk, g1, 0)));
  std::string s = Must(SerializeGaloisKeys(p, one));
  s[q_field] = 4;
  auto r = DeserializeGaloisKeys(p, s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("runs past the end of the buffer"), std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace blindfold::ckks
