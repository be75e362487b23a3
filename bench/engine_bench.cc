// File: bench/engine_bench.cc
// Benchmarks of the CKKS engine: encoding, encryption, every evaluator op,
// key switching (relinearization, rotations, hoisted rotations) and key
// generation, at three 128-bit presets:
//   N = 2^13  kCkks128LogN13LogQP180   |Q| = 3,  dnum 3
//   N = 2^14  kCkks128LogN14LogQP380   |Q| = 8,  dnum 8
//   N = 2^14  kCkks128LogN14LogQP430   |Q| = 8,  dnum 4 (|P| = 2)
//   N = 2^15  kCkks128LogN15LogQP872   |Q| = 20, dnum 10
// Ciphertexts are fresh, so every op runs at the top level |Q| - 1 (the
// most limbs: the worst case of each preset).
//
// Three modes:
//   engine_bench [--threads=K] [google benchmark flags]
//       The full Google Benchmark run. Names read
//       "<op>/logN:14/L:8/dnum:8/threads:1/ifma/real_time" (L = |Q|; wall
//       time, as the engine may run threads) and the same
//       facts are counters (log_n, levels = |Q|, dnum, threads, ifma) so
//       --benchmark_format=json carries them. mul_relin and rotate also
//       report log2_err: log2 of the largest slot error of their output
//       (decrypted and decoded after the timing; issue 7, finding 5).
//       rotate_hoisted/k:K times K
//       rotations sharing one decomposition; its counter per_rotation is
//       seconds per rotation. bsgs_single/k:K and bsgs_double/k:K time one
//       giant step of a BSGS transform, sum_b pt * rot(a, b) over K baby
//       rotations, single hoisted (a ModDown per rotation) and double
//       hoisted (Evaluator::MultiplyPlainSum: one ModDown).
//   engine_bench --summary [--threads=K]
//       A quick fixed set of timings (median of 5-21 samples each, no Google
//       Benchmark repetitions) at N = 2^13 and 2^14 (dnum 8 and 4), printed as a compact
//       table, then the serialized sizes. About 5-10 s on two cores (plus
//       a line with the load average: other processes skew timings).
//   engine_bench --sizes
//       Serialized sizes only (SerializedSizes(): ckks/serialization.h).
//
// Threads: 1 by default; --threads=K or BLINDFOLD_THREADS=K sets the engine's
// thread count (base/thread_pool.h). Kernel path: BLINDFOLD_KERNEL=portable
// or ifma (base/cpu_features.h); the default is IFMA when the CPU has it.
// Contexts (keys included) are built lazily per preset and cached, so a
// --benchmark_filter that skips N = 2^15 never pays for its key generation.
// Memory: rotate_hoisted/k:16 at N = 2^15 holds 16 Galois keys of ~115 MB.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "base/aligned.h"
#include "base/cpu_features.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "ckks/encoder.h"
#include "ckks/internal/access.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keys.h"
#include "ckks/parameters.h"
#include "ckks/serialization.h"

namespace blindfold::ckks {
namespace {

constexpr Preset kAllPresets[] = {
    Preset::kCkks128LogN13LogQP180, Preset::kCkks128LogN14LogQP380,
    Preset::kCkks128LogN14LogQP430, Preset::kCkks128LogN15LogQP872};
constexpr Preset kSummaryPresets[] = {Preset::kCkks128LogN13LogQP180,
                                      Preset::kCkks128LogN14LogQP380,
                                      Preset::kCkks128LogN14LogQP430};
constexpr int kHoistCounts[] = {1, 4, 16};
constexpr int kMaxHoist = 16;

[[noreturn]] void Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "engine_bench: %s: %s\n", what.c_str(),
               std::string(s.ToString()).c_str());
  std::exit(1);
}

// ---------------------------------------------------------------------------
// Per-preset context: parameters, keys, codec objects and operands. The
// secret and public keys are made on creation; the relinearization key and
// the Galois keys for rotations 1..k only when an op first needs them.
// ---------------------------------------------------------------------------
struct Ctx {
  Preset preset;
  ParametersPtr params;
  std::unique_ptr<KeyGenerator> keygen;
  SecretKey sk;
  PublicKey pk;
  std::optional<RelinKey> relin;
  GaloisKeys galois;
  int rotation_keys = 0;  // Galois keys exist for steps 1..rotation_keys
  std::unique_ptr<Encoder> encoder;
  std::unique_ptr<Encryptor> encryptor;      // public key
  std::unique_ptr<Encryptor> sym_encryptor;  // secret key, seeded
  std::unique_ptr<Decryptor> decryptor;           // exact
  std::unique_ptr<Decryptor> flooding_decryptor;  // default options
  std::unique_ptr<Evaluator> evaluator;

