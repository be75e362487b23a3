// Every evaluator op against the same computation on complex doubles, with a
// precision bound on log2 of the largest slot error. Each op runs at two
// insecure toy rings (dnum 4 and 3) and at the 128-bit N = 2^13 preset.
#include "ckks/evaluator.h"

#include <gtest/gtest.h>

#include <map>

#include "base/cpu_features.h"
#include "ckks/internal/access.h"
#include "ckks/internal/seed_expansion.h"
#include "ckks/test_util.h"

namespace blindfold::ckks {
namespace {

using testing::Context;
using testing::Must;
using testing::Log2MaxError;
using testing::RandomComplex;
using cvec = std::vector<std::complex<double>>;

// Precision bounds (log2 of the largest slot error) for inputs in the unit
// box, valid up to N = 2^13 with scale 2^40: a fresh encryption is ~2^-23 at
// N = 2^13; key switching and rescaling add a few bits. A bug (wrong key,
// wrong rotation, scale slip) gives errors near 2^0 or worse.
constexpr double kFresh = -20;
constexpr double kAfterMul = -17;

const std::vector<int> kRotations = {1, 2, 3, 4, 5, 8, 16, 32, 64, 100, -1, -2, -4, -7};

struct Setting {
  const char* name;
  ParametersLiteral literal;
  bool secure;
};

std::vector<Setting> Settings() {
  return {
      {"InsecureLogN10", TestPresetLiteral(TestPreset::kTestInsecureLogN10), false},
      {"InsecureLogN11P2", TestPresetLiteral(TestPreset::kTestInsecureLogN11P2), false},
      {"Ckks128LogN13", PresetLiteral(Preset::kCkks128LogN13LogQP180), true},
  };
}

Context& GetContext(const Setting& s) {
  static std::map<std::string, std::unique_ptr<Context>> cache;
  auto& c = cache[s.name];
  if (!c) c = Context::Make(s.literal, s.secure, kRotations, /*conjugation=*/true);
  return *c;
}

class EvaluatorTest : public ::testing::TestWithParam<Setting> {
 protected:
  void SetUp() override {
    ctx_ = &GetContext(GetParam());
    seed_ = 0x5eed0000 + ::testing::UnitTest::GetInstance()->random_seed();
    rng_.seed(seed_);
    slots_ = ctx_->params->max_slots();
  }
  // Printed with every failure so a run can be reproduced.
  std::string Trace() const { return "input seed " + std::to_string(seed_); }

  Context* ctx_;
  Evaluator& ev() { return *ctx_->evaluator; }
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::size_t slots_;
};

cvec Map2(const cvec& a, const cvec& b, auto f) {
  cvec r(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = f(a[i], b[i]);
  return r;
}

cvec RotateRef(const cvec& a, int k) {
  const int64_t n = a.size();
  cvec r(n);
  for (int64_t i = 0; i < n; ++i) r[i] = a[(((i + k) % n) + n) % n];
  return r;
}

TEST_P(EvaluatorTest, EncryptDecryptPublicAndSymmetric) {
  SCOPED_TRACE(Trace());
  auto v = RandomComplex(slots_, rng_);
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(ctx_->Encrypt(v)), v), kFresh);
  Plaintext pt;
  ASSERT_TRUE(ctx_->encoder->Encode(v, slots_, ctx_->params->max_level(),
                                    ctx_->params->default_scale(), &pt).ok());
  Ciphertext ct;
  ASSERT_TRUE(ctx_->sym_encryptor->Encrypt(pt, &ct).ok());
  ASSERT_TRUE(ct.c1_seed().has_value());
  ring::RnsPoly c1;
  internal::ExpandCiphertextC1(*ctx_->params, *ct.c1_seed(), ct.level(), &c1);
  EXPECT_EQ(c1, ct.polys()[1]);
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(ct), v), kFresh);
}

