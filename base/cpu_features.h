// File: base/cpu_features.h
// Which SIMD kernels this machine can run, and which the user asked for.
// Paths, best first: AVX-512 IFMA, AVX2 (+FMA) on x86-64 builds; NEON on
// aarch64 builds (base/target.h); portable C++ everywhere. The
// environment variable BLINDFOLD_KERNEL=ifma|avx2|neon|portable (or
// SetKernelPath) forces a path, so every path the CPU has is tested on one
// machine. Forcing a path the CPU lacks is never silently changed: the
// process reports it on stderr once and through KernelRequestError() (the
// test environment in base/kernel_test_env.cc skips every test then).
// BLINDFOLD_CPU_HIDE=ifma,avx2,neon (any subset) hides CPU features from this
// process, so one machine can test what a CPU without them does.
#ifndef BLINDFOLD_BASE_CPU_FEATURES_H_
#define BLINDFOLD_BASE_CPU_FEATURES_H_

#include <string>
#include <string_view>

namespace blindfold {

enum class KernelPath { kPortable = 0, kIfma = 1, kAvx2 = 2, kNeon = 3 };

// True when the CPU and OS support AVX-512F/DQ/BW/VL and AVX-512 IFMA.
bool CpuHasIfma();
// True when the CPU and OS support AVX2 and FMA (256-bit YMM state).
bool CpuHasAvx2();
// True on aarch64 builds (Advanced SIMD with double-precision lanes, FMA and
// round-to-nearest is part of the AArch64 baseline); false elsewhere.
bool CpuHasNeon();
// True when this CPU can run `path`.
bool CpuHasKernelPath(KernelPath path);

// The path kernels use now: the forced one if any (and supported), else the
// best the CPU has. A BLINDFOLD_KERNEL the CPU lacks (or that names no
// path) leaves the best path active and sets KernelRequestError().
KernelPath ActiveKernelPath();

// Empty unless BLINDFOLD_KERNEL asked for a path this process cannot run;
// then a one-line reason ("BLINDFOLD_KERNEL=avx2: this CPU lacks AVX2+FMA").
const std::string& KernelRequestError();

// Forces a path for the whole process (tests, benchmarks). Returns false and
// changes nothing if the CPU lacks `path`.
bool SetKernelPath(KernelPath path);

std::string_view KernelPathName(KernelPath path);

inline constexpr KernelPath kAllKernelPaths[] = {
    KernelPath::kPortable, KernelPath::kAvx2, KernelPath::kIfma,
    KernelPath::kNeon};

// Restores the active path when it leaves scope (tests that switch paths).
class KernelPathGuard {
 public:
  KernelPathGuard() : saved_(ActiveKernelPath()) {}
  ~KernelPathGuard() { SetKernelPath(saved_); }
  KernelPathGuard(const KernelPathGuard&) = delete;
  KernelPathGuard& operator=(const KernelPathGuard&) = delete;

 private:
  KernelPath saved_;
};

}  // namespace blindfold

#endif  // BLINDFOLD_BASE_CPU_FEATURES_H_