  // Operands, all at the top level with full slots.
  std::vector<double> values;
  Plaintext pt;
  // kMaxHoist distinct plaintexts (a transform's diagonals, each read from
  // memory), over Q and over Q and P (MultiplyPlainSum).
  std::vector<Plaintext> diagonals, diagonals_qp;
  Ciphertext ct_a, ct_b;  // public-key encryptions
  Ciphertext ct_sym;      // seeded symmetric encryption
  Ciphertext ct_sq;       // a * b, degree 2, scale^2
  Ciphertext ct_mr;       // a * b relinearized, scale^2 (rescale input)
  std::vector<int> steps; // 1..kMaxHoist
  AlignedVector<uint64_t> limb;  // one limb for the NTT rows

  // Scratch outputs.
  Plaintext pt_out;
  Ciphertext ct_out;
  std::vector<Ciphertext> cts_out;
  HoistedRotations hoisted;
  std::vector<double> decoded;

  int log_n() const { return params->log_n(); }

  // Evaluation keys are an immutable set: a new key means a new set.
  void RebuildEvaluator() {
    auto keys = EvaluationKeys::Create(params, relin, galois);
    if (!keys.ok()) Die("EvaluationKeys", keys.status());
    auto ev = Evaluator::Create(params, *std::move(keys));
    if (!ev.ok()) Die("Evaluator", ev.status());
    evaluator = std::make_unique<Evaluator>(*std::move(ev));
  }

  void EnsureRelin() {
    if (relin) return;
    auto rk = keygen->GenRelinKey(sk);
    if (!rk.ok()) Die("GenRelinKey", rk.status());
    relin = *std::move(rk);
    RebuildEvaluator();
    if (auto s = evaluator->MulRelin(ct_a, ct_b, &ct_mr); !s.ok()) Die("MulRelin", s);
  }

  void EnsureRotations(int k) {
    if (rotation_keys >= k) return;
    std::vector<int> want(steps.begin(), steps.begin() + k);
    auto gk = keygen->GenGaloisKeys(sk, want, /*conjugation=*/false);
    if (!gk.ok()) Die("GenGaloisKeys", gk.status());
    galois = *std::move(gk);
    rotation_keys = k;
    RebuildEvaluator();
  }
};