TEST_P(EvaluatorTest, AddSubNegate) {
  SCOPED_TRACE(Trace());
  auto a = RandomComplex(slots_, rng_), b = RandomComplex(slots_, rng_);
  auto ca = ctx_->Encrypt(a), cb = ctx_->Encrypt(b);
  Ciphertext out;
  ASSERT_TRUE(ev().Add(ca, cb, &out).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), Map2(a, b, std::plus<>())), kFresh);
  ASSERT_TRUE(ev().Sub(ca, cb, &out).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), Map2(a, b, std::minus<>())), kFresh);
  ASSERT_TRUE(ev().Negate(ca, &out).ok());
  cvec neg(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) neg[i] = -a[i];
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), neg), kFresh);
  // Aliasing: out is an input.
  ASSERT_TRUE(ev().Add(ca, ca, &ca).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(ca), Map2(a, a, std::plus<>())), kFresh);
}

TEST_P(EvaluatorTest, PlainAndConstantOperands) {
  SCOPED_TRACE(Trace());
  auto a = RandomComplex(slots_, rng_), b = RandomComplex(slots_, rng_);
  auto ca = ctx_->Encrypt(a);
  Plaintext pb;
  ASSERT_TRUE(ctx_->encoder->Encode(b, slots_, ctx_->params->max_level(),
                                    ctx_->params->default_scale(), &pb).ok());
  Ciphertext out;
  ASSERT_TRUE(ev().AddPlain(ca, pb, &out).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), Map2(a, b, std::plus<>())), kFresh);
  ASSERT_TRUE(ev().SubPlain(ca, pb, &out).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), Map2(a, b, std::minus<>())), kFresh);

  const std::complex<double> c(0.75, -1.25);
  ASSERT_TRUE(ev().AddConst(ca, c, &out).ok());
  cvec want(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) want[i] = a[i] + c;
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), want), kFresh);

  ASSERT_TRUE(ev().MultiplyPlain(ca, pb, &out).ok());
  ASSERT_TRUE(ev().Rescale(out, &out).ok());
  EXPECT_EQ(out.level(), ctx_->params->max_level() - 1);
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), Map2(a, b, std::multiplies<>())), kAfterMul);

  for (std::complex<double> k : {std::complex<double>(-2.5, 0), c}) {
    ASSERT_TRUE(ev().MultiplyConst(ca, k, ctx_->params->default_scale(), &out).ok());
    EXPECT_NEAR(out.scale().log2(), 2 * ctx_->params->default_scale().log2(), 1e-9);
    ASSERT_TRUE(ev().Rescale(out, &out).ok());
    for (std::size_t i = 0; i < a.size(); ++i) want[i] = a[i] * k;
    EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), want), kAfterMul) << k;
  }
  // Integer constant at scale 1 keeps the scale.
  ASSERT_TRUE(ev().MultiplyConst(ca, 3.0, Scale(1), &out).ok());
  EXPECT_EQ(out.scale(), ca.scale());
  for (std::size_t i = 0; i < a.size(); ++i) want[i] = 3.0 * a[i];
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), want), kAfterMul);
}

// The fused scalar linear combination equals the sum of MultiplyConst
// results (many terms, so the lazy accumulation must reduce on time), and
// refuses mismatched operands.
TEST_P(EvaluatorTest, LinearCombinationOfManyCiphertexts) {
  SCOPED_TRACE(Trace());
  std::uniform_real_distribution<double> u(-3, 3);
  const int terms = 40;
  std::vector<std::vector<std::complex<double>>> xs;
  std::vector<Ciphertext> cts;
  std::vector<double> w;
  for (int k = 0; k < terms; ++k) {
    xs.push_back(RandomComplex(slots_, rng_));
    cts.push_back(ctx_->Encrypt(xs.back()));
    w.push_back(u(rng_));
  }
  std::vector<const Ciphertext*> ptrs;
  for (const auto& c : cts) ptrs.push_back(&c);
  Ciphertext out;
  ASSERT_TRUE(ev().LinearCombination(ptrs, w, ctx_->params->default_scale(), &out).ok());
  ASSERT_TRUE(ev().Rescale(out, &out).ok());
  std::vector<std::complex<double>> want(slots_, 0.0);
  for (int k = 0; k < terms; ++k) {
    for (std::size_t i = 0; i < slots_; ++i) want[i] += w[k] * xs[k][i];
  }
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), want), kAfterMul + 6);  // 40 terms of |w| <= 3
  // Misuse: empty, count mismatch, a different level, a huge weight.
  EXPECT_FALSE(ev().LinearCombination({}, {}, Scale(1), &out).ok());
  EXPECT_FALSE(ev().LinearCombination(ptrs, std::vector<double>(terms - 1, 1.0), Scale(1), &out).ok());
  Ciphertext low;
  ASSERT_TRUE(ev().DropLevel(cts[1], cts[1].level() - 1, &low).ok());
  const Ciphertext* mixed[2] = {&cts[0], &low};
  const double two[2] = {1.0, 1.0};
  EXPECT_FALSE(ev().LinearCombination(mixed, two, Scale(1), &out).ok());
  const Ciphertext* one[1] = {&cts[0]};
  const double huge[1] = {1e300};
  EXPECT_FALSE(ev().LinearCombination(one, huge, Scale(1), &out).ok());
}

