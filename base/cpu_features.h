// File: base/cpu_features.h
// Which SIMD kernels this machine can run, and which the user asked for.
// The environment variable BLINDFOLD_KERNEL=portable|ifma (or
// SetKernelPath) forces a path, so both are tested on an IFMA machine.
#ifndef BLINDFOLD_BASE_CPU_FEATURES_H_
#define BLINDFOLD_BASE_CPU_FEATURES_H_

#include <string_view>

namespace blindfold {

enum class KernelPath { kPortable = 0, kIfma = 1 };

// True when the CPU and OS support AVX-512F/DQ/BW/VL and AVX-512 IFMA.
bool CpuHasIfma();

// The path kernels use now: the forced one if any (and supported), else the
// best the CPU has. Forcing "ifma" on a CPU without it falls back to portable.
KernelPath ActiveKernelPath();

// Forces a path for the whole process (tests, benchmarks). Returns false and
// changes nothing if `path` is kIfma and the CPU lacks IFMA.
bool SetKernelPath(KernelPath path);

std::string_view KernelPathName(KernelPath path);

}  // namespace blindfold

#endif  // BLINDFOLD_BASE_CPU_FEATURES_H_