std::unique_ptr<Ctx> MakeCtx(Preset preset) {
  auto c = std::make_unique<Ctx>();
  c->preset = preset;
  auto p = Parameters::Create(PresetLiteral(preset));
  if (!p.ok()) Die(PresetName(preset), p.status());
  c->params = *p;
  c->keygen = std::make_unique<KeyGenerator>(c->params);
  c->sk = c->keygen->GenSecretKey();
  auto pk = c->keygen->GenPublicKey(c->sk);
  if (!pk.ok()) Die("GenPublicKey", pk.status());
  c->pk = *std::move(pk);
  c->encoder = std::make_unique<Encoder>(c->params);
  auto enc = Encryptor::Create(c->params, c->pk);
  auto sym = Encryptor::Create(c->params, c->sk.Clone());
  // Exact: log2_err measures the engine, and `decrypt` times decryption
  // alone (decrypt_flooded adds the IND-CPA-D flooding).
  auto dec = Decryptor::Create(c->params, c->sk.Clone(), DecryptionOptions::Exact());
  auto flood = Decryptor::Create(c->params, c->sk.Clone());
  if (!enc.ok()) Die("Encryptor", enc.status());
  if (!sym.ok()) Die("Encryptor", sym.status());
  if (!dec.ok()) Die("Decryptor", dec.status());
  if (!flood.ok()) Die("Decryptor", flood.status());
  c->encryptor = std::make_unique<Encryptor>(*std::move(enc));
  c->sym_encryptor = std::make_unique<Encryptor>(*std::move(sym));
  c->decryptor = std::make_unique<Decryptor>(*std::move(dec));
  c->flooding_decryptor = std::make_unique<Decryptor>(*std::move(flood));
  c->RebuildEvaluator();

  const std::size_t slots = c->params->max_slots();
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  c->values.resize(slots);
  for (double& v : c->values) v = d(rng);
  auto check = [&](const absl::Status& s, const char* what) {
    if (!s.ok()) Die(absl::StrFormat("%s (%s)", what, PresetName(preset)), s);
  };
  check(c->encoder->Encode(c->values, slots, c->params->max_level(),
                           c->params->default_scale(), &c->pt),
        "Encode");
  c->diagonals.resize(kMaxHoist);
  c->diagonals_qp.resize(kMaxHoist);
  for (int i = 0; i < kMaxHoist; ++i) {
    std::vector<double> d(slots);
    for (double& v : d) v = 0.5 * std::uniform_real_distribution<double>(-1.0, 1.0)(rng);
    check(c->encoder->Encode(d, slots, c->params->max_level(), c->params->default_scale(),
                             &c->diagonals[i]),
          "Encode");
    check(c->encoder->Encode(d, slots, c->params->max_level(), c->params->default_scale(),
                             &c->diagonals_qp[i], PlaintextBasis::kQP),
          "Encode (Q and P)");
  }
  check(c->encryptor->Encrypt(c->pt, &c->ct_a), "Encrypt");
  check(c->encryptor->Encrypt(c->pt, &c->ct_b), "Encrypt");
  check(c->sym_encryptor->Encrypt(c->pt, &c->ct_sym), "Encrypt (symmetric)");
  check(c->evaluator->Multiply(c->ct_a, c->ct_b, &c->ct_sq), "Multiply");
  for (int s = 1; s <= kMaxHoist; ++s) c->steps.push_back(s);
  c->limb.assign(c->params->n(), 0);
  for (auto& w : c->limb) w = rng() % c->params->q(0);
  return c;
}

Ctx& GetCtx(Preset preset) {
  static auto* cache = new std::map<Preset, std::unique_ptr<Ctx>>();
  auto& slot = (*cache)[preset];
  if (!slot) slot = MakeCtx(preset);
  return *slot;
}

// ---------------------------------------------------------------------------
// The operations, shared by both modes. `prepare` makes the keys an op needs
// (outside the timing); `run` performs the op once.
// ---------------------------------------------------------------------------
enum class Unit { kMicro, kMilli };

struct Op {
  std::string name;
  Unit unit;
  std::function<void(Ctx&)> prepare;
  std::function<absl::Status(Ctx&)> run;
  int hoist = 0;  // k for rotate_hoisted
};

