#include "base/cpu_features.h"

#include <atomic>
#include <cpuid.h>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace blindfold {
namespace {

bool DetectIfma() {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool osxsave = c & (1u << 27);
  if (!osxsave) return false;
  // XCR0: SSE(1), AVX(2), opmask(5), ZMM_Hi256(6), Hi16_ZMM(7) enabled by OS.
  uint32_t xlo, xhi;
  __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  if ((xlo & 0xE6) != 0xE6) return false;
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

KernelPath InitialPath() {
  const bool has = CpuHasIfma();
  if (const char* env = std::getenv("BLINDFOLD_KERNEL")) {
    if (std::strcmp(env, "portable") == 0) return KernelPath::kPortable;
    if (std::strcmp(env, "ifma") == 0 && has) return KernelPath::kIfma;
  }
  return has ? KernelPath::kIfma : KernelPath::kPortable;
}

std::atomic<int>& PathCell() {
  static std::atomic<int> cell{static_cast<int>(InitialPath())};
  return cell;
}

}  // namespace

bool CpuHasIfma() {
  static const bool has = DetectIfma();
  return has;
}

KernelPath ActiveKernelPath() {
  return static_cast<KernelPath>(PathCell().load(std::memory_order_relaxed));
}

bool SetKernelPath(KernelPath path) {
  if (path == KernelPath::kIfma && !CpuHasIfma()) return false;
  PathCell().store(static_cast<int>(path), std::memory_order_relaxed);
  return true;
}

std::string_view KernelPathName(KernelPath path) {
  return path == KernelPath::kIfma ? "ifma" : "portable";
}

}  // namespace blindfold