// A sum pushed together in parts (the first part a LinearCombination, the
// others added to it) is the one-pass sum, word for word: the streamed
// throughput executor relies on it. Misuse of the sum is refused.
TEST_P(EvaluatorTest, AddLinearCombinationInPartsIsTheWholeSum) {
  SCOPED_TRACE(Trace());
  std::uniform_real_distribution<double> u(-3, 3);
  const int terms = 150;  // parts of 70 and 80 cross the 64-term chunks
  std::vector<Ciphertext> cts;
  std::vector<double> w;
  for (int k = 0; k < terms; ++k) {
    cts.push_back(ctx_->Encrypt(RandomComplex(slots_, rng_)));
    w.push_back(u(rng_));
  }
  std::vector<const Ciphertext*> ptrs;
  for (const auto& c : cts) ptrs.push_back(&c);
  const Scale cs = ctx_->params->default_scale();
  Ciphertext whole, parts;
  ASSERT_TRUE(ev().LinearCombination(ptrs, w, cs, &whole).ok());
  const std::span<const Ciphertext* const> all(ptrs);
  const std::span<const double> ws(w);
  ASSERT_TRUE(ev().LinearCombination(all.subspan(0, 1), ws.subspan(0, 1), cs, &parts).ok());
  ASSERT_TRUE(ev().AddLinearCombination(all.subspan(1, 69), ws.subspan(1, 69), cs, &parts).ok());
  ASSERT_TRUE(ev().AddLinearCombination(all.subspan(70), ws.subspan(70), cs, &parts).ok());
  auto expect_whole = [&](const Ciphertext& c, const char* what) {
    ASSERT_EQ(c.level(), whole.level()) << what;
    EXPECT_EQ(c.scale(), whole.scale()) << what;
    for (int p = 0; p < 2; ++p) {
      const auto& a = internal::Access::polys(c)[p];
      const auto& b = internal::Access::polys(whole)[p];
      for (int i = 0; i <= whole.level(); ++i) {
        ASSERT_TRUE(std::equal(a.limb(i), a.limb(i) + ctx_->params->n(), b.limb(i)))
            << what << ": poly " << p << " limb " << i;
      }
    }
  };
  expect_whole(parts, "in parts");
  // Many sums in one pass: one started there, one continued.
  Ciphertext started, continued;
  ASSERT_TRUE(ev().LinearCombination(all.subspan(0, 70), ws.subspan(0, 70), cs, &continued).ok());
  const Evaluator::LinearSum batch[2] = {{&started, all, ws},
                                         {&continued, all.subspan(70), ws.subspan(70)}};
  ASSERT_TRUE(ev().AddLinearCombinations(batch, cs).ok());
  expect_whole(started, "started in a batch");
  expect_whole(continued, "continued in a batch");
  // A batch names the sum that is wrong, and leaves every sum as it was.
  Ciphertext kept = whole;
  const Evaluator::LinearSum bad[2] = {{&kept, all.subspan(0, 2), ws.subspan(0, 2)},
                                       {&started, all.subspan(0, 3), ws.subspan(0, 2)}};
  const absl::Status st = ev().AddLinearCombinations(bad, cs);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("sum 1: 3 ciphertexts and 2 weights"), std::string::npos) << st;
  expect_whole(kept, "untouched by a refused batch");
  // Misuse: a sum at another scale (the inputs' own), at another level,
  // or not a ciphertext at all.
  Ciphertext wrong_scale = cts[0];
  EXPECT_FALSE(ev().AddLinearCombination(all.subspan(0, 2), ws.subspan(0, 2), cs, &wrong_scale).ok());
  Ciphertext low;
  ASSERT_TRUE(ev().DropLevel(whole, whole.level() - 1, &low).ok());
  EXPECT_FALSE(ev().AddLinearCombination(all.subspan(0, 2), ws.subspan(0, 2), cs, &low).ok());
  Ciphertext empty;
  EXPECT_FALSE(ev().AddLinearCombination(all.subspan(0, 2), ws.subspan(0, 2), cs, &empty).ok());
}