std::vector<Op> Ops() {
  auto none = [](Ctx&) {};
  auto relin = [](Ctx& c) { c.EnsureRelin(); };
  std::vector<Op> ops = {
      {"ntt_fwd_limb", Unit::kMicro, none,
       [](Ctx& c) {
         internal::Access::ring(*c.params).ntt(0).Forward(c.limb.data());
         return absl::OkStatus();
       }},
      {"ntt_inv_limb", Unit::kMicro, none,
       [](Ctx& c) {
         internal::Access::ring(*c.params).ntt(0).Inverse(c.limb.data());
         return absl::OkStatus();
       }},
      {"encode", Unit::kMicro, none,
       [](Ctx& c) {
         return c.encoder->Encode(c.values, c.params->max_slots(), c.params->max_level(),
                                  c.params->default_scale(), &c.pt_out);
       }},
      {"decode", Unit::kMicro, none,
       [](Ctx& c) {
         auto v = c.encoder->Decode(c.pt);
         if (!v.ok()) return v.status();
         c.decoded = *std::move(v);
         return absl::OkStatus();
       }},
      {"encrypt_pk", Unit::kMicro, none,
       [](Ctx& c) { return c.encryptor->Encrypt(c.pt, &c.ct_out); }},
      {"encrypt_sym_seeded", Unit::kMicro, none,
       [](Ctx& c) { return c.sym_encryptor->Encrypt(c.pt, &c.ct_out); }},
      {"decrypt", Unit::kMicro, none,
       [](Ctx& c) { return c.decryptor->Decrypt(c.ct_a, &c.pt_out); }},
      {"decrypt_flooded", Unit::kMicro, none,
       [](Ctx& c) { return c.flooding_decryptor->Decrypt(c.ct_a, &c.pt_out); }},
      {"add", Unit::kMicro, none,
       [](Ctx& c) { return c.evaluator->Add(c.ct_a, c.ct_b, &c.ct_out); }},
      {"multiply_plain", Unit::kMicro, none,
       [](Ctx& c) { return c.evaluator->MultiplyPlain(c.ct_a, c.pt, &c.ct_out); }},
      // Throughput mode's linear maps: 64 scalar-weight terms in one pass
      // (two operands alternating, so it measures the arithmetic, not DRAM);
      // runtime/cost_model.cc divides by 64.
      {"linear_combination/k:64", Unit::kMicro, none,
       [](Ctx& c) {
         std::vector<const Ciphertext*> xs(64);
         std::vector<double> w(64);
         for (int i = 0; i < 64; ++i) {
           xs[i] = i % 2 ? &c.ct_a : &c.ct_b;
           w[i] = 0.25 + 1e-3 * i;
         }
         return c.evaluator->LinearCombination(xs, w, c.params->default_scale(), &c.ct_out);
       }},
      {"multiply", Unit::kMicro, none,
       [](Ctx& c) { return c.evaluator->Multiply(c.ct_a, c.ct_b, &c.ct_out); }},
      {"relinearize", Unit::kMilli, relin,
       [](Ctx& c) { return c.evaluator->Relinearize(c.ct_sq, &c.ct_out); }},
      {"mul_relin", Unit::kMilli, relin,
       [](Ctx& c) { return c.evaluator->MulRelin(c.ct_a, c.ct_b, &c.ct_out); }},
      {"rescale", Unit::kMicro, relin,
       [](Ctx& c) { return c.evaluator->Rescale(c.ct_mr, &c.ct_out); }},
      {"rotate", Unit::kMilli, [](Ctx& c) { c.EnsureRotations(1); },
       [](Ctx& c) { return c.evaluator->Rotate(c.ct_a, 1, &c.ct_out); }},
  };
  for (int k : kHoistCounts) {
    ops.push_back({absl::StrFormat("rotate_hoisted/k:%d", k), Unit::kMilli,
                   [k](Ctx& c) { c.EnsureRotations(k); },
                   [k](Ctx& c) {
                     return c.evaluator->RotateHoisted(
                         c.ct_a, std::span<const int>(c.steps.data(), k), &c.cts_out);
                   },
                   k});
  }
  // A giant step of a BSGS linear transform: sum_b pt * rot(a, b) over k
  // baby rotations, single hoisted (RotateHoisted, then MultiplyPlain and
  // Add per rotation: k ModDowns) and double hoisted (RotateHoistedExtended
  // and MultiplyPlainSum: one ModDown).
  for (int k : kHoistCounts) {
    ops.push_back({absl::StrFormat("bsgs_single/k:%d", k), Unit::kMilli,
                   [k](Ctx& c) { c.EnsureRotations(k); },
                   [k](Ctx& c) {
                     BF_RETURN_IF_ERROR(c.evaluator->RotateHoisted(
                         c.ct_a, std::span<const int>(c.steps.data(), k), &c.cts_out));
                     Ciphertext p;
                     for (int i = 0; i < k; ++i) {
                       BF_RETURN_IF_ERROR(
                           c.evaluator->MultiplyPlain(c.cts_out[i], c.diagonals[i], &p));
                       if (i == 0) {
                         c.ct_out = std::move(p);
                       } else {
                         BF_RETURN_IF_ERROR(c.evaluator->Add(c.ct_out, p, &c.ct_out));
                       }
                     }
                     return absl::OkStatus();
                   },
                   k});
    ops.push_back({absl::StrFormat("bsgs_double/k:%d", k), Unit::kMilli,
                   [k](Ctx& c) { c.EnsureRotations(k); },
                   [k](Ctx& c) {
                     BF_RETURN_IF_ERROR(c.evaluator->RotateHoistedExtended(
                         c.ct_a, std::span<const int>(c.steps.data(), k), &c.hoisted));
                     std::vector<Evaluator::RotatedTerm> terms;
                     for (int i = 0; i < k; ++i) {
                       terms.push_back({c.steps[i], &c.diagonals_qp[i]});
                     }
                     return c.evaluator->MultiplyPlainSum(c.hoisted, terms, &c.ct_out);
                   },
                   k});
  }
  ops.push_back({"keygen_relin", Unit::kMilli, none, [](Ctx& c) {
                   RelinKey k = *c.keygen->GenRelinKey(c.sk);
                   benchmark::DoNotOptimize(k);
                   return absl::OkStatus();
                 }});
  ops.push_back({"keygen_galois", Unit::kMilli, none, [](Ctx& c) {
                   SwitchingKey k = *c.keygen->GenGaloisKey(
                       c.sk, c.evaluator->GaloisElementForRotation(1));
                   benchmark::DoNotOptimize(k);
                   return absl::OkStatus();
                 }});
  return ops;
}

