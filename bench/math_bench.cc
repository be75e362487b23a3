// File: bench/math_bench.cc
// Google Benchmark microbenchmarks of the math layer's hot kernels on both
// kernel paths (portable, AVX2 + FMA and AVX-512 IFMA): negacyclic NTT (forward lazy,
// forward reduced, inverse) for log_n 13..16 with a 50-bit NTT prime, and the
// element-wise MulModVec / MulScalarModVec / DotProductModVec (k = 8).
//
// Each benchmark's first argument is the path (0 = portable, 1 = ifma,
// 2 = avx2) and the label repeats it by name; a path the CPU lacks is
// reported as skipped.
// Single thread. Example:
//   ./build/bench/math_bench --benchmark_filter=Ntt --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/aligned.h"
#include "base/cpu_features.h"
#include "base/target.h"
#include "math/modarith.h"
#include "math/ntt.h"
#include "math/primes.h"
#include "math/vec_ops.h"

namespace blindfold::math {
namespace {

constexpr int kQBits = 50;

// Selects the path of the benchmark's argument 0; false (and the run marked
// skipped) when this CPU cannot run it.
bool SelectPath(benchmark::State& state) {
  const auto path = static_cast<KernelPath>(state.range(0));
  if (!SetKernelPath(path)) {
    state.SkipWithError("kernel path unavailable on this CPU");
    return false;
  }
  state.SetLabel(std::string(KernelPathName(path)));
  return true;
}

uint64_t FirstPrime(int log_n) {
  auto primes = GenerateNttPrimes(kQBits, 1, uint64_t{2} << log_n);
  return primes.ok() ? (*primes)[0] : 0;
}

AlignedVector<uint64_t> RandomVec(std::size_t n, uint64_t bound,
                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  AlignedVector<uint64_t> v(n);
  for (auto& x : v) x = rng() % bound;
  return v;
}

enum class NttOp { kForwardLazy, kForward, kInverse, kInverseLazy };

void BM_Ntt(benchmark::State& state, NttOp op) {
  if (!SelectPath(state)) return;
  const int log_n = static_cast<int>(state.range(1));
  const uint64_t q = FirstPrime(log_n);
  auto tables = NttTables::Create(log_n, Modulus(q));
  if (q == 0 || !tables.ok()) {
    state.SkipWithError("no NTT prime / tables");
    return;
  }
  // Each op maps its own input range into itself, so it can run in place.
  auto a = RandomVec(tables->n(), q, 1);
  for (auto _ : state) {
    switch (op) {
      case NttOp::kForwardLazy: tables->ForwardLazy(a.data()); break;
      case NttOp::kForward: tables->Forward(a.data()); break;
      case NttOp::kInverse: tables->Inverse(a.data()); break;
      case NttOp::kInverseLazy: tables->InverseLazy(a.data()); break;
    }
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  state.counters["N"] = static_cast<double>(tables->n());
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(tables->n()));
}

// The paths this build has (argument 0 is a KernelPath): portable, AVX2,
// IFMA on x86-64; portable, NEON on aarch64 (base/target.h).
#if BLINDFOLD_TARGET_AARCH64
constexpr int kBenchPaths[] = {0, 3};
#else
constexpr int kBenchPaths[] = {0, 2, 1};
#endif

void NttArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"path", "log_n"});
  for (int path : kBenchPaths) {
    for (int log_n : {13, 14, 15, 16}) b->Args({path, log_n});
  }
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(BM_Ntt, ForwardLazy, NttOp::kForwardLazy)->Apply(NttArgs);
BENCHMARK_CAPTURE(BM_Ntt, Forward, NttOp::kForward)->Apply(NttArgs);
BENCHMARK_CAPTURE(BM_Ntt, InverseLazy, NttOp::kInverseLazy)->Apply(NttArgs);
BENCHMARK_CAPTURE(BM_Ntt, Inverse, NttOp::kInverse)->Apply(NttArgs);

void VecArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"path", "log_n"});
  for (int path : kBenchPaths) {
    for (int log_n : {14, 16}) b->Args({path, log_n});
  }
  b->Unit(benchmark::kMicrosecond);
}

void BM_MulModVec(benchmark::State& state) {
  if (!SelectPath(state)) return;
  const std::size_t n = std::size_t{1} << state.range(1);
  const Modulus q(FirstPrime(static_cast<int>(state.range(1))));
  auto a = RandomVec(n, q.value, 2), b = RandomVec(n, q.value, 3);
  AlignedVector<uint64_t> out(n);
  for (auto _ : state) {
    MulModVec(a.data(), b.data(), out.data(), n, q);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["N"] = static_cast<double>(n);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_MulModVec)->Apply(VecArgs);

void BM_MulScalarModVec(benchmark::State& state) {
  if (!SelectPath(state)) return;
  const std::size_t n = std::size_t{1} << state.range(1);
  const Modulus q(FirstPrime(static_cast<int>(state.range(1))));
  auto a = RandomVec(n, q.value, 4);
  AlignedVector<uint64_t> out(n);
  const uint64_t w = a[17];
  for (auto _ : state) {
    MulScalarModVec(a.data(), w, out.data(), n, q);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["N"] = static_cast<double>(n);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_MulScalarModVec)->Apply(VecArgs);

void BM_DotProductModVec(benchmark::State& state) {
  if (!SelectPath(state)) return;
  constexpr int kTerms = 8;
  const std::size_t n = std::size_t{1} << state.range(1);
  const Modulus q(FirstPrime(static_cast<int>(state.range(1))));
  std::vector<AlignedVector<uint64_t>> as, bs;
  std::vector<const uint64_t*> ap, bp;
  for (int i = 0; i < kTerms; ++i) {
    as.push_back(RandomVec(n, q.value, 10 + i));
    bs.push_back(RandomVec(n, q.value, 100 + i));
  }
  for (int i = 0; i < kTerms; ++i) {
    ap.push_back(as[i].data());
    bp.push_back(bs[i].data());
  }
  AlignedVector<uint64_t> out(n);
  for (auto _ : state) {
    DotProductModVec(ap.data(), bp.data(), kTerms, out.data(), n, q);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["N"] = static_cast<double>(n);
  state.counters["k"] = kTerms;
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_DotProductModVec)->Apply(VecArgs);

}  // namespace
}  // namespace blindfold::math