TEST_P(EvaluatorTest, MultiplyRelinearizeRescale) {
  SCOPED_TRACE(Trace());
  auto a = RandomComplex(slots_, rng_), b = RandomComplex(slots_, rng_);
  auto ca = ctx_->Encrypt(a), cb = ctx_->Encrypt(b);
  Ciphertext t;
  ASSERT_TRUE(ev().Multiply(ca, cb, &t).ok());
  EXPECT_EQ(t.degree(), 2);
  const auto prod = Map2(a, b, std::multiplies<>());
  // Degree-2 ciphertexts decrypt directly too.
  Ciphertext t_rescaled;
  ASSERT_TRUE(ev().Rescale(t, &t_rescaled).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(t_rescaled), prod), kAfterMul);
  ASSERT_TRUE(ev().Relinearize(t, &t).ok());
  EXPECT_EQ(t.degree(), 1);
  ASSERT_TRUE(ev().Rescale(t, &t).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(t), prod), kAfterMul);
  EXPECT_NEAR(t.scale().log2(), ctx_->params->default_scale().log2(), 0.1);
}

TEST_P(EvaluatorTest, SquaringChainToLevelZero) {
  SCOPED_TRACE(Trace());
  // |x| < 1 so that x^(2^k) stays bounded and the error grows ~2^k.
  auto a = RandomComplex(slots_, rng_, 0.7);
  auto ct = ctx_->Encrypt(a);
  cvec want = a;
  while (ct.level() > 0) {
    ASSERT_TRUE(ev().MulRelin(ct, ct, &ct).ok());
    ASSERT_TRUE(ev().Rescale(ct, &ct).ok());
    for (auto& x : want) x = x * x;
  }
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(ct), want), -12);
}

TEST_P(EvaluatorTest, DropLevelThenCombine) {
  SCOPED_TRACE(Trace());
  auto a = RandomComplex(slots_, rng_), b = RandomComplex(slots_, rng_);
  auto ca = ctx_->Encrypt(a), cb = ctx_->Encrypt(b);
  Ciphertext low;
  ASSERT_TRUE(ev().DropLevel(cb, 0, &low).ok());
  EXPECT_EQ(low.level(), 0);
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(low), b), kFresh);
  Ciphertext out;
  auto s = ev().Add(ca, low, &out);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("levels differ"), std::string::npos) << s;
  ASSERT_TRUE(ev().DropLevel(ca, 0, &ca).ok());
  ASSERT_TRUE(ev().Add(ca, low, &out).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), Map2(a, b, std::plus<>())), kFresh);
}