struct PresetFacts {
  int log_n, levels, dnum;
};

// Facts of a preset without building it (Parameters::Create only generates
// primes; no keys).
PresetFacts Facts(Preset preset) {
  static auto* cache = new std::map<Preset, PresetFacts>();
  auto it = cache->find(preset);
  if (it != cache->end()) return it->second;
  auto p = Parameters::Create(PresetLiteral(preset));
  if (!p.ok()) Die(PresetName(preset), p.status());
  PresetFacts f{(*p)->log_n(), (*p)->num_q(), (*p)->dnum()};
  cache->emplace(preset, f);
  return f;
}

// log2 of the largest slot error of the last output of mul_relin (a * a,
// not rescaled) or rotate (a rotated by 1); NaN for other ops.
double Log2OutputError(Ctx& c, const std::string& op) {
  if (op != "mul_relin" && op != "rotate") return std::nan("");
  auto pt = c.decryptor->DecryptNew(c.ct_out);
  if (!pt.ok()) Die("Decrypt", pt.status());
  auto got = c.encoder->Decode(*pt);
  if (!got.ok()) Die("Decode", got.status());
  const std::size_t n = c.values.size();
  double err = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double want = op == "rotate" ? c.values[(i + 1) % n] : c.values[i] * c.values[i];
    err = std::max(err, std::abs((*got)[i] - want));
  }
  return std::log2(err);
}

std::string KernelName() { return std::string(KernelPathName(ActiveKernelPath())); }

std::string Suffix(Preset preset) {
  const PresetFacts f = Facts(preset);
  return absl::StrFormat("logN:%d/L:%d/dnum:%d/threads:%d/%s", f.log_n, f.levels,
                         f.dnum, ThreadCount(), KernelName());
}

// ---------------------------------------------------------------------------
// Google Benchmark mode.
// ---------------------------------------------------------------------------
void RegisterAll() {
  for (Preset preset : kAllPresets) {
    for (const Op& op : Ops()) {
      const std::string name = op.name + "/" + Suffix(preset);
      auto* b = benchmark::RegisterBenchmark(name.c_str(), [preset, op](benchmark::State& state) {
        Ctx& c = GetCtx(preset);
        op.prepare(c);
        if (absl::Status s = op.run(c); !s.ok()) {
          state.SkipWithError(std::string(s.ToString()).c_str());
          return;
        }
        for (auto _ : state) {
          absl::Status s = op.run(c);
          benchmark::DoNotOptimize(s);
          benchmark::ClobberMemory();
        }
        state.counters["log_n"] = c.log_n();
        state.counters["levels"] = c.params->num_q();
        state.counters["dnum"] = c.params->dnum();
        state.counters["threads"] = ThreadCount();
        state.counters["ifma"] = ActiveKernelPath() == KernelPath::kIfma ? 1 : 0;
        state.counters["avx2"] = ActiveKernelPath() == KernelPath::kAvx2 ? 1 : 0;
        if (const double e = Log2OutputError(c, op.name); !std::isnan(e)) {
          state.counters["log2_err"] = e;
        }
        if (op.hoist > 0) {
          state.counters["per_rotation"] = benchmark::Counter(
              op.hoist, benchmark::Counter::kIsIterationInvariantRate |
                            benchmark::Counter::kInvert);
        }
      });
      b->Unit(op.unit == Unit::kMicro ? benchmark::kMicrosecond : benchmark::kMillisecond);
      b->UseRealTime();
    }
  }
}

// ---------------------------------------------------------------------------
// Summary mode: medians of short runs, no Google Benchmark machinery.
// ---------------------------------------------------------------------------
using Clock = std::chrono::steady_clock;

