// File: base/target.h
// Which instruction-set family this build targets, for the few places that
// use target-specific compiler features. x86-64 builds get AVX-512 IFMA and
// AVX2 kernels (math/*_ifma.cc, math/*_avx2.cc, compiled only there) and
// GCC's `target_clones` on a few loops; aarch64 builds get the NEON kernels
// (math/*_neon.cc); any other target runs the portable C++ kernels.
// Everything here expands to the same code on x86-64 as the literal
// attributes it replaces.
#ifndef BLINDFOLD_BASE_TARGET_H_
#define BLINDFOLD_BASE_TARGET_H_

#if defined(__x86_64__)
#define BLINDFOLD_TARGET_X86_64 1
#else
#define BLINDFOLD_TARGET_X86_64 0
#endif

#if defined(__aarch64__)
#define BLINDFOLD_TARGET_AARCH64 1
#else
#define BLINDFOLD_TARGET_AARCH64 0
#endif

// Clones a loop for AVX-512F, AVX2 and the x86-64 baseline, chosen once at
// load time (GCC ifunc). Elsewhere nothing: aarch64's baseline already has
// 128-bit NEON, which the auto-vectoriser uses.
#if BLINDFOLD_TARGET_X86_64
#define BLINDFOLD_CLONES_AVX512_AVX2 \
  __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BLINDFOLD_CLONES_AVX512_AVX2
#endif

#endif  // BLINDFOLD_BASE_TARGET_H_