// A plaintext encoded once at the top and dropped to where it is used
// multiplies as one encoded there; SetScale lands exactly on its target.
TEST_P(EvaluatorTest, PlaintextDropLevelAndSetScale) {
  SCOPED_TRACE(Trace());
  const Parameters& p = *ctx_->params;
  auto a = RandomComplex(slots_, rng_), b = RandomComplex(slots_, rng_);
  Plaintext top, low_direct, low_dropped;
  ASSERT_TRUE(ctx_->encoder->Encode(b, slots_, p.max_level(), p.default_scale(), &top).ok());
  ASSERT_TRUE(ctx_->encoder->Encode(b, slots_, 1, p.default_scale(), &low_direct).ok());
  ASSERT_TRUE(ev().DropLevel(top, 1, &low_dropped).ok());
  EXPECT_EQ(low_dropped.level(), 1);
  EXPECT_TRUE(internal::Access::poly(low_dropped) == internal::Access::poly(low_direct));
  Ciphertext ca = ctx_->Encrypt(a), low, prod;
  ASSERT_TRUE(ev().DropLevel(ca, 1, &low).ok());
  ASSERT_TRUE(ev().MultiplyPlain(low, low_dropped, &prod).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(prod), Map2(a, b, std::multiplies<>())), kAfterMul);
  auto bad = ev().DropLevel(top, p.max_level() + 1, &low_dropped);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("outside [0, "), std::string::npos) << bad;

  // SetScale: from 2^40 to 2^35 one level down, values unchanged.
  const Scale target(std::ldexp(1.0, 35));
  Ciphertext set;
  ASSERT_TRUE(ev().SetScale(ca, target, &set).ok());
  EXPECT_EQ(set.level(), ca.level() - 1);
  EXPECT_EQ(set.scale().value(), target.value());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(set), a), kAfterMul);
  // A wrong scale label would be off by 2^5 = 32 times: the check above
  // catches it. Level 0 has nothing to rescale into.
  Ciphertext at0;
  ASSERT_TRUE(ev().DropLevel(ca, 0, &at0).ok());
  auto s = ev().SetScale(at0, target, &set);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("SetScale: ciphertext at level 0"), std::string::npos) << s;
}

TEST_P(EvaluatorTest, RotationsAndConjugation) {
  SCOPED_TRACE(Trace());
  auto a = RandomComplex(slots_, rng_);
  auto ca = ctx_->Encrypt(a);
  for (int k : kRotations) {
    Ciphertext out;
    ASSERT_TRUE(ev().Rotate(ca, k, &out).ok()) << k;
    EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), RotateRef(a, k)), kAfterMul) << "step " << k;
  }
  Ciphertext out;
  ASSERT_TRUE(ev().Conjugate(ca, &out).ok());
  cvec conj(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) conj[i] = std::conj(a[i]);
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), conj), kAfterMul);
  // Rotations compose: 1 then 2 is 3, after a multiplication and rescale.
  ASSERT_TRUE(ev().MulRelin(ca, ca, &out).ok());
  ASSERT_TRUE(ev().Rescale(out, &out).ok());
  ASSERT_TRUE(ev().Rotate(out, 1, &out).ok());
  ASSERT_TRUE(ev().Rotate(out, 2, &out).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out),
                         RotateRef(Map2(a, a, std::multiplies<>()), 3)), kAfterMul);
  // Missing key: a clear error, no crash.
  auto s = ev().Rotate(ca, 6, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("rotation 6"), std::string::npos) << s;
}

TEST_P(EvaluatorTest, HoistedRotationsMatchSingleRotations) {
  SCOPED_TRACE(Trace());
  auto a = RandomComplex(slots_, rng_);
  auto ca = ctx_->Encrypt(a);
  Ciphertext low;
  ASSERT_TRUE(ev().DropLevel(ca, 1, &low).ok());  // also at a lower level
  for (const Ciphertext* c : {&ca, &low}) {
    std::vector<Ciphertext> outs;
    std::vector<int> steps = kRotations;
    steps.push_back(0);
    ASSERT_TRUE(ev().RotateHoisted(*c, steps, &outs).ok());
    ASSERT_EQ(outs.size(), steps.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
      EXPECT_LT(Log2MaxError(ctx_->Decrypt(outs[i]), RotateRef(a, steps[i])), kAfterMul)
          << "step " << steps[i] << " level " << c->level();
    }
  }
}

