// One register-blocked SGEMM micro-kernel written once for every SIMD width: the AVX2 and the
// AVX-512 kernels are instantiations of simd_tile<Simd, MR, NV> (contract in gemm_kernel.h).
//
// The MR x NR tile of C (NR = NV * Simd::width floats) is held in MR * NV vector registers for the
// whole depth kc. At each step p, the NV vectors of row p of the B sliver are loaded once, and
// each of the MR values of column p of the A sliver is broadcast and multiplied into its row of
// accumulators: MR * NV fused multiply-adds for NV loads and MR broadcasts, which is what lets
// the FMA units, not the loads, set the pace.
//
// Include this only from a file compiled for the instruction set of its Simd type, and define
// that type in an anonymous namespace: the instantiation then has internal linkage, so that the
// linker can never merge it with a copy compiled for another instruction set.
#pragma once

#include <cstdint>

namespace remix::cpu::detail {

// Simd provides: type Vec, constant width (floats per Vec), and the static functions zero(),
// load(p), store(p, v) (both unaligned), broadcast(x), mul(a, b) and fma(a, b, c) = a * b + c.
template <class Simd, int MR, int NV>
void simd_tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
               float beta) {
  using Vec = typename Simd::Vec;
  constexpr int W = Simd::width;
  constexpr int NR = NV * W;

  // Start fetching C now: it is needed only after the loop, which hides the latency.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + NR - 1, 1);
  }

  Vec acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = Simd::zero();
  }

#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    Vec bp[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bp[j] = Simd::load(b + p * NR + j * W);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const Vec ai = Simd::broadcast(a[p * MR + i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = Simd::fma(ai, bp[j], acc[i][j]);
    }
  }

  // C = alpha * acc + beta * C, without reading C when beta == 0 (it may hold NaNs).
  const Vec va = Simd::broadcast(alpha);
  if (beta == 0.0f) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) Simd::store(c + i * ldc + j * W, Simd::mul(va, acc[i][j]));
    }
    return;
  }
  const Vec vb = Simd::broadcast(beta);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      float* cij = c + i * ldc + j * W;
      Simd::store(cij, Simd::fma(va, acc[i][j], Simd::mul(vb, Simd::load(cij))));
    }
  }
}

}  // namespace remix::cpu::detail