// Median seconds per call of fn. Fast ops are batched so each sample lasts
// at least ~0.2 ms; sampling stops after 21 samples or once 5 samples and
// `budget_s` have passed.
double MedianSeconds(const std::function<void()>& fn, double budget_s = 0.25) {
  auto t0 = Clock::now();
  fn();  // warm-up (caches, lazy tables, page faults)
  double once = std::chrono::duration<double>(Clock::now() - t0).count();
  const int batch = std::clamp(static_cast<int>(2e-4 / std::max(once, 1e-9)), 1, 1000);
  std::vector<double> samples;
  const auto start = Clock::now();
  while (samples.size() < 21) {
    const auto s0 = Clock::now();
    for (int i = 0; i < batch; ++i) fn();
    samples.push_back(std::chrono::duration<double>(Clock::now() - s0).count() / batch);
    const double spent = std::chrono::duration<double>(Clock::now() - start).count();
    if (samples.size() >= 5 && spent >= budget_s) break;
  }
  std::sort(samples.begin(), samples.end());
  const std::size_t m = samples.size();
  return m % 2 ? samples[m / 2] : 0.5 * (samples[m / 2 - 1] + samples[m / 2]);
}

// Right-aligned in 10 columns, or unpadded for notes.
std::string FormatTime(double s, bool pad = true) {
  std::string t;
  if (s < 1e-3) {
    t = absl::StrFormat("%.1f µs", s * 1e6);
  } else if (s < 1.0) {
    t = absl::StrFormat("%.2f ms", s * 1e3);
  } else {
    t = absl::StrFormat("%.3f s ", s);
  }
  if (pad) {
    // "µ" is two bytes but one column.
    const std::size_t cols = t.size() - (t.find("µ") != std::string::npos ? 1 : 0);
    if (cols < 10) t.insert(0, 10 - cols, ' ');
  }
  return t;
}

std::string FormatBytes(std::size_t bytes) {
  return absl::StrFormat("%12zu B  %9.3f MB", bytes, static_cast<double>(bytes) / 1e6);
}

// Serialized sizes of parameters, plaintexts, ciphertexts and keys
// (ckks/serialization.h).
void SerializedSizes(Ctx& c) {
  const PresetFacts f = Facts(c.preset);
  c.EnsureRelin();
  const Parameters& params = *c.params;
  Ciphertext rescaled;
  if (auto s = c.evaluator->Rescale(c.ct_mr, &rescaled); !s.ok()) Die("Rescale", s);
  GaloisKeys one_galois = *c.keygen->GenGaloisKeys(c.sk, std::vector<int>{1}, false);

  auto row = [&](const char* what, const absl::StatusOr<std::string>& bytes) {
    if (!bytes.ok()) {
      std::printf("  %-34s 2^%-2d %4d %s\n", what, f.log_n, f.dnum,
                  std::string(bytes.status().ToString()).c_str());
      return;
    }
    std::printf("  %-34s 2^%-2d %4d %s\n", what, f.log_n, f.dnum,
                FormatBytes(bytes->size()).c_str());
  };
  row("parameters", SerializeParameters(params));
  row("plaintext (top level)", SerializePlaintext(params, c.pt));
  row("ciphertext, fresh (public key)", SerializeCiphertext(params, c.ct_a));
  row("ciphertext, seeded symmetric", SerializeCiphertext(params, c.ct_sym, true));
  row("ciphertext, after one rescale", SerializeCiphertext(params, rescaled));
  row("public key", SerializePublicKey(params, c.pk));
  row("relinearization key", SerializeRelinKey(params, *c.relin));
  row("Galois key (one rotation)", SerializeGaloisKeys(params, one_galois));
}

void PrintSizesHeader() {
  std::printf("\nSerialized sizes (MB = 10^6 bytes), L = |Q| primes, top level:\n");
  std::printf("  %-34s %-4s %4s %14s %12s\n", "object", "N", "dnum", "bytes", "MB");
}

void RunSizes(std::span<const Preset> presets) {
  PrintSizesHeader();
  for (const Preset& preset : presets) {
    if (&preset != &presets.front()) std::printf("\n");
    SerializedSizes(GetCtx(preset));
  }
}