// Key switching is exact integer arithmetic: a hoisted batch (all
// rotations' key switches run together, limb-major) must give the very
// ciphertexts of one rotation at a time, and every kernel path the very
// ciphertexts of the portable one (relinearization and rotations, top level
// and below, fused inner product / ModDown / automorphism).
TEST_P(EvaluatorTest, KeySwitchingIsBitIdenticalAcrossBatchesAndKernelPaths) {
  SCOPED_TRACE(Trace());
  const KernelPathGuard guard;
  auto a = RandomComplex(slots_, rng_);
  auto b = RandomComplex(slots_, rng_);
  auto ca = ctx_->Encrypt(a);
  auto cb = ctx_->Encrypt(b);
  Ciphertext low_a, low_b;
  ASSERT_TRUE(ev().DropLevel(ca, 1, &low_a).ok());
  ASSERT_TRUE(ev().DropLevel(cb, 1, &low_b).ok());
  const std::vector<int> steps = {1, -7, 0, 100, 5};
  auto run = [&](const Ciphertext& x, const Ciphertext& y) {
    std::vector<Ciphertext> r(1);
    EXPECT_TRUE(ev().MulRelin(x, y, &r[0]).ok());
    std::vector<Ciphertext> hoisted;
    EXPECT_TRUE(ev().RotateHoisted(x, steps, &hoisted).ok());
    for (Ciphertext& h : hoisted) r.push_back(std::move(h));
    for (int s : steps) {
      r.emplace_back();
      EXPECT_TRUE(ev().Rotate(x, s, &r.back()).ok());
    }
    r.emplace_back();
    EXPECT_TRUE(ev().Conjugate(x, &r.back()).ok());
    return r;
  };
  for (auto [x, y] : {std::pair{&ca, &cb}, std::pair{&low_a, &low_b}}) {
    ASSERT_TRUE(SetKernelPath(KernelPath::kPortable));
    const std::vector<Ciphertext> want = run(*x, *y);
    // Hoisted against single rotations (portable path).
    for (std::size_t i = 0; i < steps.size(); ++i) {
      EXPECT_TRUE(internal::Access::polys(want[1 + i]) ==
                  internal::Access::polys(want[1 + steps.size() + i]))
          << "step " << steps[i] << " level " << x->level();
    }
    for (KernelPath path : kAllKernelPaths) {
      if (!SetKernelPath(path)) continue;  // this CPU lacks it
      const std::vector<Ciphertext> got = run(*x, *y);
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(internal::Access::polys(got[i]) == internal::Access::polys(want[i]))
            << KernelPathName(path) << " result " << i << " level " << x->level();
      }
    }
  }
}

