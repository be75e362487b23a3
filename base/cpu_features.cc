#include "base/cpu_features.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/target.h"

#if BLINDFOLD_TARGET_X86_64
#include <cpuid.h>
#endif

namespace blindfold {
namespace {

#if BLINDFOLD_TARGET_X86_64
// XCR0 bits the OS must enable for the registers a path uses.
bool OsEnables(uint32_t mask) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  if (!(c & (1u << 27))) return false;  // OSXSAVE
  uint32_t xlo, xhi;
  __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  return (xlo & mask) == mask;
}
#endif

bool DetectIfma() {
#if BLINDFOLD_TARGET_X86_64
  // XCR0: SSE(1), AVX(2), opmask(5), ZMM_Hi256(6), Hi16_ZMM(7) enabled by OS.
  if (!OsEnables(0xE6)) return false;
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool avx512f = b & (1u << 16);
  const bool avx512dq = b & (1u << 17);
  const bool avx512ifma = b & (1u << 21);
  const bool avx512bw = b & (1u << 30);
  const bool avx512vl = b & (1u << 31);
  return avx512f && avx512dq && avx512ifma && avx512bw && avx512vl;
#else
  return false;
#endif
}

bool DetectAvx2() {
#if BLINDFOLD_TARGET_X86_64
  if (!OsEnables(0x6)) return false;  // SSE and AVX state
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = c & (1u << 12);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool avx2 = b & (1u << 5);
  return fma && avx2;
#else
  return false;
#endif
}

// BLINDFOLD_CPU_HIDE=ifma,avx2,neon (any subset) makes this process treat the
// CPU as lacking those features, so tests on one machine can check what a
// CPU without them does (the fallback and the report of a forced path).
bool Hidden(const char* feature) {
  const char* env = std::getenv("BLINDFOLD_CPU_HIDE");
  return env != nullptr && std::strstr(env, feature) != nullptr;
}

KernelPath BestPath() {
  if (CpuHasIfma()) return KernelPath::kIfma;
  if (CpuHasAvx2()) return KernelPath::kAvx2;
  if (CpuHasNeon()) return KernelPath::kNeon;
  return KernelPath::kPortable;
}

std::string& RequestError() {
  static std::string error;
  return error;
}

KernelPath InitialPath() {
  const char* env = std::getenv("BLINDFOLD_KERNEL");
  if (env == nullptr || *env == '\0') return BestPath();
  for (KernelPath p : kAllKernelPaths) {
    if (KernelPathName(p) != env) continue;
    if (CpuHasKernelPath(p)) return p;
    RequestError() = std::string("BLINDFOLD_KERNEL=") + env +
                     (p == KernelPath::kIfma   ? ": this CPU lacks AVX-512 IFMA"
                      : p == KernelPath::kAvx2 ? ": this CPU lacks AVX2+FMA"
                      : BLINDFOLD_TARGET_AARCH64
                          ? ": this CPU lacks NEON"
                          : ": this CPU lacks NEON (the build does not target "
                            "aarch64)");
    break;
  }
  if (RequestError().empty()) {
    RequestError() = std::string("BLINDFOLD_KERNEL=") + env +
                     ": unknown path (ifma, avx2, neon or portable)";
  }
  std::fprintf(stderr, "blindfold: %s; running the %s kernels instead\n",
               RequestError().c_str(),
               std::string(KernelPathName(BestPath())).c_str());
  return BestPath();
}

std::atomic<int>& PathCell() {
  static std::atomic<int> cell{static_cast<int>(InitialPath())};
  return cell;
}

}  // namespace

bool CpuHasIfma() {
  static const bool has = DetectIfma() && !Hidden("ifma");
  return has;
}

bool CpuHasAvx2() {
  static const bool has = DetectAvx2() && !Hidden("avx2");
  return has;
}

bool CpuHasNeon() {
  static const bool has = BLINDFOLD_TARGET_AARCH64 && !Hidden("neon");
  return has;
}

bool CpuHasKernelPath(KernelPath path) {
  switch (path) {
    case KernelPath::kIfma: return CpuHasIfma();
    case KernelPath::kAvx2: return CpuHasAvx2();
    case KernelPath::kNeon: return CpuHasNeon();
    case KernelPath::kPortable: return true;
  }
  return false;
}

KernelPath ActiveKernelPath() {
  return static_cast<KernelPath>(PathCell().load(std::memory_order_relaxed));
}

const std::string& KernelRequestError() {
  PathCell();  // reads BLINDFOLD_KERNEL
  return RequestError();
}

bool SetKernelPath(KernelPath path) {
  if (!CpuHasKernelPath(path)) return false;
  PathCell().store(static_cast<int>(path), std::memory_order_relaxed);
  return true;
}

std::string_view KernelPathName(KernelPath path) {
  switch (path) {
    case KernelPath::kIfma: return "ifma";
    case KernelPath::kAvx2: return "avx2";
    case KernelPath::kNeon: return "neon";
    case KernelPath::kPortable: return "portable";
  }
  return "?";
}

}  // namespace blindfold