void RunSummary(const char* argv0) {
  const std::string kernel = KernelName();
  std::printf("Blindfold engine summary: threads %d, kernel %s (CPU %s IFMA); "
              "median of 5-21 samples\n",
              ThreadCount(), kernel.c_str(), CpuHasIfma() ? "has" : "lacks");
  double load[1] = {0};
  if (getloadavg(load, 1) == 1) {
    // Other processes on the machine skew the timings; say how busy it is.
    // The 1-minute average lags, and a benchmark run just before this one
    // (or this one's own key generation) counts as about 1.
    std::printf("load average %.2f on %u CPUs%s\n", load[0],
                std::thread::hardware_concurrency(),
                load[0] > 1.0 + 0.5 * std::thread::hardware_concurrency()
                    ? " (busy machine: expect noisy timings)"
                    : "");
  }
  std::printf("L = |Q| primes; ciphertexts are fresh, ops run at the top level L-1\n\n");
  std::printf("%-22s %-4s %3s %4s %3s %-8s %10s  %s\n", "op", "N", "L", "dnum", "thr",
              "kernel", "time", "note");
  const std::vector<Op> ops = Ops();
  for (Preset preset : kSummaryPresets) {
    if (preset != kSummaryPresets[0]) std::printf("\n");
    const auto t_ctx = Clock::now();
    Ctx& c = GetCtx(preset);
    c.EnsureRelin();
    c.EnsureRotations(kMaxHoist);
    const double setup = std::chrono::duration<double>(Clock::now() - t_ctx).count();
    const PresetFacts f = Facts(preset);
    double hoist1 = 0;
    for (const Op& op : ops) {
      op.prepare(c);
      if (absl::Status s = op.run(c); !s.ok()) Die(op.name, s);
      const bool slow = op.name.rfind("keygen", 0) == 0;
      const double t = MedianSeconds(
          [&] {
            absl::Status s = op.run(c);
            benchmark::DoNotOptimize(s);
          },
          slow ? 0.4 : 0.25);
      std::string note;
      if (op.hoist == 1) hoist1 = t;
      if (op.hoist > 1) {
        note = absl::StrFormat("%s per rotation; each one after the first +%s",
                               FormatTime(t / op.hoist, false),
                               FormatTime((t - hoist1) / (op.hoist - 1), false));
      }
      std::printf("%-22s 2^%-2d %3d %4d %3d %-8s %s  %s\n", op.name.c_str(), f.log_n,
                  f.levels, f.dnum, ThreadCount(), kernel.c_str(), FormatTime(t).c_str(),
                  note.c_str());
      std::fflush(stdout);
    }
    std::printf("(2^%d context: public, relinearization and %d Galois keys made in %s)\n",
                f.log_n, kMaxHoist, FormatTime(setup, false).c_str());
  }
  RunSizes(kSummaryPresets);
  const char* env_kernel = std::getenv("BLINDFOLD_KERNEL");
  std::printf("\nFull run (all ops, N = 2^13..2^15, Google Benchmark):\n  %s%s "
              "--threads=%d [--benchmark_format=json] [--benchmark_filter=logN:14]\n",
              env_kernel ? absl::StrFormat("BLINDFOLD_KERNEL=%s ", env_kernel).c_str() : "",
              argv0, ThreadCount());
}

// Removes our own flags from argv; returns the thread count asked for (or 0).
struct Flags {
  bool summary = false;
  bool sizes = false;
  int threads = 0;
};

Flags StripFlags(int* argc, char** argv) {
  Flags f;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--summary") == 0) {
      f.summary = true;
    } else if (std::strcmp(a, "--sizes") == 0) {
      f.sizes = true;
    } else if (std::strncmp(a, "--threads=", 10) == 0) {
      f.threads = std::atoi(a + 10);
    } else if (std::strcmp(a, "--threads") == 0 && i + 1 < *argc) {
      f.threads = std::atoi(argv[++i]);
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
  return f;
}

}  // namespace
}  // namespace blindfold::ckks

int main(int argc, char** argv) {
  using namespace blindfold::ckks;  // NOLINT
  const Flags flags = StripFlags(&argc, argv);
  // Single thread unless asked: --threads wins over BLINDFOLD_THREADS.
  int threads = 1;
  if (const char* env = std::getenv("BLINDFOLD_THREADS")) threads = std::atoi(env);
  if (flags.threads > 0) threads = flags.threads;
  blindfold::SetThreadCount(std::max(threads, 1));

  if (flags.summary) {
    RunSummary(argv[0]);
    return 0;
  }
  if (flags.sizes) {
    RunSizes(kAllPresets);
    return 0;
  }
  RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("threads", std::to_string(blindfold::ThreadCount()));
  benchmark::AddCustomContext("kernel", KernelName());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