// Double hoisting: sum_k pt_k * rot(a, s_k) from rotations kept over Q and
// P with one ModDown, against the same sum on complex doubles; with more
// than 64 terms (the kernel's chunk), a step repeated and one given as
// another representative mod slots; bit-identical on every kernel path
// (exact integer arithmetic); and its misuse refused.
TEST_P(EvaluatorTest, DoubleHoistedSumOfPlaintextProducts) {
  SCOPED_TRACE(Trace());
  const KernelPathGuard guard;
  const int64_t slots = static_cast<int64_t>(slots_);
  const std::vector<int> steps = {0, 1, -7, 100, 5, 3};
  auto a = RandomComplex(slots_, rng_);
  Ciphertext top = ctx_->Encrypt(a), low;
  ASSERT_TRUE(ev().DropLevel(top, 1, &low).ok());
  for (const Ciphertext* ca : {&top, &low}) {
    const int level = ca->level();
    std::vector<int> term_steps;
    for (int k = 0; k < 70; ++k) term_steps.push_back(steps[k % steps.size()]);
    term_steps[7] += static_cast<int>(slots);  // the same rotation as step 1
    std::vector<Plaintext> pts(term_steps.size());
    cvec want(slots_, 0.0);
    std::vector<Evaluator::RotatedTerm> terms;
    for (std::size_t k = 0; k < term_steps.size(); ++k) {
      cvec b = RandomComplex(slots_, rng_);
      for (auto& v : b) v /= 8.0;  // keeps the sum of 70 terms near the unit box
      ASSERT_TRUE(ctx_->encoder->Encode(b, slots_, level, ctx_->params->default_scale(),
                                        &pts[k], PlaintextBasis::kQP).ok());
      const cvec r = RotateRef(a, term_steps[k]);
      for (std::size_t j = 0; j < slots_; ++j) want[j] += b[j] * r[j];
      terms.push_back({term_steps[k], &pts[k]});
    }
    auto run = [&] {
      HoistedRotations h;
      EXPECT_TRUE(ev().RotateHoistedExtended(*ca, steps, &h).ok());
      EXPECT_EQ(h.steps(), (std::vector<int>{0, 1, 3, 5, 100, static_cast<int>(slots) - 7}));
      Ciphertext out;
      const absl::Status st = ev().MultiplyPlainSum(h, terms, &out);
      EXPECT_TRUE(st.ok()) << st;
      return out;
    };
    ASSERT_TRUE(SetKernelPath(KernelPath::kPortable));
    const Ciphertext sum = run();
    EXPECT_EQ(sum.level(), level);
    EXPECT_NEAR(sum.scale().log2(), ca->scale().log2() + ctx_->params->default_scale().log2(),
                1e-9);
    Ciphertext rescaled;
    ASSERT_TRUE(ev().Rescale(sum, &rescaled).ok());
    EXPECT_LT(Log2MaxError(ctx_->Decrypt(rescaled), want), kAfterMul) << "level " << level;
    for (KernelPath path : kAllKernelPaths) {
      if (!SetKernelPath(path)) continue;  // this CPU lacks it
      const Ciphertext got = run();
      EXPECT_TRUE(got.polys() == sum.polys())
          << KernelPathName(path) << " level " << level;
    }
  }

  // Misuse.
  HoistedRotations h, empty;
  ASSERT_TRUE(ev().RotateHoistedExtended(top, steps, &h).ok());
  EXPECT_GT(h.bytes(), 0u);
  Plaintext qp, q_only, other_scale, lower;
  const Scale scale = ctx_->params->default_scale();
  const int top_level = top.level();
  ASSERT_TRUE(ctx_->encoder->Encode(a, slots_, top_level, scale, &qp, PlaintextBasis::kQP).ok());
  ASSERT_TRUE(ctx_->encoder->Encode(a, slots_, top_level, scale, &q_only).ok());
  ASSERT_TRUE(ctx_->encoder->Encode(a, slots_, top_level, Scale(scale.value() * 2),
                                    &other_scale, PlaintextBasis::kQP).ok());
  ASSERT_TRUE(ctx_->encoder->Encode(a, slots_, 1, scale, &lower, PlaintextBasis::kQP).ok());
  auto refused = [&](const HoistedRotations& r, std::vector<Evaluator::RotatedTerm> t,
                     const std::string& says) {
    Ciphertext out;
    const absl::Status st = ev().MultiplyPlainSum(r, t, &out);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << says;
    EXPECT_NE(st.message().find(says), std::string::npos) << st;
  };
  refused(empty, {{1, &qp}}, "no rotations");
  refused(h, {}, "no terms");
  refused(h, {{1, &q_only}}, "no P limbs");
  refused(h, {{2, &qp}}, "rotation by 2 is not among the hoisted ones");
  refused(h, {{1, &qp}, {0, &other_scale}}, "term 1: plaintext");
  refused(h, {{1, &lower}}, "expected level >= ");
  refused(h, {{1, nullptr}}, "no plaintext");
  // A plaintext with some P limbs but not |P| of them is malformed for
  // every op.
  Plaintext wrong_p = qp;
  internal::Access::poly(wrong_p) = ring::RnsPoly(ctx_->params->n(), top_level + 1,
                                                  ctx_->params->num_p() + 1, true);
  refused(h, {{1, &wrong_p}}, "limbs");
  Ciphertext unused;
  const absl::Status st = ev().MultiplyPlain(top, wrong_p, &unused);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find("plaintext has"), std::string::npos) << st;
  // A P-limbed plaintext serves the ordinary ops and decodes.
  Ciphertext prod;
  ASSERT_TRUE(ev().MultiplyPlain(top, qp, &prod).ok());
  ASSERT_TRUE(ev().Rescale(prod, &prod).ok());
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(prod), Map2(a, a, std::multiplies<>())), kAfterMul);
  EXPECT_LT(Log2MaxError(Must(ctx_->encoder->DecodeComplex(qp)), a), kFresh);
}

TEST_P(EvaluatorTest, SparseSlotsRotateWithinTheirSpan) {
  SCOPED_TRACE(Trace());
  const std::size_t slots = 64;
  auto a = RandomComplex(slots, rng_);
  auto ca = ctx_->Encrypt(a, slots);
  for (int k : {1, 5, -1, -7, 100}) {
    Ciphertext out;
    ASSERT_TRUE(ev().Rotate(ca, k, &out).ok()) << k;
    EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), RotateRef(a, k)), kAfterMul) << k;
  }
}

TEST_P(EvaluatorTest, InnerSumAndReplicate) {
  SCOPED_TRACE(Trace());
  auto a = RandomComplex(slots_, rng_);
  auto ca = ctx_->Encrypt(a);
  const int stride = 1, count = 8;
  Ciphertext out;
  ASSERT_TRUE(ev().InnerSum(ca, stride, count, &out).ok());
  cvec want(slots_);
  for (std::size_t i = 0; i < slots_; ++i)
    for (int k = 0; k < count; ++k) want[i] += a[(i + k * stride) % slots_];
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), want), kAfterMul);
  // Replicate a 4-slot block 4 times with stride 4 (keys for -4, -8).
  cvec block(slots_, 0);
  for (int i = 0; i < 4; ++i) block[i] = a[i];
  auto cb = ctx_->Encrypt(block);
  auto s = ev().Replicate(cb, 4, 4, &out);
  // -8 has no key in this set: the error names it.
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("rotation -8"), std::string::npos) << s;
  ASSERT_TRUE(ev().Replicate(cb, 2, 2, &out).ok());  // key -2
  cvec rep(slots_, 0);
  for (int i = 0; i < 4; ++i) rep[i] = block[i];
  for (int i = 2; i < 6; ++i) rep[i] += block[i - 2];
  EXPECT_LT(Log2MaxError(ctx_->Decrypt(out), rep), kAfterMul);
}

TEST_P(EvaluatorTest, MisuseGivesErrorsNotCrashes) {
  auto a = RandomComplex(slots_, rng_);
  auto ca = ctx_->Encrypt(a);
  Ciphertext out;
  // Scale mismatch.
  Ciphertext sq;
  ASSERT_TRUE(ev().MulRelin(ca, ca, &sq).ok());
  Ciphertext ca_dropped;
  auto s = ev().Add(ca, sq, &out);
  EXPECT_NE(s.message().find("scales differ"), std::string::npos) << s;
  // Degree 2 into Multiply / Rotate.
  ASSERT_TRUE(ev().Multiply(ca, ca, &sq).ok());
  EXPECT_FALSE(ev().Multiply(sq, ca, &out).ok());
  EXPECT_FALSE(ev().Rotate(sq, 1, &out).ok());
  EXPECT_FALSE(ev().Relinearize(ca, &out).ok());
  // Rescale at level 0.
  ASSERT_TRUE(ev().DropLevel(ca, 0, &ca_dropped).ok());
  s = ev().Rescale(ca_dropped, &out);
  EXPECT_EQ(s.message(), "Rescale: ciphertext at level 0");
  // Scale overflow: 2^40 * 2^40 does not fit a 50-bit level-0 modulus.
  s = ev().Multiply(ca_dropped, ca_dropped, &out);
  EXPECT_NE(s.message().find("does not fit"), std::string::npos) << s;
  // Malformed ciphertexts.
  Ciphertext bad = ca;
  internal::Access::polys(bad).pop_back();
  EXPECT_FALSE(ev().Add(bad, ca, &out).ok());
  bad = ca;
  internal::Access::polys(bad)[1].TruncateQ(1);
  s = ev().Add(bad, ca, &out);
  EXPECT_FALSE(s.ok());
  bad = ca;
  internal::Access::fingerprint(bad) ^= 1;
  s = ev().Rescale(bad, &out);
  EXPECT_NE(s.message().find("other parameters"), std::string::npos) << s;
  bad = ca;
  internal::Access::slots(bad) = 3;
  EXPECT_FALSE(ev().Negate(bad, &out).ok());
  // No keys at all.
  Evaluator bare = Must(Evaluator::Create(ctx_->params));
  EXPECT_EQ(bare.Relinearize(sq, &out).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bare.Conjugate(ca, &out).code(), absl::StatusCode::kFailedPrecondition);
}

INSTANTIATE_TEST_SUITE_P(Rings, EvaluatorTest, ::testing::ValuesIn(Settings()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace blindfold::ckks
